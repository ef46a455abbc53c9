/*++
/* NAME
/*	loadstat 3h
/* SUMMARY
/*	what the load generators share: the clock and the result line
/* DESCRIPTION
/*	now_us() is the monotonic clock in microseconds. load_report()
/*	sorts the latency samples and prints the one line the bench
/*	scripts read: attempts, attempts/s, p50 and p99 latency in
/*	microseconds, errors.
/*--*/
#ifndef AUTHGUARD_LOADSTAT_H
#define AUTHGUARD_LOADSTAT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* now_us - monotonic microseconds */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* load_cmp - ascending latencies */
static int
load_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* load_report - the result line, from the run's start to now */
static void
load_report(unsigned long long done, uint64_t start, uint64_t *lat,
    size_t nlat, unsigned long long errors)
{
	qsort(lat, nlat, sizeof(*lat), load_cmp);
	printf("%llu %.0f %llu %llu %llu\n", done,
	    (double)done * 1e6 / (double)(now_us() - start),
	    (unsigned long long)(nlat ? lat[nlat / 2] : 0),
	    (unsigned long long)(nlat ? lat[nlat * 99 / 100] : 0), errors);
}

#endif
