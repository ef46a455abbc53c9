/*++
/* NAME
/*	test_journal 1
/* SUMMARY
/*	unit tests: the changes kept while Redis is away
/* DESCRIPTION
/*	The journal of the shared state holds changes to the limits and
/*	recent attempts, each kind in its order, at most max of each.
/*	These tests hold its order (changes before records, oldest
/*	first), its bound (the oldest of the full kind goes, handed back
/*	to the caller, the other kind untouched), the changes put back
/*	in front after a connection is lost (in sending order, never
/*	dropped), a replay after an outage with a send that fails half
/*	way, and its clearing.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "unit.h"
#include "util.h"

/* item - a kept change named s, in bytes of its own */
static struct journal_item
item(const char *s)
{
	struct journal_item it;

	it.data = xstrdup(s);
	it.len = strlen(s);
	return it;
}

/* put - keep s at the tail of kind; 0, or -1 when something was dropped */
static int
put(struct journal *j, int kind, const char *s, int where)
{
	struct journal_item gone = journal_put(j, kind, item(s), where);

	journal_item_free(gone);
	return gone.data ? -1 : 0;
}

/* put_all - keep each of the names (spaced) at the tail; how many dropped */
static int
put_all(struct journal *j, int kind, const char *names)
{
	char buf[256], *name, *save = NULL;
	int dropped = 0;

	str_copy(buf, sizeof(buf), names);
	for (name = strtok_r(buf, " ", &save); name;
	    name = strtok_r(NULL, " ", &save))
		dropped -= put(j, kind, name, JOURNAL_TAIL);
	return dropped;
}

/* is - the item is s (and is freed); s NULL: no item */
static int
is(struct journal_item it, const char *s)
{
	int ok = s == NULL ? it.data == NULL : it.data != NULL &&
	    it.len == strlen(s) && memcmp(it.data, s, it.len) == 0;

	journal_item_free(it);
	return ok;
}

/*
 * drains_as - journal_next gives, until empty, want: "kind:name" joined
 * by spaces (c: a change, r: a record)
 */
static int
drains_as(struct journal *j, const char *want)
{
	char out[4096];
	struct journal_item it;
	size_t n = 0;
	int k;

	out[0] = 0;
	while ((it = journal_next(j, &k)).data != NULL && n < sizeof(out)) {
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%c:%.*s",
		    n ? " " : "", k == JOURNAL_CHANGES ? 'c' : 'r', (int)it.len,
		    it.data);
		journal_item_free(it);
	}
	if (strcmp(out, want) != 0)
		printf("# drained: %s\n", out);
	return strcmp(out, want) == 0;
}

TEST(journal_empty_gives_nothing)
{
	static struct journal j;	/* all zero: as shared.c keeps it */
	int k = -1;

	CHECK(journal_size(&j) == 0);
	CHECK(is(journal_take(&j, JOURNAL_CHANGES), NULL));
	CHECK(is(journal_take(&j, JOURNAL_RECORDS), NULL));
	CHECK(is(journal_next(&j, &k), NULL));
	CHECK(k == -1);
	journal_clear(&j);
	CHECK(journal_size(&j) == 0);
}

TEST(journal_changes_before_records_each_oldest_first)
{
	struct journal j = {.max = 10};

	CHECK(put(&j, JOURNAL_RECORDS, "r1", JOURNAL_TAIL) == 0);
	CHECK(put(&j, JOURNAL_CHANGES, "c1", JOURNAL_TAIL) == 0);
	CHECK(put(&j, JOURNAL_RECORDS, "r2", JOURNAL_TAIL) == 0);
	CHECK(put_all(&j, JOURNAL_CHANGES, "c2 c3") == 0);
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 3);
	CHECK(journal_count(&j, JOURNAL_RECORDS) == 2);
	CHECK(journal_size(&j) == 5);
	CHECK(drains_as(&j, "c:c1 c:c2 c:c3 r:r1 r:r2"));
	CHECK(journal_size(&j) == 0);
}

TEST(journal_take_one_kind)
{
	struct journal j = {.max = 10};

	put(&j, JOURNAL_CHANGES, "c1", JOURNAL_TAIL);
	put(&j, JOURNAL_RECORDS, "r1", JOURNAL_TAIL);
	CHECK(is(journal_take(&j, JOURNAL_RECORDS), "r1"));
	CHECK(is(journal_take(&j, JOURNAL_RECORDS), NULL));
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 1);
	CHECK(is(journal_take(&j, JOURNAL_CHANGES), "c1"));
	CHECK(journal_size(&j) == 0);
	put(&j, JOURNAL_CHANGES, "c2", JOURNAL_TAIL);	/* usable again */
	CHECK(drains_as(&j, "c:c2"));
}

TEST(journal_full_drops_the_oldest_of_its_kind)
{
	struct journal j = {.max = 3};
	struct journal_item gone;

	CHECK(put_all(&j, JOURNAL_CHANGES, "c1 c2 c3") == 0);
	put(&j, JOURNAL_RECORDS, "r1", JOURNAL_TAIL);
	gone = journal_put(&j, JOURNAL_CHANGES, item("c4"), JOURNAL_TAIL);
	CHECK(is(gone, "c1"));		/* handed back, for the caller */
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 3);
	CHECK(journal_count(&j, JOURNAL_RECORDS) == 1);	/* untouched */
	CHECK(put_all(&j, JOURNAL_RECORDS, "r2 r3") == 0);
	gone = journal_put(&j, JOURNAL_RECORDS, item("r4"), JOURNAL_TAIL);
	CHECK(is(gone, "r1"));
	CHECK(journal_size(&j) == 6);	/* max of each kind */
	CHECK(drains_as(&j, "c:c2 c:c3 c:c4 r:r2 r:r3 r:r4"));
}

