/*++
/* NAME
/*	test_event 1
/* SUMMARY
/*	unit tests: the event loop's timers (a min-heap)
/*--*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/event.h"
#include "unit.h"

#define NTIMERS	2000

static struct ev_timer timers[NTIMERS], last;
static int fired[NTIMERS], order[NTIMERS], nfired;
static unsigned delay[NTIMERS];
static volatile sig_atomic_t done;

/* on_timer - record which fired, in what order */
static void
on_timer(struct ev_timer *t)
{
	int i = (int)(t - timers);

	fired[i]++;
	order[nfired++] = i;
	if (i % 7 == 0 && fired[i] == 1)	/* re-armed from its callback */
		ev_timer_start(t, 1, on_timer);
}

/* on_last - the end of the test */
static void
on_last(struct ev_timer *t)
{
	(void)t;
	done = 1;
}

/*
 * Timers with mixed delays, armed in random order, half of them disarmed
 * or re-armed before they fire: every armed one fires once, in order of
 * expiry and, for equal expiry, of arming; none fires after ev_timer_stop.
 */
TEST(timers_fire_in_order_and_stop_stops)
{
	int i, k;

	srandom(7);
	ev_init();
	for (i = 0; i < NTIMERS; i++) {
		delay[i] = (unsigned)(random() % 40);
		ev_timer_start(&timers[i], delay[i], on_timer);
	}
	for (i = 0; i < NTIMERS; i += 2)
		ev_timer_stop(&timers[i]);
	for (i = 1; i < NTIMERS; i += 4)
		ev_timer_start(&timers[i], delay[i], on_timer);	/* again */
	ev_timer_start(&last, 200, on_last);
	ev_run(&done);
	for (i = 0; i < NTIMERS; i++)
		CHECK(fired[i] == (i % 2 ? 1 + (i % 7 == 0) : 0));
	for (k = 1; k < nfired; k++) {
		int a = order[k - 1], b = order[k];

		if (fired[a] == 1 && fired[b] == 1 && a % 7 && b % 7)
			CHECK(delay[a] <= delay[b]);
	}
	ev_shutdown();
	ev_timer_stop(&timers[1]);	/* after shutdown: harmless */
}
