/*++
/* NAME
/*	authguard 1
/* SUMMARY
/*	the admin's command line: why did this AUTH fail, who fails, lock
/* SYNOPSIS
/*	authguard [-c config_file | -s socket] [--json] why REF|USER|ADDRESS
/*		[--since DURATION]
/*	authguard [...] top [--since DURATION] [--by user|address|cause|proto]
/*	authguard [...] lock USER|ADDRESS [--for DURATION]
/*	authguard [...] unlock USER|ADDRESS
/*	authguard [...] overview
/*	authguard [...] stats
/*	authguard [...] metrics
/* DESCRIPTION
/*	Asks authguard-policyd over its control socket (control_listen
/*	in the configuration, or -s unix:/path / -s /path) and prints
/*	the answer: text, or JSON with --json. Exit status 0 when the
/*	daemon answered OK, 1 when it said why not, 2 on usage or
/*	connection errors. USER is any login name the gate accepts, up
/*	to 1024 bytes (SASL_FIELD_MAX), shown whole; the daemon refuses a
/*	longer one and says so. ADDRESS may be written in any form
/*	(::ffff:192.0.2.7 is 192.0.2.7).
/*
/*	lock and unlock name who acts, for the daemon's event=admin log
/*	line: actor=cli:LOGIN, the login name of the real uid (its
/*	number when it has no name).
/*
/*	The commands that ask the daemon, their arguments and options
/*	are those of the control table (ctlcmd 3h), and so is their
/*	usage text. The global options (-c, -s, --json) may come
/*	anywhere on the line, before or after the command and its
/*	arguments; after the command, an option of its own comes first
/*	(doctor -c is the Postfix directory). "--" ends the options: what
/*	follows is an argument even when it starts with "-".
/*--*/
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "ctlclient.h"
#include "ctlcmd.h"
#include "msg.h"
#include "netaddr.h"
#include "submission.h"
#include "util.h"

#define DEF_CONFIG	"/etc/authguard/authguard.conf"

struct cmdline;

/* A command the CLI runs itself, and its own options. */
struct local_cmd {
	const char	*name;
	const char	*valued;	/* its options with a value: "-c -d" */
	const char	*bare;		/* its options without one */
	const char	*usage;		/* its synopsis */
	const char	*help;
	int		(*run)(const struct cmdline *);
};

/* The command line: the global options, the command, its own words. */
struct cmdline {
	const char	*conf;		/* -c */
	const char	*sock;		/* -s */
	int		 conf_given;
	int		 json;		/* --json */
	const char	*name;		/* the command */
	const struct ctl_cmd *ctl;	/* a command of the daemon's, or */
	const struct local_cmd *local;	/* one the CLI runs itself */
	char		**v;		/* its options and arguments, in order */
	char		*kind;		/* of each: CL_* */
	int		 n;
};

#define CL_OPTION	'o'	/* an option of the command's own */
#define CL_VALUE	'v'	/* the value of the option before */
#define CL_ARG		'a'	/* an argument */
#define CL_ARG_LITERAL	'A'	/* an argument after "--" */

static int run_doctor(const struct cmdline *);
static int run_probe(const struct cmdline *);
static int run_analyze(const struct cmdline *);

static const struct local_cmd local_cmds[] = {
	{"doctor", "-c -d", "", "doctor [-c postfix_config_dir] [-d dovecot.conf]",
	    "what in the setup is wrong", run_doctor},
	{"probe", "--user --tls --mech --timeout --ca", "--insecure",
	    "probe HOST[:PORT] --user USER [--tls starttls|implicit|none] "
	    "[--mech plain|login]\n"
	    "        [--timeout SECONDS] [--ca FILE] [--insecure]",
	    "a login, from outside", run_probe},
	{"analyze", "--by", "", "analyze [--by user|address|cause] [FILE ...|-]",
	    "the failures in mail logs", run_analyze},
};

/* usage - the commands of the control table, then the CLI's own; exit 2 */
static void
usage(void)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_puts(&b, "usage: authguard [-c config_file | -s socket] [--json] "
	    "COMMAND ...\n");
	ctl_usage(&b);
	for (i = 0; i < NELEM(local_cmds); i++)
		ctl_usage_line(&b, local_cmds[i].usage, local_cmds[i].help);
	fputs(buf_str(&b), stderr);
	exit(2);
}

