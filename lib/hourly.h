/*++
/* NAME
/*	hourly 3h
/* SUMMARY
/*	failures per cause in hourly buckets, for the overview
/*--*/
#ifndef AUTHGUARD_HOURLY_H
#define AUTHGUARD_HOURLY_H

#include <stdint.h>

#include "cause.h"

#define HOURLY_HOURS	24		/* buckets: the last day */
#define HOURLY_SECS	3600

struct hourly {
	uint32_t	 start;		/* the oldest bucket's first second */
	unsigned	 n[HOURLY_HOURS][CAUSE_COUNT];
};

void	hourly_init(struct hourly *, uint32_t);
int	hourly_bucket(const struct hourly *, uint32_t);
int	hourly_add(struct hourly *, uint32_t, unsigned);
uint32_t hourly_hour(const struct hourly *, int);

#endif
