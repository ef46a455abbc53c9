/*++
/* NAME
/*	test_hushwin 1
/* SUMMARY
/*	unit tests: a warning once per window on the loop
/* DESCRIPTION
/*	The real event loop with a window of 1 s: the first warning is
/*	said, the others of the window are counted and said at its end, by
/*	its timer, with the prefix or without; a window without others
/*	says nothing; stopping says the count so far.
/*--*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../policy/event.h"
#include "../../policy/hushwin.h"
#include "msg.h"
#include "unit.h"

static char t_log[1024];

/* t_sink - warnings into t_log */
static void
t_sink(int pri, const char *level, const char *text)
{
	size_t n = strlen(t_log);

	(void)pri;
	if (level && strcmp(level, "warning") == 0)
		snprintf(t_log + n, sizeof(t_log) - n, "%s\n", text);
}

/* t_turn - turn the loop for about ms */
static void
t_turn(int ms)
{
	struct timespec ts;
	long long end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + ms;
	do {
		(void)ev_once(5);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 < end);
}

/* t_begin - a loop, the sink, and h named */
static void
t_begin(struct hushwin *h, const char *who, const char *what, unsigned ms)
{
	memset(h, 0, sizeof(*h));
	*t_log = 0;
	ev_init();
	msg_set_sink(t_sink);
	hushwin_init(h, who, what, ms);
}

/* t_end - the sink and the loop go */
static void
t_end(void)
{
	msg_set_sink(NULL);
	ev_shutdown();
}

/* One said, three counted, their count said at the window's end. */
TEST(hushwin_counts_said_at_the_window_end)
{
	struct hushwin h;

	t_begin(&h, "web_listen", "requests refused", 1000);
	CHECK(hushwin_speak(&h) == 1);
	CHECK(hushwin_speak(&h) == 0 && hushwin_speak(&h) == 0 &&
	    hushwin_speak(&h) == 0);
	CHECK(*t_log == 0);
	t_turn(1100);
	CHECK(strcmp(t_log, "web_listen: requests refused: 3 more in the "
	    "last 1 s\n") == 0);
	*t_log = 0;
	t_turn(1100);			/* a window with none: nothing */
	CHECK(*t_log == 0);
	CHECK(hushwin_speak(&h) == 1);
	hushwin_stop(&h);
	CHECK(*t_log == 0);
	t_end();
}

/* Without a prefix; a stop in the window says its count. */
TEST(hushwin_stop_says_the_count_so_far)
{
	struct hushwin h;

	t_begin(&h, "", "sign-ons refused", 60000);
	CHECK(hushwin_speak(&h) == 1);
	CHECK(hushwin_speak(&h) == 0 && hushwin_speak(&h) == 0);
	hushwin_stop(&h);
	CHECK(strcmp(t_log, "sign-ons refused: 2 more in the last 60 s\n")
	    == 0);
	*t_log = 0;
	t_turn(20);			/* its timer is stopped */
	CHECK(*t_log == 0);
	t_end();
}
