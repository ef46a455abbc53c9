/*++
/* NAME
/*	park 3
/* SUMMARY
/*	requests waiting at the failure limits, queued by account and address
/* DESCRIPTION
/*	A request that the failure limits tell to wait (the attempts in
/*	flight for its account or its address could reach the limit) is
/*	parked until earlier attempts of the same account or address
/*	end. It waits in the queue of its account, in the queue of its
/*	address and in the queue of all waiters, each in arrival order:
/*	first come, first go. The queues of a key live in a keyed hash
/*	table (htab 3), since peers choose the keys, as long as they
/*	hold a waiter.
/*
/*	When an attempt ends, or gives its place back while its refusal
/*	waits, while its client answers a relayed challenge, or when
/*	Dovecot names another account than the one typed (the place of
/*	the typed name), park_wake() lets the waiters of its account and
/*	of its address try again, the two queues merged in arrival
/*	order; no other waiter is looked at. The admin's lock and unlock
/*	of a key wake its queues the same way, and a reload (new limits)
/*	wakes all. A place that frees itself without an attempt's end
/*	(failures ageing out of the window) is seen at the next end or
/*	wake of its key, or by the waiter's deadline. With a shared state (shared 3), attempts on other servers
/*	end unseen: while anybody waits, every GATE_PARK_POLL ms all
/*	waiters try again, each a question to Redis.
/*
/*	Trying a waiter can end requests, and each end wakes again.
/*	A wake while a walk of the queues is under way joins that walk
/*	instead of starting one of its own: its queues are added to
/*	the walk, or start over from their head if the walk holds them
/*	already (what ended may have freed a place for a waiter the walk
/*	has passed). A wake is therefore never dropped and never
/*	recurses. The walk keeps, for each queue, the next waiter to
/*	try, and park_leave() moves it on when that waiter leaves: no
/*	pointer to a waiter is kept across a try. A queue is freed once
/*	it holds no waiter and no walk holds it.
/*
/*	Waiters of different owners share the queues: the gate's
/*	requests and the auth policy door's (door 3) wait for the
/*	same accounts and addresses. A waiter tries again through its
/*	own wake function when it has one, else through park_init()'s.
/*--*/
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "event.h"
#include "htab.h"
#include "park.h"
#include "shared.h"
#include "util.h"

#define GATE_PARK_POLL		100	/* ms: attempts elsewhere end unseen */
#define PARK_BUCKETS		64

struct park_queue {
	struct htab_link hl;		/* in park_keys[kind] (not PARK_ALL) */
	enum park_kind	 kind;
	TAILQ_HEAD(, park_waiter) waiters;
	struct park_waiter *next;	/* held by a walk: the next to try */
	int		 walked;	/* on park_walk */
	TAILQ_ENTRY(park_queue) walk_link;
	char		 key[];
};

static struct htab park_keys[PARK_KINDS];	/* PARK_ACCOUNT, PARK_ADDR */
static struct park_queue park_all;
static TAILQ_HEAD(, park_queue) park_walk = TAILQ_HEAD_INITIALIZER(park_walk);
static uint64_t park_seq;
static struct ev_timer park_timer;
static void (*park_try)(struct park_waiter *);

/* queue_match - is this the queue of the key? */
static int
queue_match(const struct htab_link *l, const void *key)
{
	return strcmp(HTAB_ENTRY(l, struct park_queue, hl)->key, key) == 0;
}

/* queue_init - an empty queue */
static void
queue_init(struct park_queue *q, enum park_kind kind)
{
	q->kind = kind;
	TAILQ_INIT(&q->waiters);
	q->next = NULL;
	q->walked = 0;
}

/*
 * park_init - try(waiter) is how a waiter tries again. The tables are
 * made once: requests that end after park_shutdown() still wake.
 */
void
park_init(void (*try)(struct park_waiter *))
{
	park_try = try;
	queue_init(&park_all, PARK_ALL);
	if (park_keys[PARK_ACCOUNT].bucket)
		return;
	htab_init(&park_keys[PARK_ACCOUNT], PARK_BUCKETS, htab_hash_str,
	    queue_match);
	htab_init(&park_keys[PARK_ADDR], PARK_BUCKETS, htab_hash_str,
	    queue_match);
}

/* queue_find - the queue of an account or address key, or NULL */
static struct park_queue *
queue_find(enum park_kind kind, const char *key)
{
	struct htab_link *l;

	if (key == NULL || *key == 0 ||
	    (l = htab_find(&park_keys[kind], key)) == NULL)
		return NULL;
	return HTAB_ENTRY(l, struct park_queue, hl);
}

