/*++
/* NAME
/*	ctlcmd 3h
/* SUMMARY
/*	the control commands: names, arguments, options and help
/* DESCRIPTION
/*	CTL_COMMANDS() lists every command the control socket answers,
/*	one X(NAME, ARGUMENT, OPTIONS, FLAGS, HELP) each:
/*
/*	NAME	the request's first field, and the CLI's command word;
/*		authguard-policyd's handler of it is ctl_NAME().
/*	ARGUMENT what the CLI wants as the one argument, as its usage
/*		shows it; NULL when there is none ("-" in the request).
/*	OPTIONS	the CTL_OPT_* bits of the command's options. actor=NAME
/*		(lock, unlock) names who acts, for the log; the CLI
/*		sends it itself, it has no command-line flag.
/*	FLAGS	CTL_CLI: the CLI offers the command.
/*	HELP	one short line for the usage text.
/*
/*	The daemon adds its handler to each entry through the same
/*	list, so a command without a handler does not compile.
/*--*/
#ifndef AUTHGUARD_CTLCMD_H
#define AUTHGUARD_CTLCMD_H

#include "buf.h"

/* A command's options: "--since 1h" on the command line, "since=3600" in the request. */
#define CTL_OPT_SINCE	(1 << 0)
#define CTL_OPT_BY	(1 << 1)
#define CTL_OPT_FOR	(1 << 2)
#define CTL_OPT_ACTOR	(1 << 3)	/* the request only: the CLI sets it */

#define CTL_ACTOR_MAX	128		/* bytes of an actor= name */

#define CTL_CLI		(1 << 0)	/* offered by the CLI */

#define CTL_COMMANDS(X) \
	X(why, "REF|USER|ADDRESS", CTL_OPT_SINCE, CTL_CLI, \
	    "what happened, and why") \
	X(top, NULL, CTL_OPT_SINCE | CTL_OPT_BY, CTL_CLI, \
	    "who fails most") \
	X(lock, "USER|ADDRESS", CTL_OPT_FOR | CTL_OPT_ACTOR, CTL_CLI, \
	    "lock now") \
	X(unlock, "USER|ADDRESS", CTL_OPT_ACTOR, CTL_CLI, \
	    "lift a lock") \
	X(overview, NULL, 0, CTL_CLI, \
	    "failures per hour, locks, stale passwords") \
	X(stats, NULL, 0, CTL_CLI, \
	    "what is tracked") \
	X(metrics, NULL, 0, CTL_CLI, \
	    "the Prometheus metrics") \
	X(notices, NULL, CTL_OPT_SINCE, CTL_CLI, \
	    "notices sent to account owners") \
	X(session, "ADDRESS PORT SINCE", 0, 0, \
	    "one SMTP session's attempts, for authguard-milter")

enum ctl_cmd_id {
#define CTL_CMD_ID(name, arg, opts, flags, help) CTL_CMD_##name,
	CTL_COMMANDS(CTL_CMD_ID)
#undef CTL_CMD_ID
	CTL_CMD_COUNT
};

struct ctl_cmd {
	const char	*name;
	const char	*arg;		/* NULL: none */
	int		 opts;		/* CTL_OPT_* */
	int		 flags;		/* CTL_CLI */
	const char	*help;
};

/* One option: its bit, how the CLI spells it, its request field. */
struct ctl_opt {
	int		 bit;
	const char	*flag;		/* "--since"; NULL: not on the command line */
	const char	*field;		/* "since" */
	const char	*value;		/* "DURATION", as the usage shows it */
	int		 duration;	/* sent in seconds; else as given */
};

extern const struct ctl_cmd ctl_cmds[CTL_CMD_COUNT];

int	ctl_cmd_find(const char *);
const struct ctl_opt *ctl_opt_flag(const struct ctl_cmd *, const char *);
const struct ctl_opt *ctl_opt_field(const char *);
void	ctl_synopsis(struct buf *, const struct ctl_cmd *);
void	ctl_usage_line(struct buf *, const char *, const char *);
void	ctl_usage(struct buf *);

#endif
