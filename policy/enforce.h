/*++
/* NAME
/*	enforce 3h
/* SUMMARY
/*	one attempt against the failure limits
/*--*/
#ifndef AUTHGUARD_ENFORCE_H
#define AUTHGUARD_ENFORCE_H

#include <stdint.h>

#include "cause.h"
#include "config.h"
#include "authlimits.h"

struct enforce {
	char		 account[256];	/* lower case; empty: unknown */
	char		 addr[64];	/* limits_addr_key; empty: unknown */
	uint32_t	 fp;
	int		 exempt;
	int		 no_limit;
	struct limits_ticket tk;
	uint32_t	 retry_at;	/* when refused as locked */
};

void	enforce_init(const struct config *);
void	enforce_fill(struct enforce *, const char *, const char *, const char *,
	    unsigned);
enum limits_verdict enforce_check(struct enforce *);
enum cause enforce_fail(struct enforce *, enum cause, const char *);
void	enforce_pass(struct enforce *);
void	enforce_release(struct enforce *);
int	enforce_locked(struct enforce *);

#endif
