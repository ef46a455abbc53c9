/*++
/* NAME
/*	analyze 3
/* SUMMARY
/*	authguard analyze: causes of AUTH failures from existing mail logs
/* SYNOPSIS
/*	authguard [--json] analyze [--by user|address|cause] [FILE ...|-]
/* DESCRIPTION
/*	No daemon needed: reads syslog or journalctl -o short lines (and
/*	Dovecot's own log files), joins Postfix's "SASL ... authentication
/*	failed" warnings with Dovecot's auth lines (lib/logscan.c), and
/*	prints the failures by user, address or cause, like "authguard
/*	top": for servers where authguard-policyd is not deployed yet, and
/*	for Cyrus SASL setups (where every failure is bad-credentials).
/*	Lines over 2 KiB are skipped. Exit status 0, or 2 when a file
/*	cannot be read.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cause.h"
#include "cli.h"
#include "logline.h"
#include "logscan.h"
#include "tally.h"
#include "util.h"

#define ANALYZE_ROWS	50

/* read_file - every line of a stream into the scanner */
static void
read_file(struct logscan *ls, FILE *fp)
{
	char line[4096];
	size_t n;
	int skipping = 0;

	while (fgets(line, sizeof(line), fp)) {
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n') {
			skipping = 1;	/* the rest of a long line follows */
			continue;
		}
		if (skipping) {
			skipping = 0;
			continue;
		}
		logscan_add(ls, line, n - 1);
	}
}

/* show - the rows, like top */
static void
show(const struct tally *t, const char *by, int json, size_t total)
{
	const struct tally_row *rows = t->v;
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_puts(&b, json ? "[" : "");
	for (i = 0; i < t->n && i < ANALYZE_ROWS; i++) {
		if (json) {
			buf_printf(&b, "%s{\"%s\":", i ? "," : "", by);
			escaped_value(&b, LOG_FORMAT_JSON, rows[i].key);
			buf_printf(&b, ",\"failures\":%u", rows[i].fails);
			if (strcmp(by, "cause"))
				buf_printf(&b, ",\"dominant_cause\":\"%s\"",
				    cause_id(tally_dominant(&rows[i])));
			buf_putc(&b, '}');
		} else {
			buf_printf(&b, "  %s=", by);
			escaped_value(&b, LOG_FORMAT_LOGFMT, rows[i].key);
			buf_printf(&b, " failures=%u", rows[i].fails);
			if (strcmp(by, "cause"))
				buf_printf(&b, " dominant_cause=%s",
				    cause_id(tally_dominant(&rows[i])));
			buf_putc(&b, '\n');
		}
	}
	if (json)
		buf_puts(&b, "]\n");
	else
		buf_printf(&b, "%zu failed AUTH attempt%s\n", total,
		    total == 1 ? "" : "s");
	fputs(buf_str(&b), stdout);
	buf_free(&b);
}

/* cli_analyze - the command; argv after "analyze" */
int
cli_analyze(int argc, char **argv, int json)
{
	const char *by = "user", *key;
	struct logscan ls;
	struct log_failure *f;
	struct tally rows = {NULL, 0, 0};
	struct tally_row *r;
	size_t n, i;
	int a = 0, files = 0, rc = 0;
	FILE *fp;

	if (argc >= 2 && strcmp(argv[0], "--by") == 0) {
		by = argv[1];
		a = 2;
	}
	if (strcmp(by, "user") && strcmp(by, "address") && strcmp(by, "cause"))
		return fprintf(stderr, "usage: authguard analyze [--by user|"
		    "address|cause] [FILE ...|-]\n"), 2;
	logscan_init(&ls);
	for (; a < argc || files == 0; a++, files++) {
		if (a >= argc || strcmp(argv[a], "-") == 0) {
			read_file(&ls, stdin);
			continue;
		}
		if ((fp = fopen(argv[a], "r")) == NULL) {
			fprintf(stderr, "authguard: analyze: cannot read %s\n",
			    argv[a]);
			rc = 2;
			continue;
		}
		read_file(&ls, fp);
		fclose(fp);
	}
	n = logscan_join(&ls, &f);
	for (i = 0; i < n; i++) {
		key = strcmp(by, "address") == 0 ? f[i].ip : strcmp(by, "cause") ==
		    0 ? cause_id(f[i].cause) : *f[i].user ? f[i].user : "(none)";
		r = tally_row(&rows, key);
		r->fails++;
		r->causes[f[i].cause]++;
	}
	tally_sort(&rows);
	show(&rows, by, json, n);
	tally_free(&rows);
	free(f);
	logscan_free(&ls);
	return rc;
}
