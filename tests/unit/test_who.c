/*++
/* NAME
/*	test_who 1
/* SUMMARY
/*	unit tests: the keyed names of the other side (limits_hash)
/* DESCRIPTION
/*	Failures and familiar addresses name the other side (an account,
/*	an address key) by limits_hash(), a 32-bit value kept in the state
/*	file and in Redis. Unkeyed (FNV-1a, as before), anyone could compute
/*	an address key whose value equals a user's usual one and be taken
/*	for the familiar address; these tests build such a pair under
/*	FNV-1a, and check that the keyed value depends on the key, that a
/*	familiar address is still recognised under it, and that an older
/*	state file's unkeyed values are dropped when it is read.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "config.h"
#include "history.h"
#include "state.h"
#include "unit.h"

#define PAIR_TRIES	(1u << 18)	/* ~8 FNV-1a collisions expected */

static const unsigned char key_a[32] = "fingerprint key A";
static const unsigned char key_b[32] = "fingerprint key B";

/* setup - 3 failures per 10 minutes for accounts, 5 for addresses */
static void
setup(struct limits *l)
{
	struct limits_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("3/10m", &cfg.account);
	limit_parse("5/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 30 * 86400;
	cfg.guess_distinct = 3;
	cfg.max_tracked = 100;
	limits_init(l, &cfg);
}

/* q - a query */
static struct limits_query
q(const char *acct, const char *addr, uint32_t fp)
{
	struct limits_query r = {acct, addr, fp, 0, 0};

	return r;
}

/* lock_account - three wrong passwords from one address lock acct */
static void
lock_account(struct limits *l, const char *acct, const char *addr,
    uint32_t now)
{
	struct limits_outcome out;
	struct limits_query a;
	uint32_t fp;

	for (fp = 1; fp <= 3; fp++) {
		a = q(acct, addr, fp);
		limits_fail(l, &a, 1, 1, now, &out);
	}
}

/* fnv1a - the former, unkeyed limits_hash() */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h ? h : 1;
}

struct named {
	uint32_t	h;
	uint32_t	i;
};

/* by_hash - qsort order */
static int
by_hash(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return x->h != y->h ? (x->h < y->h ? -1 : 1) : (x->i < y->i ? -1 :
	    x->i > y->i);
}

/* net64 - address key of a /64 in 2001:db8::/32, the i-th of a spread */
static void
net64(uint32_t i, char *out, size_t len)
{
	char ip[64];

	i *= 2654435761u;		/* odd: each i its own /64 */
	snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
	if (limits_addr_key(ip, 32, 64, out, len) < 0)
		*out = 0;
}

/*
 * fnv_pair - two /64s of one /32 whose FNV-1a values agree: what an
 * attacker computes offline, for a victim's usual network, over 2^32.
 */
static int
fnv_pair(char *a, char *b, size_t len)
{
	struct named *v = calloc(PAIR_TRIES, sizeof(*v));
	char key[64];
	uint32_t i;
	int found = 0;

	if (v == NULL)
		return 0;
	for (i = 0; i < PAIR_TRIES; i++) {
		net64(i, key, sizeof(key));
		v[i].h = fnv1a(key);
		v[i].i = i;
	}
	qsort(v, PAIR_TRIES, sizeof(*v), by_hash);
	for (i = 1; i < PAIR_TRIES && !found; i++)
		if (v[i].h == v[i - 1].h) {
			net64(v[i - 1].i, a, len);
			net64(v[i].i, b, len);
			found = *a && *b && strcmp(a, b) != 0;
		}
	free(v);
	return found;
}

/* The value is keyed: it changes with the key, and only with it. */
TEST(who_depends_on_the_key)
{
	const char *addr = "2001:db8:1:2::/64", *acct = "jane@example.com";
	uint32_t fixed, a, a2, b;

	limits_set_who_key(NULL, 0);
	fixed = limits_hash(addr);
	CHECK(fixed == limits_hash(addr));	/* stable, for tests */
	limits_set_who_key(key_a, sizeof(key_a));
	a = limits_hash(addr);
	CHECK(a != fixed && a != fnv1a(addr));
	CHECK(limits_hash(acct) != limits_hash(addr));
	limits_set_who_key(key_b, sizeof(key_b));
	b = limits_hash(addr);
	CHECK(b != a && b != fixed);
	limits_set_who_key(key_a, sizeof(key_a));
	a2 = limits_hash(addr);
	CHECK(a2 == a);			/* the same key, the same value */
	CHECK(limits_hash("") != 0);
	limits_set_who_key(NULL, 0);
	CHECK(limits_hash(addr) == fixed);
}

