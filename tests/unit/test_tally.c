/*++
/* NAME
/*	test_tally 1
/* SUMMARY
/*	unit tests: the rows of authguard top and analyze, and their index
/* DESCRIPTION
/*	tally_row() finds a key's row through an index (tally 3). These
/*	tests hold it to what a reading of every row finds (the first row
/*	whose key equals without case, else a new row at the end) over
/*	random keys, cases, sorts, empty keys and long keys, and to many
/*	distinct names. A key of any length is a row of its own, kept
/*	whole: a user name of 140 or 1024 bytes is not hidden.
/*--*/
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tally.h"
#include "unit.h"

/* scan - the row a reading of every row finds: first match, else n */
static size_t
scan(const struct tally *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].key, key) == 0)
			return i;
	return t->n;
}

/* rnd - a small deterministic generator */
static uint32_t
rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* random_key - from a pool of 300, in a random case; some empty or long */
static void
random_key(uint32_t *s, char *out, size_t len)
{
	uint32_t k = rnd(s) % 320;
	char *p;

	if (k >= 310) {			/* 299 or 399 bytes */
		memset(out, 'a' + (int)(k % 3), len - 1);
		out[len - 1] = 0;
		return;
	}
	if (k >= 300) {
		*out = 0;
		return;
	}
	snprintf(out, len, "User%u@Example.com", (unsigned)k);
	for (p = out; *p; p++)
		if (rnd(s) & 1)
			*p = (char)(isupper((unsigned char)*p) ?
			    tolower((unsigned char)*p) : toupper((unsigned char)*p));
}

/* The index finds what reading every row found, through growth and sorts. */
TEST(tally_index_matches_a_scan)
{
	struct tally t = {NULL, 0, 0};
	struct tally_row *r;
	char key[400];
	uint32_t s = 1;
	size_t want, n;
	int i, same = 1;

	for (i = 0; i < 20000; i++) {
		random_key(&s, key, rnd(&s) % 2 ? 300 : sizeof(key));
		want = scan(&t, key);
		n = t.n;
		r = tally_row(&t, key);
		if ((size_t)(r - t.v) != want || t.n != n + (want == n))
			same = 0;
		r->fails += rnd(&s) % 3;
		if (rnd(&s) % 2000 == 0)
			tally_sort(&t);
	}
	CHECK(same);
	CHECK(t.n > 300 && t.n < 2000);	/* the pool, and the long keys */
	tally_free(&t);
}

/* Keys compare without case; a sort keeps every row findable. */
TEST(tally_case_and_sort)
{
	struct tally t = {NULL, 0, 0};

	tally_row(&t, "Jane@Example.com")->fails = 1;
	tally_row(&t, "bob")->fails = 5;
	CHECK(tally_row(&t, "jane@example.COM") == &t.v[0]);
	CHECK(t.n == 2);
	tally_sort(&t);
	CHECK_STR(t.v[0].key, "bob");
	CHECK(tally_row(&t, "BOB") == &t.v[0]);
	CHECK(tally_row(&t, "JANE@example.com") == &t.v[1]);
	CHECK(tally_row(&t, "carol") == &t.v[2] && t.n == 3);
	tally_free(&t);
	CHECK(t.v == NULL && t.n == 0 && t.cap == 0);
}

/* Many distinct names: one row each, each found again. */
TEST(tally_many_names)
{
	struct tally t = {NULL, 0, 0};
	char name[64];
	unsigned i, wrong = 0;

	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "user%u@example.com", i);
		tally_row(&t, name)->fails++;
	}
	tally_sort(&t);
	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "USER%u@EXAMPLE.COM", i);
		wrong += tally_row(&t, name)->fails != 1;
	}
	CHECK(t.n == 50000 && wrong == 0);
	tally_free(&t);
}

/* long_name - n bytes: a prefix telling them apart, then 'x' */
static char *
long_name(size_t n, int tag)
{
	char *s = malloc(n + 1);

	memset(s, 'x', n);
	s[n] = 0;
	s[0] = (char)('A' + tag);
	return s;
}

/* Keys of 127 to 5000 bytes: a row each, kept whole, found in any case. */
TEST(tally_long_keys_kept_whole)
{
	static const size_t lens[] = {127, 128, 140, 255, 256, 1024, 5000};
	struct tally t = {NULL, 0, 0};
	char *k, *lower;
	size_t i, whole = 0, found = 0;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		k = long_name(lens[i], (int)i);
		tally_row(&t, k)->fails += (unsigned)i + 1;
		free(k);
	}
	CHECK(t.n == sizeof(lens) / sizeof(lens[0]));
	tally_sort(&t);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		k = long_name(lens[i], (int)i);
		lower = strdup(k);
		lower[0] = (char)tolower((unsigned char)lower[0]);
		whole += t.v[t.n - 1 - i].key != NULL &&
		    strcmp(t.v[t.n - 1 - i].key, k) == 0;
		found += tally_row(&t, lower)->fails == i + 1;
		free(lower);
		free(k);
	}
	CHECK(whole == sizeof(lens) / sizeof(lens[0]));
	CHECK(found == sizeof(lens) / sizeof(lens[0]));
	CHECK(t.n == sizeof(lens) / sizeof(lens[0]));
	tally_free(&t);
}
