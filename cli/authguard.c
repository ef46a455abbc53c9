/*++
/* NAME
/*	authguard 1
/* SUMMARY
/*	the admin's command line: why did this AUTH fail, who fails, lock
/* SYNOPSIS
/*	authguard [-c config_file | -s socket] [--json] why REF|USER|ADDRESS
/*		[--since DURATION]
/*	authguard [...] top [--since DURATION] [--by user|address|cause]
/*	authguard [...] lock USER|ADDRESS [--for DURATION]
/*	authguard [...] unlock USER|ADDRESS
/*	authguard [...] stats
/* DESCRIPTION
/*	Asks authguard-policyd over its control socket (control_listen
/*	in the configuration, or -s unix:/path / -s /path) and prints
/*	the answer: text, or JSON with --json. Exit status 0 when the
/*	daemon answered OK, 1 when it said why not, 2 on usage or
/*	connection errors. USER is any login name the gate accepts, up
/*	to 1024 bytes (SASL_FIELD_MAX), shown whole; the daemon refuses a
/*	longer one and says so. ADDRESS may be written in any form
/*	(::ffff:192.0.2.7 is 192.0.2.7).
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "ctlclient.h"
#include "msg.h"
#include "netaddr.h"
#include "submission.h"
#include "util.h"

#define DEF_CONFIG	"/etc/authguard/authguard.conf"

/* usage - and exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: authguard [-c config_file | -s socket] [--json] "
	    "COMMAND ...\n"
	    "  why REF|USER|ADDRESS [--since DURATION]\n"
	    "  top [--since DURATION] [--by user|address|cause]\n"
	    "  lock USER|ADDRESS [--for DURATION]\n"
	    "  unlock USER|ADDRESS\n"
	    "  stats\n"
	    "  doctor [-c postfix_config_dir] [-d dovecot.conf]\n"
	    "  probe HOST[:PORT] --user USER [--tls starttls|implicit|none] "
	    "[--mech plain|login]\n"
	    "        [--timeout SECONDS] [--ca FILE] [--insecure]\n"
	    "  analyze [--by user|address|cause] [FILE ...|-]\n"
	    "  metrics          (the Prometheus exposition of metrics_listen)\n");
	exit(2);
}

/* A control socket command: its name, whether it takes an argument, its options. */
static const struct command {
	const char	*name;
	int		 arg;
	const char	*opts;		/* "--since --by" */
} commands[] = {
	{"why", 1, "--since"},
	{"top", 0, "--since --by"},
	{"lock", 1, "--for"},
	{"unlock", 1, ""},
	{"stats", 0, ""},
	{"metrics", 0, ""},
};

/* find_command - the table row, or usage */
static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	usage();
	return NULL;
}

/* add_option - "--since 1h" as "\tsince=3600" */
static void
add_option(struct buf *req, const struct command *c, const char *opt,
    const char *val)
{
	unsigned ms;

	if (!word_in(opt, c->opts) || val == NULL || strpbrk(val, "\t\n"))
		usage();
	if (strcmp(opt, "--by") == 0) {
		buf_printf(req, "\tby=%s", val);
		return;
	}
	if (config_duration(val, &ms) < 0 || ms < 1000) {
		fprintf(stderr, "authguard: %s %s: want a duration like 30m, "
		    "1h, 2d\n", opt, val);
		exit(2);
	}
	buf_printf(req, "\t%s=%u", opt + 2, ms / 1000);
}

/* build_request - "CMD\tFMT\tARG[\tOPT=V...]\n" from the command line */
static void
build_request(struct buf *req, const char *fmt, int argc, char **argv)
{
	const struct command *c = find_command(argv[0]);
	int i = 1;

	if (c->arg && (argc < 2 || !*argv[1] || argv[1][0] == '-' ||
	    strpbrk(argv[1], "\t\n")))
		usage();
	buf_printf(req, "%s\t%s\t%s", c->name, fmt, c->arg ? argv[i++] : "-");
	for (; i < argc; i += 2)
		add_option(req, c, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
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
 * local_command - commands that read configuration files, not the
 * daemon: authguard.conf when it is there (or was named), else the
 * defaults.
 */
static int
local_command(const char *conf, int conf_given, int argc, char **argv,
    int json)
{
	struct config cfg;
	char err[4352];
	int rc;

	if (config_load(conf, &cfg, err, sizeof(err)) < 0) {
		if (conf_given || access(conf, F_OK) == 0) {
			fprintf(stderr, "authguard: %s\n", err);
			return 2;
		}
		if (config_parse("", 0, "(defaults)", &cfg, err, sizeof(err)) < 0)
			return fprintf(stderr, "authguard: %s\n", err), 2;
	}
	rc = cli_doctor(&cfg, argc - 1, argv + 1, json);
	config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *conf = DEF_CONFIG, *sock = NULL, *fmt = "text", *body;
	struct buf req, answer;
	char *path;
	int i, rc, conf_given = 0;

	msg_open("authguard", 1);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fmt = "json";
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
			conf_given = 1;
		}
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else
			usage();
	}
	if (i == argc)
		usage();
	if (strcmp(argv[i], "analyze") == 0)
		return cli_analyze(argc - i - 1, argv + i + 1,
		    strcmp(fmt, "json") == 0);
	if (strcmp(argv[i], "probe") == 0)
		return cli_probe(argc - i - 1, argv + i + 1,
		    strcmp(fmt, "json") == 0);
	if (strcmp(argv[i], "doctor") == 0)
		return local_command(conf, conf_given, argc - i, argv + i,
		    strcmp(fmt, "json") == 0);
	buf_init(&req);
	build_request(&req, fmt, argc - i, argv + i);
	path = socket_path(sock, conf);
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
