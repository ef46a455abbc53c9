/*++
/* NAME
/*	test_noticewatch 1
/* SUMMARY
/*	unit tests: when an owner notice is due, and its limits
/* DESCRIPTION
/*	The four kinds' rules one by one (stale-password at stale_after
/*	and not before, a gap that starts over, a pass that ends it, a
/*	told episode; app-password-required at the repeat-th; lock only
/*	from an unfamiliar address; guessing at once; a kind that is off),
/*	admit's interval per (kind, account) and its cap over a sliding
/*	3,600 s, restores, the bound on entries and what eviction spares,
/*	a clock that steps back, and a stateful test: seeded schedules on
/*	a virtual clock, the watch compared at every step with a model
/*	made of arrays, and the invariants checked after every step.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cause.h"
#include "notice.h"
#include "noticewatch.h"
#include "unit.h"

#define ALL_KINDS	((1u << NOTICE_KINDS) - 1)
#define T0		1700000000u

static const unsigned char test_key[16] = "0123456789abcdef";

/* rules - all kinds, 1 h stale, 3 repeats, 1 d interval, 100 an hour */
static struct notice_rules
rules(void)
{
	struct notice_rules r = {ALL_KINDS, 3600, 3, 86400, 100};

	return r;
}

/* fail - a failed attempt; 1 when due */
static int
fail(struct notice_watch *w, const struct notice_rules *r, enum cause c,
    const char *acct, const char *ip, uint32_t now, struct notice_due *d)
{
	return notice_watch_attempt(w, r, 0, c, acct, ip, "REF0123456", now, d);
}

/* pass - a successful login */
static void
pass(struct notice_watch *w, const struct notice_rules *r, const char *acct,
    const char *ip, uint32_t now)
{
	struct notice_due d;

	CHECK(notice_watch_attempt(w, r, 1, CAUSE_NONE, acct, ip, "", now,
	    &d) == 0);
}

TEST(nw_stale_due_at_stale_after)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 1800, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3599, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3600, &d) == 1);
	CHECK(d.kind == NOTICE_STALE_PASSWORD);
	CHECK_STR(d.account, "ann");
	CHECK_STR(d.ip, "192.0.2.1");
	CHECK_STR(d.ref, "REF0123456");
	CHECK(d.first == T0 && d.last == T0 + 3600 && d.count == 4 && d.until == 0);
	/* another address of the same account is its own episode */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.2", T0 + 3600, &d) == 0);
	CHECK(notice_watch_size(w) == 2);
	/* stale_after 0: the first attempt */
	r.stale_after = 0;
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0, &d) == 1);
	CHECK(d.count == 1 && d.first == T0);
	notice_watch_free(w);
}

TEST(nw_stale_gap_restarts)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3000, &d) == 0);
	/* 3,601 s after last: a new episode, first = now */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 6601, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 6601 + 3599, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 6601 + 3600, &d) == 1);
	CHECK(d.first == T0 + 6601 && d.count == 3);
	/* a gap of exactly stale_after does not end an episode */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0 + 3600, &d) == 1);
	CHECK(d.first == T0 && d.count == 2);
	notice_watch_free(w);
}

TEST(nw_stale_pass_ends)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3000, &d) == 0);
	pass(w, &r, "ann", "192.0.2.9", T0 + 3100);	/* elsewhere: no end */
	CHECK(notice_watch_size(w) == 1);
	pass(w, &r, "ann", "192.0.2.1", T0 + 3100);
	CHECK(notice_watch_size(w) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3200, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3600, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 6799, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 6800, &d) == 1);
	CHECK(d.first == T0 + 3200);
	notice_watch_free(w);
}

TEST(nw_stale_told_until_new_episode)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;
	uint32_t t;

	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3600, &d) == 1);
	/* the same episode for a day: never due again */
	for (t = T0 + 3600 + 600; t < T0 + 86400; t += 600)
		CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", t, &d) == 0);
	/* it ends (the gap), a new one starts and is due in its turn */
	t += 3601;
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", t, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", t + 3600, &d) == 1);
	CHECK(d.first == t);
	notice_watch_free(w);
}

