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
#define STALE		CAUSE_STALE_PASSWORD
#define APPPW		CAUSE_APP_PASSWORD_REQUIRED
#define GUESS		CAUSE_PASSWORD_GUESSING
#define IP1		"192.0.2.1"

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

	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 1800, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3599, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3600, &d) == 1);
	CHECK(d.kind == NOTICE_STALE_PASSWORD);
	CHECK_STR(d.account, "ann");
	CHECK_STR(d.ip, "192.0.2.1");
	CHECK_STR(d.ref, "REF0123456");
	CHECK(d.first == T0 && d.last == T0 + 3600);
	CHECK(d.count == 4 && d.until == 0);
	/* another address of the same account is its own episode */
	CHECK(fail(w, &r, STALE, "ann", "192.0.2.2", T0 + 3600, &d) == 0);
	CHECK(notice_watch_size(w) == 2);
	/* stale_after 0: the first attempt */
	r.stale_after = 0;
	CHECK(fail(w, &r, STALE, "bob", IP1, T0, &d) == 1);
	CHECK(d.count == 1 && d.first == T0);
	notice_watch_free(w);
}

TEST(nw_stale_gap_restarts)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3000, &d) == 0);
	/* 3,601 s after last: a new episode, first = now */
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 6601, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 6601 + 3599, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 6601 + 3600, &d) == 1);
	CHECK(d.first == T0 + 6601 && d.count == 3);
	/* a gap of exactly stale_after does not end an episode */
	CHECK(fail(w, &r, STALE, "bob", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "bob", IP1, T0 + 3600, &d) == 1);
	CHECK(d.first == T0 && d.count == 2);
	notice_watch_free(w);
}

TEST(nw_stale_pass_ends)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3000, &d) == 0);
	pass(w, &r, "ann", "192.0.2.9", T0 + 3100);	/* elsewhere: no end */
	CHECK(notice_watch_size(w) == 1);
	pass(w, &r, "ann", "192.0.2.1", T0 + 3100);
	CHECK(notice_watch_size(w) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3200, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3600, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 6799, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 6800, &d) == 1);
	CHECK(d.first == T0 + 3200);
	notice_watch_free(w);
}

TEST(nw_stale_told_until_new_episode)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;
	uint32_t t;

	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3600, &d) == 1);
	/* the same episode for a day: never due again */
	for (t = T0 + 3600 + 600; t < T0 + 86400; t += 600)
		CHECK(fail(w, &r, STALE, "ann", IP1, t, &d) == 0);
	/* it ends (the gap), a new one starts and is due in its turn */
	t += 3601;
	CHECK(fail(w, &r, STALE, "ann", IP1, t, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, t + 3600, &d) == 1);
	CHECK(d.first == t);
	notice_watch_free(w);
}

TEST(nw_app_password_repeat)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, APPPW, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.2", T0 + 10, &d) == 0);
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.3", T0 + 20, &d) == 1);
	CHECK(d.kind == NOTICE_APP_PASSWORD && d.count == 3);
	CHECK(d.first == T0 && d.last == T0 + 20);
	CHECK_STR(d.ip, "192.0.2.3");		/* the latest address */
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.3", T0 + 30, &d) == 0);
	/* a gap over stale_after starts the count again */
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.3", T0 + 3631, &d) == 0);
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.3", T0 + 3632, &d) == 0);
	CHECK(fail(w, &r, APPPW, "ann", "192.0.2.3", T0 + 3633, &d) == 1);
	CHECK(d.count == 3 && d.first == T0 + 3631);
	/* a pass, from any address, ends it */
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0 + 1, &d) == 0);
	pass(w, &r, "bob", "198.51.100.7", T0 + 2);
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0 + 3, &d) == 0);
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0 + 4, &d) == 0);
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0 + 5, &d) == 1);
	/* repeat 1 (and 0, taken as 1): the first */
	r.repeat = 0;
	CHECK(fail(w, &r, APPPW, "cy", IP1, T0, &d) == 1);
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

