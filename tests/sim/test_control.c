/*++
/* NAME
/*	test_control 1
/* SUMMARY
/*	the control socket's requests and answers, on the simulation
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3), makes real attempts through smtpd and Dovecot where the
/*	question needs them, and asks the control socket as the admin's
/*	CLI does: stats, lock, unlock, why (by ref, user and address) and
/*	top, well-formed or not. The answers are compared with what the
/*	attempts were, and locks with what the next attempt is told.
/*	The virtual wall clock starts at 2026-01-01T00:00:00Z.
/*--*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "buf.h"
#include "cause.h"
#include "control.h"
#include "ctlclient.h"
#include "history.h"
#include "proto.h"
#include "store.h"
#include "sim.h"
#include "unit.h"


/* is - is the answer the one wanted? (says what it was when not) */
static int
is(const char *got, const char *want)
{
	if (got != NULL && strcmp(got, want) == 0)
		return 1;
	fprintf(stderr, "# got: %s\n", got ? got : "(null)");
	return 0;
}

/* starts - does the answer begin with prefix? (says what it was when not) */
static int
starts(const char *got, const char *prefix)
{
	if (got != NULL && strncmp(got, prefix, strlen(prefix)) == 0)
		return 1;
	fprintf(stderr, "# got: %s\n", got ? got : "(null)");
	return 0;
}

/* fail_once - a wrong password for user from address a, to its end */
static int
fail_once(int c, int user, int a)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);

	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	return q;
}

/* ref_of - the ref= smtpd was told for request q */
static void
ref_of(int q, char *ref, size_t len)
{
	const char *p = strstr(sim_reply(q), "(ref=");

	*ref = 0;
	if (p)
		snprintf(ref, len, "%.*s", (int)strcspn(p + 5, ")"), p + 5);
}

TEST(sim_control_stats)
{
	int c;

	sim_begin(NULL);
	CHECK(is(sim_control("stats\ttext\t-\n"), "OK\nupstream=ready "
	    "accounts_tracked=0 addresses_tracked=0 max_tracked=100000 "
	    "accounts_evicted=0 addresses_evicted=0 recent_attempts=0 "
	    "sasl_connections=0\n"));
	c = sim_open();
	(void)fail_once(c, V, A0);
	CHECK(is(sim_control("stats\ttext\t-\n"), "OK\nupstream=ready "
	    "accounts_tracked=1 addresses_tracked=1 max_tracked=100000 "
	    "accounts_evicted=0 addresses_evicted=0 recent_attempts=1 "
	    "sasl_connections=1\n"));
	CHECK(is(sim_control("stats\tjson\t-\n"), "OK\n{\"upstream\":\"ready\","
	    "\"accounts_tracked\":1,\"addresses_tracked\":1,\"max_tracked\":"
	    "100000,\"accounts_evicted\":0,\"addresses_evicted\":0,"
	    "\"recent_attempts\":1,\"sasl_connections\":1}\n"));
	sim_end();
}