TEST(nw_app_password_repeat)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.2", T0 + 10, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.3", T0 + 20, &d) == 1);
	CHECK(d.kind == NOTICE_APP_PASSWORD && d.count == 3);
	CHECK(d.first == T0 && d.last == T0 + 20);
	CHECK_STR(d.ip, "192.0.2.3");		/* the latest address */
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.3", T0 + 30, &d) == 0);
	/* a gap over stale_after starts the count again */
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.3", T0 + 3631, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.3", T0 + 3632, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.3", T0 + 3633, &d) == 1);
	CHECK(d.count == 3 && d.first == T0 + 3631);
	/* a pass, from any address, ends it */
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0 + 1, &d) == 0);
	pass(w, &r, "bob", "198.51.100.7", T0 + 2);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0 + 3, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0 + 4, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0 + 5, &d) == 1);
	/* repeat 1 (and 0, taken as 1): the first */
	r.repeat = 0;
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "cy", "192.0.2.1", T0, &d) == 1);
	notice_watch_free(w);
}

TEST(nw_lock_unfamiliar_only)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(notice_watch_lock(w, &r, "ann", "192.0.2.1", "REF0123456", 1,
	    T0 + 900, T0, &d) == 0);
	CHECK(notice_watch_lock(w, &r, "ann", "192.0.2.1", "REF0123456", 0,
	    T0 + 900, T0, &d) == 1);
	CHECK(d.kind == NOTICE_LOCK && d.until == T0 + 900 && d.first == T0);
	CHECK_STR(d.account, "ann");
	CHECK_STR(d.ip, "192.0.2.1");
	CHECK(notice_watch_lock(w, &r, "", "192.0.2.1", "", 0, T0 + 900, T0,
	    &d) == 0);
	CHECK(notice_watch_size(w) == 0);
	notice_watch_free(w);
}

TEST(nw_guessing_at_once)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "ann", "203.0.113.5", T0, &d) == 1);
	CHECK(d.kind == NOTICE_GUESSING && d.first == T0 && d.count == 1);
	CHECK(fail(w, &r, CAUSE_BAD_PASSWORD, "ann", "203.0.113.5", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_UNKNOWN_USER, "ann", "203.0.113.5", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "", "203.0.113.5", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, NULL, "203.0.113.5", T0, &d) == 0);
	CHECK(notice_watch_size(w) == 0);
	notice_watch_free(w);
}

TEST(nw_disabled_kind_never_due)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;
	uint32_t t;

	r.kinds = ALL_KINDS & ~(1u << NOTICE_STALE_PASSWORD) &
	    ~(1u << NOTICE_APP_PASSWORD) & ~(1u << NOTICE_LOCK) &
	    ~(1u << NOTICE_GUESSING);
	for (t = T0; t < T0 + 8000; t += 100) {
		CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", t, &d) == 0);
		CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.1", t, &d) == 0);
		CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "ann", "192.0.2.1", t, &d) == 0);
		CHECK(notice_watch_lock(w, &r, "ann", "192.0.2.1", "", 0, t, t, &d) == 0);
	}
	CHECK(notice_watch_size(w) == 0);
	/* one off, the others on: only that one is silent */
	r.kinds = ALL_KINDS & ~(1u << NOTICE_STALE_PASSWORD);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(notice_watch_size(w) == 0);
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "ann", "192.0.2.1", T0, &d) == 1);
	/* switched off mid-episode: the episode is dropped on its next attempt */
	r = rules();
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0, &d) == 0);
	CHECK(notice_watch_size(w) == 1);
	r.kinds &= ~(1u << NOTICE_STALE_PASSWORD);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0 + 3600, &d) == 0);
	CHECK(notice_watch_size(w) == 0);
	notice_watch_free(w);
}