TEST(nw_guessing_once_per_episode)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	CHECK(fail(w, &r, GUESS, "ann", "203.0.113.5", T0, &d) == 1);
	CHECK(d.kind == NOTICE_GUESSING && d.first == T0 && d.count == 1);
	/* the rest of the episode is not due, from any address, a pass or
	 * not: a brute force is one due notice, not one per attempt */
	CHECK(fail(w, &r, GUESS, "ann", "198.51.100.7", T0 + 10, &d) == 0);
	pass(w, &r, "ann", "203.0.113.5", T0 + 20);
	CHECK(fail(w, &r, GUESS, "ann", "203.0.113.5", T0 + 3600, &d) == 0);
	/* a gap of more than stale_after: a new episode */
	CHECK(fail(w, &r, GUESS, "ann", "203.0.113.5", T0 + 7221, &d) == 1);
	CHECK(d.first == T0 + 7221 && d.count == 1);
	CHECK(fail(w, &r, CAUSE_BAD_PASSWORD, "ann", "203.0.113.5", T0,
	    &d) == 0);
	CHECK(fail(w, &r, CAUSE_UNKNOWN_USER, "ann", "203.0.113.5", T0,
	    &d) == 0);
	CHECK(fail(w, &r, GUESS, "", "203.0.113.5", T0, &d) == 0);
	CHECK(fail(w, &r, GUESS, NULL, "203.0.113.5", T0, &d) == 0);
	CHECK(notice_watch_size(w) == 1);	/* ann's episode */
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
		CHECK(fail(w, &r, STALE, "ann", IP1, t, &d) == 0);
		CHECK(fail(w, &r, APPPW, "ann", IP1, t, &d) == 0);
		CHECK(fail(w, &r, GUESS, "ann", IP1, t, &d) == 0);
		CHECK(notice_watch_lock(w, &r, "ann", "192.0.2.1", "", 0, t, t,
		    &d) == 0);
	}
	CHECK(notice_watch_size(w) == 0);
	/* one off, the others on: only that one is silent */
	r.kinds = ALL_KINDS & ~(1u << NOTICE_STALE_PASSWORD);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(notice_watch_size(w) == 0);
	CHECK(fail(w, &r, GUESS, "ann", IP1, T0, &d) == 1);
	/* switched off mid-episode: dropped on its next attempt */
	r = rules();
	CHECK(fail(w, &r, STALE, "bob", IP1, T0, &d) == 0);
	CHECK(notice_watch_size(w) == 2);	/* and ann's guessing */
	r.kinds &= ~(1u << NOTICE_STALE_PASSWORD);
	CHECK(fail(w, &r, STALE, "bob", IP1, T0 + 3600, &d) == 0);
	CHECK(notice_watch_size(w) == 1);
	notice_watch_free(w);
}

TEST(nw_long_fields_never_due)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;
	char acct[300], ip[100];

	memset(acct, 'a', sizeof(acct));
	acct[256] = 0;				/* one more than the field */
	CHECK(fail(w, &r, GUESS, acct, IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, acct, IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, acct, IP1, T0 + 3600, &d) == 0);
	CHECK(notice_watch_lock(w, &r, acct, "192.0.2.1", "", 0, T0, T0,
	    &d) == 0);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, acct, T0) != NOTICE_GO);
	notice_watch_restore(w, NOTICE_LOCK, acct, T0);
	CHECK(notice_watch_size(w) == 0);
	acct[255] = 0;				/* exactly the field */
	CHECK(fail(w, &r, GUESS, acct, IP1, T0, &d) == 1);
	CHECK(strlen(d.account) == 255);
	memset(ip, '1', sizeof(ip));
	ip[64] = 0;
	CHECK(fail(w, &r, GUESS, "ann", ip, T0, &d) == 0);
	ip[63] = 0;
	CHECK(fail(w, &r, GUESS, "ann", ip, T0, &d) == 1);
	CHECK(notice_watch_attempt(w, &r, 0, CAUSE_PASSWORD_GUESSING, "ann",
	    "192.0.2.1", "REF01234567", T0, &d) == 0);
	CHECK(notice_watch_attempt(w, &r, 0, CAUSE_PASSWORD_GUESSING, "cat",
	    NULL, NULL, T0, &d) == 1);
	CHECK_STR(d.ip, "");
	CHECK_STR(d.ref, "");
	/* a pass from an address too long to be one still ends the
	 * account's app-password episode */
	CHECK(fail(w, &r, APPPW, "ann", IP1, T0, &d) == 0);
	CHECK(notice_watch_size(w) == 4);	/* and 3 guessing episodes */
	ip[63] = '1';				/* 64 bytes again */
	CHECK(notice_watch_attempt(w, &r, 1, CAUSE_NONE, "ann", ip, "", T0,
	    &d) == 0);
	/* the guessing episodes of the 255-byte name, ann and cat stay */
	CHECK(notice_watch_size(w) == 3);
	notice_watch_free(w);
}

TEST(nw_admit_interval_per_kind_account)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 1) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 86399) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "ann",
	    T0 + 1) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "bob",
	    T0 + 1) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 86400) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 86401) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_size(w) == 3);
	/* a refusal records nothing: the interval runs from the last GO */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 2 * 86400) == NOTICE_GO);
	notice_watch_free(w);
}

