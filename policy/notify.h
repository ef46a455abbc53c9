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
#include "proto.h"
#include "ref.h"

#define NOTIFY_QUEUE_MAX	1000	/* notices waiting for a child */
#define NOTIFY_ROWS_MAX		1000	/* journal rows held for "notices" */

/* One outcome, as the journal keeps it and "notices" shows it. */
struct notify_row {
	uint32_t	 t;
	char		 kind[24];
	char		 user[256];
	char		 to[NOTICE_ADDR_MAX + 1];
	char		 ip[64];
	char		 ref[REF_LEN + 1];
	char		 message_id[320];
	char		 result[12];
};

int	 notify_check(const struct config *, char *, size_t);
void	 notify_init(const struct config *);
void	 notify_reconfigure(const struct config *);
void	 notify_attempt(int, enum cause, const char *, const char *,
	    enum proto, const char *);
void	 notify_lock(const char *, const char *, const char *, int, uint32_t);
const struct notify_row *notify_row(size_t);
void	 notify_shutdown(void);

#endif