TEST(nw_long_fields_never_due)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;
	char acct[300], ip[100];

	memset(acct, 'a', sizeof(acct));
	acct[256] = 0;				/* one more than the field holds */
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, acct, "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, acct, "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, acct, "192.0.2.1", T0 + 3600, &d) == 0);
	CHECK(notice_watch_lock(w, &r, acct, "192.0.2.1", "", 0, T0, T0, &d) == 0);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, acct, T0) != NOTICE_GO);
	notice_watch_restore(w, NOTICE_LOCK, acct, T0);
	CHECK(notice_watch_size(w) == 0);
	acct[255] = 0;				/* exactly the field */
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, acct, "192.0.2.1", T0, &d) == 1);
	CHECK(strlen(d.account) == 255);
	memset(ip, '1', sizeof(ip));
	ip[64] = 0;
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "ann", ip, T0, &d) == 0);
	ip[63] = 0;
	CHECK(fail(w, &r, CAUSE_PASSWORD_GUESSING, "ann", ip, T0, &d) == 1);
	CHECK(notice_watch_attempt(w, &r, 0, CAUSE_PASSWORD_GUESSING, "ann",
	    "192.0.2.1", "REF01234567", T0, &d) == 0);
	CHECK(notice_watch_attempt(w, &r, 0, CAUSE_PASSWORD_GUESSING, "ann",
	    NULL, NULL, T0, &d) == 1);
	CHECK_STR(d.ip, "");
	CHECK_STR(d.ref, "");
	notice_watch_free(w);
}

TEST(nw_admit_interval_per_kind_account)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 1) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 86399) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "ann", T0 + 1) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "bob", T0 + 1) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 86400) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 86401) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_size(w) == 3);
	/* a refusal records nothing: the interval runs from the last GO */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 2 * 86400) == NOTICE_GO);
	notice_watch_free(w);
}

TEST(nw_admit_cap_sliding_hour)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	r.per_hour = 3;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a", T0) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b", T0 + 100) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", T0 + 200) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d", T0 + 300) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d", T0 + 3599) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d", T0 + 3600) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e", T0 + 3601) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e", T0 + 3700) == NOTICE_GO);
	/* the account limit is told before the cap */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e", T0 + 3701) == NOTICE_LIMITED_ACCOUNT);
	/* per_hour 0: nothing goes */
	r.per_hour = 0;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "f", T0 + 99999) == NOTICE_LIMITED_CAP);
	notice_watch_free(w);
}

TEST(nw_per_hour_reload)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 1000);
	struct notice_rules r = rules();
	char acct[32];
	int i, go;

	r.per_hour = 5;
	for (i = 0, go = 0; i < 20; i++) {
		snprintf(acct, sizeof(acct), "a%d", i);
		go += notice_watch_admit(w, &r, NOTICE_LOCK, acct, T0 + i) == NOTICE_GO;
	}
	CHECK(go == 5);
	r.per_hour = 2;				/* smaller: nothing more */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b", T0 + 30) == NOTICE_LIMITED_CAP);
	r.per_hour = 300;			/* larger: 295 more this hour */
	for (i = 0, go = 0; i < 400; i++) {
		snprintf(acct, sizeof(acct), "c%d", i);
		go += notice_watch_admit(w, &r, NOTICE_LOCK, acct, T0 + 40) == NOTICE_GO;
	}
	CHECK(go == 295);
	r.per_hour = 1;				/* and smaller again, an hour on */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d0", T0 + 3640) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d1", T0 + 3641) == NOTICE_LIMITED_CAP);
	notice_watch_free(w);
}