/* command_find - the command's table row, or usage */
static void
command_find(struct cmdline *cl, const char *name)
{
	size_t i;
	int k;

	cl->name = name;
	if ((k = ctl_cmd_find(name)) >= 0 && (ctl_cmds[k].flags & CTL_CLI)) {
		cl->ctl = &ctl_cmds[k];
		return;
	}
	for (i = 0; i < NELEM(local_cmds); i++)
		if (strcmp(local_cmds[i].name, name) == 0) {
			cl->local = &local_cmds[i];
			return;
		}
	usage();
}

/* own_option - 2: an option of the command's with a value, 1: without, 0: not its */
static int
own_option(const struct cmdline *cl, const char *word)
{
	if (cl->ctl)
		return ctl_opt_flag(cl->ctl, word) ? 2 : 0;
	if (cl->local)
		return word_in(word, cl->local->valued) ? 2 :
		    word_in(word, cl->local->bare) ? 1 : 0;
	return 0;
}

/* global_option - -c FILE, -s SOCKET or --json at argv[*i]; 0: not one */
static int
global_option(struct cmdline *cl, int argc, char **argv, int *i)
{
	const char *word = argv[*i];

	if (strcmp(word, "--json") == 0)
		return cl->json = 1;
	if (strcmp(word, "-c") && strcmp(word, "-s"))
		return 0;
	if (*i + 1 == argc)
		usage();
	if (word[1] == 'c') {
		cl->conf = argv[++*i];
		cl->conf_given = 1;
	} else
		cl->sock = argv[++*i];
	return 1;
}

/* add_word - one word for the command */
static void
add_word(struct cmdline *cl, char *word, char kind)
{
	cl->v[cl->n] = word;
	cl->kind[cl->n++] = kind;
}

/* cmdline_parse - global options anywhere, the command, its own words */
static void
cmdline_parse(int argc, char **argv, struct cmdline *cl)
{
	int i, own, literal = 0;
	char *w;

	memset(cl, 0, sizeof(*cl));
	cl->conf = DEF_CONFIG;
	cl->v = xcalloc((size_t)argc, sizeof(*cl->v));
	cl->kind = xcalloc((size_t)argc, 1);
	for (i = 1; i < argc; i++) {
		w = argv[i];
		if (!literal && strcmp(w, "--") == 0 && cl->local == NULL)
			literal = 1;	/* doctor, probe, analyze: theirs */
		else if (literal || w[0] != '-' || w[1] == 0) {
			if (cl->name == NULL)
				command_find(cl, w);
			else
				add_word(cl, w, literal ? CL_ARG_LITERAL : CL_ARG);
		} else if ((own = own_option(cl, w)) != 0) {
			add_word(cl, w, CL_OPTION);
			if (own == 2 && i + 1 < argc)
				add_word(cl, argv[++i], CL_VALUE);
		} else if (global_option(cl, argc, argv, &i))
			continue;
		else if (cl->local)	/* its own parser says what is wrong */
			add_word(cl, w, CL_ARG);
		else
			usage();
	}
	if (cl->name == NULL)
		usage();
}

/* add_option - "--since 1h" as "\tsince=3600" */
static void
add_option(struct buf *req, const struct ctl_opt *o, const char *val)
{
	unsigned ms;

	if (val == NULL || strpbrk(val, "\t\n"))
		usage();
	if (!o->duration) {
		buf_printf(req, "\t%s=%s", o->field, val);
		return;
	}
	if (config_duration(val, &ms) < 0 || ms < 1000) {
		fprintf(stderr, "authguard: %s %s: want a duration like 30m, "
		    "1h, 2d\n", o->flag, val);
		exit(2);
	}
	buf_printf(req, "\t%s=%u", o->field, ms / 1000);
}

/* request_arg - the command's one argument, "-" when it takes none, or usage */
static const char *
request_arg(const struct cmdline *cl)
{
	const char *arg = NULL;
	int i, n = 0;

	for (i = 0; i < cl->n; i++) {
		if (cl->kind[i] != CL_ARG && cl->kind[i] != CL_ARG_LITERAL)
			continue;
		if (n++ || !*cl->v[i] || strpbrk(cl->v[i], "\t\n") ||
		    (cl->kind[i] == CL_ARG && cl->v[i][0] == '-'))
			usage();
		arg = cl->v[i];
	}
	if ((arg != NULL) != (cl->ctl->arg != NULL))
		usage();
	return arg ? arg : "-";
}

