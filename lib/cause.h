/*++
/* NAME
/*	cause 3h
/* SUMMARY
/*	the catalogue of authentication failure causes
/*--*/
#ifndef AUTHGUARD_CAUSE_H
#define AUTHGUARD_CAUSE_H

#include <stddef.h>
#include <stdint.h>

enum cause {
	CAUSE_NONE,
	CAUSE_BAD_PASSWORD,
	CAUSE_UNKNOWN_USER,
	CAUSE_BAD_CREDENTIALS,
	CAUSE_APP_PASSWORD_REQUIRED,
	CAUSE_APP_PASSWORD_SPACES,
	CAUSE_STALE_PASSWORD,
	CAUSE_PASSWORD_GUESSING,
	CAUSE_OAUTH_REQUIRED,
	CAUSE_ACCOUNT_DISABLED,
	CAUSE_PASSWORD_EXPIRED,
	CAUSE_TLS_REQUIRED,
	CAUSE_MALFORMED_RESPONSE,
	CAUSE_AUTHZID_MISMATCH,
	CAUSE_ACCOUNT_LOCKED,
	CAUSE_IP_BLOCKED,
	CAUSE_AUTH_SERVICE_UNAVAILABLE,
	CAUSE_NO_AUTH_NO_TLS,
	CAUSE_NO_AUTH_ATTEMPTED,
	CAUSE_AUTH_FAILED_THEN_SENT,
	CAUSE_CLEARTEXT_AUTH,
	CAUSE_COUNT
};

enum client_detail { DETAIL_SAFE, DETAIL_FULL, DETAIL_NONE };

struct cause_info {
	const char	*id;		/* stable id: logs, replies, CLI */
	const char	*client_text;	/* what the client may read */
	const char	*hint;		/* the remedy, for the admin */
	int		 safe;		/* says nothing of account or password */
	unsigned	 counts;	/* CAUSE_COUNTS_* */
	const char	*title;		/* the cause in plain words */
	const char	*tell;		/* what the helpdesk tells the user */
};

#define CAUSE_COUNTS_NONE	0u	/* counted nowhere */
#define CAUSE_COUNTS_ACCOUNT	1u	/* goes into the account's window */
#define CAUSE_COUNTS_ADDRESS	2u	/* goes into the address's window */
#define CAUSE_COUNTS_BOTH	(CAUSE_COUNTS_ACCOUNT | CAUSE_COUNTS_ADDRESS)

/* Shown for causes that client_detail hides. */
#define CAUSE_GENERIC_TEXT	"credentials rejected"

const struct cause_info *cause_info(enum cause);
const char *cause_id(enum cause);
enum cause cause_by_id(const char *);
const char *cause_client_text(enum cause, enum client_detail);
const char *cause_refusal_text(enum cause, enum client_detail, uint32_t, char *,
	    size_t);
enum cause cause_from_code(const char *);
enum cause cause_after_fail(const char *, unsigned, int);
enum cause cause_overlay(enum cause, int, int);

#endif
