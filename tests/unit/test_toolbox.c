/*++
/* NAME
/*	test_toolbox 1
/* SUMMARY
/*	unit tests: doctor on doveconf -n of Dovecot 2.3 and 2.4, analyze's
/*	log lines of Postfix 3.7 and 3.10 and Dovecot 2.3 and 2.4
/* DESCRIPTION
/*	The texts are doveconf -n (read from tests/fixtures/doveconf) and
/*	log lines (those of tests/fixtures/maillog) printed by the real
/*	programs, paths of the throwaway directory they ran in replaced by
/*	the usual ones.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "doctor.h"
#include "logscan.h"
#include "unit.h"
#include "util.h"

/* dv - doveconf -n of a real Dovecot (tests/fixtures/doveconf), read once */
static const char *
dv(const char *name)
{
	static struct {
		char	 name[64];
		char	*text;
	} seen[8];
	char path[128];
	size_t i;

	for (i = 0; i < 8 && seen[i].text != NULL; i++)
		if (strcmp(seen[i].name, name) == 0)
			return seen[i].text;
	snprintf(path, sizeof(path), "doveconf/%s", name);
	if (i == 8)
		abort();
	str_copy(seen[i].name, sizeof(seen[i].name), name);
	return seen[i].text = unit_fixture(path);
}

/* Postfix with AUTH before TLS on 587: passwords may come in clear. */
static const char clear_main[] =
    "queue_directory = /var/spool/postfix\n"
    "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/authguard\n"
    "smtpd_tls_auth_only = no\nsmtpd_sasl_auth_enable = yes\n"
    "smtpd_relay_restrictions = check_policy_service "
    "unix:private/authguard-policy, permit_sasl_authenticated, reject\n";
static const char clear_master[] = "submission inet n - y - - smtpd\n";

struct dv_case {
	const char *doveconf;
	const char *user, *group;	/* authguard's */
	const char *userdb;		/* userdb_upstream's path */
	int	 clear;			/* AUTH before TLS, no TLS required */
};

/* dv_report - doctor's findings on one Dovecot configuration */
static void
dv_report(const struct dv_case *c, struct doctor_report *r)
{
	struct doctor_input in;

	memset(&in, 0, sizeof(in));
	memset(r, 0, sizeof(*r));
	if (c->clear) {
		kvlist_parse(&in.main, clear_main, 0);
		doctor_parse_master(&in, clear_master);
	}
	doctor_parse_dovecot(&in, c->doveconf);
	in.have_dovecot = 1;
	in.sasl_path = "/var/spool/postfix/private/authguard";
	in.policy_path = "/var/spool/postfix/private/authguard-policy";
	in.milter_path = "";
	in.submission_ports = "587 465";
	in.submission_daemons = "";
	in.require_tls_for_auth = !c->clear;
	in.userdb_path = c->userdb;
	in.run_user = c->user;
	in.run_group = c->group;
	doctor_check(&in, r);
	doctor_input_free(&in);
}

/* dv_find - the finding with this id, NULL if none */
static const struct finding *
dv_find(const struct doctor_report *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].id, id) == 0)
			return &r->f[i];
	return NULL;
}

/* dv_ids - the ids only, space separated */
static const char *
dv_ids(const struct dv_case *c)
{
	static char out[512];
	struct doctor_report r;
	size_t i;

	dv_report(c, &r);
	out[0] = 0;
	for (i = 0; i < r.n; i++) {
		strncat(out, r.f[i].id, sizeof(out) - strlen(out) - 2);
		strcat(out, " ");
	}
	doctor_report_free(&r);
	return out;
}

