/*++
/* NAME
/*	notify 3h
/* SUMMARY
/*	notices to an account's owner: when, to whom, and the sending
/*--*/
#ifndef AUTHGUARD_NOTIFY_H
#define AUTHGUARD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cause.h"
#include "config.h"
#include "notice.h"
#include "noticelog.h"
#include "proto.h"
#include "ref.h"

#define NOTIFY_QUEUE_MAX	1000	/* notices waiting for a child */

int	 notify_check(const struct config *, char *, size_t);
void	 notify_init(const struct config *);
void	 notify_reconfigure(const struct config *);
void	 notify_attempt(int, enum cause, const char *, const char *,
	    enum proto, const char *);
void	 notify_lock(const char *, const char *, const char *, int, uint32_t,
	    unsigned, uint32_t);
const struct notify_row *notify_row(size_t);
void	 notify_shutdown(void);

#endif
