/*++
/* NAME
/*	test_tally 1
/* SUMMARY
/*	unit tests: the rows of authguard top and analyze, and their index
/* DESCRIPTION
/*	tally_row() finds a key's row through an index (tally 3). These
/*	tests hold it to what a reading of every row finds (the first row
/*	whose key equals without case, else a new row at the end) over
/*	random keys, cases, sorts, empty keys and keys too long for a row,
/*	and to many distinct names.
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

	if (k >= 310) {			/* longer than a row's key */
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
