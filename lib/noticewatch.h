/*++
/* NAME
/*	noticewatch 3h
/* SUMMARY
/*	when a notice is due, and whether the limits let it go
/*--*/
#ifndef AUTHGUARD_NOTICEWATCH_H
#define AUTHGUARD_NOTICEWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cause.h"
#include "notice.h"
#include "ref.h"

/* The rules, from authguard.conf; a reload may replace them. */
struct notice_rules {
	unsigned	 kinds;		/* bit (1u << kind): notify_events */
	uint32_t	 stale_after;	/* notify_stale_after, seconds */
	unsigned	 repeat;	/* notify_repeat: app-password-required */
	uint32_t	 interval;	/* notify_interval, seconds */
	unsigned	 per_hour;	/* notify_max_per_hour: the global cap */
};

/* A notice that is due: what the owner is told. */
struct notice_due {
	enum notice_kind kind;
	char		 account[256];	/* SASL_FIELD_MAX or shorter */
	char		 ip[64];
	char		 ref[REF_LEN + 1];
	uint32_t	 first, last, until;
	unsigned	 count;
};

/* notice_watch_admit's answers */
enum notice_admit {
	NOTICE_GO,			/* counted: it may be sent */
	NOTICE_LIMITED_ACCOUNT,		/* one of this kind for this account
					 * within notify_interval already */
	NOTICE_LIMITED_CAP		/* notify_max_per_hour reached */
};

struct notice_watch;

struct notice_watch *notice_watch_new(const unsigned char *, size_t, size_t);
void	 notice_watch_free(struct notice_watch *);
int	 notice_watch_attempt(struct notice_watch *, const struct notice_rules *,
	    int, enum cause, const char *, const char *, const char *, uint32_t,
	    struct notice_due *);
int	 notice_watch_lock(struct notice_watch *, const struct notice_rules *,
	    const char *, const char *, const char *, int, uint32_t, uint32_t,
	    struct notice_due *);
enum notice_admit notice_watch_admit(struct notice_watch *,
	    const struct notice_rules *, enum notice_kind, const char *,
	    uint32_t);
void	 notice_watch_untell(struct notice_watch *, const struct notice_due *);
void	 notice_watch_restore(struct notice_watch *, enum notice_kind,
	    const char *, uint32_t);
void	 notice_watch_sweep(struct notice_watch *, const struct notice_rules *,
	    uint32_t);
size_t	 notice_watch_size(const struct notice_watch *);

#endif
