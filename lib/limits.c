/*++
/* NAME
/*	limits 3
/* SUMMARY
/*	failure windows, lockouts and familiar addresses
/* DESCRIPTION
/*	Pure bookkeeping, with the time passed in: no I/O, no clock.
/*
/*	Two trackers, one for accounts (login name, lower case) and one
/*	for client addresses (limits_addr_key(): IPv4 /32 and IPv6 /64
/*	by default, of the address's canonical form, netaddr_canon(), so
/*	that ::ffff:192.0.2.7 is counted as 192.0.2.7/32; a zone such as
/*	"%eth0" names the local interface, not the client, and is not part
/*	of the key). Each entry keeps the failures of its sliding window
/*	as a ring of up to limit.n records (time, keyed password
/*	fingerprint, the other side; allocated as failures come, since
/*	most entries see one or two), so that the window slides by the
/*	second and never resets at a bucket edge. A wrong password already in the
/*	window is not counted again: a device with an old password
/*	counts once ("stale"), while many distinct passwords for one
/*	account, or many accounts from one address, are "guessing".
/*
/*	Reaching the limit locks the entry for lockout_time, doubled on
/*	each further lockout up to lockout_max; the window starts over.
/*	Attempts are checked before they are forwarded and reserve a
/*	place ("in flight"): when the failures in the window plus those
/*	in flight reach the limit, later attempts wait (LV_WAIT) until
/*	an outcome is known, so the attempt after the limit never reaches
/*	the password database, however many arrive at once.
/*
/*	An address that logged in to an account within familiar_ttl is
/*	familiar: the account's lockout does not apply to it (it is
/*	still held to its own address limit), so an attacker cannot lock
/*	a user out of their usual device.
/*
/*	Entries are found in a hash table (htab 3) by a keyed hash of
/*	their key (keyedhash 3, a random key per process), so that no
/*	client can choose names that share a bucket.
/*
/*	limits_hash() is another thing: a stable 32-bit name of an
/*	account or address key ("who" in failure records and familiar
/*	addresses), the same on every server that shares state and
/*	across restarts, never used to pick a bucket. It is keyed too:
/*	SipHash-2-4 under a key that limits_set_who_key() derives from
/*	the fingerprint key (HMAC-SHA256 of "authguard" NUL "who", its
/*	first 16 bytes), which every server sharing state holds.
/*	Unkeyed, someone who knows a user's usual address key and holds
/*	many networks (an IPv6 /32 has 2^32 /64s) could compute one
/*	whose name equals it, and be taken for the familiar address;
/*	keyed, a match can only be found by trying logins, one network
/*	at a time, about 2^29 of them. Until limits_set_who_key() is
/*	called (and after limits_set_who_key(NULL, 0)) the key is a fixed
/*	one, for tests.
/*
/*	Memory is bounded: each tracker holds at most max_tracked
/*	entries and evicts the least recently used, taking locked and
/*	familiar entries only when nothing else is left. Entries with
/*	attempts in flight are never evicted (their reservations would be
/*	lost): they sit on a list of their own, so that eviction costs
/*	O(1) however many are in flight, and the tracker may exceed its
/*	cap by the attempts in flight until they end.
/*--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authlimits.h"
#include "htab.h"
#include "keyedhash.h"
#include "msg.h"
#include "netaddr.h"
#include "util.h"

/* The key of limits_hash(): a fixed one until limits_set_who_key(). */
static const unsigned char who_fixed[SIPHASH_KEY_LEN] = {
	0x61, 0x75, 0x74, 0x68, 0x67, 0x75, 0x61, 0x72,	/* "authguard-who-00" */
	0x64, 0x2d, 0x77, 0x68, 0x6f, 0x2d, 0x30, 0x30,
};
static unsigned char who_set[SIPHASH_KEY_LEN];
static const unsigned char *who_key = who_fixed;

/*
 * limits_set_who_key - key limits_hash() from the fingerprint key;
 * NULL: back to the fixed key (tests)
 */
