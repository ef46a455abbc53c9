/*++
/* NAME
/*	hushwin 3h
/* SUMMARY
/*	a warning once per window on the loop, the window's others counted
/*--*/
#ifndef AUTHGUARD_HUSHWIN_H
#define AUTHGUARD_HUSHWIN_H

#include "event.h"
#include "hush.h"

struct hushwin {
	struct ev_timer	 timer;		/* first: the window's end finds it */
	const char	*who;		/* the line's prefix, or "" */
	const char	*what;		/* "requests refused" */
	unsigned	 window_ms;
	struct hush	 hush;		/* the window's start, its quiet ones */
};

void	hushwin_init(struct hushwin *, const char *, const char *, unsigned);
int	hushwin_speak(struct hushwin *);
void	hushwin_stop(struct hushwin *);

#endif