TEST(nw_admit_cap_sliding_hour)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	r.per_hour = 3;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a", T0) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b",
	    T0 + 100) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c",
	    T0 + 200) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d",
	    T0 + 300) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d",
	    T0 + 3599) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d",
	    T0 + 3600) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e",
	    T0 + 3601) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e",
	    T0 + 3700) == NOTICE_GO);
	/* the account limit is told before the cap */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e",
	    T0 + 3701) == NOTICE_LIMITED_ACCOUNT);
	/* per_hour 0: nothing goes */
	r.per_hour = 0;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "f",
	    T0 + 99999) == NOTICE_LIMITED_CAP);
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
		go += notice_watch_admit(w, &r, NOTICE_LOCK, acct,
		    T0 + i) == NOTICE_GO;
	}
	CHECK(go == 5);
	r.per_hour = 2;				/* smaller: nothing more */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b",
	    T0 + 30) == NOTICE_LIMITED_CAP);
	r.per_hour = 300;			/* larger: 295 more this hour */
	for (i = 0, go = 0; i < 400; i++) {
		snprintf(acct, sizeof(acct), "c%d", i);
		go += notice_watch_admit(w, &r, NOTICE_LOCK, acct,
		    T0 + 40) == NOTICE_GO;
	}
	CHECK(go == 295);
	r.per_hour = 1;				/* and smaller again,
	    an hour on */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d0",
	    T0 + 3640) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d1",
	    T0 + 3641) == NOTICE_LIMITED_CAP);
	notice_watch_free(w);
}

TEST(nw_restore_counts)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();

	notice_watch_restore(w, NOTICE_STALE_PASSWORD, "ann", T0);
	CHECK(notice_watch_admit(w, &r, NOTICE_STALE_PASSWORD, "ann",
	    T0 + 86399) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 10) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_STALE_PASSWORD, "ann",
	    T0 + 86400) == NOTICE_GO);
	/* an older line later does not move the time back */
	notice_watch_restore(w, NOTICE_GUESSING, "bob", T0 + 500);
	notice_watch_restore(w, NOTICE_GUESSING, "bob", T0);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "bob",
	    T0 + 86899) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_GUESSING, "bob",
	    T0 + 86900) == NOTICE_GO);
	notice_watch_free(w);

	/* restored sends take places in the cap, before any admit */
	w = notice_watch_new(test_key, 16, 100);
	r.per_hour = 2;
	notice_watch_restore(w, NOTICE_LOCK, "a", T0 - 3599);
	notice_watch_restore(w, NOTICE_LOCK, "b", T0 - 10);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c",
	    T0) == NOTICE_LIMITED_CAP);
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
		CHECK(notice_watch_lock(w, &r, acct, "203.0.113.7",
		    "REF0123456",
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
		fail(w, &r, STALE, acct, IP1, T0 + (uint32_t)i, &d);
		fail(w, &r, APPPW, acct, IP1, T0 + (uint32_t)i, &d);
		if (i % 7 == 0)
			notice_watch_admit(w, &r, NOTICE_GUESSING, acct,
			    T0 + (uint32_t)i);
		if (notice_watch_size(w) > most)
			most = notice_watch_size(w);
	}
	CHECK(most == 1000);
	/* the newest are kept: the last account's episode is there */
	CHECK(fail(w, &r, STALE, "u99999", IP1,
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
	CHECK(fail(w, &r, STALE, "e1", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "e2", IP1, T0 + 1, &d) == 0);
	CHECK(fail(w, &r, STALE, "e3", IP1, T0 + 2, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(fail(w, &r, STALE, "e2", IP1, T0 + 3601, &d) == 1);
	CHECK(fail(w, &r, STALE, "e1", IP1, T0 + 3601, &d) == 0);
	/* a send takes an episode, never a send within interval */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s3",
	    T0 + 3602) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s4",
	    T0 + 3603) == NOTICE_GO);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s5",
	    T0 + 3604) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s1",
	    T0 + 3605) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s2",
	    T0 + 3605) == NOTICE_LIMITED_ACCOUNT);
	/* full of live sends: a new episode is not tracked */
	CHECK(fail(w, &r, STALE, "e9", IP1, T0 + 3606, &d) == 0);
	CHECK(fail(w, &r, STALE, "e9", IP1, T0 + 7206, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	/* once s1 and s2 are a day old, they give way */
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s5",
	    T0 + 86400) == NOTICE_GO);
	CHECK(fail(w, &r, STALE, "e9", IP1, T0 + 86400, &d) == 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "s3",
	    T0 + 86401) == NOTICE_LIMITED_ACCOUNT);
	notice_watch_free(w);
}

