/*++
/* NAME
/*	ctl 3h
/* SUMMARY
/*	the control commands' handlers and what they share
/* DESCRIPTION
/*	control.c parses a request into struct ctl_req and calls the
/*	handler of its command, ctl_NAME() for each NAME of
/*	CTL_COMMANDS() (ctlcmd 3h). A handler appends the whole answer
/*	("OK" LF body, or "ERR" SP message LF) and returns 0, or -1
/*	when it refused. A handler that must ask someone first (why,
/*	of the shared state) may do so when the request has a "later":
/*	it returns CTL_LATER, keeps what it waits for in *later->slot
/*	(cleared when it ends; ctl_pending_cancel() ends it early) and
/*	answers through later->reply(later->ctx, answer).
/*
/*	ctl_show.c holds what the handlers show alike: ctl_kv(), one
/*	attempt (ctl_show_attempt()), ctl_iso_time(), and the
/*	questions ctl_recent() and ctl_is_address().
/*--*/
#ifndef AUTHGUARD_CTL_H
#define AUTHGUARD_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "ctlcmd.h"
#include "history.h"
#include "logline.h"
#include "netaddr.h"
#include "sasl.h"

#define CONTROL_NAME_MAX	SASL_FIELD_MAX	/* longest argument */
#define CTL_LATER		1	/* the handler answers later */

/*
 * Options after the argument: "since=SECONDS", "by=user|address|cause|proto",
 * "for=SECONDS", "actor=NAME"
 */
struct ctl_opts {
	unsigned long	 since;		/* seconds back, 0: all */
	char		 by[16];
	unsigned long	 for_secs;	/* lock: how long, when for_set */
	int		 for_set;	/* else lockout_time */
	char		 actor[CTL_ACTOR_MAX + 1];	/* who acts; "": not said */
};

#define CTL_PEER_UNKNOWN	(-1L)	/* no peer credentials */

struct ctl_pending;			/* what a handler waits for */

/* How a handler answers once it has asked. */
struct ctl_later {
	struct ctl_pending **slot;	/* the wait, NULL once it ends */
	void		(*reply)(void *, struct buf *);
	void		*ctx;
};

/* One request line, split in a copy of its own. */
struct ctl_req {
	char		*copy;		/* the line's copy, split */
	const char	*cmd;
	const char	*arg;		/* canonical if an address */
	enum log_format	 fmt;
	struct ctl_opts	 o;
	char		 canon[NETADDR_CANON_MAX];
	const struct config *cfg;
	const struct ctl_later *later;	/* NULL: answer now */
	long		 peer_uid;	/* SO_PEERCRED, or CTL_PEER_UNKNOWN */
};

typedef int (*ctl_handler)(const struct ctl_req *, struct buf *);

#define CTL_HANDLER_DECL(name, arg, opts, flags, help) \
	int ctl_##name(const struct ctl_req *, struct buf *);
CTL_COMMANDS(CTL_HANDLER_DECL)
#undef CTL_HANDLER_DECL

void	ctl_pending_cancel(struct ctl_pending *);

/* ctl_show.c */
const char *ctl_iso_time(uint32_t, char *, size_t);
void	ctl_kv(struct buf *, enum log_format, int *, const char *, const char *);
void	ctl_show_attempt(struct buf *, enum log_format, const struct hist_rec *);
int	ctl_recent(const struct hist_rec *, const struct ctl_opts *);
int	ctl_is_address(const char *);

#endif
