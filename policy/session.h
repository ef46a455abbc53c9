/*++
/* NAME
/*	session 3h
/* SUMMARY
/*	ties policy requests to the AUTH attempts of the same SMTP session
/*--*/
#ifndef AUTHGUARD_SESSION_H
#define AUTHGUARD_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "ref.h"

struct session_view {
	int	 auth_failed;
	char	 ref[REF_LEN + 1];	/* of the failed attempt */
};

extern int session_enabled;

void	session_auth(pid_t, const char *, int, const char *, uint64_t);
void	session_lookup(pid_t, const char *, const char *, uint64_t,
	    struct session_view *);
pid_t	session_find(const char *, const char *);
void	session_forget(pid_t);
void	session_sweep(uint64_t, uint64_t);
void	session_shutdown(void);

#endif
