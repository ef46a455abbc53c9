/*++
/* NAME
/*	sharedcmd 3h
/* SUMMARY
/*	the Redis commands of the shared state: built, and in wire form
/*--*/
#ifndef AUTHGUARD_SHAREDCMD_H
#define AUTHGUARD_SHAREDCMD_H

#include <stddef.h>
#include <stdint.h>

struct limits_config;

/* One Redis command; EVALSHA of shared.lua when built by shared_cmd_script. */
#define SHARED_ARGS	24
#define SHARED_ARGV(n)	(5 + (n))	/* the script's ARGV[n] */
#define SHARED_KEYS(n)	(2 + (n))	/* the script's KEYS[n] (1-3) */
#define SHARED_SCRIPT_ARGS 18		/* ARGV of shared.lua */

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

struct shared_cmd *shared_command(int, ...);
void	 shared_cmd_set(struct shared_cmd *, int, const char *, size_t);
void	 shared_arg(struct shared_cmd *, int, const char *);
void	 shared_arg_num(struct shared_cmd *, int, unsigned long long);
void	 shared_cmd_key(struct shared_cmd *, int, const char *, const char *,
	    const char *);
struct shared_cmd *shared_cmd_script(const char *, const struct limits_config *,
	    const char *, uint32_t, unsigned);
char	*shared_cmd_to_wire(struct shared_cmd *, size_t *);
struct shared_cmd *shared_cmd_of_wire(int, char *, size_t);
void	 shared_cmd_free(struct shared_cmd *);

#endif
