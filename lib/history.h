/*++
/* NAME
/*	history 3h
/* SUMMARY
/*	the most recent AUTH attempts, for "authguard why"
/*--*/
#ifndef AUTHGUARD_HISTORY_H
#define AUTHGUARD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "ref.h"

struct hist_rec {
	char		 ref[REF_LEN + 1];
	uint8_t		 result;	/* enum attempt_result */
	uint8_t		 cause;		/* enum cause */
	uint8_t		 tls;
	uint8_t		 proto;		/* enum proto */
	uint32_t	 t;		/* unix seconds */
	int32_t		 smtpd_pid;
	char		 mech[24];	/* RFC 4422: names of 20 at most */
	char		 ip[NETADDR_CANON_MAX];	/* any canonical form, a zone too */
	char		 server[64];	/* with a shared state: which host */
	char		*user;
};

struct history {
	struct hist_rec	*v;
	size_t		 cap;
	size_t		 next;		/* where the next record goes */
	size_t		 n;		/* records held */
};

void	history_init(struct history *, size_t);
void	history_add(struct history *, const struct hist_rec *, const char *);
const struct hist_rec *history_nth(const struct history *, size_t);
void	history_free(struct history *);

#endif
