/*++
/* NAME
/*	attempt 3h
/* SUMMARY
/*	one login attempt, through any door, and its log line
/*--*/
#ifndef AUTHGUARD_ATTEMPT_H
#define AUTHGUARD_ATTEMPT_H

#include <stdint.h>
#include <sys/types.h>

#include "cause.h"
#include "logline.h"
#include "proto.h"
#include "ref.h"

enum attempt_result { ATTEMPT_PASS, ATTEMPT_FAIL, ATTEMPT_ABORT };

struct attempt {
	char		 ref[REF_LEN + 1];
	enum attempt_result result;
	enum cause	 cause;
	char		*user;		/* login name as given, or Dovecot's */
	char		 mech[24];
	enum proto	 proto;		/* the door: PROTO_SMTP unless set */
	char		 ip[64];
	int		 tls;
	pid_t		 smtpd_pid;
	uint64_t	 started;	/* ms, monotonic */
	char		*detail;	/* why, in more words: decode error,
					 * Dovecot's reason */
	int		 logged;	/* its one line was written */
};

void	attempt_init(struct attempt *, const char *, const char *, int, pid_t,
	    uint64_t);
void	attempt_set_user(struct attempt *, const char *);
void	attempt_set_detail(struct attempt *, const char *);
void	attempt_log(struct attempt *, enum log_format, uint64_t);
void	attempt_record(struct attempt *, enum log_format, uint64_t);
void	attempt_free(struct attempt *);
unsigned long attempt_live(void);

#endif
