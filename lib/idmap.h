/*++
/* NAME
/*	idmap 3h
/* SUMMARY
/*	request id to pointer map
/*--*/
#ifndef AUTHGUARD_IDMAP_H
#define AUTHGUARD_IDMAP_H

#include <stddef.h>

#include "htab.h"

/* Entries are private to idmap.c; read the map through the functions. */
struct idmap {
	struct htab	 tab;
};

struct idmap_iter {
	struct htab_iter it;
};

void	 idmap_init(struct idmap *);
void	 idmap_put(struct idmap *, unsigned, void *);
void	*idmap_get(const struct idmap *, unsigned);
void	*idmap_del(struct idmap *, unsigned);
void	*idmap_pop(struct idmap *);
size_t	 idmap_count(const struct idmap *);
void	 idmap_iter_init(struct idmap_iter *, const struct idmap *);
void	*idmap_next(struct idmap_iter *, unsigned *);
void	 idmap_free(struct idmap *);

#endif