TEST(doctor_dovecot24_syntax)
{
	struct doctor_input in;

	memset(&in, 0, sizeof(in));
	doctor_parse_dovecot(&in, dv("2.4-userdb-0666.txt"));
	CHECK(in.dovecot24 == 1);
	CHECK_STR(kvlist_get(&in.dovecot, "auth_mechanisms"), "plain login");
	CHECK_STR(kvlist_get(&in.dovecot, "base_dir"), "/run/dovecot");
	CHECK(kvlist_get(&in.dovecot, "passwd_file_path") == NULL);
	CHECK(kvlist_get(&in.dovecot, "uid") == NULL);	/* userdb fields */
	CHECK(in.nlst == 3);
	if (in.nlst == 3) {
		CHECK_STR(in.lst[1].name, "auth-userdb");
		CHECK(in.lst[1].mode == 0666 && in.lst[1].user == NULL);
		CHECK_STR(in.lst[2].name, "/var/spool/postfix/private/auth");
		CHECK(in.lst[2].mode == 0660);
		CHECK_STR(in.lst[2].user, "postfix");
	}
	doctor_input_free(&in);
	memset(&in, 0, sizeof(in));
	doctor_parse_dovecot(&in, dv("2.3-userdb-0666.txt"));
	CHECK(in.dovecot24 == 0 && in.nlst == 2);
	CHECK_STR(kvlist_get(&in.dovecot, "auth_mechanisms"), "plain login");
	CHECK(kvlist_get(&in.dovecot, "driver") == NULL);
	doctor_input_free(&in);
	memset(&in, 0, sizeof(in));	/* the version from the header alone */
	doctor_parse_dovecot(&in, "# 2.4.1-4 (7d8c0e5759): /etc/dovecot/"
	    "dovecot.conf\nservice auth {\n  unix_listener \"x-userdb\" {\n"
	    "    mode = 0666\n    group = authguard\n  }\n}\n");
	CHECK(in.dovecot24 == 1 && in.nlst == 1);
	if (in.nlst == 1) {
		CHECK_STR(in.lst[0].name, "x-userdb");
		CHECK_STR(in.lst[0].group, "authguard");
	}
	doctor_input_free(&in);
}

TEST(doctor_userdb_listener_0666)
{
	struct dv_case c = {dv("2.3-userdb-0666.txt"), "authguard", "authguard",
	    "/run/dovecot/auth-userdb", 0};
	const struct finding *f;
	struct doctor_report r;

	dv_report(&c, &r);
	CHECK(r.n == 1 && (f = dv_find(&r, "dovecot-userdb-restricted")));
	if (r.n == 1) {
		f = &r.f[0];
		CHECK_STR(f->fix, "service auth { unix_listener auth-userdb { "
		    "mode = 0660  user = authguard } }");
		CHECK(strstr(f->problem, "bad-credentials") != NULL);
		CHECK(strstr(f->problem, "its user (dovecot)") != NULL);
	}
	doctor_report_free(&r);
	c.doveconf = dv("2.4-userdb-0666.txt");
	CHECK_STR(dv_ids(&c), "dovecot-userdb-restricted ");
	/* no auth-userdb block: the default */
	c.doveconf = dv("2.4-userdb-default.txt");
	dv_report(&c, &r);
	CHECK(r.n == 1 && strstr(r.f[0].problem, "Dovecot's default"));
	doctor_report_free(&r);
	c.group = "dovecot";		/* 2.4's default listener group */
	CHECK_STR(dv_ids(&c), "");
	c.doveconf = dv("2.3-userdb-0666.txt");	/* default group: root */
	CHECK_STR(dv_ids(&c), "dovecot-userdb-restricted ");
	c.user = "root";
	CHECK_STR(dv_ids(&c), "");
	c.user = "dovecot";		/* the listener's owner */
	CHECK_STR(dv_ids(&c), "");
	c.user = "authguard";
	c.userdb = "";			/* userdb_upstream not set */
	CHECK_STR(dv_ids(&c), "");
	c.userdb = "/run/dovecot/auth-client";	/* 0666, but not a userdb */
	CHECK_STR(dv_ids(&c), "");
	/* base_dir spelt apart */
	c.userdb = "/var/run/dovecot/auth-userdb";
	CHECK_STR(dv_ids(&c), "dovecot-userdb-restricted ");
	c.doveconf = "service auth {\n  unix_listener "
	    "/var/spool/postfix/private/auth-userdb {\n    mode = 0660\n"
	    "    user = authguard\n  }\n  unix_listener auth-userdb {\n"
	    "    mode = 0666\n  }\n}\n";
	c.userdb = "/var/spool/postfix/private/auth-userdb";
	CHECK_STR(dv_ids(&c), "");
	c.userdb = "/run/dovecot/auth-userdb";
	dv_report(&c, &r);
	CHECK(r.n == 1 && strstr(r.f[0].fix, "unix_listener auth-userdb {"));
	doctor_report_free(&r);
	c.doveconf = "service auth {\n"	/* 2.4 */
	    "  unix_listener lookups {\n    mode = 0666\n    type = userdb\n"
	    "  }\n  unix_listener x-userdb {\n    mode = 0666\n"
	    "    type = auth\n  }\n}\n";
	c.userdb = "/run/dovecot/lookups";
	CHECK_STR(dv_ids(&c), "dovecot-userdb-restricted ");
	c.userdb = "/run/dovecot/x-userdb";	/* the type, not the name */
	CHECK_STR(dv_ids(&c), "");
}

