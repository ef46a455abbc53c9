/*++
/* NAME
/*	logscan 3h
/* SUMMARY
/*	Postfix and Dovecot log lines, joined into causes (authguard analyze)
/*--*/
#ifndef AUTHGUARD_LOGSCAN_H
#define AUTHGUARD_LOGSCAN_H

#include <stddef.h>

#include "cause.h"

enum log_kind { LOG_NONE, LOG_POSTFIX_FAIL, LOG_DOVECOT_FAIL };

struct log_event {
	enum log_kind kind;
	long	 t;			/* seconds (of the year without one) */
	char	 ip[64];
	char	 user[256];		/* "" when the line has none */
	char	 mech[24];
	enum cause cause;		/* Dovecot: what its message says */
	int	 used;			/* joined already */
};

struct logscan {
	struct log_event *ev;
	size_t	 n, cap;
	int	 window;		/* seconds Dovecot may log before Postfix */
};

/* One failure as analyze counts it. */
struct log_failure {
	const char *user;
	const char *ip;
	enum cause cause;
	long	 t;
};

enum log_kind logscan_line(const char *, size_t, struct log_event *);
void	logscan_init(struct logscan *);
void	logscan_add(struct logscan *, const char *, size_t);
size_t	logscan_join(struct logscan *, struct log_failure **);
void	logscan_free(struct logscan *);

#endif
