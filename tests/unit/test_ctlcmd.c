/*++
/* NAME
/*	test_ctlcmd 1
/* SUMMARY
/*	the control command table and the usage text made from it
/* DESCRIPTION
/*	Every command the CLI offers has its line in the usage text,
/*	with its argument, its options and its help, and no other
/*	command has one; the table's names are unique and found by
/*	ctl_cmd_find(); each option a command names is found by its
/*	CLI spelling and its request field, and no other.
/*--*/
#include <string.h>

#include "buf.h"
#include "ctlcmd.h"
#include "unit.h"
#include "util.h"

/* usage_line - the usage line of a command, or NULL */
static const char *
usage_line(const char *usage, const char *name)
{
	const char *p;
	size_t n = strlen(name);

	for (p = usage; (p = strstr(p, "  ")) != NULL; p++)
		if ((p == usage || p[-1] == '\n') && strncmp(p + 2, name, n) == 0 &&
		    (p[2 + n] == ' ' || p[2 + n] == '\n'))
			return p;
	return NULL;
}

TEST(ctlcmd_usage_lists_every_command)
{
	struct buf u, syn;
	const char *line;
	int i;

	buf_init(&u);
	buf_init(&syn);
	ctl_usage(&u);
	for (i = 0; i < CTL_CMD_COUNT; i++) {
		line = usage_line(buf_str(&u), ctl_cmds[i].name);
		if (!(ctl_cmds[i].flags & CTL_CLI)) {
			CHECK(line == NULL);
			continue;
		}
		CHECK(line != NULL);
		if (line == NULL)
			continue;
		buf_reset(&syn);
		ctl_synopsis(&syn, &ctl_cmds[i]);
		CHECK(strncmp(line + 2, buf_str(&syn), syn.len) == 0);
		CHECK(strstr(line, ctl_cmds[i].help) < strchr(line, '\n'));
	}
	CHECK(usage_line(buf_str(&u), "why") != NULL);
	CHECK(usage_line(buf_str(&u), "session") == NULL);	/* the milter's */
	buf_free(&u);
	buf_free(&syn);
}

TEST(ctlcmd_synopsis)
{
	struct buf b;

	buf_init(&b);
	ctl_synopsis(&b, &ctl_cmds[CTL_CMD_why]);
	CHECK_STR(buf_str(&b), "why REF|USER|ADDRESS [--since DURATION]");
	buf_reset(&b);
	ctl_synopsis(&b, &ctl_cmds[CTL_CMD_top]);
	CHECK_STR(buf_str(&b), "top [--since DURATION] [--by user|address|cause|proto]");
	buf_reset(&b);
	ctl_synopsis(&b, &ctl_cmds[CTL_CMD_stats]);
	CHECK_STR(buf_str(&b), "stats");
	buf_reset(&b);
	ctl_usage_line(&b, "x", "help");
	CHECK(b.len == 54 + 5 && strcmp(buf_str(&b) + 54, "help\n") == 0);
	buf_free(&b);
}

TEST(ctlcmd_names_unique_and_found)
{
	int i, j;

	for (i = 0; i < CTL_CMD_COUNT; i++) {
		CHECK(ctl_cmd_find(ctl_cmds[i].name) == i);
		CHECK(ctl_cmds[i].help != NULL && *ctl_cmds[i].help);
		for (j = i + 1; j < CTL_CMD_COUNT; j++)
			CHECK(strcmp(ctl_cmds[i].name, ctl_cmds[j].name) != 0);
	}
	CHECK(ctl_cmd_find("frob") == -1);
	CHECK(ctl_cmd_find("") == -1);
	CHECK(ctl_cmd_find("WHY") == -1);
}

TEST(ctlcmd_options)
{
	const struct ctl_cmd *why = &ctl_cmds[CTL_CMD_why];
	const struct ctl_cmd *top = &ctl_cmds[CTL_CMD_top];
	const struct ctl_cmd *lock = &ctl_cmds[CTL_CMD_lock];
	const struct ctl_opt *o;

	CHECK((o = ctl_opt_flag(why, "--since")) != NULL && o->duration &&
	    strcmp(o->field, "since") == 0);
	CHECK(ctl_opt_flag(why, "--by") == NULL);	/* top's */
	CHECK(ctl_opt_flag(why, "since") == NULL);
	CHECK((o = ctl_opt_flag(top, "--by")) != NULL && !o->duration);
	CHECK((o = ctl_opt_flag(lock, "--for")) != NULL && o->bit == CTL_OPT_FOR);
	CHECK(ctl_opt_flag(&ctl_cmds[CTL_CMD_stats], "--since") == NULL);
	CHECK((o = ctl_opt_field("for")) != NULL && o->bit == CTL_OPT_FOR);
	CHECK(ctl_opt_field("by") == ctl_opt_flag(top, "--by"));
	CHECK(ctl_opt_field("when") == NULL);
	CHECK(ctl_opt_field("--since") == NULL);
}

TEST(ctlcmd_actor_is_the_requests_only)
{
	const struct ctl_cmd *lock = &ctl_cmds[CTL_CMD_lock];
	const struct ctl_opt *o;
	struct buf b;

	CHECK((o = ctl_opt_field("actor")) != NULL && o->bit == CTL_OPT_ACTOR &&
	    !o->duration);
	CHECK(lock->opts & CTL_OPT_ACTOR);
	CHECK(ctl_cmds[CTL_CMD_unlock].opts & CTL_OPT_ACTOR);
	CHECK(!(ctl_cmds[CTL_CMD_why].opts & CTL_OPT_ACTOR));
	CHECK(ctl_opt_flag(lock, "--actor") == NULL);	/* the CLI sets it */
	buf_init(&b);
	ctl_synopsis(&b, lock);
	CHECK(strcmp(buf_str(&b), "lock USER|ADDRESS [--for DURATION]") == 0);
	buf_reset(&b);
	ctl_synopsis(&b, &ctl_cmds[CTL_CMD_overview]);
	CHECK(strcmp(buf_str(&b), "overview") == 0);
	buf_free(&b);
}
