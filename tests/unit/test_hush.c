/*++
/* NAME
/*	test_hush 1
/* SUMMARY
/*	unit tests: a warning at most once per interval, the others counted
/* DESCRIPTION
/*	hush 3 lets the first warning pass, counts and refuses the others
/*	of the interval, and lets the first after it pass with their
/*	count, which starts again. These tests hold the edges: the last
/*	millisecond of the interval and its end, a first warning at time
/*	0, a clock set back, an interval of 0, and a count that cannot
/*	wrap.
/*--*/
#include <limits.h>

#include "hush.h"
#include "unit.h"

#define EVERY	60000
#define T0	1000000000LL

TEST(hush_first_passes_the_others_counted)
{
	struct hush h = {0};

	CHECK(hush_pass(&h, T0, EVERY) == 0);
	CHECK(hush_pass(&h, T0, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + EVERY - 1, EVERY) == -1);
	CHECK(h.quiet == 3 && h.last == T0);
}

TEST(hush_after_the_interval_with_the_count)
{
	struct hush h = {0};

	CHECK(hush_pass(&h, T0, EVERY) == 0);
	CHECK(hush_pass(&h, T0 + 10, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 20, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + EVERY, EVERY) == 2);	/* its end: passes */
	/* the count starts again, and the interval from the one logged */
	CHECK(h.quiet == 0 && h.last == T0 + EVERY);
	CHECK(hush_pass(&h, T0 + EVERY + 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 2 * EVERY - 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 2 * EVERY, EVERY) == 2);
	CHECK(hush_pass(&h, T0 + 5 * EVERY, EVERY) == 0);	/* none since */
}

TEST(hush_at_time_zero)
{
	struct hush h = {0};

	/* 0 is a time like another, not "never" */
	CHECK(hush_pass(&h, 0, EVERY) == 0);
	CHECK(hush_pass(&h, 0, EVERY) == -1);
	CHECK(hush_pass(&h, 1, EVERY) == -1);
	CHECK(hush_pass(&h, EVERY - 1, EVERY) == -1);
	CHECK(hush_pass(&h, EVERY, EVERY) == 3);
}

TEST(hush_clock_set_back)
{
	struct hush h = {0};

	CHECK(hush_pass(&h, T0, EVERY) == 0);
	CHECK(hush_pass(&h, T0 + 5, EVERY) == -1);
	/* a day back: not an interval a day long */
	CHECK(hush_pass(&h, T0 - 86400000LL, EVERY) == 1);
	CHECK(h.last == T0 - 86400000LL);
	CHECK(hush_pass(&h, T0 - 86400000LL + 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 - 86400000LL + EVERY, EVERY) == 1);
}

TEST(hush_every_zero_always_passes)
{
	struct hush h = {0};

	CHECK(hush_pass(&h, T0, EVERY) == 0);
	CHECK(hush_pass(&h, T0 + 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 1, EVERY) == -1);
	/* a window's end takes the count and opens the next window */
	CHECK(hush_pass(&h, T0 + 2, 0) == 2);
	CHECK(hush_pass(&h, T0 + 2, 0) == 0);
	CHECK(hush_pass(&h, T0 + 3, EVERY) == -1);
}

TEST(hush_count_does_not_wrap)
{
	struct hush h = {0};

	CHECK(hush_pass(&h, T0, EVERY) == 0);
	h.quiet = LONG_MAX - 1;
	CHECK(hush_pass(&h, T0 + 1, EVERY) == -1);
	CHECK(hush_pass(&h, T0 + 2, EVERY) == -1);
	CHECK(h.quiet == (unsigned long)LONG_MAX);
	CHECK(hush_pass(&h, T0 + EVERY, EVERY) == LONG_MAX);
}
