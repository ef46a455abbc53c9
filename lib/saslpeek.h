/*++
/* NAME
/*	saslpeek 3h
/* SUMMARY
/*	the account name that a relayed SASL mechanism carries in clear
/*--*/
#ifndef AUTHGUARD_SASLPEEK_H
#define AUTHGUARD_SASLPEEK_H

#include <stddef.h>

#define SASLPEEK_NAME_MAX	1024	/* longest account or authzid */
#define SASLPEEK_DECODED_MAX	4095	/* longest decoded response read */
#define SASLPEEK_B64_MAX	(SASLPEEK_DECODED_MAX / 3 * 4)

enum saslpeek_mech {
	SASLPEEK_MECH_OTHER,		/* carries no account in clear */
	SASLPEEK_MECH_CRAM_MD5,		/* RFC 2195 */
	SASLPEEK_MECH_DIGEST_MD5,	/* RFC 2831 */
	SASLPEEK_MECH_SCRAM,		/* RFC 5802, 7677: SCRAM-*(-PLUS) */
	SASLPEEK_MECH_OAUTHBEARER,	/* RFC 7628: a= of the gs2 header */
	SASLPEEK_MECH_XOAUTH2,		/* user= field */
};

enum saslpeek_status {
	SASLPEEK_FOUND,		/* the id holds the account */
	SASLPEEK_NOT_THIS_STEP,	/* this response carries none (yet, or
				 * any more: see over) */
	SASLPEEK_MALFORMED,	/* not what the mechanism sends (why) */
	SASLPEEK_NONE,		/* the mechanism, or this exchange,
				 * carries no account in clear */
};

/* One exchange, fed each client response in turn. */
struct saslpeek {
	enum saslpeek_mech mech;
	unsigned conts;		/* client CONT responses seen */
	int	initial;	/* a non-empty initial response came */
	int	over;		/* decided: later responses carry none */
	const char *why;	/* SASLPEEK_MALFORMED or _NONE: a reason */
};

/* What a response names; both empty unless SASLPEEK_FOUND. */
struct saslpeek_id {
	char	user[SASLPEEK_NAME_MAX + 1];	/* the account */
	char	authzid[SASLPEEK_NAME_MAX + 1];	/* "" if none */
};

void	saslpeek_start(struct saslpeek *, const char *);
enum saslpeek_status saslpeek_push(struct saslpeek *, int, const char *,
	    size_t, struct saslpeek_id *);
const char *saslpeek_status_str(enum saslpeek_status);

#endif
