/*++
/* NAME
/*	tally 3h
/* SUMMARY
/*	failures counted by account, address or cause (top, analyze)
/*--*/
#ifndef AUTHGUARD_TALLY_H
#define AUTHGUARD_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "cause.h"
#include "proto.h"

struct tally_row {
	char	*key;			/* as first seen, any length */
	unsigned fails, passes;
	unsigned causes[CAUSE_COUNT];	/* of the failures */
	unsigned protos[PROTO_COUNT];	/* of the failures, by door */
	uint32_t last;			/* unix seconds, 0 when unknown */
};

struct tally {
	struct tally_row *v;		/* cap rows, then their index (tally 3) */
	size_t	 n, cap;
};

struct tally_row *tally_row(struct tally *, const char *);
void	tally_sort(struct tally *);
enum cause tally_dominant(const struct tally_row *);
void	tally_free(struct tally *);

#endif
