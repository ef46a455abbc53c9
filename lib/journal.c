/*++
/* NAME
/*	journal 3
/* SUMMARY
/*	changes kept while a server is away, in order, bounded
/* DESCRIPTION
/*	The shared state (shared 3) keeps here the changes Redis has not
/*	applied, in their wire form, to send them when it is back. A
/*	journal holds two kinds, each in its own order: changes to the
/*	limits (JOURNAL_CHANGES) and recent attempts (JOURNAL_RECORDS).
/*	journal_next() gives back the oldest of the first kind that has
/*	one: every change to the limits goes before any record.
/*
/*	journal_put() keeps an item at the tail of its kind (a new
/*	change) or at its head (one that was the oldest and could not
/*	be sent). A kind holds at most max items: past that the oldest
/*	of the kind is taken out first and returned, for the caller to
/*	count and free; the other kind is untouched. journal_prepend()
/*	puts all of another journal's items, in their order, before
/*	this one's (changes sent that may have been lost are older than
/*	those kept since): nothing is dropped there, even past max.
/*
/*	The journal takes the items it is given and gives them up when
/*	it returns them. What it holds names users: journal_clear() and
/*	journal_item_free() wipe the bytes they free.
/*--*/
#include <stdlib.h>

#include "journal.h"
#include "util.h"

struct journal_rec {
	struct journal_rec *next;
	struct journal_item item;
};

/* journal_take - the oldest item of a kind, taken out; data NULL: none */
struct journal_item
journal_take(struct journal *j, int kind)
{
	struct journal_queue *q = &j->q[kind];
	struct journal_rec *r = q->head;
	struct journal_item it = {NULL, 0};

	if (r == NULL)
		return it;
	if ((q->head = r->next) == NULL)
		q->tail = NULL;
	q->count--;
	it = r->item;
	free(r);
	return it;
}

/*
 * journal_put - keep an item (taken) at the tail or head of its kind.
 * Returns the oldest of the kind, taken out to make room when the kind
 * held max items already; data NULL when nothing was.
 */
struct journal_item
journal_put(struct journal *j, int kind, struct journal_item it, int where)
{
	struct journal_queue *q = &j->q[kind];
	struct journal_item gone = {NULL, 0};
	struct journal_rec *r;

	if (q->count >= j->max)
		gone = journal_take(j, kind);
	r = xmalloc(sizeof(*r));
	r->item = it;
	r->next = NULL;
	if (q->head == NULL)
		q->head = q->tail = r;
	else if (where == JOURNAL_HEAD) {
		r->next = q->head;
		q->head = r;
	} else {
		q->tail->next = r;
		q->tail = r;
	}
	q->count++;
	return gone;
}

/* journal_next - the oldest item, of the first kind that has one */
struct journal_item
journal_next(struct journal *j, int *kind)
{
	struct journal_item it = {NULL, 0};
	int k;

	for (k = 0; k < JOURNAL_KINDS && it.data == NULL; k++)
		if ((it = journal_take(j, k)).data != NULL)
			*kind = k;
	return it;
}

/* journal_prepend - older's items before j's, each kind in its order */
void
journal_prepend(struct journal *j, struct journal *older)
{
	struct journal_queue *q, *o;
	int k;

	for (k = 0; k < JOURNAL_KINDS; k++) {
		q = &j->q[k];
		o = &older->q[k];
		if (o->head == NULL)
			continue;
		o->tail->next = q->head;
		if (q->head == NULL)
			q->tail = o->tail;
		q->head = o->head;
		q->count += o->count;
		o->head = o->tail = NULL;
		o->count = 0;
	}
}

/* journal_count - items kept of one kind */
size_t
journal_count(const struct journal *j, int kind)
{
	return j->q[kind].count;
}

/* journal_size - items kept, of both kinds */
size_t
journal_size(const struct journal *j)
{
	return j->q[JOURNAL_CHANGES].count + j->q[JOURNAL_RECORDS].count;
}

/* journal_item_free - an item's bytes, wiped */
void
journal_item_free(struct journal_item it)
{
	if (it.data)
		wipe_free(it.data, it.len);
}

/* journal_clear - every item, wiped: the journal is empty */
void
journal_clear(struct journal *j)
{
	struct journal_item it;
	int k;

	while ((it = journal_next(j, &k)).data != NULL)
		journal_item_free(it);
}
