/*++
/* NAME
/*	test_milter 1
/* SUMMARY
/*	unit tests: the milter's headers, the session answer, doctor's checks
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "cause.h"
#include "ctlclient.h"
#include "doctor.h"
#include "logscan.h"
#include "smtpreply.h"
#include "submission.h"
#include "unit.h"
#include "util.h"

/* servid - authres_servid into a static buffer, NULL when malformed */
static const char *
servid(const char *v)
{
	static char out[64];

	return authres_servid(v, out, sizeof(out)) == 0 ? out : NULL;
}

TEST(authres_servid_forms)
{
	CHECK_STR(servid("mx.example.test; auth=pass"), "mx.example.test");
	CHECK_STR(servid("  mx.example.test ;none"), "mx.example.test");
	CHECK_STR(servid("(a (nested) comment) mx.example.test; x"),
	    "mx.example.test");
	CHECK_STR(servid("\r\n\t\"mx.example.test\"; x"), "mx.example.test");
	CHECK_STR(servid("\"mx.\\\"q\"; x"), "mx.\"q");
	CHECK_STR(servid("mx.example.test 1; auth=pass"), "mx.example.test");
	CHECK_STR(servid("mx(comment); x"), "mx");
	CHECK(servid("") == NULL);
	CHECK(servid("; auth=pass") == NULL);
	CHECK(servid("(unclosed comment mx.example.test; x") == NULL);
	CHECK(servid("\"unterminated") == NULL);
	CHECK(servid("a-name-much-longer-than-the-sixty-four-byte-buffer-the-"
	    "caller-gave-us.example") == NULL);
}

TEST(authres_ours_case_insensitive)
{
	CHECK(authres_ours("MX.Example.TEST; auth=pass", "mx.example.test"));
	CHECK(authres_ours("(x) \"mx.example.test\"; none", "mx.example.test"));
	CHECK(!authres_ours("other.example; spf=pass", "mx.example.test"));
	CHECK(!authres_ours("mx.example.test.evil; spf=pass",
	    "mx.example.test"));
	CHECK(!authres_ours("", "mx.example.test"));
}

TEST(hdr_value_quoting)
{
	struct buf b;

	buf_init(&b);
	hdr_value(&b, "alice@example.test");
	CHECK_STR(buf_str(&b), "alice@example.test");
	buf_reset(&b);
	hdr_value(&b, "a b");
	CHECK_STR(buf_str(&b), "\"a b\"");
	buf_reset(&b);
	hdr_value(&b, "x\r\nX-Evil: \"1\"\\\xff;");
	CHECK_STR(buf_str(&b), "\"x??X-Evil: \\\"1\\\"\\\\?;\"");
	buf_reset(&b);
	hdr_value(&b, "");
	CHECK_STR(buf_str(&b), "\"\"");
	buf_free(&b);
}

