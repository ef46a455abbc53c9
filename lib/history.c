/*++
/* NAME
/*	history 3
/* SUMMARY
/*	the most recent AUTH attempts, for "authguard why"
/* DESCRIPTION
/*	A ring of the last history_size attempts: ref, time, result,
/*	cause, mechanism, TLS, address, smtpd pid and user name; never a
/*	password. history_nth(h, 0) is the newest.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "util.h"

/* history_init - an empty ring */
void
history_init(struct history *h, size_t cap)
{
	h->cap = cap ? cap : 1;
	h->v = xcalloc(h->cap, sizeof(*h->v));
	h->next = h->n = 0;
}

/* history_add - append, dropping the oldest when full */
void
history_add(struct history *h, const struct hist_rec *r, const char *user)
{
	struct hist_rec *slot = &h->v[h->next];

	free(slot->user);
	*slot = *r;
	slot->user = xstrdup(user ? user : "");
	h->next = (h->next + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

/* history_nth - the i-th newest record, or NULL */
const struct hist_rec *
history_nth(const struct history *h, size_t i)
{
	if (i >= h->n)
		return NULL;
	return &h->v[(h->next + h->cap - 1 - i) % h->cap];
}

/* history_free - release */
void
history_free(struct history *h)
{
	size_t i;

	for (i = 0; i < h->cap; i++)
		free(h->v[i].user);
	free(h->v);
	h->v = NULL;
	h->n = h->next = 0;
}
