/*++
/* NAME
/*	forwarded 3
/* SUMMARY
/*	the refs of AUTH requests the gate forwarded to Dovecot lately
/* SYNOPSIS
/*	#include "forwarded.h"
/*
/*	void forwarded_add(const char *ref, uint64_t now)
/*
/*	int forwarded_has(const char *ref, uint64_t now)
/*
/*	unsigned long forwarded_count(uint64_t now)
/*
/*	void forwarded_clear(void)
/* DESCRIPTION
/*	The gate sends each AUTH it forwards to Dovecot with its ref as
/*	the request's session (session=REF), and Dovecot's auth policy
/*	hook then asks the auth policy door (door 3) about the same
/*	attempt with protocol smtp and that session_id. The gate has
/*	counted it already: the door must not count it again.
/*
/*	forwarded_add() remembers a ref (now: ms, monotonic);
/*	forwarded_has() tells whether a ref was forwarded within the last
/*	FORWARDED_MS. At most FORWARDED_MAX refs are kept, the oldest
/*	forgotten first, in a keyed hash table (htab 3): the door's
/*	peer chooses the session ids it asks about. forwarded_count()
/*	says how many are still current; forwarded_clear() forgets all.
/*--*/
#include <string.h>

#include "forwarded.h"
#include "htab.h"
#include "ref.h"
#include "util.h"

struct fwd {
	struct htab_link hl;
	uint64_t	 at;		/* 0: the slot is free */
	char		 ref[REF_LEN + 1];
};

static struct fwd fwd_ring[FORWARDED_MAX];
static unsigned fwd_next;		/* the slot the next ref takes */
static struct htab fwd_tab;

/* fwd_match - is this the entry of the ref? */
static int
fwd_match(const struct htab_link *l, const void *key)
{
	return strcmp(HTAB_ENTRY(l, struct fwd, hl)->ref, key) == 0;
}

/* fwd_ready - the table, made on first use */
static void
fwd_ready(void)
{
	if (fwd_tab.bucket == NULL)
		htab_init(&fwd_tab, FORWARDED_MAX, htab_hash_str, fwd_match);
}

/* forwarded_add - the gate forwarded the attempt with this ref */
void
forwarded_add(const char *ref, uint64_t now)
{
	struct fwd *f = &fwd_ring[fwd_next];

	fwd_ready();
	if (f->at)
		htab_remove(&fwd_tab, &f->hl);
	if (str_copy(f->ref, sizeof(f->ref), ref) < 0) {
		f->at = 0;
		return;
	}
	f->at = now ? now : 1;
	htab_insert(&fwd_tab, &f->hl, f->ref);
	fwd_next = (fwd_next + 1) % FORWARDED_MAX;
}

/* forwarded_has - was this ref forwarded within FORWARDED_MS? */
int
forwarded_has(const char *ref, uint64_t now)
{
	struct htab_link *l;
	struct fwd *f;

	if (fwd_tab.bucket == NULL || strlen(ref) != REF_LEN ||
	    (l = htab_find(&fwd_tab, ref)) == NULL)
		return 0;
	f = HTAB_ENTRY(l, struct fwd, hl);
	return now < f->at + FORWARDED_MS;
}

/* forwarded_count - refs forwarded within FORWARDED_MS */
unsigned long
forwarded_count(uint64_t now)
{
	unsigned long n = 0;
	unsigned i;

	for (i = 0; i < FORWARDED_MAX; i++)
		if (fwd_ring[i].at && now < fwd_ring[i].at + FORWARDED_MS)
			n++;
	return n;
}

/* forwarded_clear - forget every ref */
void
forwarded_clear(void)
{
	if (fwd_tab.bucket)
		htab_free(&fwd_tab);
	memset(fwd_ring, 0, sizeof(fwd_ring));
	memset(&fwd_tab, 0, sizeof(fwd_tab));
	fwd_next = 0;
}
