/*++
/* NAME
/*	noticewatch 3
/* SUMMARY
/*	when a notice is due, and whether the limits let it go
/* SYNOPSIS
/*	#include "noticewatch.h"
/*
/*	struct notice_watch *notice_watch_new(key, keylen, max_entries)
/*	void	notice_watch_free(w)
/*
/*	int	notice_watch_attempt(w, rules, pass, cause, account, ip, ref,
/*		now, due)
/*	int	notice_watch_lock(w, rules, account, ip, ref, familiar, until,
/*		now, due)
/*
/*	enum notice_admit notice_watch_admit(w, rules, kind, account, now)
/*	void	notice_watch_untell(w, due)
/*	void	notice_watch_restore(w, kind, account, sent_at)
/*	void	notice_watch_sweep(w, rules, now)
/*	size_t	notice_watch_size(w)
/* DESCRIPTION
/*	Pure bookkeeping, with the time passed in (unix seconds): no
/*	clock, no I/O, no global state. The rules (struct notice_rules)
/*	are passed to each call, so that a reload takes effect at once.
/*
/*	notice_watch_attempt() sees one login attempt of account from
/*	ip and returns 1, with *due filled in, when it makes a notice due;
/*	0 otherwise. A kind whose bit (1u << kind) is not in rules->kinds
/*	is never due and keeps no entry (an attempt of a disabled kind
/*	drops what its key held). An empty or NULL account is never due,
/*	and neither is an account, address or ref longer than its field
/*	in struct notice_due (account 255 bytes, address 63, ref REF_LEN):
/*	such an attempt keeps no entry either. Empty and NULL ip and ref
/*	are the same.
/*
/*	pass = 1 is a successful login: it ends the stale-password
/*	episode of (account, ip) and the app-password-required episode
/*	of account (both forgotten), whatever the cause, and is never due
/*	(an address too long to be one still ends the account's episode).
/*
/*	stale-password (cause CAUSE_STALE_PASSWORD): an episode of
/*	(account, ip) keeps first, last and count. An attempt more than
/*	stale_after after last (the gap strictly greater) ends it and
/*	starts a new one at now. The attempt with now - first >=
/*	stale_after makes it due (at once when stale_after is 0); the
/*	episode is then told and is not due again until it ends (the
/*	gap, a pass, a sweep or eviction) and a new one starts.
/*
/*	app-password-required (cause CAUSE_APP_PASSWORD_REQUIRED): an
/*	episode of account; count restarts at 1 when the gap from last
/*	is more than stale_after; due when count reaches repeat (0 counts
/*	as 1), then told as above. The due's ip is this attempt's.
/*
/*	password-guessing (cause CAUSE_PASSWORD_GUESSING): an episode of
/*	account, ended by a gap of more than stale_after as above (a
/*	pass does not end it); its first attempt is due, then it is told:
/*	a brute force against one account is one due notice per episode,
/*	not one per attempt.
/*
/*	notice_watch_lock(): an account was locked from ip until until;
/*	due (kind lock, first = last = now, count 0: not known here) when
/*	the lock kind is on and the address is not familiar.
/*
/*	notice_watch_admit() is asked before a due notice is sent:
/*	NOTICE_LIMITED_ACCOUNT when one of that kind for that account
/*	was recorded less than interval ago; else NOTICE_LIMITED_CAP when
/*	per_hour sends are recorded less than 3,600 s ago; else it records
/*	the send (the (kind, account) time, one place in the hourly cap)
/*	and says NOTICE_GO. An empty or too long account is refused
/*	(NOTICE_LIMITED_ACCOUNT): it is never due. admit does not look
/*	at rules->kinds. notice_watch_restore() records a send read from
/*	the journal, as if admitted at sent_at. notice_watch_untell()
/*	takes back the "told" of a due notice's episode (stale-password,
/*	app-password-required, password-guessing) when the hourly cap
/*	held it: its next attempt is due again, so the owner is told
/*	once the cap has room.
/*
/*	Time that runs backwards is treated as no time passed: every
/*	elapsed time is now - t when now > t, else 0, and the recorded
/*	times (last, a send's time) never move backwards. So a clock
/*	step back neither makes an episode due (nothing underflows) nor
/*	frees a place in the cap or an account's interval: a send
/*	recorded "in the future" counts as just made.
/*
/*	The hourly cap keeps send times in an array of at most L places,
/*	L the largest per_hour an admit has seen, and at least
/*	max_entries once a restore came (the journal may hold more sends
/*	of the last hour than today's per_hour). When it is full the
/*	earliest time gives way, one already out of the 3,600 s (else
/*	admit would have said NOTICE_LIMITED_CAP). A smaller per_hour
/*	after a reload is obeyed at once (the count is compared with
/*	it); a larger one lets the array grow. Times out of the window
/*	are dropped before it grows. Each admit counts the array: O(its
/*	size), at most the sends of the last hour plus one growth step.
/*
/*	Memory is bounded: the episode and send entries together are at
/*	most max_entries (0 counts as 1), looked up in one hash table
/*	(htab 3) under a keyed SipHash-2-4 (keyedhash 3) with the key of
/*	notice_watch_new() (16 bytes are used as they are; another
/*	length is folded into 16; NULL means this process's random
/*	key), since accounts and addresses are peer input. When a new
/*	entry needs room the victim is, in this order: the least recently
/*	recorded send, if its interval has passed (it no longer matters);
/*	else the least recently seen episode (the oldest last while the
/*	clock runs forward); never a send still within interval, as that
/*	would let one (kind, account) be sent twice within interval. When
/*	nothing may go, a new episode is not tracked (no notice for it)
/*	and admit says NOTICE_LIMITED_CAP without recording. A restore,
/*	which knows no interval, takes the least recently seen episode,
/*	else the least recently recorded send unless that one is newer
/*	than the restored one (journal lines come oldest first, so the
/*	newest sends are kept); a restored send that gets no entry still
/*	takes its place in the cap.
/*
/*	The limits are exact while the clock runs forward: at most
/*	per_hour GOs (restored sends counted) in any 3,600 s, and no two
/*	of one (kind, account) closer than the smallest interval in force
/*	between them. After a step back, what a sweep or the cap's array
/*	dropped as spent at the later time stays dropped.
/*
/*	notice_watch_sweep() drops what can no longer matter: episodes
/*	whose last is more than stale_after ago (the next attempt would
/*	start a new one anyway), whatever their told flag; episodes of a
/*	kind that is off; sends at least interval ago; cap times at least
/*	3,600 s ago. notice_watch_size() is the number of episode and
/*	send entries (the cap's array is apart).
/*--*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "htab.h"
#include "keyedhash.h"
#include "notice.h"
#include "noticewatch.h"
#include "ref.h"
#include "util.h"

#define NW_WINDOW	3600		/* the cap's window, seconds */
#define NW_ACCOUNT_MAX	(sizeof(((struct notice_due *)0)->account) - 1)
#define NW_IP_MAX	(sizeof(((struct notice_due *)0)->ip) - 1)
#define NW_REF_MAX	(sizeof(((struct notice_due *)0)->ref) - 1)

