/*++
/* NAME
/*	test_proto 1
/* SUMMARY
/*	the door of each attempt, in its line, why, session, top and metrics
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3). SMTP attempts go through smtpd and Dovecot as ever; an
/*	attempt of another door (IMAP, POP3, ManageSieve) is recorded as
/*	that door's service records it, through attempt_record(). The
/*	log lines, the control socket's answers and the metrics are then
/*	read as an admin reads them.
/*	The virtual wall clock starts at 2026-01-01T00:00:00Z.
/*--*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "buf.h"
#include "event.h"
#include "metrics.h"
#include "proto.h"
#include "sim.h"
#include "unit.h"

/* starts - does the answer begin with prefix? (says what it was when not) */
static int
starts(const char *got, const char *prefix)
{
	if (got != NULL && strncmp(got, prefix, strlen(prefix)) == 0)
		return 1;
	fprintf(stderr, "# got: %s\n", got ? got : "(null)");
	return 0;
}

/* has - does the answer hold text? (says what it was when not) */
static int
has(const char *got, const char *text)
{
	if (got != NULL && strstr(got, text) != NULL)
		return 1;
	fprintf(stderr, "# wanted: %s\n# got: %s\n", text, got ? got : "(null)");
	return 0;
}

/* smtp_fail - a wrong password through smtpd; the ref it was told */
static void
smtp_fail(int c, int user, int a, char *ref, size_t len)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);
	const char *p;

	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	*ref = 0;
	if ((p = strstr(sim_reply(q), "(ref=")) != NULL)
		snprintf(ref, len, "%.*s", (int)strcspn(p + 5, ")"), p + 5);
}

/* door - an attempt of another door ends, as its service records it */
static void
door(enum proto p, const char *user, const char *ip,
    enum attempt_result result, enum cause cause, char *ref, size_t len)
{
	struct attempt a;

	attempt_init(&a, "PLAIN", ip, 1, 0, ev_now());
	a.proto = p;
	attempt_set_user(&a, user);
	a.result = result;
	a.cause = cause;
	attempt_record(&a, LOG_FORMAT_LOGFMT, ev_now());
	snprintf(ref, len, "%s", a.ref);
	attempt_free(&a);
}

/* Each line names its door; smtpd's pid only where there is an smtpd. */
TEST(sim_proto_in_the_line)
{
	char ref[16], want[256];
	const char *l;
	int c;

	sim_begin(NULL);
	c = sim_open();
	smtp_fail(c, V, A0, ref, sizeof(ref));
	l = sim_log_find("event=auth");
	snprintf(want, sizeof(want), "event=auth ref=%s result=fail "
	    "cause=bad-password proto=smtp user=v ip=192.0.2.1 mech=PLAIN "
	    "tls=yes smtpd_pid=%ld ms=", ref, (long)getpid());
	CHECK(has(l, want));
	door(PROTO_IMAP, "v", "192.0.2.1", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    ref, sizeof(ref));
	l = sim_log_find("proto=imap");
	snprintf(want, sizeof(want), "event=auth ref=%s result=fail "
	    "cause=bad-password proto=imap user=v ip=192.0.2.1 mech=PLAIN "
	    "tls=yes ms=", ref);
	CHECK(has(l, want));
	CHECK(!sim_has(l, "smtpd_pid"));
	door(PROTO_POP3, "v", "192.0.2.1", ATTEMPT_PASS, CAUSE_NONE, ref,
	    sizeof(ref));
	CHECK(has(sim_log_find(ref), "result=pass proto=pop3 user=v "));
	door(PROTO_SIEVE, "v", "192.0.2.1", ATTEMPT_ABORT, CAUSE_NONE, ref,
	    sizeof(ref));
	CHECK(has(sim_log_find(ref), "result=abort proto=sieve user=v "));
	sim_end();
}

/*
 * why USER: one timeline of every door, each attempt with its door, in
 * text and JSON; why REF of another door's attempt; session: the SMTP
 * attempts alone, though the address logged in on IMAP meanwhile.
 */
TEST(sim_proto_why_one_timeline)
{
	char smtp_ref[16], imap_ref[16], req[64], want[256];
	const char *a;
	int c;

	sim_begin(NULL);
	c = sim_open();
	smtp_fail(c, V, A0, smtp_ref, sizeof(smtp_ref));
	sim_advance(1000);
	door(PROTO_IMAP, "v", "192.0.2.1", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    imap_ref, sizeof(imap_ref));
	a = sim_control("why\ttext\tv\n");
	CHECK(starts(a, "OK\n2 recent attempts:\n"));
	snprintf(want, sizeof(want), "\n  time=2026-01-01T00:00:00Z ref=%s "
	    "result=fail cause=bad-password proto=smtp user=v ip=192.0.2.1 "
	    "mech=PLAIN tls=yes smtpd_pid=%ld\n", smtp_ref, (long)getpid());
	CHECK(has(a, want));
	snprintf(want, sizeof(want), "\n  time=2026-01-01T00:00:01Z ref=%s "
	    "result=fail cause=bad-password proto=imap user=v ip=192.0.2.1 "
	    "mech=PLAIN tls=yes\n", imap_ref);
	CHECK(has(a, want));
	CHECK(strstr(a, smtp_ref) < strstr(a, imap_ref));	/* oldest first */
	snprintf(req, sizeof(req), "why\ttext\t%s\n", imap_ref);
	CHECK(has(sim_control(req), " proto=imap user=v "));
	a = sim_control("why\tjson\tv\n");
	snprintf(want, sizeof(want), "\"ref\":\"%s\",\"result\":\"fail\","
	    "\"cause\":\"bad-password\",\"proto\":\"imap\",\"user\":\"v\","
	    "\"ip\":\"192.0.2.1\",\"mech\":\"PLAIN\",\"tls\":\"yes\"}", imap_ref);
	CHECK(has(a, want));
	snprintf(want, sizeof(want), "\"ref\":\"%s\",\"result\":\"fail\","
	    "\"cause\":\"bad-password\",\"proto\":\"smtp\",\"user\":\"v\",",
	    smtp_ref);
	CHECK(has(a, want));
	a = sim_control("session\ttext\t192.0.2.1 - 1767225600\n");
	CHECK(has(a, smtp_ref) && has(a, " proto=smtp "));
	CHECK(!sim_has(a, imap_ref) && !sim_has(a, "proto=imap"));
	sim_end();
}