/* Malformed and unknown requests: one ERR line each, nothing done. */
TEST(sim_control_refuses_bad_requests)
{
	static const char *const usage = "ERR usage: COMMAND<TAB>text|json<TAB>"
	    "ARGUMENT[<TAB>NAME=VALUE...]\n";
	static const char *const opts = "ERR options: since=SECONDS, "
	    "by=user|address|cause|proto, for=SECONDS, actor=NAME\n";
	static const char *const actor = "ERR actor: 1 to 128 bytes, no TAB, "
	    "CR or LF\n";
	char big[2100];
	int c, q;

	sim_begin(NULL);
	CHECK(is(sim_control("frob\ttext\tx\n"), "ERR unknown command\n"));
	CHECK(is(sim_control("why\n"), usage));
	CHECK(is(sim_control("why\ttext\n"), usage));
	CHECK(is(sim_control("why\txml\tv\n"), usage));
	CHECK(is(sim_control("lock\ttext\tv\tfor=31536001\n"),
	    "ERR for: 1s to 365d\n"));
	CHECK(is(sim_control("lock\ttext\tv\tfor\n"), opts));
	CHECK(is(sim_control("lock\ttext\tv\tfor=10m\n"), opts));
	CHECK(is(sim_control("lock\ttext\tv\twhen=3\n"), opts));
	CHECK(is(sim_control("lock\ttext\tv\tactor=\n"), actor));
	CHECK(is(sim_control("unlock\ttext\tv\tactor=web:a\rb\n"), actor));
	CHECK(is(sim_control("unlock\ttext\tv\tactor=web:a\tb\n"), opts));
	memset(big, 'a', 200);
	memcpy(big, "lock\ttext\tv\tactor=", 18);
	strcpy(big + 18 + 129, "\n");		/* 129 bytes: one too many */
	CHECK(is(sim_control(big), actor));
	CHECK(sim_has(sim_log_find("control: lock refused"), "actor="));
	CHECK(is(sim_control("top\ttext\t-\tby=zone\n"),
	    "ERR by: user, address, cause or proto\n"));
	CHECK(is(sim_control("unlock\ttext\tnobody\n"),
	    "ERR nothing is tracked under nobody\n"));
	CHECK(is(sim_control("why\ttext\tZZZZZZZZZZ\n"),
	    "ERR no attempt with ref ZZZZZZZZZZ among the last 0\n"));
	CHECK(is(sim_control("session\ttext\tnot-an-address 25 0\n"),
	    "ERR usage: session ADDRESS PORT SINCE\n"));
	CHECK(is(sim_control_raw("lock\ttext\tv\0x\n", 14),
	    "ERR NUL byte in request\n"));
	memset(big, 'a', sizeof(big) - 2);
	memcpy(big, "lock\ttext\t", 10);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	CHECK(sim_has(sim_control(big), "ERR request too long: more than "));
	memset(big, 'a', 1100);			/* a name longer than any login */
	memcpy(big, "lock\ttext\t", 10);
	strcpy(big + 1100, "\n");
	CHECK(sim_has(sim_control(big), "ERR "));
	/* none of them locked anything */
	CHECK(!sim_account_locked(V));
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	sim_end();
}

/* One request per connection: a second line is not answered. */
TEST(sim_control_one_request_per_connection)
{
	sim_begin(NULL);
	CHECK(is(sim_control("unlock\ttext\tnobody\nlock\ttext\tv\n"),
	    "ERR nothing is tracked under nobody\n"));
	CHECK(!sim_account_locked(V));
	sim_end();
}

/* lock and unlock of an account: what the next attempt is told. */
TEST(sim_control_lock_unlock_account)
{
	char line[160], big[200];
	int c, q;

	sim_begin(NULL);
	CHECK(is(sim_control("lock\ttext\tV\n"),
	    "OK\nlocked=v until=2026-01-01T00:15:00Z\n"));
	snprintf(line, sizeof(line), "event=admin action=lock target=v "
	    "actor=cli peer_uid=%ld until=2026-01-01T00:15:00Z", (long)getuid());
	CHECK(sim_has(sim_log_find("event=admin"), line));
	CHECK(sim_account_locked(V));
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(q));
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this account: "
	    "try again in 15 minutes"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=account-locked"));
	CHECK(is(sim_control("unlock\tjson\tv\n"), "OK\n{\"unlocked\":\"v\"}\n"));
	CHECK(sim_has(sim_log_find("event=admin"), "event=admin action=unlock "
	    "target=v actor=cli peer_uid="));
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(is(sim_control("lock\tjson\tw\tfor=90\n"),
	    "OK\n{\"locked\":\"w\",\"until\":\"2026-01-01T00:01:30Z\"}\n"));
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	CHECK(sim_has(sim_reply(q), "try again in 90 seconds"));
	CHECK(is(sim_control("unlock\ttext\tW\tactor=web:\"jane\" x\n"),
	    "OK\nunlocked w\n"));
	CHECK(sim_has(sim_log_find("event=admin"), "event=admin action=unlock "
	    "target=w actor=\"web:\\\"jane\\\" x\" peer_uid="));
	memset(big, 'a', sizeof(big));
	memcpy(big, "lock\ttext\tw\tactor=", 18);
	strcpy(big + 18 + 128, "\n");		/* 128 bytes: the most */
	CHECK(sim_has(sim_control(big), "OK\nlocked=w"));
	big[18 + 128] = 0;
	CHECK(sim_has(sim_log_find("event=admin"), big + 12));
	sim_end();
}

