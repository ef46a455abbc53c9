/*++
/* NAME
/*	test_htab 1
/* SUMMARY
/*	unit tests: the keyed hash table (htab 3)
/* DESCRIPTION
/*	Insert, lookup and remove; growth keeps every entry; iteration
/*	that removes the entry it is on; every key in one chain (a hash
/*	that always agrees) still finds the right entry; keys chosen to
/*	share a bucket under an unkeyed hash spread under the keyed one.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "unit.h"

struct item {
	struct htab_link link;
	unsigned	 id;
	char		 name[32];
	int		 seen;
};

/* item_match_name - the item holds this name */
static int
item_match_name(const struct htab_link *l, const void *key)
{
	return strcmp(HTAB_ENTRY(l, const struct item, link)->name, key) == 0;
}

/* item_match_id - the item holds this id */
static int
item_match_id(const struct htab_link *l, const void *key)
{
	return HTAB_ENTRY(l, const struct item, link)->id ==
	    *(const unsigned *)key;
}

/* same_hash - every key in one chain */
static uint32_t
same_hash(const void *key)
{
	(void)key;
	return 42;
}

/* find_name - the item for a name, or NULL */
static struct item *
find_name(const struct htab *tab, const char *name)
{
	struct htab_link *l = htab_find(tab, name);

	return l ? HTAB_ENTRY(l, struct item, link) : NULL;
}

/* items_named - n items named "user<i>@example.com" */
static struct item *
items_named(unsigned n)
{
	struct item *v = calloc(n, sizeof(*v));
	unsigned i;

	for (i = 0; i < n; i++) {
		v[i].id = i;
		snprintf(v[i].name, sizeof(v[i].name), "user%u@example.com", i);
	}
	return v;
}

/* insert_names - every item, under its name */
static void
insert_names(struct htab *tab, struct item *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		htab_insert(tab, &v[i].link, v[i].name);
}

/* found_names - how many items their names find */
static unsigned
found_names(const struct htab *tab, struct item *v, unsigned n)
{
	unsigned i, found = 0;

	for (i = 0; i < n; i++)
		found += find_name(tab, v[i].name) == &v[i];
	return found;
}

TEST(htab_insert_find_remove)
{
	struct htab tab;
	struct item *v = items_named(3);

	htab_init(&tab, 4, htab_hash_str, item_match_name);
	CHECK(htab_find(&tab, "user0@example.com") == NULL);
	htab_insert(&tab, &v[0].link, v[0].name);
	htab_insert(&tab, &v[1].link, v[1].name);
	CHECK(tab.count == 2);
	CHECK(find_name(&tab, "user0@example.com") == &v[0]);
	CHECK(find_name(&tab, "user1@example.com") == &v[1]);
	CHECK(find_name(&tab, "user2@example.com") == NULL);
	htab_remove(&tab, &v[0].link);
	CHECK(tab.count == 1 && find_name(&tab, "user0@example.com") == NULL);
	CHECK(htab_take(&tab, "user1@example.com") == &v[1].link);
	CHECK(htab_take(&tab, "user1@example.com") == NULL);
	CHECK(tab.count == 0);
	htab_insert(&tab, &v[2].link, v[2].name);
	CHECK(find_name(&tab, "user2@example.com") == &v[2]);
	htab_remove(&tab, &v[2].link);
	htab_free(&tab);
	CHECK(tab.bucket == NULL);
	free(v);
}

TEST(htab_growth_keeps_every_entry)
{
	struct htab tab;
	unsigned i, n = 5000, found = 0;
	struct item *v = items_named(n);

	htab_init(&tab, 2, htab_hash_u32, item_match_id);
	for (i = 0; i < n; i++) {
		htab_insert(&tab, &v[i].link, &v[i].id);
		CHECK(tab.count == i + 1 && tab.count <= tab.nbucket * 2);
	}
	CHECK(tab.nbucket >= n && (tab.nbucket & (tab.nbucket - 1)) == 0);
	for (i = 0; i < n; i++)
		found += htab_find(&tab, &i) == &v[i].link;
	CHECK(found == n);
	i = n;
	CHECK(htab_find(&tab, &i) == NULL);
	for (i = 0; i < n; i++)
		CHECK(htab_take(&tab, &i) == &v[i].link);
	CHECK(tab.count == 0 && htab_longest(&tab) == 0);
	htab_free(&tab);
	free(v);
}

TEST(htab_iterate_and_remove)
{
	struct htab tab;
	struct htab_iter it;
	struct htab_link *l;
	struct item *e;
	unsigned i, n = 1000, walked = 0, kept = 0;
	struct item *v = items_named(n);

	htab_init(&tab, 16, htab_hash_str, item_match_name);
	insert_names(&tab, v, n);
	/* remove every odd id, on the way: each entry is seen once */
	htab_iter_init(&it, &tab);
	while ((l = htab_iter_next(&it)) != NULL) {
		e = HTAB_ENTRY(l, struct item, link);
		e->seen++;
		walked++;
		if (e->id % 2)
			htab_remove(&tab, l);
	}
	CHECK(walked == n && tab.count == n / 2);
	for (i = 0; i < n; i++) {
		CHECK(v[i].seen == 1);
		CHECK((find_name(&tab, v[i].name) != NULL) == (i % 2 == 0));
	}
	/* a second walk sees the rest; then drain it the same way */
	htab_iter_init(&it, &tab);
	while ((l = htab_iter_next(&it)) != NULL) {
		kept += HTAB_ENTRY(l, struct item, link)->id % 2 == 0;
		htab_remove(&tab, l);
	}
	CHECK(kept == n / 2 && tab.count == 0);
	htab_iter_init(&it, &tab);
	CHECK(htab_iter_next(&it) == NULL);
	htab_free(&tab);
	free(v);
}

TEST(htab_one_chain)
{
	struct htab tab;
	unsigned n = 200;
	struct item *v = items_named(n);

	/* every hash agrees: keys alone tell the entries apart */
	htab_init(&tab, 8, same_hash, item_match_name);
	insert_names(&tab, v, n);
	CHECK(htab_longest(&tab) == n);
	CHECK(found_names(&tab, v, n) == n);
	CHECK(find_name(&tab, "nobody@example.com") == NULL);
	CHECK(htab_take(&tab, v[77].name) == &v[77].link);
	CHECK(find_name(&tab, v[77].name) == NULL);
	CHECK(find_name(&tab, v[78].name) == &v[78]);
	htab_remove(&tab, &v[0].link);
	htab_remove(&tab, &v[n - 1].link);
	CHECK(tab.count == n - 3 && htab_longest(&tab) == n - 3);
	htab_free(&tab);
	free(v);
}

TEST(htab_keyed_spreads_colliding_keys)
{
	struct htab tab;
	unsigned i, n = 1u << 14, found = 0, key;
	struct item *v = items_named(n);

	/* ids equal in their low 18 bits: one bucket under id & mask */
	htab_init(&tab, 64, htab_hash_u32, item_match_id);
	for (i = 0; i < n; i++) {
		v[i].id = i << 18;
		htab_insert(&tab, &v[i].link, &v[i].id);
	}
	CHECK(htab_longest(&tab) < 16);
	for (i = 0; i < n; i++) {
		key = i << 18;
		found += htab_find(&tab, &key) == &v[i].link;
	}
	CHECK(found == n);
	/* the hash is keyed: not the key's own bits */
	key = 1u << 18;
	CHECK(htab_hash_u32(&key) != key);
	CHECK(htab_hash_str("a") != htab_hash_str("b"));
	htab_free(&tab);
	free(v);
}