/* What an entry is; its list for eviction. */
enum nw_type {
	NW_STALE,			/* episode of (account, ip) */
	NW_APP,				/* episode of account */
	NW_GUESS,			/* guessing episode of account */
	NW_SENT,			/* the last send of (kind, account) */
	NW_TYPES
};

enum nw_list { NW_LIST_EPISODE, NW_LIST_SENT, NW_LISTS };

struct nw_entry {
	struct htab_link link;
	struct nw_entry *prev, *next;	/* its list, most recent first */
	uint8_t		 type;		/* enum nw_type */
	uint8_t		 kind;		/* NW_SENT: enum notice_kind */
	uint8_t		 told;		/* episode: due already */
	uint32_t	 first, last;	/* NW_SENT: last = the send's time */
	unsigned	 count;
	const char	*ip;		/* in key, after the account */
	char		 key[];		/* account NUL ip NUL */
};

/* The key an entry is looked up by. */
struct nw_lookup {
	const struct notice_watch *w;
	enum nw_type	 type;
	unsigned	 kind;
	const char	*account;
	const char	*ip;
};

struct notice_watch {
	unsigned char	 key[SIPHASH_KEY_LEN];
	int		 keyed;		/* 0: the process's key */
	struct htab	 tab;
	struct nw_entry	 list[NW_LISTS];	/* sentinels */
	size_t		 max;
	uint32_t	*ring;		/* send times, for the cap */
	size_t		 nring, ring_alloc, ring_limit;
};

