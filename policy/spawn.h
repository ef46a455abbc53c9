/*++
/* NAME
/*	spawn 3h
/* SUMMARY
/*	child processes for the event loop: never waited for
/*--*/
#ifndef AUTHGUARD_SPAWN_H
#define AUTHGUARD_SPAWN_H

#include <stddef.h>

#define SPAWN_KEEP	4096		/* bytes of stdout and of stderr kept */
#define SPAWN_PATH	"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* How a child ended, and what it wrote (the first SPAWN_KEEP bytes). */
struct spawn_result {
	int		 exited;	/* 1: it exited; status is its code */
	int		 status;	/* exit code, or the signal's number */
	int		 timed_out;	/* killed at its timeout */
	size_t		 outlen, errlen;
	char		 out[SPAWN_KEEP + 1];	/* NUL-terminated */
	char		 err[SPAWN_KEEP + 1];
};

typedef void (*spawn_done_fn)(void *, const struct spawn_result *);

struct spawn;

struct spawn *spawn_start(char *const *, const char *, size_t, unsigned,
	    spawn_done_fn, void *, char *, size_t);
void	 spawn_cancel(struct spawn *);
unsigned spawn_live(void);
void	 spawn_shutdown(void);

#endif
