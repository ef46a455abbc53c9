/*++
/* NAME
/*	hush 3
/* SUMMARY
/*	a warning at most once per interval, the others counted
/* SYNOPSIS
/*	#include "hush.h"
/*
/*	long	hush_pass(h, now_ms, every_ms)
/*	struct hush *h;
/*	long long now_ms;
/*	long long every_ms;
/* DESCRIPTION
/*	A warning that may come often is logged at most once per
/*	every_ms; the ones in between are kept quiet and counted, and
/*	the next one logged says how many there were. A struct hush
/*	all zero (static, calloc) is one that has logged nothing yet.
/*
/*	hush_pass() asks whether the warning may be logged at now_ms:
/*	-1 no (it is counted), else the count kept quiet since the last
/*	one logged, which starts again from 0, as the interval does
/*	from now_ms. The first one passes, whatever the time (0 too). A
/*	time before the last one (a clock set back) passes, so that the
/*	warnings do not stop for as long as it went back. With every_ms
/*	0 it always passes: where the count is said at the end of a
/*	window, that takes it and starts the next window.
/*
/*	Nothing here reads a clock: the times are the caller's (ev_now(),
/*	or the simulation's).
/*--*/
#include <limits.h>

#include "hush.h"

/* hush_pass - may it be logged now? -1 no (counted), else the count quiet */
long
hush_pass(struct hush *h, long long now_ms, long long every_ms)
{
	long quiet;

	if (h->said && now_ms >= h->last && now_ms - h->last < every_ms) {
		if (h->quiet < (unsigned long)LONG_MAX)
			h->quiet++;
		return -1;
	}
	quiet = (long)h->quiet;
	h->last = now_ms;
	h->quiet = 0;
	h->said = 1;
	return quiet;
}