/* nw_elapsed - seconds from t to now; 0 when now is not after t */
static uint32_t
nw_elapsed(uint32_t now, uint32_t t)
{
	return now > t ? now - t : 0;
}

/* nw_kind_on - the rules send this kind */
static int
nw_kind_on(const struct notice_rules *rules, enum notice_kind kind)
{
	return (unsigned)kind < NOTICE_KINDS &&
	    (rules->kinds & (1u << (unsigned)kind)) != 0;
}

/* nw_hash - keyed hash of a lookup key */
static uint32_t
nw_hash(const void *key)
{
	const struct nw_lookup *k = key;
	unsigned char b[2 + NW_ACCOUNT_MAX + 1 + NW_IP_MAX + 1];
	size_t alen = strlen(k->account), ilen = strlen(k->ip);

	b[0] = (unsigned char)k->type;
	b[1] = (unsigned char)k->kind;
	memcpy(b + 2, k->account, alen + 1);
	memcpy(b + 2 + alen + 1, k->ip, ilen);
	if (!k->w->keyed)
		return (uint32_t)keyedhash(b, 2 + alen + 1 + ilen);
	return (uint32_t)siphash24(k->w->key, b, 2 + alen + 1 + ilen);
}

/* nw_match - the entry holds this lookup key */
static int
nw_match(const struct htab_link *l, const void *key)
{
	const struct nw_entry *e = HTAB_ENTRY(l, const struct nw_entry, link);
	const struct nw_lookup *k = key;

	return e->type == k->type && e->kind == k->kind &&
	    strcmp(e->key, k->account) == 0 && strcmp(e->ip, k->ip) == 0;
}

/* nw_fits - an account and address the tables and a due can hold */
static int
nw_fits(const char *account, const char *ip)
{
	return account != NULL && *account != 0 &&
	    strlen(account) <= NW_ACCOUNT_MAX && strlen(ip) <= NW_IP_MAX;
}

/* nw_set_key - the hash key: 16 bytes as given, else folded into 16 */
static void
nw_set_key(struct notice_watch *w, const unsigned char *key, size_t len)
{
	static const unsigned char fold[SIPHASH_KEY_LEN] = "noticewatch-key";
	uint64_t h;
	int i;

	if (key == NULL)
		return;
	w->keyed = 1;
	if (len == SIPHASH_KEY_LEN) {
		memcpy(w->key, key, SIPHASH_KEY_LEN);
		return;
	}
	h = siphash24(fold, key, len);
	for (i = 0; i < 8; i++)
		w->key[i] = (unsigned char)(h >> (8 * i));
	h = siphash24(w->key, key, len);
	for (i = 0; i < 8; i++)
		w->key[8 + i] = (unsigned char)(h >> (8 * i));
}

/* notice_watch_new - empty watch; max_entries bounds the entries */
struct notice_watch *
notice_watch_new(const unsigned char *key, size_t keylen, size_t max_entries)
{
	struct notice_watch *w = xcalloc(1, sizeof(*w));
	int i;

	nw_set_key(w, key, keylen);
	htab_init(&w->tab, 64, nw_hash, nw_match);
	for (i = 0; i < NW_LISTS; i++)
		w->list[i].next = w->list[i].prev = &w->list[i];
	w->max = max_entries ? max_entries : 1;
	return w;
}