void
limits_set_who_key(const unsigned char *key, size_t len)
{
	static const char label[] = "authguard\0who";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (key == NULL) {
		wipe(who_set, sizeof(who_set));
		who_key = who_fixed;
		return;
	}
	if (HMAC(EVP_sha256(), key, (int)len, (const unsigned char *)label,
	    sizeof(label) - 1, mac, &n) == NULL || n < sizeof(who_set))
		msg_fatal("HMAC-SHA256 failed");
	memcpy(who_set, mac, sizeof(who_set));
	wipe(mac, sizeof(mac));
	who_key = who_set;
}

/* limits_hash - keyed 32-bit name of a string, never 0: not a bucket */
uint32_t
limits_hash(const char *s)
{
	uint32_t h = (uint32_t)siphash24(who_key, s, strlen(s));

	return h ? h : 1;
}

/* limits_addr_key - the network an address is counted under */
int
limits_addr_key(const char *ip, unsigned v4_prefix, unsigned v6_prefix,
    char *out, size_t len)
{
	unsigned char b[16];
	char canon[NETADDR_CANON_MAX], text[INET6_ADDRSTRLEN];
	unsigned bits, i;
	int v4, n;

	if (ip == NULL || netaddr_canon(ip, canon, sizeof(canon)) != canon)
		return -1;
	canon[strcspn(canon, "%")] = 0;		/* the zone: a local name */
	if ((v4 = inet_pton(AF_INET, canon, b)) != 1 &&
	    inet_pton(AF_INET6, canon, b) != 1)
		return -1;
	bits = v4 ? v4_prefix : v6_prefix;
	for (i = 0; i < (v4 ? 4u : 16u); i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			b[i] &= (unsigned char)(0xff << (8 - bits));
			bits = 0;
		}
	}
	inet_ntop(v4 ? AF_INET : AF_INET6, b, text, sizeof(text));
	n = snprintf(out, len, "%s/%u", text, v4 ? v4_prefix : v6_prefix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* lru_unlink - take an entry off its list */
static void
lru_unlink(struct track *t)
{
	t->lprev->lnext = t->lnext;
	t->lnext->lprev = t->lprev;
}

/* lru_push - put an entry at the head of a list */
static void
lru_push(struct tracker *tr, struct track *t, int list)
{
	struct track *head = &tr->lru[list];

	t->list = (uint8_t)list;
	t->lnext = head->lnext;
	t->lprev = head;
	head->lnext->lprev = t;
	head->lnext = t;
}

/* track_list - busy entries are never evicted, protected ones last */
static int
track_list(const struct track *t, uint32_t now)
{
	if (t->inflight > 0)
		return LRU_BUSY;
	if (t->nfam > 0 || t->locked_until > now)
		return LRU_PROTECTED;
	return LRU_PLAIN;
}

/* tracker_touch - most recently used, on the right list */
static void
tracker_touch(struct tracker *tr, struct track *t, uint32_t now)
{
	lru_unlink(t);
	lru_push(tr, t, track_list(t, now));
}

/* track_match - the entry holds this key */
static int
track_match(const struct htab_link *l, const void *key)
{
	return strcmp(HTAB_ENTRY(l, const struct track, link)->key, key) == 0;
}

/* tracker_init - empty tracker */
static void
tracker_init(struct tracker *tr, const struct limit *lim, size_t max)
{
	int i;

	memset(tr, 0, sizeof(*tr));
	htab_init(&tr->tab, 1024, htab_hash_str, track_match);
	tr->max = max ? max : 1;
	tr->lim = *lim;
	for (i = 0; i < LRU_LISTS; i++)
		tr->lru[i].lnext = tr->lru[i].lprev = &tr->lru[i];
}

/* track_free - release one entry */
static void
track_free(struct track *t)
{
	free(t->fails);
	free(t->fam);
	free(t);
}

/* tracker_remove - unlink from hash and list, free */
static void
tracker_remove(struct tracker *tr, struct track *t)
{
	htab_remove(&tr->tab, &t->link);
	lru_unlink(t);
	tr->count--;
	track_free(t);
}

/*
 * tracker_evict - make room: least recently used, unprotected first,
 * never a busy entry. Returns 0 when nothing could go.
 */
static int
tracker_evict(struct tracker *tr)
{
	int list;

	for (list = LRU_PLAIN; list < LRU_BUSY; list++)
		if (tr->lru[list].lprev != &tr->lru[list]) {
			tr->evicted++;
			tracker_remove(tr, tr->lru[list].lprev);
			return 1;
		}
	return 0;
}

/* limits_find - an entry, or NULL */
struct track *
limits_find(struct tracker *tr, const char *key)
{
	struct htab_link *l = htab_find(&tr->tab, key);

	return l ? HTAB_ENTRY(l, struct track, link) : NULL;
}

/* limits_get - an entry, created (evicting if full) when missing */
struct track *
limits_get(struct tracker *tr, const char *key, uint32_t now)
{
	struct track *t = limits_find(tr, key);
	size_t len;

	if (t) {
		tracker_touch(tr, t, now);
		return t;
	}
	while (tr->count >= tr->max && tr->count > 0 && tracker_evict(tr))
		;
	len = strlen(key);
	t = xcalloc(1, sizeof(*t) + len + 1);
	memcpy(t->key, key, len + 1);
	htab_insert(&tr->tab, &t->link, t->key);
	lru_push(tr, t, 0);
	tr->count++;
	return t;
}

/* in_window - a record still counts */
static int
in_window(const struct tracker *tr, const struct fail_rec *f, uint32_t now)
{
	return f->t + tr->lim.secs > now;
}

/* limits_window_count - failures in the window */
unsigned
limits_window_count(const struct tracker *tr, const struct track *t,
    uint32_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < t->nfail; i++)
		n += in_window(tr, &t->fails[i], now);
	return n;
}

