/*++
/* NAME
/*	authlimits 3h
/* SUMMARY
/*	failure windows, lockouts and familiar addresses
/*--*/
#ifndef AUTHGUARD_LIMITS_H
#define AUTHGUARD_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "htab.h"

struct limit {
	unsigned	n;		/* failures allowed in the window */
	unsigned	secs;		/* window length */
};

struct limits_config {
	struct limit	account;
	struct limit	address;
	unsigned	lockout_time;	/* first lockout, seconds */
	unsigned	lockout_max;	/* longest lockout, seconds */
	unsigned	familiar_ttl;	/* seconds */
	unsigned	guess_distinct;	/* distinct passwords/accounts = guessing */
	size_t		max_tracked;	/* entries per kind */
};

struct fail_rec {
	uint32_t	t;		/* when (unix seconds) */
	uint32_t	fp;		/* keyed password fingerprint, 0: none */
	uint32_t	who;		/* the other side: limits_hash() of it */
};

struct familiar {
	uint32_t	who;		/* limits_hash() of the address key */
	uint32_t	t;		/* last success */
};

#define LIMITS_FAMILIAR_MAX	8
#define LIMITS_STALE_GAP	10	/* seconds between repeats of a stale password */

struct track {
	struct htab_link link;		/* in the tracker's table, by key */
	struct track	*lprev, *lnext;
	uint32_t	 locked_until;
	uint32_t	 last_lock;
	uint16_t	 inflight;
	uint8_t		 nfail;
	uint8_t		 fcap;		/* records allocated, up to limit.n */
	uint8_t		 lock_level;
	uint8_t		 nfam;
	uint8_t		 list;		/* LRU list: LRU_PLAIN .. LRU_BUSY */
	struct fail_rec	*fails;		/* ring of up to limit.n records */
	struct familiar	*fam;
	char		 key[];
};

/* Eviction takes LRU_PLAIN's oldest, then LRU_PROTECTED's, never LRU_BUSY's. */
enum { LRU_PLAIN, LRU_PROTECTED, LRU_BUSY, LRU_LISTS };

struct tracker {
	struct htab	 tab;		/* entries by key (htab 3) */
	size_t		 count;		/* entries held, as tab.count */
	size_t		 max;
	struct track	 lru[LRU_LISTS]; /* list heads */
	struct limit	 lim;
	unsigned long long evicted;
};

struct limits {
	struct limits_config cfg;
	struct tracker	 acct;
	struct tracker	 addr;
};

/* One attempt as the limits see it. */
struct limits_query {
	const char	*account;	/* lower-cased login, or NULL */
	const char	*addr;		/* address key (limits_addr_key), or NULL */
	uint32_t	 fp;		/* keyed fingerprint of the password, 0 */
	int		 exempt;	/* limit_exempt_networks */
	int		 no_limit;	/* account flag no-limit */
};

enum limits_verdict {
	LV_ALLOW,
	LV_WAIT,		/* attempts in flight may reach the limit */
	LV_ACCOUNT_LOCKED,
	LV_IP_BLOCKED,
};

/* What an attempt reserved, released when its outcome is known. */
struct limits_ticket {
	int		acct;
	int		addr;
};

struct limits_outcome {
	int		stale;		/* this wrong password was seen before */
	int		guessing;	/* many passwords or accounts */
	uint32_t	locked_until;	/* a lockout started (account or addr) */
	int		locked_account;
};

uint32_t limits_hash(const char *);
void	 limits_set_who_key(const unsigned char *, size_t);
int	 limits_addr_key(const char *, unsigned, unsigned, char *, size_t);
void	 limits_init(struct limits *, const struct limits_config *);
void	 limits_reconfigure(struct limits *, const struct limits_config *);
void	 limits_free(struct limits *);
enum limits_verdict limits_check(struct limits *, const struct limits_query *,
	    uint32_t, uint32_t *);
void	 limits_reserve(struct limits *, const struct limits_query *, uint32_t,
	    struct limits_ticket *);
void	 limits_release(struct limits *, const struct limits_query *,
	    uint32_t, struct limits_ticket *);
void	 limits_fail(struct limits *, const struct limits_query *, int, int,
	    uint32_t, struct limits_outcome *);
void	 limits_pass(struct limits *, const struct limits_query *, uint32_t);
int	 limits_unlock(struct limits *, const char *);
struct track *limits_find(struct tracker *, const char *);
unsigned limits_window_span(const struct tracker *, const struct track *,
	    uint32_t, uint32_t *);
unsigned limits_window_count(const struct tracker *, const struct track *,
	    uint32_t);
int	 limits_is_locked(const struct track *, uint32_t);
unsigned limits_level(const struct limits *, const struct track *, uint32_t);
int	 limits_known(const struct limits *, const char *, uint32_t);
int	 limits_familiar(const struct limits *, const char *, const char *,
	    uint32_t);

/* Replay of persisted state (see state 3). */
struct track *limits_get(struct tracker *, const char *, uint32_t);
void	 limits_add_fail(struct tracker *, struct track *, uint32_t, uint32_t,
	    uint32_t);
void	 limits_add_familiar(struct limits *, struct track *, uint32_t,
	    uint32_t);
void	 limits_set_lock(struct tracker *, struct track *, uint32_t, unsigned,
	    uint32_t, uint32_t);
void	 limits_clear(struct tracker *, struct track *, uint32_t);

#endif
