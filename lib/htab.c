/*++
/* NAME
/*	htab 3
/* SUMMARY
/*	keyed chained hash table of caller-owned entries
/* SYNOPSIS
/*	#include "htab.h"
/*
/*	void	htab_init(tab, nbucket, hash, match)
/*	void	htab_free(tab)
/*
/*	struct htab_link *htab_find(tab, key)
/*	void	htab_insert(tab, link, key)
/*	void	htab_remove(tab, link)
/*	struct htab_link *htab_take(tab, key)
/*
/*	void	htab_iter_init(it, tab)
/*	struct htab_link *htab_iter_next(it)
/*
/*	size_t	htab_longest(tab)
/*	uint32_t htab_hash_str(key)
/*	uint32_t htab_hash_u32(key)
/* DESCRIPTION
/*	One chained hash table for every map whose keys a peer chooses:
/*	request ids (idmap 3), account and address trackers (limits 3).
/*	Entries belong to the caller and embed a struct htab_link;
/*	HTAB_ENTRY() finds the entry from its link. The table allocates
/*	its bucket array only, so a lookup never allocates and an entry
/*	is in at most one place.
/*
/*	The caller gives, once, the key's hash and a match function (does
/*	this entry hold this key?). Keys are what the caller makes of
/*	them: a string, a number, a struct. Hashes must be keyed
/*	(keyedhash 3), so that no choice of keys makes one chain as long
/*	as the table: htab_hash_str() and htab_hash_u32() are, for string
/*	and unsigned keys. Each link keeps its hash, so that growth does
/*	not hash again and a lookup compares keys only when hashes agree.
/*
/*	htab_init() starts with nbucket buckets (a power of two) and draws
/*	the process's hash key. htab_insert() puts an entry at the head of
/*	its chain, doubling the buckets first when the table holds as many
/*	entries as buckets; the old array is freed (it holds pointers
/*	only). A key is in the table at most once: inserting it twice is
/*	a caller bug. htab_remove() unlinks an entry that is in the table;
/*	htab_take() finds, unlinks and returns the entry for a key, or
/*	NULL. Neither frees the entry. htab_free() frees the buckets, not
/*	the entries: the caller drains the table first.
/*
/*	An iterator walks the entries bucket by bucket, each chain from
/*	its head. The entry htab_iter_next() just returned may be removed
/*	(and freed) before the next call; no other entry may be removed,
/*	and none inserted, while an iterator is in use.
/*
/*	htab_longest() is the longest chain, for tests and benchmarks.
/*--*/
#include <stdlib.h>

#include "htab.h"
#include "keyedhash.h"
#include "msg.h"
#include "util.h"

#define HTAB_SLOT(tab, h)	(&(tab)->bucket[(h) & ((tab)->nbucket - 1)])

/* htab_init - empty table of nbucket buckets (a power of two) */
void
htab_init(struct htab *tab, size_t nbucket, htab_hash_fn hash,
    htab_match_fn match)
{
	if (nbucket == 0 || (nbucket & (nbucket - 1)) != 0)
		msg_panic("htab_init: %zu buckets: not a power of two",
		    nbucket);
	keyedhash_init();
	tab->nbucket = nbucket;
	tab->bucket = xcalloc(nbucket, sizeof(*tab->bucket));
	tab->count = 0;
	tab->hash = hash;
	tab->match = match;
}

/* htab_free - release the buckets (not the entries) */
void
htab_free(struct htab *tab)
{
	free(tab->bucket);
	tab->bucket = NULL;
	tab->nbucket = 0;
	tab->count = 0;
}

/* htab_grow - double the buckets */
static void
htab_grow(struct htab *tab)
{
	size_t n = tab->nbucket * 2, i;
	struct htab_link **b = xcalloc(n, sizeof(*b)), *l, *next;

	for (i = 0; i < tab->nbucket; i++)
		for (l = tab->bucket[i]; l; l = next) {
			next = l->next;
			l->next = b[l->hash & (n - 1)];
			b[l->hash & (n - 1)] = l;
		}
	free(tab->bucket);
	tab->bucket = b;
	tab->nbucket = n;
}

/* htab_find - the entry for a key, or NULL */
struct htab_link *
htab_find(const struct htab *tab, const void *key)
{
	uint32_t h = tab->hash(key);
	struct htab_link *l;

	for (l = *HTAB_SLOT(tab, h); l; l = l->next)
		if (l->hash == h && tab->match(l, key))
			return l;
	return NULL;
}

/* htab_insert - add an entry under its key (not in the table yet) */
void
htab_insert(struct htab *tab, struct htab_link *l, const void *key)
{
	struct htab_link **slot;

	if (tab->count >= tab->nbucket)
		htab_grow(tab);
	l->hash = tab->hash(key);
	slot = HTAB_SLOT(tab, l->hash);
	l->next = *slot;
	*slot = l;
	tab->count++;
}

/* htab_unlink - take the link at *pp out of its chain */
static struct htab_link *
htab_unlink(struct htab *tab, struct htab_link **pp)
{
	struct htab_link *l = *pp;

	*pp = l->next;
	l->next = NULL;
	tab->count--;
	return l;
}

/* htab_remove - unlink an entry that is in the table */
void
htab_remove(struct htab *tab, struct htab_link *l)
{
	struct htab_link **pp;

	for (pp = HTAB_SLOT(tab, l->hash); *pp; pp = &(*pp)->next)
		if (*pp == l) {
			htab_unlink(tab, pp);
			return;
		}
	msg_panic("htab_remove: entry not in the table");
}

/* htab_take - unlink and return the entry for a key, or NULL */
struct htab_link *
htab_take(struct htab *tab, const void *key)
{
	uint32_t h = tab->hash(key);
	struct htab_link **pp;

	for (pp = HTAB_SLOT(tab, h); *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && tab->match(*pp, key))
			return htab_unlink(tab, pp);
	return NULL;
}

/* htab_iter_advance - the next entry from the iterator's bucket on */
static void
htab_iter_advance(struct htab_iter *it)
{
	while (it->next == NULL && it->bucket < it->tab->nbucket)
		it->next = it->tab->bucket[it->bucket++];
}

/* htab_iter_init - start before the first entry */
void
htab_iter_init(struct htab_iter *it, const struct htab *tab)
{
	it->tab = tab;
	it->bucket = 0;
	it->next = NULL;
	htab_iter_advance(it);
}

/* htab_iter_next - the next entry, or NULL at the end */
struct htab_link *
htab_iter_next(struct htab_iter *it)
{
	struct htab_link *l = it->next;

	if (l == NULL)
		return NULL;
	it->next = l->next;
	htab_iter_advance(it);
	return l;
}

/* htab_longest - the longest chain */
size_t
htab_longest(const struct htab *tab)
{
	size_t i, n, most = 0;
	const struct htab_link *l;

	for (i = 0; i < tab->nbucket; i++) {
		for (n = 0, l = tab->bucket[i]; l; l = l->next)
			n++;
		if (n > most)
			most = n;
	}
	return most;
}

/* htab_hash_str - keyed hash of a string key */
uint32_t
htab_hash_str(const void *key)
{
	return (uint32_t)keyedhash_str(key);
}

/* htab_hash_u32 - keyed hash of an unsigned key (its address given) */
uint32_t
htab_hash_u32(const void *key)
{
	return (uint32_t)keyedhash_u32(*(const unsigned *)key);
}
