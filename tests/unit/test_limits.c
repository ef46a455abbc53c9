/*++
/* NAME
/*	test_limits 1
/* SUMMARY
/*	unit tests: failure windows, lockouts, familiar addresses, eviction
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "authlimits.h"
#include "config.h"
#include "unit.h"

/* setup - 3 failures per 10 minutes for accounts, 5 for addresses */
static void
setup(struct limits *l, size_t max)
{
	struct limits_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("3/10m", &cfg.account);
	limit_parse("5/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 30 * 86400;
	cfg.guess_distinct = 3;
	cfg.max_tracked = max;
	limits_init(l, &cfg);
}

/* q - a query */
static struct limits_query
q(const char *acct, const char *addr, uint32_t fp)
{
	struct limits_query r = {acct, addr, fp, 0, 0};

	return r;
}

/* attempt - check, reserve, fail; returns the verdict */
static enum limits_verdict
attempt(struct limits *l, struct limits_query *qq, uint32_t now,
    struct limits_outcome *out)
{
	struct limits_ticket tk;
	enum limits_verdict v;
	uint32_t retry;

	if ((v = limits_check(l, qq, now, &retry)) != LV_ALLOW)
		return v;
	limits_reserve(l, qq, now, &tk);
	limits_release(l, qq, now, &tk);
	limits_fail(l, qq, 1, 1, now, out);
	return v;
}

TEST(limit_syntax)
{
	struct limit lim;

	CHECK(limit_parse("5/15m", &lim) == 0 && lim.n == 5 && lim.secs == 900);
	CHECK(limit_parse("1/1s", &lim) == 0);
	CHECK(limit_parse("0/15m", &lim) < 0);
	CHECK(limit_parse("5", &lim) < 0);
	CHECK(limit_parse("5/", &lim) < 0);
	CHECK(limit_parse("/5m", &lim) < 0);
	CHECK(limit_parse("300/5m", &lim) < 0);
	CHECK(limit_parse("5/500ms", &lim) < 0);
}

TEST(addr_keys)
{
	char k[64];

	CHECK(limits_addr_key("192.0.2.77", 32, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "192.0.2.77/32");
	CHECK(limits_addr_key("192.0.2.77", 24, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "192.0.2.0/24");
	CHECK(limits_addr_key("2001:db8:1:2:3:4:5:6", 32, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "2001:db8:1:2::/64");
	CHECK(limits_addr_key("2001:db8:1:2:3:4:5:6", 32, 56, k, sizeof(k)) == 0);
	CHECK_STR(k, "2001:db8:1::/56");
	CHECK(limits_addr_key("nonsense", 32, 64, k, sizeof(k)) < 0);
	CHECK(limits_addr_key("192.0.2.77", 32, 64, k, 5) < 0);
}

TEST(addr_keys_mapped_are_ipv4)
{
	static const char *const mapped[] = {
		"::ffff:192.0.2.77", "::FFFF:192.0.2.77",
		"0:0:0:0:0:ffff:192.0.2.77", "::ffff:c000:24d",
	};
	char k[64];
	size_t i;

	for (i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		CHECK(limits_addr_key(mapped[i], 32, 64, k, sizeof(k)) == 0);
		CHECK_STR(k, "192.0.2.77/32");
		CHECK(limits_addr_key(mapped[i], 24, 64, k, sizeof(k)) == 0);
		CHECK_STR(k, "192.0.2.0/24");
	}
	/* two mapped clients are two addresses, not one ::/64 */
	CHECK(limits_addr_key("::ffff:203.0.113.9", 32, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "203.0.113.9/32");
	/* IPv4-compatible is IPv6 */
	CHECK(limits_addr_key("::192.0.2.77", 32, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "::/64");
}

TEST(addr_keys_zones_dropped)
{
	char k[64];

	CHECK(limits_addr_key("fe80::1%eth0", 32, 64, k, sizeof(k)) == 0);
	CHECK_STR(k, "fe80::/64");
	CHECK(limits_addr_key("FE80::1:2:3:4%2", 32, 128, k, sizeof(k)) == 0);
	CHECK_STR(k, "fe80::1:2:3:4/128");
	CHECK(limits_addr_key("fe80::1%", 32, 64, k, sizeof(k)) < 0);
	CHECK(limits_addr_key("fe80::1%eth 0", 32, 64, k, sizeof(k)) < 0);
	CHECK(limits_addr_key("192.0.2.77%eth0", 32, 64, k, sizeof(k)) < 0);
}

TEST(mapped_client_locks_its_ipv4)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query qq;
	char k4[64], k6[64], other[64];
	uint32_t retry;
	int i;

	setup(&l, 100);
	CHECK(limits_addr_key("::ffff:192.0.2.77", 32, 64, k6, sizeof(k6)) == 0);
	CHECK(limits_addr_key("192.0.2.77", 32, 64, k4, sizeof(k4)) == 0);
	CHECK(limits_addr_key("::ffff:203.0.113.9", 32, 64, other,
	    sizeof(other)) == 0);
	for (i = 0; i < 5; i++) {
		char acct[16];

		snprintf(acct, sizeof(acct), "user%d", i);
		qq = q(acct, k6, 0x100 + (uint32_t)i);
		attempt(&l, &qq, 1000, &out);
	}
	qq = q("nobody", k4, 0x999);
	CHECK(limits_check(&l, &qq, 1001, &retry) == LV_IP_BLOCKED);
	qq = q("nobody", other, 0x999);
	CHECK(limits_check(&l, &qq, 1001, &retry) == LV_ALLOW);
	limits_free(&l);
}

TEST(lockout_at_exactly_the_limit)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a = q("jane", "192.0.2.1/32", 11);
	uint32_t retry, now = 1000000;
	int i;

	setup(&l, 100);
	for (i = 0; i < 3; i++) {
		a.fp = 100 + (uint32_t)i;	/* distinct passwords */
		CHECK(attempt(&l, &a, now + (uint32_t)i, &out) == LV_ALLOW);
	}
	CHECK(out.locked_until == now + 2 + 900 && out.locked_account);
	a.fp = 555;
	CHECK(limits_check(&l, &a, now + 3, &retry) == LV_ACCOUNT_LOCKED);
	CHECK(retry == now + 2 + 900);
	CHECK(limits_check(&l, &a, now + 2 + 900, &retry) == LV_ALLOW);
	limits_free(&l);
}

TEST(concurrent_attempts_wait_at_the_limit)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_ticket tk[5];
	struct limits_query a[5];
	uint32_t retry, now = 5000;
	int i;

	setup(&l, 100);
	for (i = 0; i < 5; i++)
		a[i] = q("jane", NULL, 200 + (uint32_t)i);
	/* five arrive at once: three may go, the rest wait */
	for (i = 0; i < 3; i++) {
		CHECK(limits_check(&l, &a[i], now, &retry) == LV_ALLOW);
		limits_reserve(&l, &a[i], now, &tk[i]);
	}
	CHECK(limits_check(&l, &a[3], now, &retry) == LV_WAIT);
	CHECK(limits_check(&l, &a[4], now, &retry) == LV_WAIT);
	for (i = 0; i < 3; i++) {
		limits_release(&l, &a[i], now, &tk[i]);
		limits_fail(&l, &a[i], 1, 1, now, &out);
	}
	CHECK(limits_check(&l, &a[3], now, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
}

TEST(success_clears_waiters)
{
	struct limits l;
	struct limits_ticket tk;
	struct limits_outcome out;
	struct limits_query a = q("jane", "192.0.2.9/32", 1), b = q("jane",
	    "192.0.2.9/32", 2), c = q("jane", "192.0.2.9/32", 3);
	uint32_t retry, now = 5000;

	setup(&l, 100);
	CHECK(attempt(&l, &a, now, &out) == LV_ALLOW);
	CHECK(attempt(&l, &b, now, &out) == LV_ALLOW);
	CHECK(limits_check(&l, &c, now, &retry) == LV_ALLOW);
	limits_reserve(&l, &c, now, &tk);
	CHECK(limits_check(&l, &a, now, &retry) == LV_ALLOW);	/* a repeat */
	c.fp = 9;
	CHECK(limits_check(&l, &c, now, &retry) == LV_WAIT);
	limits_release(&l, &c, now, &tk);
	limits_pass(&l, &c, now);
	CHECK(limits_check(&l, &c, now, &retry) == LV_ALLOW);
	CHECK(limits_window_count(&l.acct, limits_find(&l.acct, "jane"), now) == 0);
	limits_free(&l);
}

TEST(stale_password_counts_once)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a = q("phone-owner", "198.51.100.4/32", 4242);
	uint32_t retry;
	int i;

	setup(&l, 100);
	CHECK(attempt(&l, &a, 100, &out) == LV_ALLOW && !out.stale);
	CHECK(attempt(&l, &a, 101, &out) == LV_ALLOW && !out.stale);	/* PLAIN, LOGIN */
	for (i = 3; i < 50; i++) {
		CHECK(attempt(&l, &a, 100 + (uint32_t)i * 5, &out) == LV_ALLOW);
		CHECK(out.stale && !out.guessing && out.locked_until == 0);
	}
	CHECK(limits_check(&l, &a, 400, &retry) == LV_ALLOW);
	limits_free(&l);
}

TEST(guessing_by_passwords_and_by_accounts)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a;
	char name[32];
	int i;

	setup(&l, 100);
	a = q("victim", "203.0.113.5/32", 1);
	attempt(&l, &a, 10, &out);
	CHECK(!out.guessing);
	a.fp = 2;
	attempt(&l, &a, 11, &out);
	CHECK(!out.guessing);
	a.fp = 3;
	attempt(&l, &a, 12, &out);
	CHECK(out.guessing);
	limits_free(&l);
	setup(&l, 100);
	for (i = 0; i < 3; i++) {	/* one address, one password, many users */
		snprintf(name, sizeof(name), "user%d", i);
		a = q(name, "203.0.113.6/32", 77 + (uint32_t)i);
		attempt(&l, &a, 20, &out);
	}
	CHECK(out.guessing && !out.stale);
	limits_free(&l);
}

TEST(familiar_address_is_not_locked_out)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query home = q("jane", "192.0.2.10/32", 0), atk;
	uint32_t retry;
	int i;

	setup(&l, 100);
	limits_pass(&l, &home, 1000);
	for (i = 0; i < 3; i++) {
		atk = q("jane", "203.0.113.99/32", 500 + (uint32_t)i);
		CHECK(attempt(&l, &atk, 2000 + (uint32_t)i, &out) == LV_ALLOW);
	}
	CHECK(limits_check(&l, &atk, 2010, &retry) == LV_ACCOUNT_LOCKED);
	CHECK(limits_check(&l, &home, 2010, &retry) == LV_ALLOW);
	CHECK(limits_familiar(&l, "jane", "192.0.2.10/32", 2010));
	/* after the ttl the address is a stranger again */
	CHECK(limits_check(&l, &home, 1000 + 30 * 86400, &retry) ==
	    LV_ACCOUNT_LOCKED || !limits_is_locked(limits_find(&l.acct, "jane"),
	    1000 + 30 * 86400));
	/* its own address limit still applies */
	for (i = 0; i < 5; i++) {
		home.fp = 900 + (uint32_t)i;
		attempt(&l, &home, 3000 + (uint32_t)i, &out);
	}
	CHECK(limits_check(&l, &home, 3010, &retry) == LV_IP_BLOCKED);
	limits_free(&l);
}

TEST(lockouts_double_up_to_max)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a = q("jane", NULL, 0);
	uint32_t now = 100000, len[4];
	int round, i;

	setup(&l, 100);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 3; i++) {
			a.fp = (uint32_t)(round * 10 + i + 1);
			attempt(&l, &a, now, &out);
		}
		len[round] = out.locked_until - now;
		now = out.locked_until;
	}
	CHECK(len[0] == 900 && len[1] == 1800 && len[2] == 3600 && len[3] == 3600);
	CHECK(limits_unlock(&l, "jane"));
	CHECK(!limits_is_locked(limits_find(&l.acct, "jane"), now));
	CHECK(!limits_unlock(&l, "nobody"));
	limits_free(&l);
}

