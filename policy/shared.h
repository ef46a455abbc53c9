/*++
/* NAME
/*	shared 3h
/* SUMMARY
/*	state shared by several servers, in Redis
/*--*/
#ifndef AUTHGUARD_SHARED_H
#define AUTHGUARD_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "sharedcmd.h"

struct buf;
struct limits_config;

/* rep is NULL when no usable answer came in time: decide locally. */
typedef void (*shared_cb)(void *, const redisReply *);
/* An answer that came after its caller gave up (see shared_send). */
typedef void (*shared_late_cb)(const struct shared_cmd *, const redisReply *);

struct shared_op;

struct shared_stats {
	const char	*state;		/* off, down, connecting, up */
	unsigned long long timeouts;
	unsigned long long errors;
	unsigned long long outages;
	unsigned long long local;	/* decisions made without Redis */
	unsigned long long merged;	/* kept records sent after an outage */
	unsigned long long dropped;	/* kept records lost: journal full */
	size_t		 journal;
	int		 key_mismatch;
};

int	 shared_check(const struct config *, char *, size_t);
void	 shared_init(const struct config *, const struct limits_config *,
	    const unsigned char *, size_t);
void	 shared_reconfigure(const struct config *,
	    const struct limits_config *);
void	 shared_shutdown(void);
int	 shared_enabled(void);
int	 shared_up(void);
int	 shared_settled(void);
struct shared_cmd *shared_script(const char *, uint32_t, unsigned);
void	 shared_key(struct shared_cmd *, int, const char *, const char *);
void	 shared_key_at(struct shared_cmd *, int, const char *, const char *);
struct shared_op *shared_send(struct shared_cmd *, shared_cb, void *,
	    shared_late_cb);
void	 shared_forget(struct shared_op *);
void	 shared_new_id(char *, size_t);
void	 shared_count_local(void);
void	 shared_stats(struct shared_stats *);
void	 shared_metrics(struct buf *);
const char *shared_server(void);

#endif
