/*++
/* NAME
/*	signon 3h
/* SUMMARY
/*	authguard-web's sign-on: who is asking, and may they look
/*--*/
#ifndef AUTHGUARD_SIGNON_H
#define AUTHGUARD_SIGNON_H

#include <stddef.h>

#include "csrf.h"
#include "webform.h"

struct http_req;
struct webconf;

/* Who asks, once known. */
struct web_who {
	char		 user[WEB_NAME_MAX + 1];
	int		 admin;
	int		 trusted;	/* the peer is a trusted proxy */
	char		 cookie[CSRF_COOKIE_LEN + 1];
	int		 new_cookie;	/* to set with this answer */
	char		 csrf[CSRF_TOKEN_LEN + 1];
};

void	signon_init(const struct webconf *);
void	signon_shutdown(void);
int	signon_htpasswd_load(const char *, char *, size_t);
int	signon_htpasswd_mixed(void);
int	signon_who(struct http_req *, struct web_who *);
int	signon_host_ok(struct http_req *);
void	web_log(const char *, ...);

#endif