TEST(window_slides)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a = q("jane", NULL, 0);
	uint32_t retry;

	setup(&l, 100);
	a.fp = 1;
	attempt(&l, &a, 1000, &out);
	a.fp = 2;
	attempt(&l, &a, 1300, &out);
	a.fp = 3;		/* the first has slid out at 1600 */
	attempt(&l, &a, 1600, &out);
	CHECK(out.locked_until == 0);
	CHECK(limits_check(&l, &a, 1601, &retry) == LV_ALLOW);
	limits_free(&l);
}

TEST(exempt_and_no_limit)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a = q("jane", "10.0.0.1/32", 0);
	uint32_t retry;
	int i;

	setup(&l, 100);
	a.exempt = 1;
	for (i = 0; i < 20; i++) {
		a.fp = (uint32_t)i + 1;
		CHECK(attempt(&l, &a, 50, &out) == LV_ALLOW);
	}
	a.exempt = 0;
	a.no_limit = 1;
	a.addr = NULL;
	for (i = 0; i < 20; i++) {
		a.fp = (uint32_t)i + 100;
		CHECK(attempt(&l, &a, 60, &out) == LV_ALLOW);
	}
	CHECK(limits_check(&l, &a, 61, &retry) == LV_ALLOW);
	limits_free(&l);
}