/* A familiar address passes a locked account under the key it was learned with. */
TEST(who_familiar_under_a_key)
{
	struct limits l;
	struct limits_query a;
	uint32_t retry;
	const char *usual = "2001:db8:1:2::/64", *other = "2001:db8:1:3::/64";

	limits_set_who_key(key_a, sizeof(key_a));
	setup(&l);
	a = q("jane", usual, 0);
	limits_pass(&l, &a, 100);
	lock_account(&l, "jane", "198.51.100.9/32", 110);
	CHECK(limits_familiar(&l, "jane", usual, 120));
	CHECK(!limits_familiar(&l, "jane", other, 120));
	a = q("jane", usual, 9);
	CHECK(limits_check(&l, &a, 120, &retry) == LV_ALLOW);
	a = q("jane", other, 9);
	CHECK(limits_check(&l, &a, 120, &retry) == LV_ACCOUNT_LOCKED);
	/* under another key the value learned is not this address's */
	limits_set_who_key(key_b, sizeof(key_b));
	CHECK(!limits_familiar(&l, "jane", usual, 120));
	a = q("jane", usual, 9);
	CHECK(limits_check(&l, &a, 120, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
	limits_set_who_key(NULL, 0);
}

/*
 * Two networks whose unkeyed values agree: under FNV-1a the second
 * would be the first's familiar address; keyed, it is not.
 */
TEST(who_unkeyed_pair_is_not_familiar)
{
	struct limits l;
	struct limits_query a;
	uint32_t retry;
	char usual[64], attacker[64];

	CHECK(fnv_pair(usual, attacker, sizeof(usual)));
	CHECK(fnv1a(usual) == fnv1a(attacker));
	limits_set_who_key(key_a, sizeof(key_a));
	CHECK(limits_hash(usual) != limits_hash(attacker));
	setup(&l);
	a = q("jane", usual, 0);
	limits_pass(&l, &a, 100);
	lock_account(&l, "jane", "198.51.100.9/32", 110);
	CHECK(limits_familiar(&l, "jane", usual, 120));
	CHECK(!limits_familiar(&l, "jane", attacker, 120));
	a = q("jane", attacker, 9);
	CHECK(limits_check(&l, &a, 120, &retry) == LV_ACCOUNT_LOCKED);
	limits_free(&l);
	limits_set_who_key(NULL, 0);
}

/* load - a state file's text into fresh limits; returns the loader */
static struct state_loader
load(struct limits *l, struct history *h, char *text, uint32_t now)
{
	struct state_loader ld;
	char *line, *save = NULL;

	setup(l);
	history_init(h, 4);
	state_loader_init(&ld, l, h, now);
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		state_load_line(&ld, line);
	return ld;
}

/* A state file written under a key keeps its familiar addresses. */
TEST(who_state_round_trip)
{
	struct limits l, l2;
	struct history h, h2;
	struct state_loader ld;
	struct limits_query a;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	limits_set_who_key(key_a, sizeof(key_a));
	setup(&l);
	history_init(&h, 4);
	a = q("jane", "192.0.2.7/32", 0);
	limits_pass(&l, &a, 100);
	fp = open_memstream(&text, &len);
	CHECK(fp && state_write(fp, &l, &h, 100) == 0);
	fclose(fp);
	CHECK(strncmp(text, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1) == 0);
	ld = load(&l2, &h2, text, 101);
	CHECK(ld.header && ld.bad == 0 && ld.old_familiar == 0);
	CHECK(limits_familiar(&l2, "jane", "192.0.2.7/32", 101));
	free(text);
	limits_free(&l);
	limits_free(&l2);
	history_free(&h);
	history_free(&h2);
	limits_set_who_key(NULL, 0);
}

/* An older file's unkeyed values are dropped: nothing could match them. */
TEST(who_state_v1_values_dropped)
{
	struct limits l;
	struct history h;
	struct state_loader ld;
	struct track *t;
	char text[256];

	limits_set_who_key(key_a, sizeof(key_a));
	snprintf(text, sizeof(text), "%s\nE a jane 0 0 0\nF 95 5 %u\n"
	    "M %u 90\nE i 192.0.2.7/32 0 0 0\nF 95 5 %u\n", STATE_MAGIC_V1,
	    (unsigned)fnv1a("192.0.2.7/32"), (unsigned)fnv1a("192.0.2.7/32"),
	    (unsigned)fnv1a("jane"));
	ld = load(&l, &h, text, 100);
	CHECK(ld.header && ld.v1 && ld.bad == 0 && ld.old_familiar == 1);
	t = limits_find(&l.acct, "jane");
	CHECK(t && t->nfam == 0);
	CHECK(t && t->nfail == 1 && t->fails[0].fp == 5 && t->fails[0].who == 0);
	t = limits_find(&l.addr, "192.0.2.7/32");
	CHECK(t && t->nfail == 1 && t->fails[0].who == 0);
	CHECK(!limits_familiar(&l, "jane", "192.0.2.7/32", 100));
	limits_free(&l);
	history_free(&h);
	limits_set_who_key(NULL, 0);
}
