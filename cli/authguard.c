/*++
/* NAME
/*	authguard 1
/* SUMMARY
/*	the admin's command line: why did this AUTH fail, unlock
/* SYNOPSIS
/*	authguard [-c config_file | -s socket] [--json] why REF|USER|ADDRESS
/*	authguard [-c config_file | -s socket] [--json] unlock USER|ADDRESS
/*	authguard [-c config_file | -s socket] [--json] stats
/* DESCRIPTION
/*	Asks authguard-policyd over its control socket (control_listen
/*	in the configuration, or -s unix:/path / -s /path) and prints
/*	the answer: text, or JSON with --json. Exit status 0 when the
/*	daemon answered OK, 1 when it said why not, 2 on usage or
/*	connection errors.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ctlclient.h"
#include "msg.h"
#include "util.h"

#define DEF_CONFIG	"/etc/authguard/authguard.conf"

/* usage - and exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: authguard [-c config_file | -s socket] [--json] "
	    "why REF|USER|ADDRESS\n"
	    "       authguard [-c config_file | -s socket] [--json] "
	    "unlock USER|ADDRESS\n"
	    "       authguard [-c config_file | -s socket] [--json] stats\n");
	exit(2);
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

int
main(int argc, char **argv)
{
	const char *conf = DEF_CONFIG, *sock = NULL, *fmt = "text", *body, *arg;
	struct buf req, answer;
	char *path;
	int i, rc;

	msg_open("authguard", 1);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fmt = "json";
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else
			usage();
	}
	if (argc - i == 1 && strcmp(argv[i], "stats") == 0)
		arg = "-";
	else if (argc - i != 2 || (strcmp(argv[i], "why") && strcmp(argv[i],
	    "unlock")) || strpbrk(argv[i + 1], "\t\n") || !*argv[i + 1])
		usage();
	else
		arg = argv[i + 1];
	path = socket_path(sock, conf);
	buf_init(&req);
	buf_printf(&req, "%s\t%s\t%s\n", argv[i], fmt, arg);
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