TEST(memory_bounded_locked_evicted_last)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a;
	char name[32];
	uint32_t retry;
	int i;

	setup(&l, 1000);
	for (i = 0; i < 3; i++) {		/* one locked account */
		a = q("locked-one", NULL, (uint32_t)i + 1);
		attempt(&l, &a, 10, &out);
	}
	for (i = 0; i < 100000; i++) {		/* a spray */
		snprintf(name, sizeof(name), "spray%d", i);
		a = q(name, NULL, 7);
		attempt(&l, &a, 11, &out);
		CHECK(l.acct.count <= 1000);
	}
	CHECK(l.acct.count == 1000 && l.acct.evicted >= 99000);
	a = q("locked-one", NULL, 99);
	CHECK(limits_check(&l, &a, 12, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
}

TEST(familiar_failures_lock_for_strangers)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query home = q("jane", "192.0.2.10/32", 0),
	    other = q("jane", "203.0.113.1/32", 99);
	uint32_t retry;
	int i;

	setup(&l, 100);
	limits_pass(&l, &home, 1000);
	for (i = 0; i < 3; i++) {	/* the user's own stale-ish device */
		home.fp = 700 + (uint32_t)i;
		CHECK(attempt(&l, &home, 1100 + (uint32_t)i, &out) == LV_ALLOW);
	}
	/* a stranger is refused as locked, not left waiting for nothing */
	CHECK(limits_check(&l, &other, 1110, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
}

TEST(over_full_window_locks_instead_of_waiting)
{
	struct limits l;
	struct limits_query a = q("jane", NULL, 5);
	struct track *t;
	uint32_t retry;

	setup(&l, 100);
	t = limits_get(&l.acct, "jane", 1000);	/* as a state file could leave it */
	limits_add_fail(&l.acct, t, 990, 1, 0);
	limits_add_fail(&l.acct, t, 991, 2, 0);
	limits_add_fail(&l.acct, t, 992, 3, 0);
	CHECK(limits_check(&l, &a, 1000, &retry) == LV_ACCOUNT_LOCKED);
	CHECK(retry == 1900);
	limits_free(&l);
}

TEST(eviction_spares_attempts_in_flight)
{
	struct limits l;
	struct limits_ticket tk[2];
	struct limits_query a = q("a", NULL, 1), b = q("b", NULL, 2),
	    c = q("c", NULL, 3), d = q("d", NULL, 4), e = q("e", NULL, 5);
	struct limits_outcome out;

	setup(&l, 2);
	limits_reserve(&l, &a, 10, &tk[0]);
	limits_reserve(&l, &b, 10, &tk[1]);
	attempt(&l, &c, 11, &out);		/* no room: nothing evictable */
	CHECK(limits_find(&l.acct, "a") && limits_find(&l.acct, "b"));
	CHECK(limits_find(&l.acct, "a")->inflight == 1);
	CHECK(l.acct.count == 3);		/* over the cap by those in flight */
	limits_release(&l, &a, 12, &tk[0]);	/* a is evictable again */
	attempt(&l, &d, 12, &out);		/* c and a go, oldest first */
	CHECK(!limits_find(&l.acct, "c") && !limits_find(&l.acct, "a"));
	CHECK(l.acct.count == 2 && limits_find(&l.acct, "b")->inflight == 1);
	limits_release(&l, &b, 13, &tk[1]);
	attempt(&l, &e, 14, &out);		/* d goes; b, released later, stays */
	CHECK(l.acct.count == 2 && limits_find(&l.acct, "b") &&
	    limits_find(&l.acct, "e"));
	limits_free(&l);
}

TEST(spray_while_many_in_flight)
{
	struct limits l;
	struct limits_ticket tk[500];
	struct limits_query busy[500], a;
	struct limits_outcome out;
	char names[500][16], name[32];
	int i;

	setup(&l, 100);
	for (i = 0; i < 500; i++) {
		snprintf(names[i], sizeof(names[i]), "busy%d", i);
		busy[i] = q(names[i], NULL, 1);
		limits_reserve(&l, &busy[i], 10, &tk[i]);
	}
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "spray%d", i);
		a = q(name, NULL, 7);
		attempt(&l, &a, 11, &out);
		CHECK(l.acct.count <= 100 + 500);
	}
	for (i = 0; i < 500; i++)
		CHECK(limits_find(&l.acct, names[i])->inflight == 1);
	for (i = 0; i < 500; i++)
		limits_release(&l, &busy[i], 12, &tk[i]);
	a = q("last", NULL, 7);
	attempt(&l, &a, 13, &out);
	CHECK(l.acct.count == 100);
	limits_free(&l);
}