TEST(authres_value_forms)
{
	struct buf b;
	char long_user[300];

	buf_init(&b);
	authres_value(&b, "mx.example.test", "alice@example.test");
	CHECK_STR(buf_str(&b), "mx.example.test; auth=pass "
	    "smtp.auth=alice@example.test");
	buf_reset(&b);
	authres_value(&b, "mx.example.test", NULL);
	CHECK_STR(buf_str(&b), "mx.example.test; auth=pass");
	buf_reset(&b);
	memset(long_user, 'u', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = 0;
	authres_value(&b, "mx", long_user);
	CHECK_STR(buf_str(&b), "mx; auth=pass (user name too long to show)");
	buf_free(&b);
}

/* max_line - the longest line of a folded header, counting its name */
static size_t
max_line(const char *v, size_t name_cols)
{
	size_t max = 0, cur = name_cols;

	for (; *v; v++) {
		if (*v == '\n') {
			max = cur > max ? cur : max;
			cur = 0;
		} else
			cur += *v == '\t' ? 8 : 1;
	}
	return cur > max ? cur : max;
}

TEST(diag_value_fields_and_folding)
{
	struct diag d;
	struct buf b;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.ref = "ABCDEFGH12";
	d.mech = "PLAIN";
	d.user = "alice@example.test";
	d.tls_version = "TLSv1.3";
	d.cipher = "TLS_AES_256_GCM_SHA384";
	buf_init(&b);
	diag_value(&b, &d);
	CHECK_STR(buf_str(&b), "ref=ABCDEFGH12; auth=PLAIN; "
	    "user=alice@example.test; tls=TLSv1.3;\n\t"
	    "cipher=TLS_AES_256_GCM_SHA384; details=unavailable");
	CHECK(max_line(buf_str(&b), 13) <= 78);
	d.details = 1;
	strcpy(d.auth_ref, "PASSREF001");
	d.nfailed = DIAG_SHOWN + 2;
	for (i = 0; i < DIAG_SHOWN; i++) {
		strcpy(d.failed[i].cause, "bad-password");
		strcpy(d.failed[i].ref, "FAILREF00X");
	}
	buf_reset(&b);
	diag_value(&b, &d);
	CHECK(strstr(buf_str(&b), "auth-ref=PASSREF001;") != NULL);
	CHECK(strstr(buf_str(&b), "failed=bad-password/FAILREF00X,") != NULL);
	CHECK(strstr(buf_str(&b), ",+2") != NULL);
	CHECK(strstr(buf_str(&b), "details=") == NULL);
	d.nfailed = 0;
	d.user = NULL;
	d.tls_version = NULL;
	d.cipher = NULL;
	buf_reset(&b);
	diag_value(&b, &d);
	CHECK_STR(buf_str(&b), "ref=ABCDEFGH12; auth=PLAIN; tls=none; "
	    "auth-ref=PASSREF001;\n\tfailed=none");
	buf_free(&b);
}

TEST(ctl_session_answer)
{
	const char *ok =
	    "OK\n"
	    "  time=2026-11-27T02:00:00Z ref=AAAAAAAAA1 result=fail "
	    "cause=bad-password user=alice ip=127.0.0.1 mech=PLAIN\n"
	    "  time=2026-11-27T02:00:01Z ref=AAAAAAAAA2 result=fail "
	    "cause=app-password-spaces user=\"x ref=ZZZZZZZZZZ result=pass\"\n"
	    "  time=2026-11-27T02:00:02Z ref=AAAAAAAAA3 result=pass user=alice\n"
	    "  time=2026-11-27T02:00:03Z ref=AAAAAAAAA4 result=fail "
	    "cause=bad-password\n";
	const char *junk;
	struct diag d;

	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag(ok, strlen(ok), &d) == 0);
	CHECK(d.details == 1);
	CHECK_STR(d.auth_ref, "AAAAAAAAA3");
	CHECK(d.nfailed == 2);
	CHECK_STR(d.failed[0].ref, "AAAAAAAAA1");
	CHECK_STR(d.failed[1].cause, "app-password-spaces");
	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag("OK\n", 3, &d) == 0 && d.nfailed == 0 &&
	    d.auth_ref[0] == 0 && d.details);
	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag("ERR no\n", 7, &d) < 0 && !d.details);
	CHECK(ctl_session_diag("", 0, &d) < 0);
	/* junk lines and bad refs or causes are skipped */
	junk = "OK\nref=short result=fail cause=x\n"
	    "ref=AAAAAAAAA1 result=fail cause=Bad/Cause\n\n garbage\n";
	CHECK(ctl_session_diag(junk, strlen(junk), &d) == 0 && d.nfailed == 0);
}

/*
 * The door of the session's story: from the answer's proto= (that of the
 * successful attempt, else of the failures), SMTP where an older daemon
 * names none; nothing when no attempt was listed, or a name not ours.
 * X-Authguard shows it after auth-ref.
 */
