/*++
/* NAME
/*	journal 3h
/* SUMMARY
/*	changes kept while a server is away, in order, bounded
/*--*/
#ifndef AUTHGUARD_JOURNAL_H
#define AUTHGUARD_JOURNAL_H

#include <stddef.h>

/* Two kinds, each in its own order; the first is given back first. */
#define JOURNAL_CHANGES	0	/* changes to the limits */
#define JOURNAL_RECORDS	1	/* recent attempts */
#define JOURNAL_KINDS	2

/* One kept change: bytes, owned by whoever holds the item. */
struct journal_item {
	char		*data;		/* NULL: none */
	size_t		 len;
};

struct journal_rec;

struct journal_queue {
	struct journal_rec *head, *tail;	/* oldest first */
	size_t		 count;
};

/* All zero but max is an empty journal. */
struct journal {
	struct journal_queue q[JOURNAL_KINDS];
	size_t		 max;		/* of each kind, for journal_put */
};

#define JOURNAL_TAIL	0
#define JOURNAL_HEAD	1

struct journal_item journal_put(struct journal *, int, struct journal_item,
	    int);
struct journal_item journal_take(struct journal *, int);
struct journal_item journal_next(struct journal *, int *);
void	 journal_prepend(struct journal *, struct journal *);
size_t	 journal_count(const struct journal *, int);
size_t	 journal_size(const struct journal *);
void	 journal_clear(struct journal *);
void	 journal_item_free(struct journal_item);

#endif
