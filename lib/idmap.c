/*++
/* NAME
/*	idmap 3
/* SUMMARY
/*	request id to pointer map
/* DESCRIPTION
/*	A hash table (htab 3) from request ids to requests. idmap_pop()
/*	removes and returns any one entry, for draining the map when a
/*	connection is lost. Ids are unique within one map; putting an id
/*	twice is a caller bug.
/*
/*	idmap_iter_init() and idmap_next() walk the map, giving each id
/*	and value once; the entry just returned may be deleted before
/*	the next call, no other, and nothing may be put meanwhile.
/*
/*	Some ids come from peers (an smtpd's process id): buckets are
/*	picked by a keyed hash (keyedhash 3), so that no choice of ids
/*	makes one chain as long as the map.
/*--*/
#include <stdlib.h>

#include "htab.h"
#include "idmap.h"
#include "util.h"

struct idmap_entry {
	struct htab_link link;
	unsigned	 id;
	void		*val;
};

#define IDMAP_ENTRY(l)	HTAB_ENTRY((l), struct idmap_entry, link)

/* idmap_match - the entry holds this id */
static int
idmap_match(const struct htab_link *l, const void *key)
{
	return HTAB_ENTRY(l, const struct idmap_entry, link)->id ==
	    *(const unsigned *)key;
}

/* idmap_init - empty map */
void
idmap_init(struct idmap *m)
{
	htab_init(&m->tab, 64, htab_hash_u32, idmap_match);
}

/* idmap_put - add id -> val */
void
idmap_put(struct idmap *m, unsigned id, void *val)
{
	struct idmap_entry *e = xmalloc(sizeof(*e));

	e->id = id;
	e->val = val;
	htab_insert(&m->tab, &e->link, &e->id);
}

/* idmap_get - value for id, or NULL */
void *
idmap_get(const struct idmap *m, unsigned id)
{
	struct htab_link *l = htab_find(&m->tab, &id);

	return l ? IDMAP_ENTRY(l)->val : NULL;
}

/* idmap_release - free a taken entry, returning its value */
static void *
idmap_release(struct htab_link *l)
{
	struct idmap_entry *e;
	void *val;

	if (l == NULL)
		return NULL;
	e = IDMAP_ENTRY(l);
	val = e->val;
	free(e);
	return val;
}

/* idmap_del - remove id; returns its value or NULL */
void *
idmap_del(struct idmap *m, unsigned id)
{
	return idmap_release(htab_take(&m->tab, &id));
}

/* idmap_pop - remove any one entry; NULL when empty */
void *
idmap_pop(struct idmap *m)
{
	struct htab_iter it;
	struct htab_link *l;

	if (m->tab.count == 0)
		return NULL;
	htab_iter_init(&it, &m->tab);
	if ((l = htab_iter_next(&it)) == NULL)
		return NULL;
	htab_remove(&m->tab, l);
	return idmap_release(l);
}

/* idmap_count - entries in the map */
size_t
idmap_count(const struct idmap *m)
{
	return m->tab.count;
}

/* idmap_iter_init - start a walk over the map */
void
idmap_iter_init(struct idmap_iter *it, const struct idmap *m)
{
	htab_iter_init(&it->it, &m->tab);
}

/* idmap_next - the next value and its id; NULL at the end */
void *
idmap_next(struct idmap_iter *it, unsigned *id)
{
	struct htab_link *l = htab_iter_next(&it->it);

	if (l == NULL)
		return NULL;
	*id = IDMAP_ENTRY(l)->id;
	return IDMAP_ENTRY(l)->val;
}

/* idmap_free - release the table (not the values) */
void
idmap_free(struct idmap *m)
{
	while (idmap_pop(m))
		;
	htab_free(&m->tab);
}