TEST(nw_clock_backwards)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	/* now before first: no underflow into a huge age */
	CHECK(fail(w, &r, STALE, "ann", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 - 5000, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, 0, &d) == 0);
	/* the episode went on: last did not move back */
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3599, &d) == 0);
	CHECK(fail(w, &r, STALE, "ann", IP1, T0 + 3600, &d) == 1);
	CHECK(d.first == T0 && d.last == T0 + 3600);
	/* a step back frees no place in the cap, nor an account's interval */
	r.per_hour = 2;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a",
	    T0 + 10000) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "b",
	    T0 + 10000) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c",
	    T0) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c",
	    0) == NOTICE_LIMITED_CAP);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "a",
	    5) == NOTICE_LIMITED_ACCOUNT);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "c",
	    T0 + 13600) == NOTICE_GO);
	/* a sweep in the past keeps what is newer than it */
	notice_watch_sweep(w, &r, 0);
	CHECK(notice_watch_size(w) == 4);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "d",
	    T0 + 13601) == NOTICE_GO);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "e",
	    T0 + 13602) == NOTICE_LIMITED_CAP);
	/* app-password: a step back is no gap */
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0, &d) == 0);
	CHECK(fail(w, &r, APPPW, "bob", IP1, 1, &d) == 0);
	CHECK(fail(w, &r, APPPW, "bob", IP1, T0 + 1, &d) == 1);
	CHECK(d.count == 3);
	notice_watch_free(w);
}

TEST(nw_sweep_drops_spent)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	fail(w, &r, STALE, "ann", IP1, T0, &d);
	fail(w, &r, APPPW, "ann", IP1, T0, &d);
	fail(w, &r, STALE, "bob", IP1, T0 + 3000, &d);
	notice_watch_admit(w, &r, NOTICE_LOCK, "ann", T0);
	CHECK(notice_watch_size(w) == 4);
	notice_watch_sweep(w, &r, T0 + 3600);		/* nothing spent yet */
	CHECK(notice_watch_size(w) == 4);
	notice_watch_sweep(w, &r, T0 + 3601);		/* ann's episodes */
	CHECK(notice_watch_size(w) == 2);
	r.kinds &= ~(1u << NOTICE_STALE_PASSWORD);	/* switched off */
	notice_watch_sweep(w, &r, T0 + 3601);
	CHECK(notice_watch_size(w) == 1);
	notice_watch_sweep(w, &r, T0 + 86399);
	CHECK(notice_watch_size(w) == 1);
	notice_watch_sweep(w, &r, T0 + 86400);
	CHECK(notice_watch_size(w) == 0);
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "ann",
	    T0 + 86400) == NOTICE_GO);
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
		CHECK(fail(w[i], &r, STALE, "ann", IP1, T0, &d) == 0);
		CHECK(fail(w[i], &r, STALE, "ann", IP1, T0 + 3600, &d) == 1);
		CHECK(notice_watch_admit(w[i], &r, NOTICE_LOCK, "ann",
		    T0) == NOTICE_GO);
		CHECK(notice_watch_admit(w[i], &r, NOTICE_LOCK, "ann",
		    T0) == NOTICE_LIMITED_ACCOUNT);
		CHECK(notice_watch_size(w[i]) == 2);
		notice_watch_free(w[i]);
	}
	notice_watch_free(NULL);
}

/*
 * The stateful test. A schedule is a seeded sequence of steps on a
 * virtual clock that only runs forward (a step of 0 to 7,200 s, mostly
 * short): failed attempts with a few causes, passes, locks, admits,
 * restores, sweeps and rules changes, among a few accounts and
 * addresses. With room for everything the watch is compared, at every
 * step, with a model made of arrays (the rules as the header states
 * them); with a small max_entries only the invariants are checked.
 */
#define SM_ACCTS	4
#define SM_IPS		3
#define SM_TIMES	8192
#define SM_WINDOW	3600

struct sm_episode {
	int		 on, told;
	uint32_t	 first, last;
	unsigned	 count;
};

/* The model: what the header says the watch does, without eviction. */
struct sm_model {
	struct sm_episode stale[SM_ACCTS][SM_IPS], app[SM_ACCTS];
	struct sm_episode guess[SM_ACCTS];
	int		 sent_on[NOTICE_KINDS][SM_ACCTS];
	uint32_t	 sent[NOTICE_KINDS][SM_ACCTS];
	uint32_t	 times[SM_TIMES];	/* sends in the window */
	size_t		 ntimes;
};