TEST(ctl_session_answer_proto)
{
	const char *ok =
	    "OK\n"
	    "  time=2026-11-27T02:00:00Z ref=AAAAAAAAA1 result=fail "
	    "cause=bad-password proto=smtp user=alice ip=127.0.0.1\n"
	    "  time=2026-11-27T02:00:02Z ref=AAAAAAAAA3 result=pass "
	    "proto=smtp user=\"proto=imap\" ip=127.0.0.1\n";
	const char *older =
	    "OK\n"
	    "  time=2026-11-27T02:00:00Z ref=AAAAAAAAA1 result=fail "
	    "cause=bad-password user=alice ip=127.0.0.1\n";
	const char *strange =
	    "OK\n"
	    "  time=2026-11-27T02:00:00Z ref=AAAAAAAAA1 result=fail "
	    "cause=bad-password proto=x;y user=alice\n";
	struct diag d;
	struct buf b;

	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag(ok, strlen(ok), &d) == 0);
	CHECK_STR(d.proto, "smtp");
	CHECK_STR(d.auth_ref, "AAAAAAAAA3");
	d.ref = "ABCDEFGH12";
	d.mech = "PLAIN";
	buf_init(&b);
	diag_value(&b, &d);
	CHECK_STR(buf_str(&b), "ref=ABCDEFGH12; auth=PLAIN; tls=none; "
	    "auth-ref=AAAAAAAAA3;\n\tproto=smtp; failed=bad-password/AAAAAAAAA1");
	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag(older, strlen(older), &d) == 0);
	CHECK_STR(d.proto, "smtp");
	CHECK(d.nfailed == 1);
	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag("OK\n", 3, &d) == 0 && d.proto[0] == 0);
	d.ref = "ABCDEFGH12";
	buf_reset(&b);
	diag_value(&b, &d);
	CHECK(strstr(buf_str(&b), "proto=") == NULL);
	memset(&d, 0, sizeof(d));
	CHECK(ctl_session_diag(strange, strlen(strange), &d) == 0);
	CHECK(d.proto[0] == 0 && d.nfailed == 1);
	buf_free(&b);
}

TEST(submission_check_views)
{
	struct submission_cfg cfg = {NULL, 1, NULL};
	struct submission_view v = {"alice", NULL, "192.0.2.1", 0};

	CHECK(submission_check(&v, &cfg, 0) == CAUSE_CLEARTEXT_AUTH);
	v.tls = "TLSv1.3";
	CHECK(submission_check(&v, &cfg, 0) == CAUSE_NONE);
	v.user = NULL;
	CHECK(submission_check(&v, &cfg, 0) == CAUSE_NONE);
	v.submission = 1;
	CHECK(submission_check(&v, &cfg, 0) == CAUSE_NO_AUTH_ATTEMPTED);
	CHECK(submission_check(&v, &cfg, 1) == CAUSE_AUTH_FAILED_THEN_SENT);
	v.tls = "";
	CHECK(submission_check(&v, &cfg, 0) == CAUSE_NO_AUTH_NO_TLS);
	CHECK(word_in("MSA", "MTA, MSA") && !word_in("MS", "MTA MSA") &&
	    !word_in("", "MSA"));
}

TEST(doctor_parsers)
{
	struct doctor_input in;

	memset(&in, 0, sizeof(in));
	kvlist_parse(&in.dovecot, "# comment\nauth_mechanisms = plain login\n"
	    "passdb {\n  driver = pam\n  args = x = y\n}\n"
	    "service auth {\n  unix_listener a {\n    mode = 0600\n  }\n}\n"
	    "disable_plaintext_auth=no\n  \n= orphan\n", 1);
	CHECK_STR(kvlist_get(&in.dovecot, "auth_mechanisms"), "plain login");
	CHECK_STR(kvlist_get(&in.dovecot, "disable_plaintext_auth"), "no");
	CHECK(kvlist_get(&in.dovecot, "driver") == NULL);
	CHECK(kvlist_get(&in.dovecot, "mode") == NULL);
	CHECK(in.dovecot.n == 2);
	doctor_parse_master(&in, "submission inet n - n - - smtpd -o a=b\n"
	    "  -o continued=line\nshort line\n"
	    "smtps      inet  n       -       n       -       -       smtpd\n");
	CHECK(in.nsvc == 2);
	CHECK_STR(in.svc[0].name, "submission");
	CHECK_STR(in.svc[1].command, "smtpd");
	doctor_input_free(&in);
}

