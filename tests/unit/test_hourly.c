/*++
/* NAME
/*	test_hourly 1
/* SUMMARY
/*	unit tests: the overview's failures per cause per hour
/* DESCRIPTION
/*	hourly 3 puts failures into 24 buckets of whole UTC hours, the
/*	last one the hour of now. These tests hold the edges: the first
/*	second of the oldest bucket, the last second before it, the
/*	current partial hour, a time after now's hour, a cause outside
/*	the catalogue, and a clock near the epoch.
/*--*/
#include <stdint.h>
#include <string.h>

#include "cause.h"
#include "hourly.h"
#include "unit.h"

/* 2026-12-02T14:37:05Z */
#define NOW	1796222225u
#define HOUR	1796220000u	/* 2026-12-02T14:00:00Z */

TEST(hourly_buckets_are_whole_hours_oldest_first)
{
	struct hourly h;
	uint32_t first = HOUR - 23 * 3600;

	hourly_init(&h, NOW);
	CHECK(h.start == first);
	CHECK(hourly_hour(&h, 0) == first);
	CHECK(hourly_hour(&h, 23) == HOUR);
	CHECK(hourly_bucket(&h, NOW) == 23);		/* the partial hour */
	CHECK(hourly_bucket(&h, HOUR) == 23);
	CHECK(hourly_bucket(&h, HOUR - 1) == 22);
	CHECK(hourly_bucket(&h, first) == 0);
	CHECK(hourly_bucket(&h, first - 1) == -1);	/* before the day */
	CHECK(hourly_bucket(&h, HOUR + 3599) == 23);
	CHECK(hourly_bucket(&h, HOUR + 3600) == -1);	/* a clock ahead */
}

TEST(hourly_add_counts_per_cause)
{
	struct hourly h;
	int i, c, total = 0;

	hourly_init(&h, NOW);
	CHECK(hourly_add(&h, NOW - 10, CAUSE_BAD_PASSWORD) == 0);
	CHECK(hourly_add(&h, NOW - 20, CAUSE_BAD_PASSWORD) == 0);
	CHECK(hourly_add(&h, HOUR - 1, CAUSE_UNKNOWN_USER) == 0);
	CHECK(hourly_add(&h, HOUR - 23 * 3600, CAUSE_STALE_PASSWORD) == 0);
	CHECK(hourly_add(&h, HOUR - 23 * 3600 - 1, CAUSE_BAD_PASSWORD) == -1);
	CHECK(hourly_add(&h, NOW, CAUSE_COUNT) == -1);
	CHECK(hourly_add(&h, NOW, 255) == -1);
	CHECK(h.n[23][CAUSE_BAD_PASSWORD] == 2);
	CHECK(h.n[22][CAUSE_UNKNOWN_USER] == 1);
	CHECK(h.n[0][CAUSE_STALE_PASSWORD] == 1);
	for (i = 0; i < HOURLY_HOURS; i++)
		for (c = 0; c < CAUSE_COUNT; c++)
			total += (int)h.n[i][c];
	CHECK(total == 4);
	hourly_init(&h, NOW);				/* empties */
	CHECK(h.n[23][CAUSE_BAD_PASSWORD] == 0);
}

TEST(hourly_near_the_epoch)
{
	struct hourly h;

	hourly_init(&h, 7200 + 5);			/* 02:00:05 on day one */
	CHECK(h.start == 0);
	CHECK(hourly_bucket(&h, 0) == 0);
	CHECK(hourly_bucket(&h, 7205) == 2);
	CHECK(hourly_add(&h, 3600, CAUSE_BAD_PASSWORD) == 0 &&
	    h.n[1][CAUSE_BAD_PASSWORD] == 1);
}