TEST(doctor_dovecot24_findings)
{
	struct dv_case c = {dv("2.4-cleartext-login-only.txt"), "", "", "", 1};
	struct doctor_report r;
	const struct finding *f;

	/* auth_allow_cleartext = yes: no mismatch; login only: no PLAIN */
	CHECK(strstr(dv_ids(&c), "dovecot-no-plain") != NULL);
	CHECK(strstr(dv_ids(&c), "dovecot-plaintext-mismatch") == NULL);
	dv_report(&c, &r);
	f = dv_find(&r, "dovecot-no-plain");
	CHECK(f && strcmp(f->fix, "auth_mechanisms = plain login") == 0);
	doctor_report_free(&r);
	/* auth_allow_cleartext = no (the default) */
	c.doveconf = dv("2.4-userdb-0666.txt");
	dv_report(&c, &r);
	f = dv_find(&r, "dovecot-plaintext-mismatch");
	CHECK(f && strstr(f->problem, "auth_allow_cleartext = no"));
	CHECK(dv_find(&r, "dovecot-no-plain") == NULL);
	doctor_report_free(&r);
	/* disable_plaintext_auth = yes (the default) */
	c.doveconf = dv("2.3-userdb-0666.txt");
	dv_report(&c, &r);
	f = dv_find(&r, "dovecot-plaintext-mismatch");
	CHECK(f && strstr(f->problem, "disable_plaintext_auth = yes"));
	doctor_report_free(&r);
}

/* Lines of tests/fixtures/maillog, as the real programs wrote them. */
static const char *const pf37_fail =
    "Dec 01 22:00:46 lab postfix/smtpd[30947]: warning: unknown[127.0.0.21]: "
    "SASL PLAIN authentication failed: (reason unavailable), "
    "sasl_username=alice@example.test";
static const char *const pf310_login_fail =
    "Dec 01 22:00:58 lab postfix/smtpd[174]: warning: unknown[127.0.0.23]: "
    "SASL LOGIN authentication failed: (reason unavailable), "
    "sasl_username=bob@example.test";
static const char *const pf310_reject =
    "Dec 01 22:00:58 lab postfix/smtpd[174]: NOQUEUE: reject: RCPT from "
    "unknown[127.0.0.24]: 504 5.5.2 <not-qualified>: Recipient address "
    "rejected: need fully-qualified address; from=<root@vm> "
    "to=<not-qualified> proto=ESMTP helo=<vm> sasl_method=PLAIN "
    "sasl_username=alice@example.test";
static const char *const dv23_mismatch =
    "Dec 01 22:00:45 auth: Info: passwd-file(alice@example.test,127.0.0.21): "
    "Password mismatch";
static const char *const dv24_mismatch =
    "Dec 01 22:00:58 auth(alice@example.test,127.0.0.21,sasl:plain): Info: "
    "passwd-file: Password mismatch";
static const char *const dv24_unknown =
    "Dec 01 22:00:58 auth(ghost@example.test,127.0.0.22,sasl:plain): Info: "
    "passwd-file: unknown user";
static const char *const dv24_login_fail =
    "Dec 01 22:00:58 auth(bob@example.test,127.0.0.23,sasl:login): Info: "
    "passwd-file: Password mismatch";
static const char *const dv24_start =
    "Dec 01 22:00:55 master: Info: Dovecot v2.4.1-4 (7d8c0e5759) starting "
    "up without any protocols (core dumps disabled)";

/* scan - logscan_line on a C string */
static enum log_kind
scan(const char *line, struct log_event *ev)
{
	return logscan_line(line, strlen(line), ev);
}