TEST(nw_restore_counts)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	notice_watch_restore(w, NOTICE_STALE_PASSWORD, "ann", T0);
	CHECK(notice_watch_admit(w, &r, NOTICE_STALE_PASSWORD, "ann", T0 + 86399) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 10) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_STALE_PASSWORD, "ann", T0 + 86400) == NOTICE_GO);
	/* an older line later does not move the time back */
	notice_watch_restore(w, NOTICE_GUESSING, "bob", T0 + 500);
	notice_watch_restore(w, NOTICE_GUESSING, "bob", T0);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "bob", T0 + 86899) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "bob", T0 + 86900) == NOTICE_GO);
	notice_watch_free(w);

	/* restored sends take places in the cap, before any admit */
	w = notice_watch_new(test_key, 16, 100);
	r.per_hour = 2;
	notice_watch_restore(w, NOTICE_LOCK, "a", T0 - 3599);
	notice_watch_restore(w, NOTICE_LOCK, "b", T0 - 10);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", T0) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", T0 + 1) == NOTICE_GO);
	notice_watch_free(w);
}

TEST(nw_lock_flood_cap)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 10000);
	struct notice_rules r = rules();
	struct notice_due d;
	char acct[32];
	int i, go = 0, cap = 0, other = 0;
	enum notice_admit a;

	for (i = 0; i < 1000; i++) {
		snprintf(acct, sizeof(acct), "user%d@example.org", i);
		CHECK(notice_watch_lock(w, &r, acct, "203.0.113.7", "REF0123456",
		    0, T0 + i + 900, T0 + i, &d) == 1);
		a = notice_watch_admit(w, &r, d.kind, d.account, T0 + i);
		go += a == NOTICE_GO;
		cap += a == NOTICE_LIMITED_CAP;
		other += a == NOTICE_LIMITED_ACCOUNT;
	}
	CHECK(go == 100 && cap == 900 && other == 0);
	/* an hour after the first: one place a second frees */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "late@example.org",
	    T0 + 3599) == NOTICE_LIMITED_CAP);
	for (i = 0, go = 0; i < 200; i++) {
		snprintf(acct, sizeof(acct), "next%d@example.org", i);
		go += notice_watch_admit(w, &r, NOTICE_LOCK, acct, T0 + 3600 +
		    (uint32_t)i) == NOTICE_GO;
	}
	CHECK(go == 100);
	/* the first hundred are still within their interval */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "user0@example.org",
	    T0 + 7200 + 3600) == NOTICE_LIMITED_ACCOUNT);
	notice_watch_free(w);
}

TEST(nw_max_entries_bound)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 1000);
	struct notice_rules r = rules();
	struct notice_due d;
	char acct[32];
	size_t most = 0;
	int i;

	r.per_hour = 1000000;
	r.interval = 60;
	for (i = 0; i < 100000; i++) {
		snprintf(acct, sizeof(acct), "u%d", i);
		fail(w, &r, CAUSE_STALE_PASSWORD, acct, "192.0.2.1", T0 + (uint32_t)i, &d);
		fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, acct, "192.0.2.1", T0 + (uint32_t)i, &d);
		if (i % 7 == 0)
			notice_watch_admit(w, &r, NOTICE_GUESSING, acct, T0 + (uint32_t)i);
		if (notice_watch_size(w) > most)
			most = notice_watch_size(w);
	}
	CHECK(most == 1000);
	/* the newest are kept: the last account's episode is there */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "u99999", "192.0.2.1",
	    T0 + 99999 + 3600, &d) == 1);
	notice_watch_sweep(w, &r, T0 + 99999 + 3600 + 3601);
	CHECK(notice_watch_size(w) == 0);
	notice_watch_free(w);
}

