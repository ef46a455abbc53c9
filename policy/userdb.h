/*++
/* NAME
/*	userdb 3h
/* SUMMARY
/*	user lookups on Dovecot's auth-userdb socket
/*--*/
#ifndef AUTHGUARD_USERDB_H
#define AUTHGUARD_USERDB_H

#include "authproto.h"
#include "netaddr.h"

void	 userdb_init(const struct sockspec *,
	    void (*)(void *, enum userdb_reply_kind));
int	 userdb_enabled(void);
unsigned userdb_lookup(void *, const char *);
unsigned userdb_lookup_with(void (*)(void *, enum userdb_reply_kind), void *,
	    const char *, const char *);
void	 userdb_cancel(unsigned);
void	 userdb_shutdown(void);

#endif