/* limits_window_span - failures in the window, and the first one's time */
unsigned
limits_window_span(const struct tracker *tr, const struct track *t,
    uint32_t now, uint32_t *first)
{
	unsigned i, n = 0;

	for (i = 0; i < t->nfail; i++) {
		if (!in_window(tr, &t->fails[i], now))
			continue;
		if (n++ == 0 || t->fails[i].t < *first)
			*first = t->fails[i].t;
	}
	return n;
}

/* track_find_fp - a record with this fingerprint in the window, or NULL */
static struct fail_rec *
track_find_fp(const struct tracker *tr, struct track *t, uint32_t fp,
    uint32_t now)
{
	unsigned i;

	if (fp == 0)
		return NULL;
	for (i = 0; i < t->nfail; i++)
		if (t->fails[i].fp == fp && in_window(tr, &t->fails[i], now))
			return &t->fails[i];
	return NULL;
}

/* track_distinct - distinct fingerprints (by_who: other sides) in window */
static unsigned
track_distinct(const struct tracker *tr, const struct track *t, int by_who,
    uint32_t now)
{
	unsigned i, j, n = 0;
	uint32_t vi, vj;

	for (i = 0; i < t->nfail; i++) {
		vi = by_who ? t->fails[i].who : t->fails[i].fp;
		if (!in_window(tr, &t->fails[i], now) || vi == 0)
			continue;
		for (j = 0; j < i; j++) {
			vj = by_who ? t->fails[j].who : t->fails[j].fp;
			if (vj == vi && in_window(tr, &t->fails[j], now))
				break;
		}
		n += j == i;
	}
	return n;
}

/*
 * fails_room - grow the ring towards limit.n: most entries (a spray's,
 * a typo's) never see more than one or two failures.
 */
static void
fails_room(struct tracker *tr, struct track *t)
{
	unsigned cap;

	if (t->nfail < t->fcap || t->fcap >= tr->lim.n)
		return;
	cap = t->fcap ? t->fcap * 2u : 2u;
	if (cap > tr->lim.n)
		cap = tr->lim.n;
	t->fails = xrealloc(t->fails, cap * sizeof(*t->fails));
	t->fcap = (uint8_t)cap;
}

/* slot_time - the time of record i of an array of records */
static uint32_t
slot_time(const void *v, size_t size, size_t t_off, unsigned i)
{
	uint32_t t;

	memcpy(&t, (const char *)v + i * size + t_off, sizeof(t));
	return t;
}

/*
 * slot_take - where a new record goes in an array of *n records with
 * room for cap: the next free slot (counted in *n), or when full the
 * one with the oldest time (the uint32_t at t_off)
 */
static unsigned
slot_take(const void *v, size_t size, size_t t_off, uint8_t *n, unsigned cap)
{
	unsigned i, oldest = 0;

	if (*n < cap)
		return (*n)++;
	for (i = 1; i < *n; i++)
		if (slot_time(v, size, t_off, i) <
		    slot_time(v, size, t_off, oldest))
			oldest = i;
	return oldest;
}

