/*++
/* NAME
/*	door 3h
/* SUMMARY
/*	the auth policy door: Dovecot's logins through IMAP, POP3, ManageSieve
/*--*/
#ifndef AUTHGUARD_DOOR_H
#define AUTHGUARD_DOOR_H

#include "accounts.h"
#include "config.h"

void	authpolicy_init(const struct config *, struct accounts_map *, int);
void	authpolicy_shutdown(void);

#endif
