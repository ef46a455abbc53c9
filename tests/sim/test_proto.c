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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "buf.h"
#include "event.h"
#include "metrics.h"
#include "proto.h"
#include "sim.h"
#include "unit.h"
#include "util.h"

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

/* sample - the value of one series in an exposition, -1 when absent */
static long
sample(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	for (; (p = strstr(p, series)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}

/* grew - how much a series grew from before to after (-1: absent after) */
static long
grew(const char *before, const char *after, const char *series)
{
	long a = sample(after, series), b = sample(before, series);

	return a < 0 ? -1 : a - (b < 0 ? 0 : b);
}

/*
 * The attempts' counters and their latency, by door: every door's pass
 * and abort series and histogram are there from the start, a failure's
 * with its first.
 */
TEST(sim_proto_metrics)
{
	static const char *const doors[] = {"smtp", "imap", "pop3", "sieve"};
	static const char *const always[] = {
	    "authguard_auth_attempts_total{proto=\"%s\",result=\"pass\","
	    "cause=\"\"}",
	    "authguard_auth_attempts_total{proto=\"%s\",result=\"abort\","
	    "cause=\"\"}",
	    "authguard_auth_duration_seconds_bucket{proto=\"%s\",le=\"0.001\"}",
	    "authguard_auth_duration_seconds_bucket{proto=\"%s\",le=\"+Inf\"}",
	    "authguard_auth_duration_seconds_sum{proto=\"%s\"}",
	    "authguard_auth_duration_seconds_count{proto=\"%s\"}",
	};
	char ref[16], series[160];
	struct buf before, after;
	size_t i, k;
	int c;

	sim_begin(NULL);
	buf_init(&before);
	buf_init(&after);
	metrics_render(&before);
	for (i = 0; i < NELEM(doors); i++)
		for (k = 0; k < NELEM(always); k++) {
			snprintf(series, sizeof(series), always[k], doors[i]);
			CHECK(sample(buf_str(&before), series) >= 0);
		}
	c = sim_open();
	smtp_fail(c, V, A0, ref, sizeof(ref));
	door(PROTO_IMAP, "v", "192.0.2.1", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    ref, sizeof(ref));
	door(PROTO_IMAP, "v", "192.0.2.1", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    ref, sizeof(ref));
	door(PROTO_SIEVE, "v", "192.0.2.1", ATTEMPT_PASS, CAUSE_NONE, ref,
	    sizeof(ref));
	metrics_render(&after);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_attempts_total{proto=\"smtp\",result=\"fail\","
	    "cause=\"bad-password\"}") == 1);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_attempts_total{proto=\"imap\",result=\"fail\","
	    "cause=\"bad-password\"}") == 2);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_attempts_total{proto=\"sieve\",result=\"pass\","
	    "cause=\"\"}") == 1);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_attempts_total{proto=\"smtp\",result=\"pass\","
	    "cause=\"\"}") == 0);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_duration_seconds_count{proto=\"imap\"}") == 2);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_duration_seconds_bucket{proto=\"smtp\","
	    "le=\"+Inf\"}") == 1);
	CHECK(grew(buf_str(&before), buf_str(&after),
	    "authguard_auth_duration_seconds_count{proto=\"pop3\"}") == 0);
	CHECK(sim_has(buf_str(&after), "# TYPE authguard_auth_duration_seconds "
	    "histogram\n"));
	CHECK(!sim_has(buf_str(&after), "authguard_auth_duration_seconds_count "));
	buf_free(&before);
	buf_free(&after);
	sim_end();
}

/*
 * top: each row's failures by door (protos=, SMTP's first), by user,
 * address and cause; by=proto: the doors themselves, which is attacked.
 */
TEST(sim_proto_top)
{
	char ref[16];
	const char *a;
	int c;

	sim_begin(NULL);
	c = sim_open();
	door(PROTO_IMAP, "V", "192.0.2.1", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    ref, sizeof(ref));
	door(PROTO_IMAP, "v", "192.0.2.1", ATTEMPT_FAIL, CAUSE_UNKNOWN_USER,
	    ref, sizeof(ref));
	door(PROTO_POP3, "v", "192.0.2.1", ATTEMPT_PASS, CAUSE_NONE, ref,
	    sizeof(ref));
	smtp_fail(c, V, A0, ref, sizeof(ref));
	door(PROTO_SIEVE, "w", "198.51.100.7", ATTEMPT_FAIL, CAUSE_BAD_PASSWORD,
	    ref, sizeof(ref));
	a = sim_control("top\ttext\t-\n");
	CHECK(starts(a, "OK\n  user=v failures=3 passes=1 protos=smtp:1,imap:2 "
	    "dominant_cause=bad-password pattern=- locked_until=no "
	    "last=2026-01-01T00:00:00Z\n  user=w failures=1 passes=0 "
	    "protos=sieve:1 dominant_cause=bad-password "));
	a = sim_control("top\ttext\t-\tby=address\n");
	CHECK(starts(a, "OK\n  address=192.0.2.1 failures=3 passes=1 "
	    "protos=smtp:1,imap:2 dominant_cause=bad-password "));
	a = sim_control("top\ttext\t-\tby=cause\n");
	CHECK(starts(a, "OK\n  cause=bad-password failures=3 passes=0 "
	    "protos=smtp:1,imap:1,sieve:1 last=2026-01-01T00:00:00Z\n"
	    "  cause=unknown-user failures=1 passes=0 protos=imap:1 last="));
	a = sim_control("top\ttext\t-\tby=proto\n");
	CHECK(starts(a, "OK\n  proto=imap failures=2 passes=0 "
	    "dominant_cause=bad-password pattern=- last=2026-01-01T00:00:00Z\n"));
	CHECK(has(a, "\n  proto=smtp failures=1 passes=0 dominant_cause="
	    "bad-password pattern=- last="));
	CHECK(has(a, "\n  proto=sieve failures=1 passes=0 "));
	CHECK(!sim_has(a, "pop3"));		/* passes alone: no failure */
	a = sim_control("top\tjson\t-\n");
	CHECK(starts(a, "OK\n[{\"user\":\"v\",\"failures\":\"3\",\"passes\":"
	    "\"1\",\"protos\":{\"smtp\":\"1\",\"imap\":\"2\"},"
	    "\"dominant_cause\":\"bad-password\","));
	a = sim_control("top\tjson\t-\tby=proto\n");
	CHECK(starts(a, "OK\n[{\"proto\":\"imap\",\"failures\":\"2\","
	    "\"passes\":\"0\",\"dominant_cause\":\"bad-password\",\"pattern\":"
	    "\"-\",\"last\":\"2026-01-01T00:00:00Z\"},"));
	CHECK(starts(sim_control("top\ttext\t-\tby=door\n"),
	    "ERR by: user, address, cause or proto\n"));
	sim_end();
}