#define SLOT_TAKE(v, type, n, cap) \
	slot_take((v), sizeof(type), offsetof(type, t), &(n), (cap))

/* limits_add_fail - record a failure, replacing the oldest when full */
void
limits_add_fail(struct tracker *tr, struct track *t, uint32_t when,
    uint32_t fp, uint32_t who)
{
	unsigned i;

	fails_room(tr, t);
	i = SLOT_TAKE(t->fails, struct fail_rec, t->nfail, t->fcap);
	t->fails[i].t = when;
	t->fails[i].fp = fp;
	t->fails[i].who = who;
}

/* limits_clear - forget the window */
void
limits_clear(struct tracker *tr, struct track *t, uint32_t now)
{
	t->nfail = 0;
	tracker_touch(tr, t, now);
}

/* limits_is_locked - locked now? */
int
limits_is_locked(const struct track *t, uint32_t now)
{
	return t->locked_until > now;
}

/* limits_set_lock - lock until a time, at a level */
void
limits_set_lock(struct tracker *tr, struct track *t, uint32_t until,
    unsigned level, uint32_t when, uint32_t now)
{
	t->locked_until = until;
	t->lock_level = (uint8_t)(level > 30 ? 30 : level);
	t->last_lock = when;
	t->nfail = 0;
	tracker_touch(tr, t, now);
}

/*
 * limits_level - the lock level that still counts: none once the entry
 * has been quiet for twice lockout_max (for a lock set by hand, so that
 * it does not bring back a level that had lapsed)
 */
unsigned
limits_level(const struct limits *l, const struct track *t, uint32_t now)
{
	if (t->last_lock && now - t->last_lock > 2ULL * l->cfg.lockout_max)
		return 0;		/* quiet for long enough: start over */
	return t->lock_level;
}

/*
 * lock_entry - the limit was reached: lock, longer each time. A lock
 * already running past the new one (the admin's, or a longer one that
 * failures in flight reach again) is never shortened.
 */
static uint32_t
lock_entry(struct limits *l, struct tracker *tr, struct track *t, uint32_t now)
{
	unsigned level = limits_level(l, t, now);
	unsigned long long secs;
	uint32_t until;

	secs = (unsigned long long)l->cfg.lockout_time << (level < 30 ? level : 30);
	if (secs > l->cfg.lockout_max)
		secs = l->cfg.lockout_max;
	until = now + (uint32_t)secs;
	if (t->locked_until > until)
		until = t->locked_until;
	limits_set_lock(tr, t, until, level + 1, now, now);
	return t->locked_until;
}

/* limits_init - empty state */
void
limits_init(struct limits *l, const struct limits_config *cfg)
{
	l->cfg = *cfg;
	tracker_init(&l->acct, &cfg->account, cfg->max_tracked);
	tracker_init(&l->addr, &cfg->address, cfg->max_tracked);
}

/*
 * limits_reconfigure - new limits, keeping every entry. A smaller cap
 * evicts as entries are added; a smaller limit.n keeps the records an
 * entry has (it counts them all, so it locks no later than before).
 */
void
limits_reconfigure(struct limits *l, const struct limits_config *cfg)
{
	l->cfg = *cfg;
	l->acct.lim = cfg->account;
	l->addr.lim = cfg->address;
	l->acct.max = l->addr.max = cfg->max_tracked ? cfg->max_tracked : 1;
}

/* tracker_free - release every entry */
static void
tracker_free(struct tracker *tr)
{
	int list;

	for (list = 0; list < LRU_LISTS; list++)
		while (tr->lru[list].lnext != &tr->lru[list])
			tracker_remove(tr, tr->lru[list].lnext);
	htab_free(&tr->tab);
}

/* limits_free - release everything */
void
limits_free(struct limits *l)
{
	tracker_free(&l->acct);
	tracker_free(&l->addr);
}

/* track_familiar - did who log in to this account within the ttl? */
static int
track_familiar(const struct limits *l, const struct track *t, uint32_t who,
    uint32_t now)
{
	unsigned i;

	for (i = 0; i < t->nfam; i++)
		if (t->fam[i].who == who && t->fam[i].t + l->cfg.familiar_ttl >
		    now)
			return 1;
	return 0;
}