/* The invariants' own records, apart from the model. */
struct sm_inv {
	uint32_t	 go[SM_TIMES];		/* GOs of the last hour */
	size_t		 ngo;
	int		 seen[NOTICE_KINDS][SM_ACCTS];
	uint32_t	 last_go[NOTICE_KINDS][SM_ACCTS];
	uint32_t	 minint[NOTICE_KINDS][SM_ACCTS];
	int		 chain_on[SM_ACCTS][SM_IPS];
	uint32_t	 chain_start[SM_ACCTS][SM_IPS],
	    chain_last[SM_ACCTS][SM_IPS];
};

struct sm_run {
	struct notice_watch *w;
	struct notice_rules r;
	struct sm_model	 m;
	struct sm_inv	 inv;
	uint64_t	 seed, rng;
	uint32_t	 now;
	size_t		 max;
	int		 modelled, failed;
	unsigned	 dues, gos;
};

static const char *const sm_acct[SM_ACCTS] = {"ann", "bob@example.org", "cy",
    "dee"};
static const char *const sm_ip[SM_IPS] = {"192.0.2.1", "2001:db8::7",
    "198.51.100.9"};

/* sm_rand - splitmix64 */
static uint32_t
sm_rand(struct sm_run *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 11);
}

/* sm_el - elapsed, as the header defines it */
static uint32_t
sm_el(uint32_t now, uint32_t t)
{
	return now > t ? now - t : 0;
}

/* sm_check - one invariant or comparison; the first failure is told */
static void
sm_check(struct sm_run *s, int ok, const char *what)
{
	static int told;

	if (ok || s->failed)
		return;
	if (!told++)
		printf("# schedule %llu, at %u: %s\n",
		    (unsigned long long)s->seed, s->now, what);
	s->failed = 1;
}

/* sm_rules - random rules */
static void
sm_rules(struct sm_run *s)
{
	static const uint32_t stale[] = {0, 60, 600, 3600};
	static const unsigned repeat[] = {0, 1, 2, 3, 5};
	static const uint32_t interval[] = {0, 60, 3600, 86400};
	static const unsigned per_hour[] = {0, 1, 2, 3, 5, 100};
	int k, a;

	s->r.kinds = sm_rand(s) % 2 ? ALL_KINDS : sm_rand(s) % 16;
	s->r.stale_after = stale[sm_rand(s) % 4];
	s->r.repeat = repeat[sm_rand(s) % 5];
	s->r.interval = interval[sm_rand(s) % 4];
	s->r.per_hour = per_hour[sm_rand(s) % 6];
	for (k = 0; k < NOTICE_KINDS; k++)
		for (a = 0; a < SM_ACCTS; a++)
			if (s->r.interval < s->inv.minint[k][a])
				s->inv.minint[k][a] = s->r.interval;
}

/* sm_on - the model's kind switch */
static int
sm_on(const struct sm_run *s, enum notice_kind k)
{
	return (s->r.kinds & (1u << k)) != 0;
}

/* sm_step_episode - the model's episode after one attempt */
static void
sm_step_episode(struct sm_episode *e, uint32_t stale_after, uint32_t now)
{
	if (!e->on || sm_el(now, e->last) > stale_after) {
		e->first = now;
		e->count = 0;
		e->told = 0;
		if (!e->on)
			e->last = now;
		e->on = 1;
	}
	if (now > e->last)
		e->last = now;
	e->count++;
}

/* sm_model_attempt - the model's answer to a failed attempt */
static int
sm_model_attempt(struct sm_run *s, enum cause c, int a, int i,
    struct notice_due *d)
{
	struct sm_episode *e;
	unsigned need = s->r.repeat ? s->r.repeat : 1;

	memset(d, 0, sizeof(*d));
	switch (c) {
	case CAUSE_STALE_PASSWORD:
		e = &s->m.stale[a][i];
		if (!sm_on(s, NOTICE_STALE_PASSWORD))
			return e->on = 0;
		sm_step_episode(e, s->r.stale_after, s->now);
		if (e->told || sm_el(s->now, e->first) < s->r.stale_after)
			return 0;
		d->kind = NOTICE_STALE_PASSWORD;
		break;
	case CAUSE_APP_PASSWORD_REQUIRED:
		e = &s->m.app[a];
		if (!sm_on(s, NOTICE_APP_PASSWORD))
			return e->on = 0;
		sm_step_episode(e, s->r.stale_after, s->now);
		if (e->told || e->count < need)
			return 0;
		d->kind = NOTICE_APP_PASSWORD;
		break;
	case CAUSE_PASSWORD_GUESSING:
		e = &s->m.guess[a];
		if (!sm_on(s, NOTICE_GUESSING))
			return e->on = 0;
		sm_step_episode(e, s->r.stale_after, s->now);
		if (e->told)
			return 0;
		d->kind = NOTICE_GUESSING;
		break;
	default:
		return 0;
	}
	e->told = 1;
	d->first = e->first;
	d->last = e->last;
	d->count = e->count;
	return 1;
}

