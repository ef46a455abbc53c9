/*++
/* NAME
/*	ctlcmd 3
/* SUMMARY
/*	the control commands: names, arguments, options and help
/* DESCRIPTION
/*	ctl_cmds[] is the table of CTL_COMMANDS() (ctlcmd 3h), indexed
/*	by enum ctl_cmd_id: authguard-policyd adds its handlers to it by
/*	the same list, and the CLI builds its requests and usage text
/*	from it, so the two cannot drift.
/*
/*	ctl_cmd_find() gives a command's index by name, or -1.
/*	ctl_opt_flag() finds an option the command takes by its CLI
/*	spelling ("--since"); ctl_opt_field() any option by its request
/*	field ("since").
/*
/*	ctl_synopsis() appends one command's synopsis:
/*	"why REF|USER|ADDRESS [--since DURATION]". ctl_usage_line()
/*	appends a usage line: two spaces, a synopsis (its last line, if
/*	it has more), and the help in a column. ctl_usage() appends one
/*	for each command the CLI offers.
/*--*/
#include <string.h>

#include "buf.h"
#include "ctlcmd.h"
#include "util.h"

#define CTL_HELP_COLUMN	54	/* the usage's help, after the longest synopsis */

const struct ctl_cmd ctl_cmds[CTL_CMD_COUNT] = {
#define CTL_CMD_ROW(name, arg, opts, flags, help) \
	[CTL_CMD_##name] = {#name, arg, opts, flags, help},
	CTL_COMMANDS(CTL_CMD_ROW)
#undef CTL_CMD_ROW
};

static const struct ctl_opt ctl_opts[] = {
	{CTL_OPT_SINCE, "--since", "since", "DURATION", 1},
	{CTL_OPT_BY, "--by", "by", "user|address|cause|proto", 0},
	{CTL_OPT_FOR, "--for", "for", "DURATION", 1},
	{CTL_OPT_ACTOR, NULL, "actor", "NAME", 0},
};

/* ctl_cmd_find - a command's index, or -1 */
int
ctl_cmd_find(const char *name)
{
	int i;

	for (i = 0; i < CTL_CMD_COUNT; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return i;
	return -1;
}

/* ctl_opt_flag - the option "--name" of a command, or NULL */
const struct ctl_opt *
ctl_opt_flag(const struct ctl_cmd *c, const char *flag)
{
	size_t i;

	for (i = 0; i < NELEM(ctl_opts); i++)
		if ((c->opts & ctl_opts[i].bit) && ctl_opts[i].flag &&
		    strcmp(ctl_opts[i].flag, flag) == 0)
			return &ctl_opts[i];
	return NULL;
}

/* ctl_opt_field - the option of a request's "name=value" field, or NULL */
const struct ctl_opt *
ctl_opt_field(const char *field)
{
	size_t i;

	for (i = 0; i < NELEM(ctl_opts); i++)
		if (strcmp(ctl_opts[i].field, field) == 0)
			return &ctl_opts[i];
	return NULL;
}

/* ctl_synopsis - "NAME [ARGUMENT] [--option VALUE]..." */
void
ctl_synopsis(struct buf *b, const struct ctl_cmd *c)
{
	size_t i;

	buf_puts(b, c->name);
	if (c->arg)
		buf_printf(b, " %s", c->arg);
	for (i = 0; i < NELEM(ctl_opts); i++)
		if ((c->opts & ctl_opts[i].bit) && ctl_opts[i].flag)
			buf_printf(b, " [%s %s]", ctl_opts[i].flag,
			    ctl_opts[i].value);
}

/* ctl_usage_line - "  SYNOPSIS   HELP" */
void
ctl_usage_line(struct buf *b, const char *synopsis, const char *help)
{
	const char *nl;
	size_t start;

	buf_printf(b, "  %s", synopsis);
	nl = memrchr(b->data, '\n', b->len);
	start = nl ? (size_t)(nl - b->data) + 1 : 0;
	do
		buf_putc(b, ' ');
	while (b->len - start < CTL_HELP_COLUMN);
	buf_printf(b, "%s\n", help);
}

/* ctl_usage - a line for each command the CLI offers */
void
ctl_usage(struct buf *b)
{
	struct buf syn;
	int i;

	buf_init(&syn);
	for (i = 0; i < CTL_CMD_COUNT; i++) {
		if (!(ctl_cmds[i].flags & CTL_CLI))
			continue;
		buf_reset(&syn);
		ctl_synopsis(&syn, &ctl_cmds[i]);
		ctl_usage_line(b, buf_str(&syn), ctl_cmds[i].help);
	}
	buf_free(&syn);
}
