/*++
/* NAME
/*	tally 3
/* SUMMARY
/*	failures counted by account, address or cause (top, analyze)
/* DESCRIPTION
/*	One row per key (compared without case: user names, addresses
/*	and cause ids), added when first seen; the caller counts into
/*	it. tally_sort() puts the most failures first (then by key);
/*	tally_dominant() is the most frequent cause of a row's failures,
/*	the first one on a tie.
/*
/*	The keys come from logs and attempts, that is from clients: a
/*	row is found through an index, not by reading every row, so that
/*	many distinct names cost linear time, not quadratic. The index
/*	is an open-addressing table (linear probing) of twice as many
/*	slots as rows allocated, each 0 or a row's number plus one, placed
/*	by keyedhash(3) of the key in lower case (a random key per process:
/*	no one can choose names that share a slot). It lives in the same
/*	allocation, after the rows, so that struct tally keeps the fields
/*	its users initialise; it is built again when the rows grow or are
/*	sorted. It holds the first row of each key. A row keeps a copy of
/*	its key of whatever length: a user name of SASL_FIELD_MAX bytes is
/*	a row of its own like any other.
/*--*/
#include <ctype.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keyedhash.h"
#include "msg.h"
#include "tally.h"
#include "util.h"

#define TALLY_FIRST	64		/* rows at first; a power of two */
#define KEY_ON_STACK	256		/* longer ones lower-cased in the heap */

/* idx_offset - where the index starts, after cap rows */
static size_t
idx_offset(size_t cap)
{
	size_t o = cap * sizeof(struct tally_row), a = alignof(size_t);

	return (o + a - 1) / a * a;
}

/* idx_of - the index: 2 * cap slots */
static size_t *
idx_of(const struct tally *t)
{
	return (size_t *)(void *)((char *)t->v + idx_offset(t->cap));
}

/* key_hash - keyedhash of the key in lower case */
static uint64_t
key_hash(const char *key)
{
	char stack[KEY_ON_STACK], *low = stack;
	size_t i, n = strlen(key);
	uint64_t h;

	if (n >= sizeof(stack))
		low = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[n] = 0;
	h = keyedhash(low, n);
	if (low != stack)
		free(low);
	return h;
}

/* probe - the slot holding key's row, or the empty slot it would take */
static size_t *
probe(const struct tally *t, const char *key, uint64_t h)
{
	size_t *idx = idx_of(t), mask = 2 * t->cap - 1, i = (size_t)h & mask;

	while (idx[i] && strcasecmp(t->v[idx[i] - 1].key, key) != 0)
		i = (i + 1) & mask;
	return &idx[i];
}

/* index_row - put row i in the index, unless an earlier row has its key */
static void
index_row(struct tally *t, size_t i)
{
	size_t *slot = probe(t, t->v[i].key, key_hash(t->v[i].key));

	if (*slot == 0)
		*slot = i + 1;
}

/* reindex - the index of the rows as they are now */
static void
reindex(struct tally *t)
{
	size_t i;

	memset(idx_of(t), 0, 2 * t->cap * sizeof(size_t));
	for (i = 0; i < t->n; i++)
		index_row(t, i);
}

/* grow - twice the rows (and slots) */
static void
grow(struct tally *t)
{
	size_t cap = t->cap ? 2 * t->cap : TALLY_FIRST;

	if (cap > (SIZE_MAX - alignof(size_t)) / (sizeof(struct tally_row) +
	    2 * sizeof(size_t)))
		msg_fatal("tally: too many rows");
	t->v = xrealloc(t->v, idx_offset(cap) + 2 * cap * sizeof(size_t));
	t->cap = cap;
	reindex(t);
}

/* tally_row - the row of a key, added when new */
struct tally_row *
tally_row(struct tally *t, const char *key)
{
	struct tally_row *r;
	size_t *slot;

	if (t->cap && *(slot = probe(t, key, key_hash(key))))
		return &t->v[*slot - 1];
	if (t->n == t->cap)
		grow(t);
	r = &t->v[t->n];
	memset(r, 0, sizeof(*r));
	r->key = xstrdup(key);
	index_row(t, t->n++);
	return r;
}

/* most - more failures first, then by key */
static int
most(const void *a, const void *b)
{
	const struct tally_row *x = a, *y = b;

	if (x->fails != y->fails)
		return x->fails < y->fails ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* tally_sort - most failures first */
void
tally_sort(struct tally *t)
{
	if (t->n > 1) {
		qsort(t->v, t->n, sizeof(*t->v), most);
		reindex(t);
	}
}

/* tally_dominant - the most frequent cause of a row's failures */
enum cause
tally_dominant(const struct tally_row *r)
{
	int i, best = 0;

	for (i = 1; i < CAUSE_COUNT; i++)
		if (r->causes[i] > r->causes[best])
			best = i;
	return (enum cause)best;
}

/* tally_free - release (the rows, their keys and their index) */
void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