TEST(nw_eviction_spares_live_sends)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 4);
	struct notice_rules r = rules();
	struct notice_due d;

	/* two sends, two episodes: a third episode takes the oldest episode */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s1", T0) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s2", T0) == NOTICE_GO);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e1", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e2", "192.0.2.1", T0 + 1, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e3", "192.0.2.1", T0 + 2, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e2", "192.0.2.1", T0 + 3601, &d) == 1);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e1", "192.0.2.1", T0 + 3601, &d) == 0);
	/* a send takes an episode, never a send within interval */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s3", T0 + 3602) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s4", T0 + 3603) == NOTICE_GO);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s5", T0 + 3604) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s1", T0 + 3605) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s2", T0 + 3605) == NOTICE_LIMITED_ACCOUNT);
	/* full of live sends: a new episode is not tracked */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e9", "192.0.2.1", T0 + 3606, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e9", "192.0.2.1", T0 + 7206, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	/* once s1 and s2 are a day old, they give way */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s5", T0 + 86400) == NOTICE_GO);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "e9", "192.0.2.1", T0 + 86400, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s3", T0 + 86401) == NOTICE_LIMITED_ACCOUNT);
	notice_watch_free(w);
}

TEST(nw_clock_backwards)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	/* now before first: no underflow into a huge age */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 - 5000, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", 0, &d) == 0);
	/* the episode went on: last did not move back */
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3599, &d) == 0);
	CHECK(fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3600, &d) == 1);
	CHECK(d.first == T0 && d.last == T0 + 3600);
	/* a step back frees no place in the cap, nor an account's interval */
	r.per_hour = 2;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a", T0 + 10000) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b", T0 + 10000) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", T0) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", 0) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a", 5) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c", T0 + 13600) == NOTICE_GO);
	/* a sweep in the past keeps what is newer than it */
	notice_watch_sweep(w, &r, 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d", T0 + 13601) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e", T0 + 13602) == NOTICE_LIMITED_CAP);
	/* app-password: a step back is no gap */
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", 1, &d) == 0);
	CHECK(fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "bob", "192.0.2.1", T0 + 1, &d) == 1);
	CHECK(d.count == 3);
	notice_watch_free(w);
}

TEST(nw_sweep_drops_spent)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	fail(w, &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d);
	fail(w, &r, CAUSE_APP_PASSWORD_REQUIRED, "ann", "192.0.2.1", T0, &d);
	fail(w, &r, CAUSE_STALE_PASSWORD, "bob", "192.0.2.1", T0 + 3000, &d);
	notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0);
	CHECK(notice_watch_size(w) == 4);
	notice_watch_sweep(w, &r, T0 + 3600);		/* nothing spent yet */
	CHECK(notice_watch_size(w) == 4);
	notice_watch_sweep(w, &r, T0 + 3601);		/* ann's episodes */
	CHECK(notice_watch_size(w) == 2);
	r.kinds &= ~(1u << NOTICE_STALE_PASSWORD);	/* a kind switched off */
	notice_watch_sweep(w, &r, T0 + 3601);
	CHECK(notice_watch_size(w) == 1);
	notice_watch_sweep(w, &r, T0 + 86399);
	CHECK(notice_watch_size(w) == 1);
	notice_watch_sweep(w, &r, T0 + 86400);
	CHECK(notice_watch_size(w) == 0);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0 + 86400) == NOTICE_GO);
	notice_watch_free(w);
}

TEST(nw_keys_of_any_length)
{
	static const unsigned char k7[7] = "seven!!";
	struct notice_watch *w[3];
	struct notice_rules r = rules();
	struct notice_due d;
	int i;

	w[0] = notice_watch_new(NULL, 0, 10);
	w[1] = notice_watch_new(k7, sizeof(k7), 10);
	w[2] = notice_watch_new(test_key, 16, 10);
	for (i = 0; i < 3; i++) {
		CHECK(fail(w[i], &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0, &d) == 0);
		CHECK(fail(w[i], &r, CAUSE_STALE_PASSWORD, "ann", "192.0.2.1", T0 + 3600, &d) == 1);
		CHECK(notice_watch_admit(w[i], &r, NOTICE_LOCK, "ann", T0) == NOTICE_GO);
		CHECK(notice_watch_admit(w[i], &r, NOTICE_LOCK, "ann", T0) == NOTICE_LIMITED_ACCOUNT);
		CHECK(notice_watch_size(w[i]) == 2);
		notice_watch_free(w[i]);
	}
	notice_watch_free(NULL);
}
