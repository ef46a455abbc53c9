/*++
/* NAME
/*	sasl 3h
/* SUMMARY
/*	SASL PLAIN and LOGIN response decoding, password shapes
/*--*/
#ifndef AUTHGUARD_SASL_H
#define AUTHGUARD_SASL_H

#include <stddef.h>

#include "buf.h"

#define SASL_FIELD_MAX	1024	/* longest user, authzid or password */

enum sasl_error {
	SASL_OK,
	SASL_BAD_BASE64,
	SASL_NO_SEPARATORS,	/* PLAIN without exactly two NULs */
	SASL_EMPTY_USER,
	SASL_EMPTY_PASSWORD,
	SASL_NUL_IN_VALUE,	/* LOGIN value holding a NUL */
	SASL_TOO_LONG,
};

/* Decoded PLAIN response; all three point into mem, which is wiped. */
struct sasl_plain {
	char	*mem;
	size_t	 memlen;
	const char *authzid;
	const char *user;
	const char *pass;
};

enum sasl_error sasl_plain_decode(const char *, size_t, struct sasl_plain *);
void	 sasl_plain_wipe(struct sasl_plain *);
enum sasl_error sasl_login_decode(const char *, size_t, int, char **);
void	 sasl_plain_encode(struct buf *, const char *, const char *,
	    const char *);
const char *sasl_error_str(enum sasl_error);
int	 sasl_app_password_spaced(const char *);
int	 sasl_app_password_shaped(const char *);
int	 sasl_mech_is_oauth(const char *);

#endif
