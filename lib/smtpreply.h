/*++
/* NAME
/*	smtpreply 3h
/* SUMMARY
/*	SMTP replies: reading them, and what a reply to AUTH means
/*--*/
#ifndef AUTHGUARD_SMTPREPLY_H
#define AUTHGUARD_SMTPREPLY_H

#include <stddef.h>

#include "buf.h"
#include "cause.h"
#include "ref.h"

#define SMTP_REPLY_LINES_MAX	100

struct smtp_reply {
	int	 code;			/* 0 until complete */
	char	 enhanced[16];		/* "5.7.8", "" when none */
	struct buf text;		/* the lines' texts, joined by LF */
	int	 lines;
	const char *error;		/* malformed */
};

enum smtp_push { SMTP_MORE, SMTP_DONE, SMTP_ERROR };

/* What a reply to AUTH (or to what came before it) means. */
struct smtp_meaning {
	const char *source;		/* "authguard", "Postfix", "Gmail", "RFC 4954" ... */
	const char *meaning;
	const char *remedy;
	enum cause cause;		/* authguard's, CAUSE_NONE otherwise */
	char	 ref[REF_LEN + 1];	/* authguard's ref, "" when none */
};

void	smtp_reply_init(struct smtp_reply *);
void	smtp_reply_reset(struct smtp_reply *);
void	smtp_reply_free(struct smtp_reply *);
enum smtp_push smtp_reply_push(struct smtp_reply *, const char *, size_t);
int	smtp_reply_has(const struct smtp_reply *, const char *);
void	smtp_explain(const struct smtp_reply *, struct smtp_meaning *);

#endif
