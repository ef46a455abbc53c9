/*++
/* NAME
/*	htab 3h
/* SUMMARY
/*	keyed chained hash table of caller-owned entries
/*--*/
#ifndef AUTHGUARD_HTAB_H
#define AUTHGUARD_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in each entry: the table's chain and the key's hash. */
struct htab_link {
	struct htab_link *next;
	uint32_t	 hash;
};

/* The key's hash (keyedhash 3), and whether an entry holds the key. */
typedef uint32_t (*htab_hash_fn)(const void *);
typedef int (*htab_match_fn)(const struct htab_link *, const void *);

struct htab {
	struct htab_link **bucket;
	size_t		 nbucket;	/* power of two */
	size_t		 count;
	htab_hash_fn	 hash;
	htab_match_fn	 match;
};

/* Walks every entry once; the one just returned may be removed. */
struct htab_iter {
	const struct htab *tab;
	size_t		 bucket;	/* next bucket to look in */
	struct htab_link *next;		/* next entry to return */
};

/* The entry a link is embedded in. */
#define HTAB_ENTRY(link, type, member) \
	((type *)(void *)((char *)(link) - offsetof(type, member)))

void	 htab_init(struct htab *, size_t, htab_hash_fn, htab_match_fn);
void	 htab_free(struct htab *);
struct htab_link *htab_find(const struct htab *, const void *);
void	 htab_insert(struct htab *, struct htab_link *, const void *);
void	 htab_remove(struct htab *, struct htab_link *);
struct htab_link *htab_take(struct htab *, const void *);
void	 htab_iter_init(struct htab_iter *, const struct htab *);
struct htab_link *htab_iter_next(struct htab_iter *);
size_t	 htab_longest(const struct htab *);
uint32_t htab_hash_str(const void *);
uint32_t htab_hash_u32(const void *);

#endif
