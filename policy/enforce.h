/*++
/* NAME
/*	enforce 3h
/* SUMMARY
/*	one attempt against the failure limits
/*--*/
#ifndef AUTHGUARD_ENFORCE_H
#define AUTHGUARD_ENFORCE_H

#include <stdint.h>

#include "cause.h"
#include "config.h"
#include "authlimits.h"

/* Returned instead of an answer: the shared state was asked, a callback follows. */
#define ENFORCE_ASKED	(-1)

struct shared_op;

struct enforce {
	/* lower case, owned (enforce_free); "": unknown (or longer than any
	 * the gate accepts); NULL before enforce_fill */
	char		*account;
	char		 addr[64];	/* limits_addr_key; empty: unknown */
	uint32_t	 fp;
	int		 exempt;
	int		 no_limit;
	struct limits_ticket tk;	/* reserved here */
	struct limits_ticket stk;	/* reserved in the shared state */
	char		 resid[40];	/* the shared reservation's id */
	uint32_t	 retry_at;	/* when refused as locked */
	/* while the shared state is asked */
	struct shared_op *op;
	void		(*check_cb)(void *, enum limits_verdict);
	void		(*fail_cb)(void *, enum cause);
	void		(*locked_cb)(void *, int);
	void		*arg;
	enum cause	 cause;		/* the failure being recorded */
	struct limits_outcome local;	/* its outcome here */
	unsigned	 win_n;		/* the account's failures in the window */
	uint32_t	 win_first;	/* before this one (a lock clears them) */
	char		 ref[16];
};

void	enforce_init(const struct config *);
void	enforce_fill(struct enforce *, const char *, const char *, const char *,
	    unsigned);
void	enforce_fill_pwhash(struct enforce *, const char *, const char *,
	    const char *, unsigned);
int	enforce_set_account(struct enforce *, const char *);
void	enforce_free(struct enforce *);
int	enforce_check(struct enforce *, void (*)(void *, enum limits_verdict),
	    void *);
int	enforce_fail(struct enforce *, enum cause, const char *,
	    void (*)(void *, enum cause), void *);
void	enforce_pass(struct enforce *);
void	enforce_release(struct enforce *);
int	enforce_locked(struct enforce *, void (*)(void *, int), void *);
int	enforce_lock(const char *, int, uint32_t);
int	enforce_unlock(const char *);

#endif
