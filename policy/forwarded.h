/*++
/* NAME
/*	forwarded 3h
/* SUMMARY
/*	the refs of AUTH requests the gate forwarded to Dovecot lately
/*--*/
#ifndef AUTHGUARD_FORWARDED_H
#define AUTHGUARD_FORWARDED_H

#include <stdint.h>

#define FORWARDED_MAX	4096	/* refs kept at most */
#define FORWARDED_MS	60000	/* and for this long */
#define FORWARDED_ACCOUNT_MAX 255	/* longest account kept; a longer
					 * one is not kept (the door counts) */

void	forwarded_add(const char *, const char *, const char *, uint64_t);
int	forwarded_has(const char *, const char *, const char *, uint64_t);
int	forwarded_take(const char *, const char *, const char *, uint64_t);
unsigned long forwarded_count(uint64_t);
void	forwarded_clear(void);

#endif
