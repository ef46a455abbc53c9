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

void	metrics_attempt(unsigned, enum cause, uint64_t);
void	metrics_lock(int);
void	metrics_policy(enum cause);
void	metrics_render(struct buf *);
void	metrics_init(const struct config *, int);
void	metrics_shutdown(void);

#endif
