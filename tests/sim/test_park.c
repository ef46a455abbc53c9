/*++
/* NAME
/*	test_park 1
/* SUMMARY
/*	the queues of requests waiting at the limits
/* DESCRIPTION
/*	park 3 on its own: waiters with an account and an address key,
/*	a callback that records the order in which they try again, and
/*	what the callback may do meanwhile (leave, wake again). Without
/*	a shared state no poll runs, so nothing here needs the loop.
/*--*/
#include <stddef.h>
#include <string.h>

#include "park.h"
#include "unit.h"

#define NWAIT	6

static struct park_waiter waiters[NWAIT];
static int tried[4 * NWAIT], ntried, depth, deepest;
static void (*on_try)(int);	/* what a try does besides being counted */

/* idx - which waiter */
static int
idx(const struct park_waiter *w)
{
	return (int)(w - waiters);
}

/* try - record the try, then act as the test says */
static void
try(struct park_waiter *w)
{
	if (++depth > deepest)
		deepest = depth;
	tried[ntried++] = idx(w);
	if (on_try)
		on_try(idx(w));
	depth--;
}

/* setup - waiter i waits for accounts[i] and addrs[i] ("" none) */
static void
setup(const char *const *accounts, const char *const *addrs, int n)
{
	int i;

	park_init(try);
	ntried = depth = deepest = 0;
	on_try = NULL;
	for (i = 0; i < n; i++)
		park_enter(&waiters[i], accounts[i], addrs[i]);
}

/* teardown - nobody waits any more */
static void
teardown(int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (waiters[i].q[PARK_ALL])
			park_leave(&waiters[i]);
}

/* tried_is - the waiters tried, in order */
static int
tried_is(const int *want, int n)
{
	return ntried == n && memcmp(tried, want, n * sizeof(*want)) == 0;
}

static const char *const acct[] = {"a", "b", "a", "c", "", "b"};
static const char *const addr[] = {"p1", "p2", "p2", "p1", "p2", ""};

TEST(park_wakes_its_keys_in_arrival_order)
{
	static const int want[] = {0, 1, 2, 4};	/* a or p2, each once */

	setup(acct, addr, NWAIT);
	park_wake("a", "p2");
	CHECK(tried_is(want, 4));
	teardown(NWAIT);
}

TEST(park_wakes_nobody_for_unknown_or_empty_keys)
{
	setup(acct, addr, NWAIT);
	park_wake("z", "");
	park_wake("", "p9");
	park_wake(NULL, NULL);
	CHECK(ntried == 0);
	teardown(NWAIT);
}

TEST(park_wake_all_in_arrival_order)
{
	static const int want[] = {0, 1, 2, 3, 4, 5};

	setup(acct, addr, NWAIT);
	park_wake_all();
	CHECK(tried_is(want, NWAIT));
	teardown(NWAIT);
}

/* leave_self_and_next - the try ends this waiter and the next one */
static void
leave_self_and_next(int i)
{
	park_leave(&waiters[i]);
	if (i + 1 < NWAIT && waiters[i + 1].q[PARK_ALL])
		park_leave(&waiters[i + 1]);
}

TEST(park_walk_survives_waiters_that_leave)
{
	static const int want[] = {0, 2, 4};	/* 1 left with 0, 3 with 2 */

	setup(acct, addr, NWAIT);
	on_try = leave_self_and_next;
	park_wake_all();
	CHECK(tried_is(want, 3));
	CHECK(waiters[5].q[PARK_ALL] == NULL);	/* left with 4 */
	park_wake("a", "p1");			/* queues emptied are gone */
	CHECK(ntried == 3);
	teardown(NWAIT);
}

/* wake_c_at_0 - waiter 0's try wakes account c (waiter 3) */
static void
wake_c_at_0(int i)
{
	if (i == 0)
		park_wake("c", "");
}

TEST(park_wake_during_a_walk_joins_it)
{
	static const int want[] = {0, 2, 3};	/* 3 joins, in its order */

	setup(acct, addr, NWAIT);
	on_try = wake_c_at_0;
	park_wake("a", "");
	CHECK(tried_is(want, 3));
	CHECK(deepest == 1);			/* no try inside a try */
	teardown(NWAIT);
}

/* end_at_2 - waiter 2 goes, and its end wakes its keys once */
static void
end_at_2(int i)
{
	if (i != 2)
		return;
	park_leave(&waiters[2]);
	park_wake("a", "p2");
}

TEST(park_wake_of_a_walked_queue_starts_it_over)
{
	/* a: 0, 2; p2: 1, 2, 4. After 2 ends: a from 0, p2 from 1. */
	static const int want[] = {0, 1, 2, 0, 1, 4};

	setup(acct, addr, NWAIT);
	on_try = end_at_2;
	park_wake("a", "p2");
	CHECK(tried_is(want, 6));
	CHECK(deepest == 1);
	teardown(NWAIT);
}

TEST(park_reenter_waits_last)
{
	static const int want[] = {2, 0};

	setup(acct, addr, 3);
	park_leave(&waiters[0]);
	park_enter(&waiters[0], "a", "p1");	/* behind 2 now */
	park_wake("a", "");
	CHECK(tried_is(want, 2));
	teardown(3);
}

static int other_tries;

/* other_try - a waiter of another owner (its own wake function) */
static void
other_try(struct park_waiter *w)
{
	other_tries++;
	tried[ntried++] = 100 + idx(w);
}

TEST(park_waiters_of_two_owners_share_the_queues)
{
	static const int want[] = {0, 101, 2};	/* account a, in order */
	static const char *const ac[] = {"a", "a", "a"};
	static const char *const ad[] = {"p1", "p2", "p3"};

	park_init(try);
	ntried = depth = deepest = other_tries = 0;
	on_try = NULL;
	park_enter(&waiters[0], ac[0], ad[0]);
	waiters[1].wake = other_try;
	park_enter(&waiters[1], ac[1], ad[1]);
	park_enter(&waiters[2], ac[2], ad[2]);
	park_wake("a", NULL);
	CHECK(tried_is(want, 3));
	CHECK(other_tries == 1);
	ntried = 0;
	park_wake(NULL, "p2");		/* the other owner's alone */
	CHECK(ntried == 1 && tried[0] == 101 && other_tries == 2);
	teardown(3);
	waiters[1].wake = NULL;
}