/* add_actor - "\tactor=cli:LOGIN", the login name of the real uid, or its number */
static void
add_actor(struct buf *req)
{
	struct passwd *pw = getpwuid(getuid());
	const char *name = pw ? pw->pw_name : NULL;

	if (name && *name && strlen(name) <= CTL_ACTOR_MAX - 4 &&
	    !strpbrk(name, "\t\r\n"))
		buf_printf(req, "\tactor=cli:%s", name);
	else
		buf_printf(req, "\tactor=cli:%lu", (unsigned long)getuid());
}

/* build_request - "CMD\tFMT\tARG[\tOPT=V...]\n" from the command line */
static void
build_request(struct buf *req, const struct cmdline *cl)
{
	int i;

	buf_printf(req, "%s\t%s\t%s", cl->ctl->name, cl->json ? "json" : "text",
	    request_arg(cl));
	for (i = 0; i < cl->n; i++)
		if (cl->kind[i] == CL_OPTION)
			add_option(req, ctl_opt_flag(cl->ctl, cl->v[i]),
			    i + 1 < cl->n && cl->kind[i + 1] == CL_VALUE ?
			    cl->v[i + 1] : NULL);
	if (cl->ctl->opts & CTL_OPT_ACTOR)
		add_actor(req);
	buf_putc(req, '\n');
}

/* socket_path - from -s, or from the configuration */
static char *
socket_path(const char *sock, const char *conf)
{
	struct config cfg;
	char err[4352], *path;

	if (sock)
		return xstrdup(strncmp(sock, "unix:", 5) == 0 ? sock + 5 : sock);
	if (config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "authguard: %s\n", err);
		exit(2);
	}
	if (cfg.control_listen.kind != SOCK_UNIX) {
		fprintf(stderr, "authguard: %s: control_listen is not a unix "
		    "socket\n", conf);
		exit(2);
	}
	path = xstrdup(cfg.control_listen.path);
	config_free(&cfg);
	return path;
}

/* ask - send one request, read the whole answer */
static void
ask(const char *path, const char *request, struct buf *answer)
{
	char err[512];

	if (ctl_ask(path, request, -1, answer, err, sizeof(err)) < 0) {
		fprintf(stderr, "authguard: %s\n", err);
		exit(2);
	}
}

/*
 * run_doctor - doctor reads configuration files, not the daemon:
 * authguard.conf when it is there (or was named), else the defaults.
 */
static int
run_doctor(const struct cmdline *cl)
{
	struct config cfg;
	char err[4352];
	int rc;

	if (config_load(cl->conf, &cfg, err, sizeof(err)) < 0) {
		if (cl->conf_given || access(cl->conf, F_OK) == 0) {
			fprintf(stderr, "authguard: %s\n", err);
			return 2;
		}
		if (config_parse("", 0, "(defaults)", &cfg, err, sizeof(err)) < 0)
			return fprintf(stderr, "authguard: %s\n", err), 2;
	}
	rc = cli_doctor(&cfg, cl->n, cl->v, cl->json);
	config_free(&cfg);
	return rc;
}

/* run_probe - a submission session from the outside */
static int
run_probe(const struct cmdline *cl)
{
	return cli_probe(cl->n, cl->v, cl->json);
}

/* run_analyze - the failures in Postfix's logs */
static int
run_analyze(const struct cmdline *cl)
{
	return cli_analyze(cl->n, cl->v, cl->json);
}

/* ask_daemon - one request to authguard-policyd, its answer printed */
static int
ask_daemon(const struct cmdline *cl)
{
	struct buf req, answer;
	const char *body;
	char *path;
	int rc;

	buf_init(&req);
	build_request(&req, cl);
	path = socket_path(cl->sock, cl->conf);
	buf_init(&answer);
	ask(path, buf_str(&req), &answer);
	free(path);
	body = buf_str(&answer);
	if (strncmp(body, "OK\n", 3) == 0) {
		fputs(body + 3, stdout);
		rc = 0;
	} else {
		fprintf(stderr, "authguard: %s", strncmp(body, "ERR ", 4) == 0 ?
		    body + 4 : "no answer from authguard-policyd\n");
		rc = 1;
	}
	buf_free(&req);
	buf_free(&answer);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cmdline cl;
	int rc;

	msg_open("authguard", 1);
	cmdline_parse(argc, argv, &cl);
	rc = cl.local ? cl.local->run(&cl) : ask_daemon(&cl);
	free(cl.v);
	free(cl.kind);
	return rc;
}
