/*++
/* NAME
/*	idmap 3
/* SUMMARY
/*	request id to pointer map
/* DESCRIPTION
/*	A chained hash table from request ids to requests, grown when
/*	it holds more entries than buckets. idmap_pop() removes and
/*	returns any one entry, for draining the map when a connection
/*	is lost. Ids are unique within one map; putting an id twice is
/*	a caller bug.
/*
/*	Some ids come from peers (an smtpd's process id): buckets are
/*	picked by a keyed hash (keyedhash 3), so that no choice of ids
/*	makes one chain as long as the map.
/*--*/
#include <stdlib.h>

#include "idmap.h"
#include "keyedhash.h"
#include "util.h"

#define IDMAP_HASH(id, n)	(keyedhash_u32(id) & ((n) - 1))

/* idmap_init - empty map */
void
idmap_init(struct idmap *m)
{
	keyedhash_init();
	m->nbucket = 64;
	m->bucket = xcalloc(m->nbucket, sizeof(*m->bucket));
	m->count = 0;
}

/* idmap_grow - double the buckets */
static void
idmap_grow(struct idmap *m)
{
	size_t n = m->nbucket * 2, i;
	struct idmap_entry **b = xcalloc(n, sizeof(*b)), *e, *next;

	for (i = 0; i < m->nbucket; i++)
		for (e = m->bucket[i]; e; e = next) {
			next = e->next;
			e->next = b[IDMAP_HASH(e->id, n)];
			b[IDMAP_HASH(e->id, n)] = e;
		}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = n;
}

/* idmap_put - add id -> val */
void
idmap_put(struct idmap *m, unsigned id, void *val)
{
	struct idmap_entry *e = xmalloc(sizeof(*e));
	size_t h;

	if (m->count >= m->nbucket)
		idmap_grow(m);
	h = IDMAP_HASH(id, m->nbucket);
	e->id = id;
	e->val = val;
	e->next = m->bucket[h];
	m->bucket[h] = e;
	m->count++;
}

/* idmap_get - value for id, or NULL */
void *
idmap_get(const struct idmap *m, unsigned id)
{
	struct idmap_entry *e;

	for (e = m->bucket[IDMAP_HASH(id, m->nbucket)]; e; e = e->next)
		if (e->id == id)
			return e->val;
	return NULL;
}

/* idmap_del - remove id; returns its value or NULL */
void *
idmap_del(struct idmap *m, unsigned id)
{
	struct idmap_entry **pp, *e;
	void *val;

	for (pp = &m->bucket[IDMAP_HASH(id, m->nbucket)]; (e = *pp);
	    pp = &e->next)
		if (e->id == id) {
			*pp = e->next;
			val = e->val;
			free(e);
			m->count--;
			return val;
		}
	return NULL;
}

/* idmap_pop - remove any one entry; NULL when empty */
void *
idmap_pop(struct idmap *m)
{
	size_t i;

	if (m->count == 0)
		return NULL;
	for (i = 0; i < m->nbucket; i++)
		if (m->bucket[i])
			return idmap_del(m, m->bucket[i]->id);
	return NULL;
}

/* idmap_free - release the table (not the values) */
void
idmap_free(struct idmap *m)
{
	while (idmap_pop(m))
		;
	free(m->bucket);
	m->bucket = NULL;
}
