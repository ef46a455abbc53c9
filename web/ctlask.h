/*++
/* NAME
/*	ctlask 3h
/* SUMMARY
/*	asking authguard-policyd's control socket from the event loop
/*--*/
#ifndef AUTHGUARD_CTLASK_H
#define AUTHGUARD_CTLASK_H

#include <stddef.h>

struct ctlask;

/*
 * The end of a question: ok 1 with the whole answer (NUL-terminated),
 * or 0 with the reason it could not be had.
 */
typedef void (*ctlask_done)(void *, int, const char *, size_t, const char *);

struct ctlask *ctlask_start(const char *, const char *, unsigned, ctlask_done,
	    void *);
void	ctlask_cancel(struct ctlask *);

#endif
