/*++
/* NAME
/*	upstream 3h
/* SUMMARY
/*	client side of Dovecot's auth-client protocol
/*--*/
#ifndef AUTHGUARD_UPSTREAM_H
#define AUTHGUARD_UPSTREAM_H

#include "authproto.h"
#include "netaddr.h"

struct upstream_callbacks {
	/* OK, FAIL or CONT for a request; OK and FAIL end it */
	void	(*reply)(void *, const struct auth_reply *, struct authline *);
	/* the request will get no answer: connection lost or failed */
	void	(*lost)(void *, const char *);
	/* the request was not sent: Dovecot no longer lists its mechanism */
	void	(*refused)(void *, const char *);
};

void	 upstream_set_timeout(unsigned);
void	 upstream_init(const struct sockspec *, const char *, unsigned,
	    const struct upstream_callbacks *);
unsigned upstream_auth(void *, const char *, const char *, const char *,
	    const char **);
int	 upstream_cont(unsigned, const char *, const char **);
void	 upstream_cancel(unsigned);
const char *upstream_mechs(void);
int	 upstream_offers(const char *);
const char *upstream_state(void);
void	 upstream_shutdown(void);

#endif