/* sm_model_prune - the model forgets sends out of the window */
static void
sm_model_prune(struct sm_model *m, uint32_t now)
{
	size_t i, n = 0;

	for (i = 0; i < m->ntimes; i++)
		if (sm_el(now, m->times[i]) < SM_WINDOW)
			m->times[n++] = m->times[i];
	m->ntimes = n;
}

/* sm_model_record - the model records a send */
static void
sm_model_record(struct sm_run *s, int k, int a, uint32_t t)
{
	if (!s->m.sent_on[k][a] || t > s->m.sent[k][a])
		s->m.sent[k][a] = t;
	s->m.sent_on[k][a] = 1;
	sm_model_prune(&s->m, s->now);
	if (s->m.ntimes < SM_TIMES)
		s->m.times[s->m.ntimes++] = t;
}

/* sm_model_admit - the model's admit */
static enum notice_admit
sm_model_admit(struct sm_run *s, int k, int a)
{
	if (s->m.sent_on[k][a] &&
	    sm_el(s->now, s->m.sent[k][a]) < s->r.interval)
		return NOTICE_LIMITED_ACCOUNT;
	sm_model_prune(&s->m, s->now);
	if (s->m.ntimes >= s->r.per_hour)
		return NOTICE_LIMITED_CAP;
	sm_model_record(s, k, a, s->now);
	return NOTICE_GO;
}

/* sm_model_sweep - the model drops what can no longer matter */
static void
sm_model_sweep(struct sm_run *s)
{
	int a, i, k;

	for (a = 0; a < SM_ACCTS; a++) {
		for (i = 0; i < SM_IPS; i++)
			if (!sm_on(s, NOTICE_STALE_PASSWORD) ||
			    sm_el(s->now,
			    s->m.stale[a][i].last) > s->r.stale_after)
				s->m.stale[a][i].on = 0;
		if (!sm_on(s, NOTICE_APP_PASSWORD) ||
		    sm_el(s->now, s->m.app[a].last) > s->r.stale_after)
			s->m.app[a].on = 0;
		if (!sm_on(s, NOTICE_GUESSING) ||
		    sm_el(s->now, s->m.guess[a].last) > s->r.stale_after)
			s->m.guess[a].on = 0;
		for (k = 0; k < NOTICE_KINDS; k++)
			if (sm_el(s->now, s->m.sent[k][a]) >= s->r.interval)
				s->m.sent_on[k][a] = 0;
	}
	sm_model_prune(&s->m, s->now);
}

/* sm_model_size - the model's entries */
static size_t
sm_model_size(const struct sm_model *m)
{
	size_t n = 0;
	int a, i, k;

	for (a = 0; a < SM_ACCTS; a++) {
		for (i = 0; i < SM_IPS; i++)
			n += m->stale[a][i].on != 0;
		n += m->app[a].on != 0;
		n += m->guess[a].on != 0;
		for (k = 0; k < NOTICE_KINDS; k++)
			n += m->sent_on[k][a] != 0;
	}
	return n;
}

/* sm_inv_go - a GO: the cap and the interval hold */
static void
sm_inv_go(struct sm_run *s, int k, int a)
{
	size_t i, n = 0;

	for (i = 0; i < s->inv.ngo; i++)
		if (s->now - s->inv.go[i] < SM_WINDOW)
			s->inv.go[n++] = s->inv.go[i];
	s->inv.ngo = n;
	if (s->inv.ngo < SM_TIMES)
		s->inv.go[s->inv.ngo++] = s->now;
	sm_check(s, s->inv.ngo <= s->r.per_hour,
	    "more than per_hour GOs within 3,600 s");
	sm_check(s, !s->inv.seen[k][a] ||
	    s->now - s->inv.last_go[k][a] >= s->inv.minint[k][a],
	    "two GOs of one (kind, account) closer than interval");
	s->inv.seen[k][a] = 1;
	s->inv.last_go[k][a] = s->now;
	s->inv.minint[k][a] = s->r.interval;
	s->gos++;
}

/* sm_inv_restore - a restored send counts as one, for the interval */
static void
sm_inv_restore(struct sm_run *s, int k, int a, uint32_t t)
{
	if (s->inv.seen[k][a] && t < s->inv.last_go[k][a])
		return;
	s->inv.seen[k][a] = 1;
	s->inv.last_go[k][a] = t;
	s->inv.minint[k][a] = s->r.interval;
}

