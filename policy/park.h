/*++
/* NAME
/*	park 3h
/* SUMMARY
/*	requests waiting at the failure limits, queued by account and address
/*--*/
#ifndef AUTHGUARD_PARK_H
#define AUTHGUARD_PARK_H

#include <stdint.h>
#include <sys/queue.h>

/* The queues a waiter is on: all waiters, its account's, its address's. */
enum park_kind { PARK_ALL, PARK_ACCOUNT, PARK_ADDR, PARK_KINDS };

struct park_queue;

/*
 * Embedded in what waits; its wake (set before park_enter), or else
 * park_init()'s callback, gets it back.
 */
struct park_waiter {
	void		(*wake)(struct park_waiter *);	/* NULL: park_init's */
	uint64_t	 seq;			/* arrival order */
	struct park_queue *q[PARK_KINDS];	/* NULL: not on that one */
	TAILQ_ENTRY(park_waiter) link[PARK_KINDS];
};

void	park_init(void (*)(struct park_waiter *));
void	park_enter(struct park_waiter *, const char *, const char *);
void	park_leave(struct park_waiter *);
void	park_wake(const char *, const char *);
void	park_wake_all(void);
void	park_shutdown(void);

#endif