/* nw_list_of - the eviction list of an entry */
static struct nw_entry *
nw_list_of(struct notice_watch *w, const struct nw_entry *e)
{
	return &w->list[e->type == NW_SENT ? NW_LIST_SENT : NW_LIST_EPISODE];
}

/* nw_unlink - take an entry off its list */
static void
nw_unlink(struct nw_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

/* nw_push - put an entry at the head of its list */
static void
nw_push(struct notice_watch *w, struct nw_entry *e)
{
	struct nw_entry *head = nw_list_of(w, e);

	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

/* nw_touch - most recently seen */
static void
nw_touch(struct notice_watch *w, struct nw_entry *e)
{
	nw_unlink(e);
	nw_push(w, e);
}

/* nw_remove - out of table and list, freed */
static void
nw_remove(struct notice_watch *w, struct nw_entry *e)
{
	htab_remove(&w->tab, &e->link);
	nw_unlink(e);
	free(e);
}

/* notice_watch_free - release the watch and its entries */
void
notice_watch_free(struct notice_watch *w)
{
	struct htab_iter it;
	struct htab_link *l;

	if (w == NULL)
		return;
	htab_iter_init(&it, &w->tab);
	while ((l = htab_iter_next(&it)) != NULL) {
		htab_remove(&w->tab, l);
		free(HTAB_ENTRY(l, struct nw_entry, link));
	}
	htab_free(&w->tab);
	free(w->ring);
	wipe(w, sizeof(*w));
	free(w);
}

/* nw_find - the entry of a key, or NULL */
static struct nw_entry *
nw_find(struct notice_watch *w, enum nw_type type, unsigned kind,
    const char *account, const char *ip)
{
	struct nw_lookup k = {w, type, kind, account, ip};
	struct htab_link *l = htab_find(&w->tab, &k);

	return l ? HTAB_ENTRY(l, struct nw_entry, link) : NULL;
}

/* nw_oldest - the least recent entry of a list, or NULL */
static struct nw_entry *
nw_oldest(struct notice_watch *w, enum nw_list list)
{
	struct nw_entry *head = &w->list[list];

	return head->prev != head ? head->prev : NULL;
}

/*
 * nw_room - make room for one entry: a send past its interval, else the
 * oldest episode; never a send within interval. 0: no room.
 */
static int
nw_room(struct notice_watch *w, const struct notice_rules *rules,
    uint32_t now)
{
	struct nw_entry *e;

	if (w->tab.count < w->max)
		return 1;
	if ((e = nw_oldest(w, NW_LIST_SENT)) != NULL &&
	    nw_elapsed(now, e->last) >= rules->interval) {
		nw_remove(w, e);
		return 1;
	}
	if ((e = nw_oldest(w, NW_LIST_EPISODE)) != NULL) {
		nw_remove(w, e);
		return 1;
	}
	return 0;
}

/* nw_add - a new entry (room made by the caller) */
static struct nw_entry *
nw_add(struct notice_watch *w, enum nw_type type, unsigned kind,
    const char *account, const char *ip)
{
	size_t alen = strlen(account), ilen = strlen(ip);
	struct nw_entry *e = xcalloc(1, sizeof(*e) + alen + 1 + ilen + 1);
	struct nw_lookup k = {w, type, kind, account, ip};

	memcpy(e->key, account, alen + 1);
	memcpy(e->key + alen + 1, ip, ilen + 1);
	e->ip = e->key + alen + 1;
	e->type = (uint8_t)type;
	e->kind = (uint8_t)kind;
	htab_insert(&w->tab, &e->link, &k);
	nw_push(w, e);
	return e;
}

/* nw_drop - forget the entry of a key, if any */
static void
nw_drop(struct notice_watch *w, enum nw_type type, unsigned kind,
    const char *account, const char *ip)
{
	struct nw_entry *e = nw_find(w, type, kind, account, ip);

	if (e)
		nw_remove(w, e);
}

/* nw_episode - the episode of a key after this attempt, or NULL */
static struct nw_entry *
nw_episode(struct notice_watch *w, const struct notice_rules *rules,
    enum nw_type type, const char *account, const char *ip, uint32_t now)
{
	struct nw_entry *e = nw_find(w, type, 0, account, ip);

	if (e == NULL) {
		if (!nw_room(w, rules, now))
			return NULL;
		e = nw_add(w, type, 0, account, ip);
		e->first = e->last = now;
	} else if (nw_elapsed(now, e->last) > rules->stale_after) {
		e->first = now;		/* a new episode */
		e->count = 0;
		e->told = 0;
	}
	if (now > e->last)
		e->last = now;
	if (e->count < UINT32_MAX)
		e->count++;
	nw_touch(w, e);
	return e;
}

/* nw_due - fill in a due notice */
static int
nw_due(struct notice_due *due, enum notice_kind kind, const char *account,
    const char *ip, const char *ref, uint32_t first, uint32_t last,
    uint32_t until, unsigned count)
{
	memset(due, 0, sizeof(*due));
	due->kind = kind;
	if (str_copy(due->account, sizeof(due->account), account) < 0 ||
	    str_copy(due->ip, sizeof(due->ip), ip) < 0 ||
	    str_copy(due->ref, sizeof(due->ref), ref) < 0)
		return 0;
	due->first = first;
	due->last = last;
	due->until = until;
	due->count = count;
	return 1;
}

/* nw_stale - a stale-password attempt of (account, ip) */
static int
nw_stale(struct notice_watch *w, const struct notice_rules *rules,
    const char *account, const char *ip, const char *ref, uint32_t now,
    struct notice_due *due)
{
	struct nw_entry *e;

	if (!nw_kind_on(rules, NOTICE_STALE_PASSWORD)) {
		nw_drop(w, NW_STALE, 0, account, ip);
		return 0;
	}
	if ((e = nw_episode(w, rules, NW_STALE, account, ip, now)) == NULL ||
	    e->told || nw_elapsed(now, e->first) < rules->stale_after)
		return 0;
	e->told = 1;
	return nw_due(due, NOTICE_STALE_PASSWORD, account, ip, ref, e->first,
	    e->last, 0, e->count);
}

/* nw_app - an app-password-required attempt of account */
static int
nw_app(struct notice_watch *w, const struct notice_rules *rules,
    const char *account, const char *ip, const char *ref, uint32_t now,
    struct notice_due *due)
{
	struct nw_entry *e;

	if (!nw_kind_on(rules, NOTICE_APP_PASSWORD)) {
		nw_drop(w, NW_APP, 0, account, "");
		return 0;
	}
	if ((e = nw_episode(w, rules, NW_APP, account, "", now)) == NULL ||
	    e->told || e->count < (rules->repeat ? rules->repeat : 1))
		return 0;
	e->told = 1;
	return nw_due(due, NOTICE_APP_PASSWORD, account, ip, ref, e->first,
	    e->last, 0, e->count);
}

/*
 * nw_guess - a password-guessing attempt against account: the episode's
 * first is due, the rest of it not (a pass does not end it: the guessing
 * goes on whatever the owner does)
 */
static int
nw_guess(struct notice_watch *w, const struct notice_rules *rules,
    const char *account, const char *ip, const char *ref, uint32_t now,
    struct notice_due *due)
{
	struct nw_entry *e;

	if (!nw_kind_on(rules, NOTICE_GUESSING)) {
		nw_drop(w, NW_GUESS, 0, account, "");
		return 0;
	}
	if ((e = nw_episode(w, rules, NW_GUESS, account, "", now)) == NULL ||
	    e->told)
		return 0;
	e->told = 1;
	return nw_due(due, NOTICE_GUESSING, account, ip, ref, e->first,
	    e->last, 0, e->count);
}

/* notice_watch_attempt - one attempt; 1 and *due when a notice is due */
int
notice_watch_attempt(struct notice_watch *w, const struct notice_rules *rules,
    int pass, enum cause cause, const char *account, const char *ip,
    const char *ref, uint32_t now, struct notice_due *due)
{
	ip = ip ? ip : "";
	ref = ref ? ref : "";
	if (pass && nw_fits(account, "")) {
		nw_drop(w, NW_APP, 0, account, "");
		if (nw_fits(account, ip))
			nw_drop(w, NW_STALE, 0, account, ip);
		return 0;
	}
	if (pass || !nw_fits(account, ip) || strlen(ref) > NW_REF_MAX)
		return 0;
	switch (cause) {
	case CAUSE_STALE_PASSWORD:
		return nw_stale(w, rules, account, ip, ref, now, due);
	case CAUSE_APP_PASSWORD_REQUIRED:
		return nw_app(w, rules, account, ip, ref, now, due);
	case CAUSE_PASSWORD_GUESSING:
		return nw_guess(w, rules, account, ip, ref, now, due);
	default:
		return 0;
	}
}

/*
 * notice_watch_untell - a due notice the hourly cap held: its episode may
 * be due again at its next attempt (the owner is told once the cap has
 * room, not never)
 */
void
notice_watch_untell(struct notice_watch *w, const struct notice_due *due)
{
	struct nw_entry *e = NULL;

	if (due->kind == NOTICE_STALE_PASSWORD)
		e = nw_find(w, NW_STALE, 0, due->account, due->ip);
	else if (due->kind == NOTICE_APP_PASSWORD)
		e = nw_find(w, NW_APP, 0, due->account, "");
	else if (due->kind == NOTICE_GUESSING)
		e = nw_find(w, NW_GUESS, 0, due->account, "");
	if (e)
		e->told = 0;
}

/* notice_watch_lock - an account locked from ip; due when not familiar */
int
notice_watch_lock(struct notice_watch *w, const struct notice_rules *rules,
    const char *account, const char *ip, const char *ref, int familiar,
    uint32_t until, uint32_t now, struct notice_due *due)
{
	ip = ip ? ip : "";
	ref = ref ? ref : "";
	if (familiar || !nw_kind_on(rules, NOTICE_LOCK) ||
	    !nw_fits(account, ip) || strlen(ref) > NW_REF_MAX)
		return 0;
	return nw_due(due, NOTICE_LOCK, account, ip, ref, now, now, until, 0);
}

/* nw_ring_count - cap times less than NW_WINDOW ago */
static size_t
nw_ring_count(const struct notice_watch *w, uint32_t now)
{
	size_t i, n = 0;

	for (i = 0; i < w->nring; i++)
		n += nw_elapsed(now, w->ring[i]) < NW_WINDOW;
	return n;
}

/* nw_ring_compact - drop cap times NW_WINDOW or more before now */
static void
nw_ring_compact(struct notice_watch *w, uint32_t now)
{
	size_t i, n = 0;

	for (i = 0; i < w->nring; i++)
		if (nw_elapsed(now, w->ring[i]) < NW_WINDOW)
			w->ring[n++] = w->ring[i];
	w->nring = n;
}

/* nw_ring_add - one send time; at the limit the earliest gives way */
static void
nw_ring_add(struct notice_watch *w, uint32_t t)
{
	size_t i, min = 0;

	if (w->ring_limit == 0)
		return;
	if (w->nring >= w->ring_limit) {
		for (i = 1; i < w->nring; i++)
			if (w->ring[i] < w->ring[min])
				min = i;
		if (w->ring[min] < t)
			w->ring[min] = t;
		return;
	}
	if (w->nring == w->ring_alloc)
		nw_ring_compact(w, t);
	if (w->nring == w->ring_alloc) {
		w->ring_alloc = w->ring_alloc ? w->ring_alloc * 2 : 16;
		if (w->ring_alloc > w->ring_limit)
			w->ring_alloc = w->ring_limit;
		w->ring = xrealloc(w->ring, w->ring_alloc * sizeof(*w->ring));
	}
	w->ring[w->nring++] = t;
}

/* nw_record - the send of (kind, account) at t, and its cap time */
static void
nw_record(struct notice_watch *w, struct nw_entry *e, enum notice_kind kind,
    const char *account, uint32_t t)
{
	if (e == NULL) {
		e = nw_add(w, NW_SENT, (unsigned)kind, account, "");
		e->first = e->last = t;
	} else if (t > e->last)
		e->last = t;
	nw_touch(w, e);
	nw_ring_add(w, t);
}

/* notice_watch_admit - may a due notice go now? GO records it */
enum notice_admit
notice_watch_admit(struct notice_watch *w, const struct notice_rules *rules,
    enum notice_kind kind, const char *account, uint32_t now)
{
	struct nw_entry *e;

	if (!nw_fits(account, "") || (unsigned)kind >= NOTICE_KINDS)
		return NOTICE_LIMITED_ACCOUNT;
	e = nw_find(w, NW_SENT, (unsigned)kind, account, "");
	if (e && nw_elapsed(now, e->last) < rules->interval)
		return NOTICE_LIMITED_ACCOUNT;
	if (nw_ring_count(w, now) >= rules->per_hour)
		return NOTICE_LIMITED_CAP;
	if (e == NULL && !nw_room(w, rules, now))
		return NOTICE_LIMITED_CAP;
	if (rules->per_hour > w->ring_limit)
		w->ring_limit = rules->per_hour;
	nw_record(w, e, kind, account, now);
	return NOTICE_GO;
}

/* nw_room_restore - room for a restored send: an episode, else a send */
static int
nw_room_restore(struct notice_watch *w, uint32_t sent_at)
{
	struct nw_entry *e;

	if (w->tab.count < w->max)
		return 1;
	if ((e = nw_oldest(w, NW_LIST_EPISODE)) == NULL &&
	    ((e = nw_oldest(w, NW_LIST_SENT)) == NULL || e->last > sent_at))
		return 0;
	nw_remove(w, e);
	return 1;
}

/* notice_watch_restore - a send read from the journal, as if admitted then */
void
notice_watch_restore(struct notice_watch *w, enum notice_kind kind,
    const char *account, uint32_t sent_at)
{
	struct nw_entry *e;

	if (!nw_fits(account, "") || (unsigned)kind >= NOTICE_KINDS)
		return;
	if (w->ring_limit < w->max)
		w->ring_limit = w->max;
	e = nw_find(w, NW_SENT, (unsigned)kind, account, "");
	if (e == NULL && !nw_room_restore(w, sent_at)) {
		nw_ring_add(w, sent_at);
		return;
	}
	nw_record(w, e, kind, account, sent_at);
}

/* nw_spent - an entry that can no longer matter */
static int
nw_spent(const struct nw_entry *e, const struct notice_rules *rules,
    uint32_t now)
{
	switch (e->type) {
	case NW_STALE:
		return !nw_kind_on(rules, NOTICE_STALE_PASSWORD) ||
		    nw_elapsed(now, e->last) > rules->stale_after;
	case NW_APP:
		return !nw_kind_on(rules, NOTICE_APP_PASSWORD) ||
		    nw_elapsed(now, e->last) > rules->stale_after;
	case NW_GUESS:
		return !nw_kind_on(rules, NOTICE_GUESSING) ||
		    nw_elapsed(now, e->last) > rules->stale_after;
	default:
		return nw_elapsed(now, e->last) >= rules->interval;
	}
}

/* notice_watch_sweep - drop what can no longer matter */
void
notice_watch_sweep(struct notice_watch *w, const struct notice_rules *rules,
    uint32_t now)
{
	struct htab_iter it;
	struct htab_link *l;
	struct nw_entry *e;

	htab_iter_init(&it, &w->tab);
	while ((l = htab_iter_next(&it)) != NULL) {
		e = HTAB_ENTRY(l, struct nw_entry, link);
		if (nw_spent(e, rules, now))
			nw_remove(w, e);
	}
	nw_ring_compact(w, now);
}

/* notice_watch_size - episode and send entries */
size_t
notice_watch_size(const struct notice_watch *w)
{
	return w->tab.count;
}