/* sm_admit - admit a notice, compared and checked */
static void
sm_admit(struct sm_run *s, int k, int a)
{
	enum notice_admit got = notice_watch_admit(s->w, &s->r, k,
	    sm_acct[a], s->now), want;

	if (s->modelled) {
		want = sm_model_admit(s, k, a);
		sm_check(s, got == want, "admit differs from the model");
	}
	if (got == NOTICE_GO)
		sm_inv_go(s, k, a);
}

/* sm_due_same - the watch's due is the model's */
static int
sm_due_same(const struct notice_due *got, const struct notice_due *want,
    int a, int i)
{
	return got->kind == want->kind && got->first == want->first &&
	    got->last == want->last && got->count == want->count &&
	    got->until == want->until && strcmp(got->account,
	    sm_acct[a]) == 0 &&
	    strcmp(got->ip, sm_ip[i]) == 0 && strcmp(got->ref,
	    "REF0123456") == 0;
}

/* sm_attempt - a failed attempt, compared and checked; admits what is due */
static void
sm_attempt(struct sm_run *s)
{
	static const enum cause causes[] = {
		CAUSE_STALE_PASSWORD, CAUSE_STALE_PASSWORD,
		CAUSE_STALE_PASSWORD, CAUSE_APP_PASSWORD_REQUIRED,
		CAUSE_APP_PASSWORD_REQUIRED, CAUSE_PASSWORD_GUESSING,
		CAUSE_BAD_PASSWORD, CAUSE_NONE,
	};
	enum cause c = causes[sm_rand(s) % 8];
	int a = (int)(sm_rand(s) % SM_ACCTS), i = (int)(sm_rand(s) % SM_IPS);
	struct notice_due got, want;
	int due, mdue;

	if (c == CAUSE_STALE_PASSWORD) {
		if (!s->inv.chain_on[a][i] ||
		    s->now - s->inv.chain_last[a][i] > s->r.stale_after)
			s->inv.chain_start[a][i] = s->now;
		s->inv.chain_on[a][i] = 1;
		s->inv.chain_last[a][i] = s->now;
	}
	due = fail(s->w, &s->r, c, sm_acct[a], sm_ip[i], s->now, &got);
	if (s->modelled) {
		mdue = sm_model_attempt(s, c, a, i, &want);
		sm_check(s, due == mdue, "due differs from the model");
		sm_check(s, !due || sm_due_same(&got, &want, a, i),
		    "due's facts differ from the model");
	}
	if (!due)
		return;
	s->dues++;
	sm_check(s, got.kind != NOTICE_STALE_PASSWORD ||
	    (s->inv.chain_on[a][i] &&
	    s->now - s->inv.chain_start[a][i] >= s->r.stale_after &&
	    got.first >= s->inv.chain_start[a][i]),
	    "stale notice before stale_after of one episode");
	if (sm_rand(s) % 5)
		sm_admit(s, got.kind, a);
}

/* sm_pass - a successful login */
static void
sm_pass(struct sm_run *s)
{
	int a = (int)(sm_rand(s) % SM_ACCTS), i = (int)(sm_rand(s) % SM_IPS);

	pass(s->w, &s->r, sm_acct[a], sm_ip[i], s->now);
	s->m.stale[a][i].on = 0;
	s->m.app[a].on = 0;
	s->inv.chain_on[a][i] = 0;
}

/* sm_lock - an account locked, familiar or not */
static void
sm_lock(struct sm_run *s)
{
	int a = (int)(sm_rand(s) % SM_ACCTS), i = (int)(sm_rand(s) % SM_IPS);
	int familiar = sm_rand(s) % 2, due;
	struct notice_due d;

	due = notice_watch_lock(s->w, &s->r, sm_acct[a], sm_ip[i],
	    "REF0123456", familiar, s->now + 900, s->now, &d);
	sm_check(s, due == (!familiar && sm_on(s, NOTICE_LOCK)),
	    "lock due differs from the rules");
	sm_check(s, !due || (d.kind == NOTICE_LOCK && d.until == s->now + 900 &&
	    d.first == s->now && strcmp(d.account, sm_acct[a]) == 0),
	    "lock due's facts");
	if (due && sm_rand(s) % 5)
		sm_admit(s, NOTICE_LOCK, a);
}

