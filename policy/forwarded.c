/*++
/* NAME
/*	forwarded 3
/* SUMMARY
/*	the refs of AUTH requests the gate forwarded to Dovecot lately
/* SYNOPSIS
/*	#include "forwarded.h"
/*
/*	void forwarded_add(const char *ref, const char *account,
/*				const char *address, uint64_t now)
/*
/*	int forwarded_has(const char *ref, const char *login,
/*				const char *remote, uint64_t now)
/*
/*	int forwarded_take(const char *ref, const char *login,
/*				const char *remote, uint64_t now)
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
/*	forwarded_add() remembers a ref (now: ms, monotonic) with the
/*	account the gate counted the attempt against (lower-cased, as
/*	enforce 3 does) and the client's address (in canonical form).
/*	forwarded_has() tells whether a ref was forwarded within the last
/*	FORWARDED_MS for this login (compared in lower case) from this
/*	remote address: a ref names one attempt, not a minute of any
/*	login from anywhere. forwarded_take() does the same and forgets
/*	the ref when it matches: Dovecot reports an attempt once, and
/*	may ask to allow it more than once.
/*
/*	At most FORWARDED_MAX refs are kept, the oldest forgotten first,
/*	in a keyed hash table (htab 3): the door's peer chooses the
/*	session ids it asks about. Each entry holds its ref, an account
/*	of up to FORWARDED_ACCOUNT_MAX bytes and an address of up to
/*	NETADDR_CANON_MAX: about 360 bytes, 1.5 MB in all. An attempt
/*	without an account or address, or with a longer account, is
/*	not kept (the door then counts it too: the safe side).
/*	forwarded_count() says how many are still current;
/*	forwarded_clear() forgets all.
/*--*/
#include <string.h>
#include <strings.h>

#include "forwarded.h"
#include "htab.h"
#include "netaddr.h"
#include "ref.h"
#include "util.h"

struct fwd {
	struct htab_link hl;
	uint64_t	 at;		/* 0: the slot is free */
	char		 ref[REF_LEN + 1];
	char		 account[FORWARDED_ACCOUNT_MAX + 1];	/* lower case */
	char		 addr[NETADDR_CANON_MAX];	/* canonical */
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

/* fwd_addr - the canonical form of an address; -1: none or too long */
static int
fwd_addr(const char *in, char *out, size_t len)
{
	char canon[NETADDR_CANON_MAX];

	if (in == NULL || *in == 0)
		return -1;
	return str_copy(out, len, netaddr_canon(in, canon, sizeof(canon)));
}

/* fwd_free_slot - forget the ref in a slot */
static void
fwd_free_slot(struct fwd *f)
{
	if (f->at)
		htab_remove(&fwd_tab, &f->hl);
	f->at = 0;
}

/* forwarded_add - the gate forwarded the attempt with this ref */
void
forwarded_add(const char *ref, const char *account, const char *address,
    uint64_t now)
{
	struct fwd *f = &fwd_ring[fwd_next];
	char addr[NETADDR_CANON_MAX];

	fwd_ready();
	if (account == NULL || *account == 0 || strlen(ref) != REF_LEN ||
	    strlen(account) > FORWARDED_ACCOUNT_MAX ||
	    fwd_addr(address, addr, sizeof(addr)) < 0 ||
	    htab_find(&fwd_tab, ref) != NULL)
		return;
	fwd_free_slot(f);
	memcpy(f->ref, ref, REF_LEN + 1);
	(void) str_copy(f->account, sizeof(f->account), account);
	str_lower(f->account);
	memcpy(f->addr, addr, sizeof(f->addr));
	f->at = now ? now : 1;
	htab_insert(&fwd_tab, &f->hl, f->ref);
	fwd_next = (fwd_next + 1) % FORWARDED_MAX;
}

/* fwd_find - the current entry of a ref for this login and remote */
static struct fwd *
fwd_find(const char *ref, const char *login, const char *remote,
    uint64_t now)
{
	char addr[NETADDR_CANON_MAX];
	struct htab_link *l;
	struct fwd *f;

	if (fwd_tab.bucket == NULL || strlen(ref) != REF_LEN ||
	    (l = htab_find(&fwd_tab, ref)) == NULL)
		return NULL;
	f = HTAB_ENTRY(l, struct fwd, hl);
	if (now >= f->at + FORWARDED_MS || login == NULL ||
	    strcasecmp(f->account, login) != 0 ||
	    fwd_addr(remote, addr, sizeof(addr)) < 0 ||
	    strcmp(f->addr, addr) != 0)
		return NULL;
	return f;
}

/* forwarded_has - was this ref forwarded within FORWARDED_MS, for this? */
int
forwarded_has(const char *ref, const char *login, const char *remote,
    uint64_t now)
{
	return fwd_find(ref, login, remote, now) != NULL;
}

/* forwarded_take - forwarded_has(), and the ref is used up */
int
forwarded_take(const char *ref, const char *login, const char *remote,
    uint64_t now)
{
	struct fwd *f = fwd_find(ref, login, remote, now);

	if (f == NULL)
		return 0;
	fwd_free_slot(f);
	return 1;
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
