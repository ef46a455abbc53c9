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

/* One Redis command; EVALSHA of shared.lua when built by shared_script. */
#define SHARED_ARGS	24
#define SHARED_ARGV(n)	(5 + (n))	/* the script's ARGV[n] */

/* shared_cmd.write: a change, kept and sent again when it may be lost */
#define SHARED_CHANGE	1	/* limits: kept first */
#define SHARED_RECORD	2	/* a recent attempt: dropped first */

struct shared_cmd {
	int		 argc;
	int		 write;		/* 0, SHARED_CHANGE or SHARED_RECORD */
	char		*argv[SHARED_ARGS];
	size_t		 len[SHARED_ARGS];
	char		*wire;		/* or this, formatted (kept changes) */
	size_t		 wirelen;
};

/* shared.lua's flag bits (its bit()): which keys are given, and how */
#define SF_ACCOUNT	1u	/* KEYS[1] */
#define SF_ADDRESS	2u	/* KEYS[2] */
#define SF_NO_LIMIT	4u
#define SF_COUNT_ACCT	8u	/* fail: in the account's window */
#define SF_COUNT_ADDR	16u	/* fail: in the address's window */

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
void	 shared_init(const struct config *, const unsigned char *, size_t);
void	 shared_reconfigure(const struct config *);
void	 shared_shutdown(void);
int	 shared_enabled(void);
int	 shared_up(void);
int	 shared_settled(void);
struct shared_cmd *shared_script(const char *, uint32_t, unsigned);
struct shared_cmd *shared_command(int, ...);
void	 shared_key(struct shared_cmd *, int, const char *, const char *);
void	 shared_key_at(struct shared_cmd *, int, const char *, const char *);
void	 shared_arg(struct shared_cmd *, int, const char *);
void	 shared_arg_num(struct shared_cmd *, int, unsigned long long);
struct shared_op *shared_send(struct shared_cmd *, shared_cb, void *,
	    shared_late_cb);
void	 shared_forget(struct shared_op *);
void	 shared_new_id(char *, size_t);
void	 shared_count_local(void);
void	 shared_stats(struct shared_stats *);
const char *shared_server(void);

#endif