TEST(reconfigure_keeps_entries_applies_new_limits)
{
	struct limits l;
	struct limits_config cfg;
	struct limits_outcome out;
	struct limits_query a = q("jane", NULL, 0);
	char name[32];
	uint32_t retry;
	int i;

	setup(&l, 100);
	for (i = 0; i < 2; i++) {	/* two of three: not locked */
		a.fp = 10 + (uint32_t)i;
		attempt(&l, &a, 100, &out);
	}
	CHECK(limits_check(&l, &a, 101, &retry) == LV_ALLOW);
	cfg = l.cfg;
	limit_parse("2/10m", &cfg.account);	/* stricter: two is the limit */
	cfg.max_tracked = 10;
	limits_reconfigure(&l, &cfg);
	a.fp = 99;
	CHECK(limits_check(&l, &a, 102, &retry) == LV_ACCOUNT_LOCKED);
	for (i = 0; i < 50; i++) {	/* the smaller cap applies as names come */
		snprintf(name, sizeof(name), "new%d", i);
		a = q(name, NULL, 7);
		attempt(&l, &a, 103, &out);
	}
	CHECK(l.acct.count <= 10);
	a = q("jane", NULL, 5);		/* locked entries go last */
	CHECK(limits_check(&l, &a, 104, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
}

/* An entry made familiar as the state loader does it is evicted last. */
TEST(familiar_from_state_is_evicted_last)
{
	struct limits l;
	struct limits_outcome out;
	struct limits_query a;
	struct track *t;
	char name[32];
	int i;

	setup(&l, 10);
	t = limits_get(&l.acct, "usual@example.com", 100);
	limits_add_familiar(&l, t, limits_hash("192.0.2.7/32"), 100);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "spray%d", i);
		a = q(name, NULL, 7);
		attempt(&l, &a, 200, &out);
	}
	CHECK(l.acct.count <= 10 && limits_find(&l.acct, "usual@example.com"));
	limits_free(&l);
}

/* The failures a lock's notice counts: those in the window, and the first's time. */
TEST(window_span_counts_the_window_only)
{
	struct limits l;
	struct track *t;
	uint32_t first = 0, now = 1000000;

	setup(&l, 100);
	t = limits_get(&l.acct, "jane", now);
	CHECK(limits_window_span(&l.acct, t, now, &first) == 0);
	limits_add_fail(&l.acct, t, now - 700, 1, 1);	/* out of 10m */
	limits_add_fail(&l.acct, t, now - 300, 2, 1);
	limits_add_fail(&l.acct, t, now - 10, 3, 1);
	CHECK(limits_window_span(&l.acct, t, now, &first) == 2);
	CHECK(first == now - 300);
	CHECK(limits_window_span(&l.acct, t, now + 305, &first) == 1);
	CHECK(first == now - 10);
	limits_free(&l);
}
