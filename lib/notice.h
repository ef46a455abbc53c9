/*++
/* NAME
/*	notice 3h
/* SUMMARY
/*	notices to an account's owner: kinds, templates, the message
/*--*/
#ifndef AUTHGUARD_NOTICE_H
#define AUTHGUARD_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* What a notice is about; the names are the template files' names. */
enum notice_kind {
	NOTICE_STALE_PASSWORD,		/* "stale-password" */
	NOTICE_APP_PASSWORD,		/* "app-password-required" */
	NOTICE_LOCK,			/* "lock" */
	NOTICE_GUESSING,		/* "password-guessing" */
	NOTICE_KINDS
};

#define NOTICE_TEXT_MAX	(64 * 1024)	/* a template file, and a message */
#define NOTICE_ADDR_MAX	254		/* an address we put in To: */

/* The facts one notice tells; every string may be empty, none NULL. */
struct notice_facts {
	enum notice_kind kind;
	const char	*account;	/* the login name, as given: peer input */
	const char	*to;		/* the owner's address (notice_addr_ok) */
	const char	*from;		/* notify_from */
	const char	*ip;		/* the address the attempts came from */
	const char	*rname;		/* its reverse name, checked, or "" */
	const char	*door;		/* "SMTP", "IMAP", "POP3", "ManageSieve" */
	const char	*ref;		/* the attempt's ref */
	const char	*server;	/* this mail server's host name */
	const char	*message_id;	/* "<token@server>" */
	uint32_t	 first;		/* unix seconds: first seen */
	uint32_t	 last;		/* last seen */
	uint32_t	 until;		/* a lock's end, or 0 */
	uint32_t	 now;		/* for Date: */
	unsigned	 count;		/* attempts seen in the episode */
};

struct notice_template;

const char *notice_kind_name(enum notice_kind);
int	 notice_kind_lookup(const char *);
const char *notice_template_default(enum notice_kind);
struct notice_template *notice_template_parse(const char *, size_t, char *,
	    size_t);
void	 notice_template_free(struct notice_template *);
int	 notice_render(const struct notice_template *,
	    const struct notice_facts *, struct buf *, char *, size_t);
int	 notice_addr_ok(const char *);
int	 notice_from_ok(const char *);
int	 notice_rname_ok(const char *);

#endif
