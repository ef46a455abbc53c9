/*++
/* NAME
/*	webform 3h
/* SUMMARY
/*	what a browser sends: form bodies, cookies, basic authentication,
/*	and the htpasswd file's lines
/*--*/
#ifndef AUTHGUARD_WEBFORM_H
#define AUTHGUARD_WEBFORM_H

#include <stddef.h>

#define WEB_NAME_MAX	128	/* bytes of a user name, as actor= allows */
#define WEB_PASS_MAX	256	/* bytes of a basic authentication password */
#define WEB_HASH_MAX	256	/* bytes of a crypt(3) hash */

int	form_get(const char *, size_t, const char *, char *, size_t);
int	cookie_get(const char *, const char *, char *, size_t);
int	basic_parse(const char *, char *, size_t, char *, size_t);
int	htpasswd_line(const char *, size_t, char *, size_t, char *, size_t,
	    const char **);
int	web_name_ok(const char *);

#endif