/* lock of an address (and of an IPv6 /64), and its end in time. */
TEST(sim_control_lock_address)
{
	int c, q;

	sim_begin(NULL);
	CHECK(is(sim_control("lock\ttext\t198.51.100.7\tfor=60\n"),
	    "OK\nlocked=198.51.100.7/32 until=2026-01-01T00:01:00Z\n"));
	CHECK(sim_address_locked(A1));
	CHECK(!sim_address_locked(A0));
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A1, 1, 1);
	CHECK(!sim_forwarded(q));
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this address: "
	    "try again in 60 seconds"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=ip-blocked"));
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	sim_advance(60000);			/* the lock ends */
	q = sim_auth(c, SIM_PLAIN, V, A1, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	/* another address of the same IPv6 /64 */
	CHECK(sim_has(sim_control("lock\ttext\t2001:db8::77\n"),
	    "OK\nlocked=2001:db8::/64 until="));
	CHECK(sim_address_locked(A2));
	q = sim_auth(c, SIM_PLAIN, V, A2, 1, 1);
	CHECK(!sim_forwarded(q));
	CHECK(sim_has(sim_reply(q), "this address"));
	sim_end();
}

/* why, by the ref of a real failed attempt, by user and by address. */
TEST(sim_control_why_by_ref_user_address)
{
	char ref[32], req[64], want[256];
	const char *a;
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_OK);
	q = fail_once(c, V, A0);
	ref_of(q, ref, sizeof(ref));
	CHECK(strlen(ref) == 10);
	snprintf(req, sizeof(req), "why\ttext\t%s\n", ref);
	a = sim_control(req);
	snprintf(want, sizeof(want), "OK\n1 recent attempt:\n  time=2026-01-01T"
	    "00:00:00Z ref=%s result=fail cause=bad-password proto=smtp "
	    "user=v ip=192.0.2.1 mech=PLAIN tls=yes smtpd_pid=", ref);
	CHECK(starts(a, want));
	CHECK(sim_has(a, "\naccount: key=v locked=no failures_in_window=1 "
	    "familiar_addresses=1\n"));
	CHECK(sim_has(a, "\naddress: key=192.0.2.1/32 locked=no "
	    "failures_in_window=1\n"));
	CHECK(sim_has(a, "\nwhat to do about bad-password: "));
	a = sim_control("why\ttext\tV\n");	/* by user: both attempts */
	CHECK(sim_has(a, "OK\n2 recent attempts:\n"));
	CHECK(sim_has(a, "result=pass proto=smtp user=v"));
	CHECK(strstr(a, "result=pass") < strstr(a, "result=fail"));
	a = sim_control("why\ttext\t192.0.2.1\n");
	CHECK(sim_has(a, "OK\n2 recent attempts:\n"));
	CHECK(!sim_has(a, "\naccount:"));
	CHECK(sim_has(a, "\naddress: key=192.0.2.1/32 locked=no"));
	snprintf(req, sizeof(req), "why\tjson\t%s\n", ref);
	a = sim_control(req);
	snprintf(want, sizeof(want), "OK\n{\"query\":\"%s\",\"attempts\":"
	    "[{\"time\":\"2026-01-01T00:00:00Z\",\"ref\":\"%s\",\"result\":"
	    "\"fail\",\"cause\":\"bad-password\"", ref, ref);
	CHECK(starts(a, want));
	CHECK(sim_has(sim_control("why\ttext\tnobody\n"), "OK\n0 recent attempts:\n"));
	sim_end();
}