/* doctor_ids - the finding ids, space separated */
static const char *
doctor_ids(const char *main_cf, const char *overrides, const char *master)
{
	static char out[512];
	struct doctor_input in;
	struct doctor_report r;
	size_t i;

	memset(&in, 0, sizeof(in));
	memset(&r, 0, sizeof(r));
	kvlist_parse(&in.main, main_cf, 0);
	kvlist_parse(&in.overrides, overrides, 0);
	doctor_parse_master(&in, master);
	in.sasl_path = "/var/spool/postfix/private/authguard";
	in.policy_path = "/var/spool/postfix/private/authguard-policy";
	in.milter_path = "";
	in.submission_ports = "587 465";
	in.submission_daemons = "";
	in.require_tls_for_auth = 1;
	doctor_check(&in, &r);
	out[0] = 0;
	for (i = 0; i < r.n; i++) {
		strncat(out, r.f[i].id, sizeof(out) - strlen(out) - 2);
		strcat(out, " ");
	}
	doctor_report_free(&r);
	doctor_input_free(&in);
	return out;
}

TEST(doctor_checks)
{
	const char *good_main =
	    "queue_directory = /var/spool/postfix\n"
	    "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/authguard\n"
	    "smtpd_tls_auth_only = yes\n"
	    "smtpd_policy_service_default_action = DUNNO\n";
	const char *master =
	    "smtp inet n - y - - smtpd\n"
	    "submission inet n - y - - smtpd\n"
	    "submissions inet n - y - - smtpd\n"
	    "pickup unix n - y 60 1 pickup\n";
	const char *good_over =
	    "submission/inet/smtpd_sasl_auth_enable = yes\n"
	    "submission/inet/smtpd_tls_security_level = encrypt\n"
	    "submission/inet/smtpd_relay_restrictions = check_policy_service "
	    "unix:private/authguard-policy, permit_sasl_authenticated, reject\n"
	    "submissions/inet/smtpd_sasl_auth_enable = yes\n"
	    "submissions/inet/smtpd_tls_wrappermode = yes\n"
	    "submissions/inet/smtpd_relay_restrictions = check_policy_service,"
	    "unix:private/authguard-policy,permit_sasl_authenticated,reject\n";

	CHECK_STR(doctor_ids(good_main, good_over, master), "");
	CHECK_STR(doctor_ids(good_main, "", master),
	    "tls-not-enforced wrapper-mode-off ");
	CHECK(strstr(doctor_ids("queue_directory = /q\nsmtpd_sasl_type = "
	    "dovecot\nsmtpd_sasl_path = private/other\nsmtpd_tls_auth_only = "
	    "yes\n", good_over, master), "sasl-not-through-gate") != NULL);
	CHECK(strstr(doctor_ids("queue_directory = /var/spool/postfix\n"
	    "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/authguard\n"
	    "smtpd_tls_auth_only = no\nsmtpd_sasl_auth_enable = yes\n"
	    "smtpd_policy_service_default_action = 451 4.3.5 x\n", good_over,
	    master), "auth-before-tls") != NULL);
}

/* explain - the source and meaning of one reply given as lines */
static const char *
explain_src(const char *const *lines, struct smtp_meaning *m)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	for (; *lines; lines++)
		smtp_reply_push(&r, *lines, strlen(*lines));
	smtp_explain(&r, m);
	smtp_reply_free(&r);
	return m->source;
}