/* limits_familiar - by names, for the CLI and tests */
int
limits_familiar(const struct limits *l, const char *account, const char *addr,
    uint32_t now)
{
	struct track *t = limits_find((struct tracker *)&l->acct, account);

	return t && track_familiar(l, t, limits_hash(addr), now);
}

/*
 * limits_known - did the account log in, from anywhere, within the ttl?
 * (an account nobody has shown to exist gets no mail from us)
 */
int
limits_known(const struct limits *l, const char *account, uint32_t now)
{
	struct track *t = limits_find((struct tracker *)&l->acct, account);
	unsigned i;

	for (i = 0; t && i < t->nfam; i++)
		if (t->fam[i].t + l->cfg.familiar_ttl > now)
			return 1;
	return 0;
}

/* limits_add_familiar - remember a successful address (most recent kept) */
void
limits_add_familiar(struct limits *l, struct track *t, uint32_t who,
    uint32_t when)
{
	unsigned i;

	if (t->fam == NULL)
		t->fam = xcalloc(LIMITS_FAMILIAR_MAX, sizeof(*t->fam));
	for (i = 0; i < t->nfam; i++)
		if (t->fam[i].who == who) {
			if (when > t->fam[i].t)
				t->fam[i].t = when;
			return;
		}
	i = SLOT_TAKE(t->fam, struct familiar, t->nfam, LIMITS_FAMILIAR_MAX);
	t->fam[i].who = who;
	t->fam[i].t = when;
	if (t->list == LRU_PLAIN) {	/* familiar: evicted last (state load too) */
		lru_unlink(t);
		lru_push(&l->acct, t, LRU_PROTECTED);
	}
}

/* full - attempts in flight could bring the window to its limit */
static int
full(const struct tracker *tr, struct track *t, uint32_t fp, uint32_t now)
{
	if (t->inflight == 0 || track_find_fp(tr, t, fp, now))
		return 0;	/* nothing to wait for, or a repeat */
	return limits_window_count(tr, t, now) + t->inflight >= tr->lim.n;
}

/* overfull - the window holds the limit already (e.g. the limit was lowered) */
static int
overfull(const struct tracker *tr, const struct track *t, uint32_t now)
{
	return limits_window_count(tr, t, now) >= tr->lim.n;
}

/* acct_applies - is the account's lock and window in play? */
static int
acct_applies(const struct limits *l, const struct limits_query *q,
    struct track *a, uint32_t now)
{
	return a && !q->no_limit && !(q->addr &&
	    track_familiar(l, a, limits_hash(q->addr), now));
}

/* limits_check - may this attempt go ahead? */
enum limits_verdict
limits_check(struct limits *l, const struct limits_query *q, uint32_t now,
    uint32_t *retry_at)
{
	struct track *i, *a;

	*retry_at = 0;
	if (q->exempt)
		return LV_ALLOW;
	i = q->addr ? limits_find(&l->addr, q->addr) : NULL;
	a = q->account ? limits_find(&l->acct, q->account) : NULL;
	if (i && !limits_is_locked(i, now) && overfull(&l->addr, i, now))
		lock_entry(l, &l->addr, i, now);
	if (i && limits_is_locked(i, now)) {
		*retry_at = i->locked_until;
		return LV_IP_BLOCKED;
	}
	if (a && !q->no_limit && !limits_is_locked(a, now) &&
	    overfull(&l->acct, a, now))
		lock_entry(l, &l->acct, a, now);
	if (acct_applies(l, q, a, now) && limits_is_locked(a, now)) {
		*retry_at = a->locked_until;
		return LV_ACCOUNT_LOCKED;
	}
	if (i && full(&l->addr, i, q->fp, now))
		return LV_WAIT;
	if (acct_applies(l, q, a, now) && full(&l->acct, a, q->fp, now))
		return LV_WAIT;
	return LV_ALLOW;
}

/* limits_reserve - count an allowed attempt as in flight */
void
limits_reserve(struct limits *l, const struct limits_query *q, uint32_t now,
    struct limits_ticket *tk)
{
	struct track *t;

