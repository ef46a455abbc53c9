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
/*--*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tally.h"
#include "util.h"

/* tally_row - the row of a key, added when new */
struct tally_row *
tally_row(struct tally *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].key, key) == 0)
			return &t->v[i];
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	str_copy(t->v[t->n].key, sizeof(t->v[t->n].key), key);
	return &t->v[t->n++];
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
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), most);
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

/* tally_free - release */
void
tally_free(struct tally *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