TEST(smtp_reply_parser)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	CHECK(smtp_reply_push(&r, "250-lab.example.test", 20) == SMTP_MORE);
	CHECK(smtp_reply_push(&r, "250-AUTH PLAIN LOGIN", 20) == SMTP_MORE);
	CHECK(smtp_reply_push(&r, "250 8BITMIME", 12) == SMTP_DONE);
	CHECK(r.code == 250 && r.lines == 3 && r.enhanced[0] == 0);
	CHECK_STR(r.text.data, "lab.example.test\nAUTH PLAIN LOGIN\n8BITMIME");
	smtp_reply_reset(&r);
	CHECK(smtp_reply_push(&r, "535 5.7.8 Error: x", 18) == SMTP_DONE);
	CHECK_STR(r.enhanced, "5.7.8");
	CHECK_STR(r.text.data, "Error: x");
	smtp_reply_reset(&r);
	CHECK(smtp_reply_push(&r, "235", 3) == SMTP_DONE && r.code == 235);
	smtp_reply_reset(&r);
	CHECK(smtp_reply_push(&r, "25x ok", 6) == SMTP_ERROR);
	smtp_reply_reset(&r);
	CHECK(smtp_reply_push(&r, "250-a", 5) == SMTP_MORE);
	CHECK(smtp_reply_push(&r, "354 b", 5) == SMTP_ERROR);
	smtp_reply_reset(&r);
	CHECK(smtp_reply_push(&r, "550 5.1.1x text", 15) == SMTP_DONE &&
	    r.enhanced[0] == 0);
	smtp_reply_free(&r);
}

TEST(smtp_explain_sources)
{
	const char *ag[] = {"535 5.7.8 Error: authentication failed: wrong "
	    "password for this account (ref=K7Q2M9XA3D)", NULL};
	const char *ag_safe[] = {"535 5.7.8 Error: authentication failed: "
	    "authentication failed (ref=K7Q2M9XA3D)", NULL};
	const char *gmail[] = {"534-5.7.9 Application-specific password "
	    "required. Learn more at", "534 5.7.9  https://support.google.com/"
	    "mail/?p=InvalidSecondFactor", NULL};
	const char *ms[] = {"535 5.7.139 Authentication unsuccessful, "
	    "SmtpClientAuthentication is disabled for the Tenant.", NULL};
	const char *pf[] = {"503 5.5.1 Error: authentication not enabled", NULL};
	const char *rfc[] = {"538 5.7.11 Encryption required", NULL};
	struct smtp_meaning m;

	CHECK_STR(explain_src(ag, &m), "authguard");
	CHECK(m.cause == CAUSE_BAD_PASSWORD);
	CHECK_STR(m.ref, "K7Q2M9XA3D");
	CHECK_STR(explain_src(ag_safe, &m), "authguard");
	CHECK(m.cause == CAUSE_NONE && strstr(m.remedy, "authguard why"));
	CHECK_STR(explain_src(gmail, &m), "Gmail");
	CHECK(strstr(m.remedy, "app password") != NULL);
	CHECK_STR(explain_src(ms, &m), "Microsoft 365");
	CHECK(strstr(m.meaning, "turned off") != NULL);
	CHECK_STR(explain_src(pf, &m), "Postfix");
	CHECK_STR(explain_src(rfc, &m), "RFC 4954");
}