TEST(journal_full_at_the_head_drops_the_oldest_first)
{
	struct journal j = {.max = 2};
	struct journal_item gone;

	CHECK(put_all(&j, JOURNAL_CHANGES, "c1 c2") == 0);
	gone = journal_put(&j, JOURNAL_CHANGES, item("c0"), JOURNAL_HEAD);
	CHECK(is(gone, "c1"));
	CHECK(drains_as(&j, "c:c0 c:c2"));
}

TEST(journal_head_puts_back_the_oldest)
{
	struct journal j = {.max = 10};

	put(&j, JOURNAL_CHANGES, "c1", JOURNAL_TAIL);
	put(&j, JOURNAL_CHANGES, "c2", JOURNAL_TAIL);
	CHECK(is(journal_take(&j, JOURNAL_CHANGES), "c1"));
	CHECK(put(&j, JOURNAL_CHANGES, "c1", JOURNAL_HEAD) == 0);
	put(&j, JOURNAL_RECORDS, "r1", JOURNAL_HEAD);	/* into an empty kind */
	put(&j, JOURNAL_RECORDS, "r2", JOURNAL_TAIL);
	CHECK(drains_as(&j, "c:c1 c:c2 r:r1 r:r2"));
}

TEST(journal_prepend_puts_unanswered_changes_first)
{
	struct journal j = {.max = 2};
	struct journal older = {.max = (size_t)-1};

	put_all(&j, JOURNAL_CHANGES, "k1 k2");	/* kept since */
	put(&j, JOURNAL_RECORDS, "kr1", JOURNAL_TAIL);
	put(&older, JOURNAL_CHANGES, "p1", JOURNAL_TAIL);	/* sent first */
	put(&older, JOURNAL_RECORDS, "pr1", JOURNAL_TAIL);
	put(&older, JOURNAL_CHANGES, "p2", JOURNAL_TAIL);
	journal_prepend(&j, &older);
	CHECK(journal_size(&older) == 0);
	CHECK(is(journal_next(&older, &(int){0}), NULL));
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 4);	/* past max: kept */
	CHECK(journal_count(&j, JOURNAL_RECORDS) == 2);
	put(&j, JOURNAL_CHANGES, "k3", JOURNAL_TAIL);	/* at the tail */
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 4);	/* p1 went */
	CHECK(is(journal_put(&j, JOURNAL_RECORDS, item("kr2"), JOURNAL_TAIL),
	    "pr1"));			/* full: the oldest, put back, goes */
	CHECK(drains_as(&j, "c:p2 c:k1 c:k2 c:k3 r:kr1 r:kr2"));
}

TEST(journal_prepend_into_an_empty_journal)
{
	struct journal j = {.max = 5};
	struct journal older = {.max = (size_t)-1};

	put_all(&older, JOURNAL_CHANGES, "p1 p2");
	journal_prepend(&j, &older);
	journal_prepend(&j, &older);	/* nothing more: a no-op */
	put(&j, JOURNAL_CHANGES, "n1", JOURNAL_TAIL);	/* after them */
	CHECK(journal_count(&j, JOURNAL_CHANGES) == 3);
	CHECK(drains_as(&j, "c:p1 c:p2 c:n1"));
}

/*
 * An outage: changes and records kept past the bound, then the replay
 * sends them in batches; the connection goes while a batch is sent, so
 * the one that could not go is put back at the head and comes first
 * on the next connection.
 */
TEST(journal_replay_after_an_outage)
{
	struct journal j = {.max = 4};
	struct journal_item it;
	char name[16], sent[512];
	size_t n = 0;
	int i, k, dropped = 0;

	for (i = 1; i <= 6; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		dropped -= put(&j, JOURNAL_RECORDS, name, JOURNAL_TAIL);
		snprintf(name, sizeof(name), "c%d", i);
		dropped -= put(&j, JOURNAL_CHANGES, name, JOURNAL_TAIL);
	}
	CHECK(dropped == 4);		/* c1, c2, r1, r2 */
	CHECK(journal_size(&j) == 8);
	for (i = 0; i < 3; i++) {	/* the first batch: 2 sent, 1 fails */
		it = journal_next(&j, &k);
		if (i == 2) {
			CHECK(k == JOURNAL_CHANGES);
			CHECK(journal_put(&j, k, it, JOURNAL_HEAD).data == NULL);
			break;
		}
		n += (size_t)snprintf(sent + n, sizeof(sent) - n, "%.*s ",
		    (int)it.len, it.data);
		journal_item_free(it);
	}
	CHECK_STR(sent, "c3 c4 ");
	CHECK(put(&j, JOURNAL_RECORDS, "r7", JOURNAL_TAIL) < 0); /* r3 goes */
	CHECK(drains_as(&j, "c:c5 c:c6 r:r4 r:r5 r:r6 r:r7"));
}

TEST(journal_clear_empties_both_kinds)
{
	struct journal j = {.max = 3};

	put(&j, JOURNAL_CHANGES, "c1", JOURNAL_TAIL);
	put(&j, JOURNAL_RECORDS, "r1", JOURNAL_TAIL);
	put(&j, JOURNAL_RECORDS, "r2", JOURNAL_HEAD);
	journal_clear(&j);
	CHECK(journal_size(&j) == 0);
	CHECK(journal_count(&j, JOURNAL_RECORDS) == 0);
	CHECK(is(journal_next(&j, &(int){0}), NULL));
	put(&j, JOURNAL_RECORDS, "r3", JOURNAL_TAIL);
	CHECK(drains_as(&j, "r:r3"));
	journal_item_free((struct journal_item){NULL, 0});	/* nothing */
}