TEST(logscan_postfix_3_10_and_dovecot_2_4)
{
	struct log_event ev;

	CHECK(scan(pf37_fail, &ev) == LOG_POSTFIX_FAIL);
	CHECK_STR(ev.user, "alice@example.test");
	CHECK(scan(pf310_login_fail, &ev) == LOG_POSTFIX_FAIL);
	CHECK_STR(ev.mech, "LOGIN");
	CHECK_STR(ev.ip, "127.0.0.23");
	CHECK_STR(ev.user, "bob@example.test");
	CHECK(scan(pf310_reject, &ev) == LOG_NONE);	/* AUTH succeeded */
	CHECK(scan(dv23_mismatch, &ev) == LOG_DOVECOT_FAIL);
	CHECK(ev.cause == CAUSE_BAD_PASSWORD);
	CHECK(scan(dv24_mismatch, &ev) == LOG_DOVECOT_FAIL);
	CHECK(ev.cause == CAUSE_BAD_PASSWORD);
	CHECK_STR(ev.user, "alice@example.test");
	CHECK_STR(ev.ip, "127.0.0.21");
	CHECK(scan(dv24_unknown, &ev) == LOG_DOVECOT_FAIL);
	CHECK(ev.cause == CAUSE_UNKNOWN_USER);
	CHECK_STR(ev.user, "ghost@example.test");
	CHECK(scan(dv24_login_fail, &ev) == LOG_DOVECOT_FAIL);
	CHECK(scan(dv24_start, &ev) == LOG_NONE);
	/* The same event through syslog ("dovecot: " and no level), a
	/* process id group, and lines that only look alike. */
	CHECK(scan("Dec  1 22:00:58 mx dovecot: auth(alice@example.test,"
	    "192.0.2.7,sasl:plain): passwd-file: Password mismatch", &ev) ==
	    LOG_DOVECOT_FAIL && strcmp(ev.ip, "192.0.2.7") == 0);
	CHECK(scan("Dec  1 22:00:58 mx dovecot: auth-worker(bob,192.0.2.7,"
	    "sasl:plain)<4711>: sql: unknown user", &ev) == LOG_DOVECOT_FAIL &&
	    ev.cause == CAUSE_UNKNOWN_USER && strcmp(ev.user, "bob") == 0);
	CHECK(scan("Dec  1 22:00:58 mx dovecot: auth(alice,192.0.2.7): "
	    "Info: passwd-file: lookup done", &ev) == LOG_NONE);
	CHECK(scan("Dec  1 22:00:58 mx dovecot: oauth(alice,192.0.2.7): "
	    "Info: x: unknown user", &ev) == LOG_NONE);
	CHECK(scan("Dec  1 22:00:58 mx dovecot: auth(alice,192.0.2.7<: "
	    "unknown user", &ev) == LOG_NONE);
	CHECK(scan("Dec  1 22:00:58 mx dovecot: auth(alice,192.0.2.7)<1: "
	    "x: unknown user", &ev) == LOG_NONE);
}

TEST(logscan_join_dovecot_2_4)
{
	const char *const lines[] = {dv24_start, dv24_mismatch,
	    "Dec 01 22:00:58 lab postfix/smtpd[174]: warning: "
	    "unknown[127.0.0.21]: SASL PLAIN authentication failed: "
	    "(reason unavailable), "
	    "sasl_username=alice@example.test", dv24_unknown,
	    "Dec 01 22:00:58 lab postfix/smtpd[174]: warning: "
	    "unknown[127.0.0.22]: SASL PLAIN authentication failed: "
	    "(reason unavailable), sasl_username=ghost@example.test",
	    dv24_login_fail, pf310_login_fail, pf310_reject};
	struct logscan ls;
	struct log_failure *f;
	size_t i, n;

	logscan_init(&ls);
	for (i = 0; i < NELEM(lines); i++)
		logscan_add(&ls, lines[i], strlen(lines[i]));
	n = logscan_join(&ls, &f);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(f[0].cause == CAUSE_BAD_PASSWORD);
		CHECK(f[1].cause == CAUSE_UNKNOWN_USER);
		CHECK_STR(f[1].user, "ghost@example.test");
		CHECK(f[2].cause == CAUSE_BAD_PASSWORD);
		CHECK_STR(f[2].ip, "127.0.0.23");
	}
	free(f);
	logscan_free(&ls);
}
