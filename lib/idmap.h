/*++
/* NAME
/*	idmap 3h
/* SUMMARY
/*	request id to pointer map
/*--*/
#ifndef AUTHGUARD_IDMAP_H
#define AUTHGUARD_IDMAP_H

#include <stddef.h>

struct idmap_entry {
	unsigned	 id;
	void		*val;
	struct idmap_entry *next;
};

struct idmap {
	struct idmap_entry **bucket;
	size_t		 nbucket;	/* power of two */
	size_t		 count;
};

void	 idmap_init(struct idmap *);
void	 idmap_put(struct idmap *, unsigned, void *);
void	*idmap_get(const struct idmap *, unsigned);
void	*idmap_del(struct idmap *, unsigned);
void	*idmap_pop(struct idmap *);
void	 idmap_free(struct idmap *);

#endif