TEST(logscan_lines_and_join)
{
	static const char *const lines[] = {
	    "Nov 27 03:24:52 auth: Info: passwd-file(alice@example.test,"
	    "127.0.0.9): Password mismatch",
	    "Nov 27 03:24:53 lab postfix/smtpd[19545]: warning: unknown["
	    "127.0.0.9]: SASL PLAIN authentication failed: (reason "
	    "unavailable), sasl_username=alice@example.test",
	    "2026-11-27T03:24:55.123456+00:00 mx dovecot: auth-worker(77): "
	    "Info: sql(bob,192.0.2.7,<AbCd>): unknown user",
	    "Nov 27 03:24:56 mx postfix/submission/smtpd[1]: warning: "
	    "x.example[192.0.2.7]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=bob@example.test",
	    "Nov 27 03:25:30 mx postfix/smtpd[1]: warning: unknown[192.0.2.8]:"
	    " SASL LOGIN authentication failed: UGFzc3dvcmQ6",
	    "Nov 27 03:25:31 mx postfix/smtpd[1]: connect from unknown[1.2.3.4]",
	    "garbage", "",
	};
	struct logscan ls;
	struct log_failure *f;
	struct log_event ev;
	size_t i, n;

	CHECK(logscan_line(lines[0], strlen(lines[0]), &ev) == LOG_DOVECOT_FAIL);
	CHECK(ev.cause == CAUSE_BAD_PASSWORD);
	CHECK_STR(ev.ip, "127.0.0.9");
	CHECK(logscan_line(lines[1], strlen(lines[1]), &ev) == LOG_POSTFIX_FAIL);
	CHECK_STR(ev.user, "alice@example.test");
	CHECK_STR(ev.mech, "PLAIN");
	CHECK(logscan_line(lines[5], strlen(lines[5]), &ev) == LOG_NONE);
	logscan_init(&ls);
	for (i = 0; i < NELEM(lines); i++)
		logscan_add(&ls, lines[i], strlen(lines[i]));
	n = logscan_join(&ls, &f);
	CHECK(n == 3);
	CHECK(f[0].cause == CAUSE_BAD_PASSWORD);
	CHECK(f[1].cause == CAUSE_UNKNOWN_USER);	/* local part, worker */
	CHECK(f[2].cause == CAUSE_BAD_CREDENTIALS && !*f[2].user);
	free(f);
	logscan_free(&ls);
}

TEST(logscan_addresses_in_one_form)
{
	static const char *const lines[] = {
	    /* Dovecot on a dual-stack socket: the IPv4-mapped form */
	    "Nov 27 04:00:01 auth: Info: passwd-file(carol@example.test,"
	    "::ffff:192.0.2.77): Password mismatch",
	    "Nov 27 04:00:02 mx postfix/smtpd[7]: warning: unknown["
	    "192.0.2.77]: SASL plain authentication failed: (reason "
	    "unavailable), sasl_username=carol@example.test",
	    "Nov 27 04:00:03 mx dovecot: auth(dave@example.test,"
	    "2001:DB8:0:0:0:0:0:1,sasl:plain): Info: passwd-file: unknown user",
	    "Nov 27 04:00:04 mx postfix/smtpd[7]: warning: unknown["
	    "2001:db8::1]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=dave@example.test",
	};
	struct logscan ls;
	struct log_failure *f;
	struct log_event ev;
	size_t i, n;

	CHECK(logscan_line(lines[0], strlen(lines[0]), &ev) == LOG_DOVECOT_FAIL);
	CHECK_STR(ev.ip, "192.0.2.77");
	CHECK(logscan_line(lines[1], strlen(lines[1]), &ev) == LOG_POSTFIX_FAIL);
	CHECK_STR(ev.mech, "PLAIN");
	CHECK(logscan_line(lines[2], strlen(lines[2]), &ev) == LOG_DOVECOT_FAIL);
	CHECK_STR(ev.ip, "2001:db8::1");
	logscan_init(&ls);
	for (i = 0; i < NELEM(lines); i++)
		logscan_add(&ls, lines[i], strlen(lines[i]));
	n = logscan_join(&ls, &f);
	CHECK(n == 2);
	CHECK(n > 0 && f[0].cause == CAUSE_BAD_PASSWORD);
	CHECK(n > 0 && strcmp(f[0].ip, "192.0.2.77") == 0);
	CHECK(n > 1 && f[1].cause == CAUSE_UNKNOWN_USER);
	free(f);
	logscan_free(&ls);
}