/* top: who fails most, by user, address and cause, and the lock. */
TEST(sim_control_top_after_failures)
{
	const char *a;
	int c;

	sim_begin(NULL);
	CHECK(is(sim_control("top\ttext\t-\n"), "OK\nno failures\n"));
	c = sim_open();
	(void)fail_once(c, V, A0);
	(void)fail_once(c, W, A0);
	(void)fail_once(c, V, A1);
	a = sim_control("top\ttext\t-\n");
	CHECK(starts(a, "OK\n  user=v failures=2 passes=0 protos=smtp:2 "
	    "dominant_cause=bad-password pattern=- locked_until=no "
	    "last=2026-01-01T00:00:00Z\n"));
	CHECK(sim_has(a, "\n  user=w failures=1 passes=0 "));
	a = sim_control("top\ttext\t-\tby=address\n");
	CHECK(starts(a, "OK\n  address=192.0.2.1 failures=2 passes=0 "));
	CHECK(sim_has(a, "\n  address=198.51.100.7 failures=1 "));
	a = sim_control("top\ttext\t-\tby=cause\n");
	CHECK(is(a, "OK\n  cause=bad-password failures=3 passes=0 "
	    "protos=smtp:3 last=2026-01-01T00:00:00Z\n"));
	(void)fail_once(c, V, A1);		/* the third: locked */
	CHECK(sim_account_locked(V));
	a = sim_control("top\ttext\t-\n");
	CHECK(sim_has(a, "user=v failures=3 passes=0 protos=smtp:3 "
	    "dominant_cause=bad-password pattern=- "
	    "locked_until=2026-01-01T00:15:00Z"));
	a = sim_control("top\tjson\t-\n");
	CHECK(starts(a, "OK\n[{\"user\":\"v\",\"failures\":\"3\",\"passes\":"
	    "\"0\",\"protos\":{\"smtp\":\"3\"},\"dominant_cause\":"
	    "\"bad-password\",\"pattern\":\"-\","
	    "\"locked_until\":\"2026-01-01T00:15:00Z\""));
	sim_end();
}

/*
 * for=0 is outside "1s to 365d", as the answer to a longer one says; it
 * is taken as no for= at all, and the key is locked for lockout_time.
 */
TEST(sim_control_lock_for_zero_refused)
{
	sim_begin(NULL);
	CHECK(is(sim_control("lock\ttext\tv\tfor=0\n"),
	    "ERR for: 1s to 365d\n"));
	CHECK(!sim_account_locked(V));
	sim_end();
}

/* overview: 24 hours ending in the current one, the locks, a JSON object. */
TEST(sim_control_overview)
{
	const char *a;

	sim_begin(NULL);
	CHECK(is(sim_control("overview\tjson\t-\n"), "OK\n{\"now\":"
	    "\"2026-01-01T00:00:00Z\",\"hours\":24,\"failures\":[{\"hour\":"
	    "\"2025-12-31T01:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T02:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T03:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T04:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T05:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T06:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T07:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T08:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T09:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T10:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T11:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T12:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T13:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T14:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T15:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T16:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T17:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T18:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T19:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T20:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T21:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T22:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2025-12-31T23:00:00Z\",\"causes\":{}},{\"hour\":"
	    "\"2026-01-01T00:00:00Z\",\"causes\":{}}],"
	    "\"locked_accounts\":[],\"locked_accounts_total\":0,"
	    "\"locked_addresses\":[],\"locked_addresses_total\":0,"
	    "\"stale\":[],\"stale_total\":0,\"kept\":0,\"oldest\":null,"
	    "\"truncated\":false}\n"));
	CHECK(sim_has(sim_control("lock\ttext\tv\tfor=90\tactor=t\n"), "OK\n"));
	CHECK(sim_has(sim_control("lock\ttext\tw\tfor=600\tactor=t\n"), "OK\n"));
	CHECK(sim_has(sim_control("lock\ttext\t198.51.100.7\tfor=60\n"), "OK\n"));
	a = sim_control("overview\tjson\t-\n");
	CHECK(sim_has(a, "\"locked_accounts\":[{\"key\":\"w\",\"locked_until\":"
	    "\"2026-01-01T00:10:00Z\",\"seconds_left\":600,\"failures_in_window\":0},"
	    "{\"key\":\"v\",\"locked_until\":\"2026-01-01T00:01:30Z\","
	    "\"seconds_left\":90,\"failures_in_window\":0}],"
	    "\"locked_accounts_total\":2,\"locked_addresses\":[{\"key\":"
	    "\"198.51.100.7/32\",\"locked_until\":\"2026-01-01T00:01:00Z\","
	    "\"seconds_left\":60,\"failures_in_window\":0}],"
	    "\"locked_addresses_total\":1,"));
	a = sim_control("overview\ttext\t-\n");
	CHECK(sim_has(a, "OK\nnow=2026-01-01T00:00:00Z hours=24 kept=0\n"
	    "failures per hour:\n  hour=2025-12-31T01:00:00Z\n"));
	CHECK(sim_has(a, "locked_accounts: 2\n  key=w locked_until="
	    "2026-01-01T00:10:00Z seconds_left=600 failures_in_window=0\n"));
	sim_end();
}

