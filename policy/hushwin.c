/*++
/* NAME
/*	hushwin 3
/* SUMMARY
/*	a warning once per window on the loop, the window's others counted
/* SYNOPSIS
/*	#include "hushwin.h"
/*
/*	void	hushwin_init(h, who, what, window_ms)
/*	struct hushwin *h;
/*	const char *who;
/*	const char *what;
/*	unsigned window_ms;
/*
/*	int	hushwin_speak(h)
/*	struct hushwin *h;
/*
/*	void	hushwin_stop(h)
/*	struct hushwin *h;
/* DESCRIPTION
/*	A warning that may come often, on the event loop: the first of
/*	a window is logged by the caller, the others of the window are
/*	counted (lib/hush), and when the window ends their count is
/*	logged as "WHO: WHAT: N more in the last S s" ("WHAT: N more
/*	..." with who ""); a new window then begins. Where the timer did
/*	not fire yet, the next warning says the count first.
/*
/*	hushwin_init() names the warning; who and what must outlive h.
/*
/*	hushwin_speak(): 1, the caller logs this one; 0, it is counted.
/*
/*	hushwin_stop() logs the count so far, if any, and stops the
/*	window's timer: call it before h goes.
/*--*/
#include "hushwin.h"
#include "msg.h"

/* hushwin_said - the count of a window's quiet warnings, if any */
static void
hushwin_said(const struct hushwin *h, long quiet)
{
	if (quiet > 0)
		msg_warn("%s%s%s: %ld more in the last %u s", h->who,
		    *h->who ? ": " : "", h->what, quiet, h->window_ms / 1000);
}

/* hushwin_end - a window ends: its quiet warnings, if any, open another */
static void
hushwin_end(struct ev_timer *t)
{
	struct hushwin *h = (struct hushwin *)t;

	if (h->hush.quiet == 0)
		return;
	hushwin_said(h, hush_pass(&h->hush, ev_now(), 0));
	ev_timer_start(&h->timer, h->window_ms, hushwin_end);
}

/* hushwin_speak - may this warning be logged? else it is counted */
int
hushwin_speak(struct hushwin *h)
{
	long quiet = hush_pass(&h->hush, ev_now(), h->window_ms);

	if (quiet < 0)
		return 0;
	hushwin_said(h, quiet);
	ev_timer_start(&h->timer, h->window_ms, hushwin_end);
	return 1;
}

/* hushwin_init - a window of window_ms for what, said after who */
void
hushwin_init(struct hushwin *h, const char *who, const char *what,
    unsigned window_ms)
{
	h->who = who ? who : "";
	h->what = what;
	h->window_ms = window_ms;
}

/* hushwin_stop - no more warnings: the count so far, if any */
void
hushwin_stop(struct hushwin *h)
{
	ev_timer_stop(&h->timer);
	hushwin_end(&h->timer);
	ev_timer_stop(&h->timer);
}