/* queue_get - the queue of a key, made if it has none */
static struct park_queue *
queue_get(enum park_kind kind, const char *key)
{
	struct park_queue *q = queue_find(kind, key);
	size_t len = strlen(key) + 1;

	if (q)
		return q;
	q = xmalloc(sizeof(*q) + len);
	queue_init(q, kind);
	memcpy(q->key, key, len);
	htab_insert(&park_keys[kind], &q->hl, q->key);
	return q;
}

/* queue_release - free a key's queue that nobody waits in or walks */
static void
queue_release(struct park_queue *q)
{
	if (q->kind == PARK_ALL || q->walked || !TAILQ_EMPTY(&q->waiters))
		return;
	htab_remove(&park_keys[q->kind], &q->hl);
	free(q);
}

/* queue_join - w waits last in q */
static void
queue_join(struct park_queue *q, struct park_waiter *w)
{
	w->q[q->kind] = q;
	TAILQ_INSERT_TAIL(&q->waiters, w, link[q->kind]);
}

/* park_poll - with a shared state, attempts on other servers end too */
static void
park_poll(struct ev_timer *t)
{
	park_wake_all();
	if (!TAILQ_EMPTY(&park_all.waiters) && shared_enabled())
		ev_timer_start(&park_timer, GATE_PARK_POLL, park_poll);
}

/* park_enter - w waits, last, for its account and address ("": none) */
void
park_enter(struct park_waiter *w, const char *account, const char *addr)
{
	memset(w->q, 0, sizeof(w->q));
	w->seq = ++park_seq;
	queue_join(&park_all, w);
	if (account && *account)
		queue_join(queue_get(PARK_ACCOUNT, account), w);
	if (addr && *addr)
		queue_join(queue_get(PARK_ADDR, addr), w);
	if (shared_enabled() && !park_timer.slot)
		ev_timer_start(&park_timer, GATE_PARK_POLL, park_poll);
}

/* park_leave - w waits no more (a walk's next moves past it) */
void
park_leave(struct park_waiter *w)
{
	struct park_queue *q;
	int k;

	for (k = 0; k < PARK_KINDS; k++) {
		if ((q = w->q[k]) == NULL)
			continue;
		if (q->next == w)
			q->next = TAILQ_NEXT(w, link[k]);
		TAILQ_REMOVE(&q->waiters, w, link[k]);
		w->q[k] = NULL;
		queue_release(q);
	}
}

/* walk_add - the walk tries q's waiters, from its head */
static void
walk_add(struct park_queue *q)
{
	if (q == NULL)
		return;
	q->next = TAILQ_FIRST(&q->waiters);
	if (!q->walked) {
		q->walked = 1;
		TAILQ_INSERT_TAIL(&park_walk, q, walk_link);
	}
}

/* walk_first - the earliest waiter the walk has yet to try, or NULL */
static struct park_waiter *
walk_first(void)
{
	struct park_waiter *w = NULL;
	struct park_queue *q;

	TAILQ_FOREACH(q, &park_walk, walk_link)
		if (q->next && (w == NULL || q->next->seq < w->seq))
			w = q->next;
	return w;
}

/* walk_past - w is tried now: no queue of the walk tries it again */
static void
walk_past(struct park_waiter *w)
{
	struct park_queue *q;

	TAILQ_FOREACH(q, &park_walk, walk_link)
		if (q->next == w)
			q->next = TAILQ_NEXT(w, link[q->kind]);
}

/* walk_run - try each waiter of the walk's queues once, in arrival order */
static void
walk_run(void)
{
	struct park_waiter *w;
	struct park_queue *q;

	while ((w = walk_first()) != NULL) {
		walk_past(w);
		/* can end anything, and wake (walk_add) */
		if (w->wake)
			w->wake(w);
		else
			park_try(w);
	}
	while ((q = TAILQ_FIRST(&park_walk)) != NULL) {
		TAILQ_REMOVE(&park_walk, q, walk_link);
		q->walked = 0;
		q->next = NULL;
		queue_release(q);
	}
}

/* walk - wake queues a and b (NULL: none), or add them to the walk */
static void
walk(struct park_queue *a, struct park_queue *b)
{
	int under_way = !TAILQ_EMPTY(&park_walk);

	walk_add(a);
	walk_add(b);
	if (!under_way)
		walk_run();
}

/* park_wake - limits changed for an account and an address ("": none) */
void
park_wake(const char *account, const char *addr)
{
	struct park_queue *a = queue_find(PARK_ACCOUNT, account);
	struct park_queue *b = queue_find(PARK_ADDR, addr);

	if (a || b)
		walk(a, b);
}

/* park_wake_all - anything may have changed: every waiter tries again */
void
park_wake_all(void)
{
	walk(&park_all, NULL);
}

/* park_shutdown - stop polling */
void
park_shutdown(void)
{
	ev_timer_stop(&park_timer);
}
