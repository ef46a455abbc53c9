/*++
/* NAME
/*	hourly 3
/* SUMMARY
/*	failures per cause in hourly buckets, for the overview
/* DESCRIPTION
/*	HOURLY_HOURS buckets of whole UTC hours, oldest first; the last
/*	is the hour that holds now, partial. hourly_init() empties them
/*	for the time now (unix seconds). hourly_bucket() is the bucket of
/*	a time, or -1 when it falls before the first or after the hour of
/*	now. hourly_add() counts one failure of a cause at a time: 0, or
/*	-1 (not counted) for a time outside the buckets or a cause
/*	outside the catalogue. hourly_hour() is the first second of
/*	bucket i.
/*
/*	Nothing here reads a clock: the times are the caller's.
/*--*/
#include <string.h>

#include "cause.h"
#include "hourly.h"

/* hourly_init - empty buckets, the last one holding now */
void
hourly_init(struct hourly *h, uint32_t now)
{
	uint32_t cur = now - now % HOURLY_SECS;
	uint32_t back = (HOURLY_HOURS - 1) * HOURLY_SECS;

	memset(h, 0, sizeof(*h));
	h->start = cur >= back ? cur - back : 0;
}

/* hourly_bucket - the bucket of time t, or -1 */
int
hourly_bucket(const struct hourly *h, uint32_t t)
{
	uint32_t i;

	if (t < h->start)
		return -1;
	i = (t - h->start) / HOURLY_SECS;
	return i < HOURLY_HOURS ? (int)i : -1;
}

/* hourly_add - one failure of a cause at time t; -1 when not counted */
int
hourly_add(struct hourly *h, uint32_t t, unsigned cause)
{
	int i = hourly_bucket(h, t);

	if (i < 0 || cause >= CAUSE_COUNT)
		return -1;
	h->n[i][cause]++;
	return 0;
}

/* hourly_hour - the first second of bucket i */
uint32_t
hourly_hour(const struct hourly *h, int i)
{
	return h->start + (uint32_t)i * HOURLY_SECS;
}