	memset(tk, 0, sizeof(*tk));
	if (q->exempt)
		return;
	if (q->addr) {
		t = limits_get(&l->addr, q->addr, now);
		if (!track_find_fp(&l->addr, t, q->fp, now)) {
			t->inflight++;
			tk->addr = 1;
			tracker_touch(&l->addr, t, now);
		}
	}
	if (q->account && !q->no_limit) {
		t = limits_get(&l->acct, q->account, now);
		if (acct_applies(l, q, t, now) &&
		    !track_find_fp(&l->acct, t, q->fp, now)) {
			t->inflight++;
			tk->acct = 1;
			tracker_touch(&l->acct, t, now);
		}
	}
}

/* release_one - one reservation fewer; the last one makes it evictable */
static void
release_one(struct tracker *tr, const char *key, uint32_t now)
{
	struct track *t = limits_find(tr, key);

	if (t && t->inflight && --t->inflight == 0)
		tracker_touch(tr, t, now);
}

/* limits_release - the attempt is no longer in flight */
void
limits_release(struct limits *l, const struct limits_query *q, uint32_t now,
    struct limits_ticket *tk)
{
	if (tk->addr)
		release_one(&l->addr, q->addr, now);
	if (tk->acct)
		release_one(&l->acct, q->account, now);
	tk->addr = tk->acct = 0;
}

/*
 * record - one failure in one tracker. A repeat is not counted again;
 * it returns 1 ("stale") when the earlier one is at least
 * LIMITS_STALE_GAP seconds old: a client trying PLAIN, then LOGIN with
 * the same password a moment later is one mistake, not an old device.
 */
static int
record(struct tracker *tr, struct track *t, uint32_t fp, uint32_t who,
    uint32_t now)
{
	struct fail_rec *f = track_find_fp(tr, t, fp, now);

	if (f)		/* kept at its first time: counts again next window */
		return now - f->t >= LIMITS_STALE_GAP;
	limits_add_fail(tr, t, now, fp, who);
	return 0;
}

/* limits_fail - a failure; the counts say which windows it goes to */
void
limits_fail(struct limits *l, const struct limits_query *q, int count_acct,
    int count_addr, uint32_t now, struct limits_outcome *out)
{
	struct track *t;
	uint32_t acct_who = q->account ? limits_hash(q->account) : 0;
	uint32_t addr_who = q->addr ? limits_hash(q->addr) : 0;

	memset(out, 0, sizeof(*out));
	if (q->exempt)
		return;
	if (count_addr && q->addr) {
		t = limits_get(&l->addr, q->addr, now);
		out->stale |= record(&l->addr, t, q->fp, acct_who, now);
		if (track_distinct(&l->addr, t, 1, now) >= l->cfg.guess_distinct)
			out->guessing = 1;
		if (limits_window_count(&l->addr, t, now) >= l->addr.lim.n)
			out->locked_until = lock_entry(l, &l->addr, t, now);
	}
	if (count_acct && q->account && !q->no_limit) {
		t = limits_get(&l->acct, q->account, now);
		out->stale |= record(&l->acct, t, q->fp, addr_who, now);
		if (track_distinct(&l->acct, t, 0, now) >= l->cfg.guess_distinct)
			out->guessing = 1;
		if (limits_window_count(&l->acct, t, now) >= l->acct.lim.n) {
			out->locked_until = lock_entry(l, &l->acct, t, now);
			out->locked_account = 1;
		}
	}
}

/* limits_pass - a success: the account's window starts over */
void
limits_pass(struct limits *l, const struct limits_query *q, uint32_t now)
{
	struct track *t;

	if (q->account == NULL)
		return;
	t = limits_get(&l->acct, q->account, now);
	t->nfail = 0;
	if (q->addr)
		limits_add_familiar(l, t, limits_hash(q->addr), now);
	tracker_touch(&l->acct, t, now);
}

/* limits_unlock - lift a lock on an account or address key */
int
limits_unlock(struct limits *l, const char *key)
{
	struct track *t;
	int found = 0;

	if ((t = limits_find(&l->acct, key)) != NULL) {
		t->locked_until = 0;
		t->lock_level = 0;
		t->nfail = 0;
		found = 1;
	}
	if ((t = limits_find(&l->addr, key)) != NULL) {
		t->locked_until = 0;
		t->lock_level = 0;
		t->nfail = 0;
		found = 1;
	}
	return found;
}
