/*++
/* NAME
/*	doctor 3
/* SUMMARY
/*	authguard doctor: Postfix and Dovecot settings that cause AUTH failures
/* SYNOPSIS
/*	authguard [-c authguard.conf] [--json] doctor [-c postfix_config_dir]
/*		[-d dovecot.conf]
/* DESCRIPTION
/*	Runs postconf (every effective value), postconf -P, postconf -M
/*	and, when doveconf is installed, doveconf -n (Dovecot 2.3 or 2.4),
/*	and reports each problem (lib/doctor.c) with the line to change.
/*	Exit status 0 when nothing was found, 1 when something was, 2 when
/*	a configuration could not be read: postconf could not be run, or
/*	doveconf -n failed (a 2.3 dovecot.conf under Dovecot 2.4).
/*--*/
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "doctor.h"
#include "logline.h"
#include "netaddr.h"
#include "util.h"

/* cli_run - run argv (no shell), its stdout into out; the exit status */
int
cli_run(char *const *argv, struct buf *out)
{
	int pfd[2], status;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* postconf - one postconf run with -c when given; -1 when it failed */
static int
postconf(const char *dir, const char *flag, struct buf *out)
{
	char *argv[5];
	int n = 0;

	argv[n++] = "postconf";
	if (dir) {
		argv[n++] = "-c";
		argv[n++] = (char *)dir;
	}
	if (flag)
		argv[n++] = (char *)flag;
	argv[n] = NULL;
	return cli_run(argv, out) == 0 ? 0 : -1;
}

/* dovecot - doveconf -n; 0 when it answered, else its exit status */
static int
dovecot(const char *conf, struct buf *out)
{
	char *argv[] = {"doveconf", "-n", NULL, NULL, NULL};

	if (conf) {
		argv[1] = "-c";
		argv[2] = (char *)conf;
		argv[3] = "-n";
	}
	return cli_run(argv, out);
}

static int doveconf_status;		/* 127: not installed */

/* doveconf_failed - doveconf is installed but did not answer */
static int
doveconf_failed(void)
{
	return doveconf_status != 0 && doveconf_status != 127;
}

/* sock_path - a unix socket's path, "" otherwise */
static const char *
sock_path(const struct sockspec *s)
{
	return s->kind == SOCK_UNIX ? s->path : "";
}

/* run_group - the primary group of authguard's user, "" when unknown */
static const char *
run_group(const char *user)
{
	static char name[256];
	struct passwd *pw;
	struct group *gr;

	name[0] = 0;
	if (user && (pw = getpwnam(user)) != NULL &&
	    (gr = getgrgid(pw->pw_gid)) != NULL)
		snprintf(name, sizeof(name), "%s", gr->gr_name);
	return name;
}

/* dovecot_settings - doveconf -n into in; says so when it failed */
static void
dovecot_settings(const char *dvconf, struct doctor_input *in, struct buf *b)
{
	doveconf_status = dovecot(dvconf, b);
	if ((in->have_dovecot = doveconf_status == 0) != 0)
		doctor_parse_dovecot(in, buf_str(b));
	else if (doveconf_failed())
		fprintf(stderr, "authguard: doctor: doveconf%s%s -n failed: "
		    "Dovecot settings not checked\n", dvconf ? " -c " : "",
		    dvconf ? dvconf : "");
}

/* gather - every text the checks read */
static int
gather(const struct config *cfg, const char *pfdir, const char *dvconf,
    struct doctor_input *in)
{
	struct buf b[4];
	int i, rc = 0;

	for (i = 0; i < 4; i++)
		buf_init(&b[i]);
	if (postconf(pfdir, NULL, &b[0]) < 0 ||
	    postconf(pfdir, "-P", &b[1]) < 0 ||
	    postconf(pfdir, "-M", &b[2]) < 0) {
		fprintf(stderr, "authguard: doctor: postconf%s%s failed\n",
		    pfdir ? " -c " : "", pfdir ? pfdir : "");
		rc = -1;
	} else {
		kvlist_parse(&in->main, buf_str(&b[0]), 0);
		kvlist_parse(&in->overrides, buf_str(&b[1]), 0);
		doctor_parse_master(in, buf_str(&b[2]));
		dovecot_settings(dvconf, in, &b[3]);
	}
	in->sasl_path = sock_path(&cfg->sasl_listen);
	in->policy_path = sock_path(&cfg->policy_listen);
	in->milter_path = sock_path(&cfg->milter_listen);
	in->submission_ports = cfg->submission_ports;
	in->submission_daemons = cfg->milter_submission_daemons;
	in->require_tls_for_auth = cfg->require_tls_for_auth;
	in->tls_exempt = cfg->tls_exempt_networks.n > 0;
	in->userdb_path = sock_path(&cfg->userdb_upstream);
	in->run_user = cfg->user ? cfg->user : "";
	in->run_group = run_group(cfg->user);
	for (i = 0; i < 4; i++)
		buf_free(&b[i]);
	return rc;
}

/* show - the findings, text or JSON */
static void
show(const struct doctor_report *r, int json, int have_dovecot)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	if (json)
		buf_putc(&b, '[');
	for (i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];

		if (json) {
			buf_printf(&b, "%s{\"id\":\"%s\",\"where\":",
			    i ? "," : "", f->id);
			escaped_value(&b, LOG_FORMAT_JSON, f->where);
			buf_puts(&b, ",\"problem\":");
			escaped_value(&b, LOG_FORMAT_JSON, f->problem);
			buf_puts(&b, ",\"fix\":");
			escaped_value(&b, LOG_FORMAT_JSON, f->fix);
			buf_putc(&b, '}');
		} else
			buf_printf(&b, "%s: %s (%s)\n    fix: %s\n", f->id,
			    f->problem, f->where, f->fix);
	}
	if (json)
		buf_puts(&b, "]\n");
	else
		buf_printf(&b, "%zu problem%s found%s\n", r->n, r->n == 1 ? "" :
		    "s", have_dovecot ? "" : doveconf_status == 127 ?
		    " (doveconf not run: Dovecot settings not checked)" :
		    " (doveconf -n failed, see above: Dovecot settings not "
		    "checked)");
	fputs(buf_str(&b), stdout);
	buf_free(&b);
}

/* cli_doctor - the command; argv after "doctor" */
int
cli_doctor(const struct config *cfg, int argc, char **argv, int json)
{
	const char *pfdir = NULL, *dvconf = NULL;
	struct doctor_input in;
	struct doctor_report r;
	int i, rc;

	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return fprintf(stderr, "authguard: doctor: %s needs a "
			    "value\n", argv[i]), 2;
		if (strcmp(argv[i], "-c") == 0)
			pfdir = argv[i + 1];
		else if (strcmp(argv[i], "-d") == 0)
			dvconf = argv[i + 1];
		else
			return fprintf(stderr, "authguard: doctor [-c "
			    "postfix_config_dir] [-d dovecot.conf]\n"), 2;
	}
	memset(&in, 0, sizeof(in));
	memset(&r, 0, sizeof(r));
	if (gather(cfg, pfdir, dvconf, &in) < 0) {
		doctor_input_free(&in);
		return 2;
	}
	doctor_check(&in, &r);
	show(&r, json, in.have_dovecot);
	rc = doveconf_failed() ? 2 : r.n ? 1 : 0;
	doctor_report_free(&r);
	doctor_input_free(&in);
	return rc;
}
