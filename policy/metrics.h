/*++
/* NAME
/*	metrics 3h
/* SUMMARY
/*	counters, and their Prometheus exposition on metrics_listen
/*--*/
#ifndef AUTHGUARD_METRICS_H
#define AUTHGUARD_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "cause.h"
#include "config.h"
#include "proto.h"

/*
 * The families that other modules own, in the order of the exposition
 * (after the attempts, their latency, the policy decisions and the
 * lockouts, which are counted here). Each owner registers the function
 * that writes its families with metrics_source(), from its init.
 */
enum metrics_slot {
	METRICS_TRACKED,		/* store: tracked and evicted entries */
	METRICS_UPSTREAM,		/* upstream: Dovecot's connection */
	METRICS_SASL,			/* gate: smtpd connections */
	METRICS_HISTORY,		/* store: attempts held for why */
	METRICS_SHARED,			/* shared: Redis */
	METRICS_AUTHPOLICY,		/* door: Dovecot's auth policy */
	METRICS_NOTICES,		/* notify: notices to owners */
	METRICS_SLOTS
};

typedef void (*metrics_render_fn)(struct buf *);

void	metrics_source(enum metrics_slot, metrics_render_fn);
void	metrics_family(struct buf *, const char *, const char *,
	    const char *);
void	metrics_attempt(enum proto, unsigned, enum cause, uint64_t);
void	metrics_lock(int);
void	metrics_policy(enum cause);
void	metrics_render(struct buf *);
void	metrics_init(const struct config *, int);
void	metrics_shutdown(void);

#endif
