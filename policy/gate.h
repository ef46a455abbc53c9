/*++
/* NAME
/*	gate 3h
/* SUMMARY
/*	the SASL gate: Dovecot's auth-client protocol towards Postfix
/*--*/
#ifndef AUTHGUARD_GATE_H
#define AUTHGUARD_GATE_H

#include "accounts.h"
#include "config.h"

void	gate_init(const struct config *, struct accounts_map *);
void	gate_listen(int);
unsigned gate_connections(void);
void	gate_limits_changed(const char *, const char *);
void	gate_shutdown(void);

#endif