/* count - how many times text is in s */
static unsigned
count(const char *s, const char *text)
{
	unsigned n = 0;

	while ((s = strstr(s, text)) != NULL) {
		n++;
		s += strlen(text);
	}
	return n;
}

/* stale_junk - n stale-password failures, each of its own name of 1000 bytes */
static void
stale_junk(int n)
{
	char user[1010];
	struct hist_rec h;
	int i;

	for (i = 0; i < n; i++) {
		memset(&h, 0, sizeof(h));
		snprintf(h.ref, sizeof(h.ref), "S000000%03u", (unsigned)i % 1000u);
		h.result = ATTEMPT_FAIL;
		h.cause = CAUSE_STALE_PASSWORD;
		h.proto = PROTO_IMAP;
		h.t = store_now();
		snprintf(h.mech, sizeof(h.mech), "PLAIN");
		snprintf(h.ip, sizeof(h.ip), "192.0.2.%u", (unsigned)i % 200u);
		snprintf(user, sizeof(user), "%03u", (unsigned)i % 1000u);
		memset(user + 3, 0x02, 1000);
		user[1003] = 0;
		store_history_add(&h, user);
	}
}

/*
 * overview of 250 locked names of 1000 control bytes (6 each in JSON): the
 * rows stop at the table's budget, keys whole, the total exact, and it says so.
 */
TEST(sim_control_overview_budget)
{
	char req[1100], num[8];
	const char *a;
	size_t n;
	int i;

	sim_begin(NULL);
	for (i = 0; i < 250; i++) {
		snprintf(num, sizeof(num), "%03u", (unsigned)i % 1000u);
		n = (size_t)snprintf(req, sizeof(req), "lock\tjson\t%s", num);
		memset(req + n, 0x01, 1000);
		n += 1000;
		n += (size_t)snprintf(req + n, sizeof(req) - n, "\tfor=600\n");
		CHECK(sim_has(sim_control_raw(req, n), "OK\n"));
	}
	CHECK(sim_has(sim_control("lock\ttext\t198.51.100.7\tfor=60\n"), "OK\n"));
	a = sim_control("overview\tjson\t-\n");
	CHECK(strncmp(a, "OK\n{", 4) == 0 && strlen(a) < 512 * 1024);
	CHECK(sim_has(a, "\"locked_accounts_total\":250,"));
	CHECK(sim_has(a, ",\"truncated\":true}\n"));
	n = count(a, "{\"key\":\"");
	CHECK(n > 20 && n < 100);
	/* every key whole: 3 digits, 1000 escaped bytes, the end of the string */
	CHECK(count(a, "\",\"locked_until\"") == n);
	CHECK(count(a, "\\u0001") == (n - 1) * 1000);
	stale_junk(100);
	a = sim_control("overview\tjson\t-\n");
	CHECK(strncmp(a, "OK\n{", 4) == 0 && strlen(a) < 512 * 1024);
	CHECK(sim_has(a, "\"stale_total\":100,"));
	n = count(a, "{\"user\":\"");
	CHECK(n > 10 && n < 100);
	CHECK(count(a, "\",\"ip\":\"192.0.2.") == n);	/* names whole */
	CHECK(count(a, "\\u0002") == n * 1000);
	CHECK(sim_has(a, "\"locked_accounts_total\":250,"));
	CHECK(sim_has(a, "\"locked_addresses\":[{\"key\":\"198.51.100.7/32\""));
	a = sim_control("overview\ttext\t-\n");
	CHECK(strncmp(a, "OK\n", 3) == 0 && strlen(a) < 512 * 1024);
	snprintf(req, sizeof(req), "\n  (%u more not shown)\nlocked_addresses: 1\n",
	    251 - count(a, "\n  key="));
	CHECK(sim_has(a, req));
	CHECK(sim_log_count("answer too long") == 0);
	sim_end();
}