/* sm_restore - a send from the journal, up to two hours old */
static void
sm_restore(struct sm_run *s)
{
	int k = (int)(sm_rand(s) % NOTICE_KINDS),
	    a = (int)(sm_rand(s) % SM_ACCTS);
	uint32_t back = sm_rand(s) % 7200,
	    t = s->now > back ? s->now - back : 0;

	notice_watch_restore(s->w, k, sm_acct[a], t);
	if (s->modelled)
		sm_model_record(s, k, a, t);
	sm_inv_restore(s, k, a, t);
}

/* sm_one - one random step, then the clock and the checks */
static void
sm_one(struct sm_run *s)
{
	uint32_t r = sm_rand(s) % 100;

	if (r < 50)
		sm_attempt(s);
	else if (r < 60)
		sm_pass(s);
	else if (r < 70)
		sm_lock(s);
	else if (r < 75)
		sm_admit(s, (int)(sm_rand(s) % NOTICE_KINDS),
		    (int)(sm_rand(s) % SM_ACCTS));
	else if (r < 78 && s->modelled)
		sm_restore(s);
	else if (r < 83) {
		notice_watch_sweep(s->w, &s->r, s->now);
		if (s->modelled)
			sm_model_sweep(s);
	} else if (r < 86)
		sm_rules(s);
	s->now += sm_rand(s) % 8 == 0 ? sm_rand(s) % 7201 : sm_rand(s) % 120;
	sm_check(s, notice_watch_size(s->w) <= s->max, "size over max_entries");
	if (s->modelled)
		sm_check(s, notice_watch_size(s->w) == sm_model_size(&s->m),
		    "size differs from the model");
}

/* sm_schedule - one schedule of steps; 0 when every check held */
static int
sm_schedule(uint64_t seed, size_t max, int modelled, int steps,
    unsigned *dues, unsigned *gos)
{
	static struct sm_run s;
	int n, k, a;

	memset(&s, 0, sizeof(s));
	s.seed = s.rng = seed;
	s.now = T0 + sm_rand(&s) % 100000;
	s.max = max;
	s.modelled = modelled;
	s.w = notice_watch_new(test_key, 16, max);
	for (k = 0; k < NOTICE_KINDS; k++)
		for (a = 0; a < SM_ACCTS; a++)
			s.inv.minint[k][a] = UINT32_MAX;
	sm_rules(&s);
	/* at start, as the daemon does: a few sends from the journal */
	for (n = (int)(sm_rand(&s) % 4); n > 0 && (size_t)n <= max; n--)
		sm_restore(&s);
	for (n = 0; n < steps && !s.failed; n++)
		sm_one(&s);
	notice_watch_free(s.w);
	*dues += s.dues;
	*gos += s.gos;
	return s.failed;
}

TEST(nw_stateful_model)
{
	unsigned dues = 0, gos = 0;
	uint64_t seed;
	int bad = 0;

	for (seed = 1; seed <= 200; seed++)
		bad += sm_schedule(seed, 1000, 1, 2000, &dues, &gos);
	CHECK(bad == 0);
	/* the schedules reach what they are meant to test */
	CHECK(dues > 10000 && gos > 5000);
}

TEST(nw_stateful_small_table)
{
	static const size_t max[] = {1, 2, 3, 5, 8};
	unsigned dues = 0, gos = 0;
	uint64_t seed;
	int bad = 0;

	for (seed = 1; seed <= 100; seed++)
		bad += sm_schedule(seed * 7919, max[seed % 5], 0, 2000, &dues,
		    &gos);
	CHECK(bad == 0);
	CHECK(dues > 5000 && gos > 2000);
}

/* A due notice the cap held is due again at its episode's next attempt. */
TEST(nw_untell_after_the_cap)
{
	struct notice_watch *w = notice_watch_new(test_key, 16, 100);
	struct notice_rules r = rules();
	struct notice_due d;

	r.per_hour = 1;
	CHECK(notice_watch_admit(w, &r, NOTICE_LOCK, "bob", T0) == NOTICE_GO);
	CHECK(fail(w, &r, GUESS, "ann", IP1, T0 + 1, &d) == 1);
	CHECK(notice_watch_admit(w, &r, d.kind, d.account,
	    T0 + 1) == NOTICE_LIMITED_CAP);
	CHECK(fail(w, &r, GUESS, "ann", IP1, T0 + 2, &d) == 0);	/* told */
	notice_watch_untell(w, &d);
	CHECK(fail(w, &r, GUESS, "ann", IP1, T0 + 3600, &d) == 1);
	CHECK(d.first == T0 + 1);		/* the same episode */
	CHECK(notice_watch_admit(w, &r, d.kind, d.account,
	    T0 + 3600) == NOTICE_GO);
	CHECK(fail(w, &r, GUESS, "ann", IP1, T0 + 3601, &d) == 0);
	notice_watch_free(w);
}
