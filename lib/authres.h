/*++
/* NAME
/*	authres 3h
/* SUMMARY
/*	Authentication-Results (RFC 8601) and the X-Authguard header
/*--*/
#ifndef AUTHGUARD_AUTHRES_H
#define AUTHGUARD_AUTHRES_H

#include <stddef.h>

#include "buf.h"
#include "ref.h"

#define DIAG_HEADER	"X-Authguard"
#define AR_HEADER	"Authentication-Results"
#define DIAG_SHOWN	10	/* failed attempts listed by name */

struct diag_attempt {
	char	 cause[32];
	char	 ref[REF_LEN + 1];
};

struct diag {
	const char *ref;
	const char *mech;
	const char *user;		/* NULL: not shown */
	const char *tls_version;
	const char *cipher;
	int	 details;		/* authguard-policyd answered */
	char	 auth_ref[REF_LEN + 1];	/* "" when unknown */
	char	 proto[8];		/* the attempts' door, "" when none */
	size_t	 nfailed;		/* may exceed DIAG_SHOWN */
	struct diag_attempt failed[DIAG_SHOWN];
};

int	authres_servid(const char *, char *, size_t);
int	authres_ours(const char *, const char *);
void	hdr_value(struct buf *, const char *);
void	authres_value(struct buf *, const char *, const char *);
void	diag_value(struct buf *, const struct diag *);

#endif