/*
 * why of 100 attempts with names of 10000 bytes (a name Dovecot or Postfix
 * gave; 6 bytes each in JSON): the newest that fit, whole, and how many
 * older ones are left out.
 */
TEST(sim_control_why_budget)
{
	char user[10010], want[64];
	struct hist_rec h;
	const char *a;
	unsigned n;
	int i;

	sim_begin(NULL);
	for (i = 0; i < 100; i++) {
		memset(&h, 0, sizeof(h));
		snprintf(h.ref, sizeof(h.ref), "R000000%03u", (unsigned)i % 1000u);
		h.result = ATTEMPT_FAIL;
		h.cause = CAUSE_BAD_PASSWORD;
		h.proto = PROTO_SMTP;
		h.t = store_now() - 100 + (uint32_t)i;
		snprintf(h.mech, sizeof(h.mech), "PLAIN");
		snprintf(h.ip, sizeof(h.ip), "192.0.2.9");
		snprintf(user, sizeof(user), "%03d", i);
		memset(user + 3, 0x01, 10000);
		user[10003] = 0;
		store_history_add(&h, user);
	}
	a = sim_control("why\tjson\t192.0.2.9\n");
	CHECK(strncmp(a, "OK\n{", 4) == 0 && strlen(a) < CTL_ANSWER_MAX);
	n = count(a, "\"user\":\"");
	CHECK(n > 5 && n < 100);
	CHECK(count(a, "\\u0001") == n * 10000);	/* every name whole */
	snprintf(want, sizeof(want), "\"attempts_not_shown\":\"%u\"", 100 - n);
	CHECK(sim_has(a, want));
	CHECK(sim_has(a, "\"ref\":\"R000000099\""));	/* the newest */
	CHECK(!sim_has(a, "\"ref\":\"R000000000\""));
	a = sim_control("why\ttext\t192.0.2.9\n");
	snprintf(want, sizeof(want), "100 recent attempts:\n  (%u older not "
	    "shown)\n", 100 - count(a, " ref=R0"));
	CHECK(strncmp(a, "OK\n", 3) == 0 && sim_has(a, want));
	CHECK(sim_log_count("answer too long") == 0);
	sim_end();
}

/* An answer longer than a client takes is an ERR that says so, and a warning. */
TEST(sim_control_answer_too_long)
{
	struct buf b;

	sim_begin(NULL);
	sim_advance(61000);		/* past another test's warning */
	buf_init(&b);
	buf_puts(&b, "OK\n");
	while (b.len < CTL_ANSWER_MAX)
		buf_putc(&b, 'x');
	control_fit(&b);
	CHECK(b.len == CTL_ANSWER_MAX && strncmp(b.data, "OK\nx", 4) == 0);
	buf_putc(&b, 'y');
	control_fit(&b);
	CHECK(is(buf_str(&b), "ERR answer too long (1048577 bytes)\n"));
	CHECK(sim_log_count("control: answer too long: 1048577 bytes") == 1);
	/* at most a warning a minute, and then how many more there were */
	buf_reset(&b);
	while (b.len <= CTL_ANSWER_MAX + 9)
		buf_putc(&b, 'z');
	control_fit(&b);
	CHECK(is(buf_str(&b), "ERR answer too long (1048586 bytes)\n"));
	CHECK(sim_log_count("control: answer too long:") == 1);
	sim_advance(61000);
	buf_reset(&b);
	while (b.len <= CTL_ANSWER_MAX)
		buf_putc(&b, 'z');
	control_fit(&b);
	CHECK(sim_log_count("control: answer too long:") == 2);
	CHECK(sim_log_count("(1 more since the last warning)") == 1);
	buf_free(&b);
	sim_end();
}
