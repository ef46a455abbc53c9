/*++
/* NAME
/*	csrf 3h
/* SUMMARY
/*	the forms' token: a keyed hash of the browser's cookie and the user
/*--*/
#ifndef AUTHGUARD_CSRF_H
#define AUTHGUARD_CSRF_H

#include <stddef.h>

#define CSRF_KEY_LEN	32		/* bytes of the key */
#define CSRF_COOKIE_LEN	32		/* hex digits of the cookie */
#define CSRF_TOKEN_LEN	64		/* hex digits of the token */

void	csrf_key_new(unsigned char *, size_t);
void	csrf_cookie_new(char *);
int	csrf_cookie_ok(const char *);
void	csrf_token(const unsigned char *, size_t, const char *, const char *,
	    char *);
int	csrf_check(const unsigned char *, size_t, const char *, const char *,
	    const char *);

#endif
