/*++
/* NAME
/*	session 3
/* SUMMARY
/*	ties policy requests to the AUTH attempts of the same SMTP session
/* DESCRIPTION
/*	One smtpd process serves one SMTP session at a time and keeps
/*	one connection to the gate and one to the policy service, both
/*	carrying its pid (SO_PEERCRED). The gate reports each finished
/*	attempt with session_auth(); a policy request asks with
/*	session_lookup() whether an AUTH of its session failed.
/*
/*	A session is known by its smtpd pid and client_port: a new port
/*	from the same pid is a new session, which began after the last
/*	policy request of the previous one. An attempt counts for the
/*	session when it came from the same client address after that.
/*	(A session that failed AUTH and left without MAIL, followed by
/*	another from the same address, cannot be told apart.) Entries go
/*	when the smtpd's policy connection closes, or after an hour
/*	without news (session_sweep), so the table stays small.
/*	session_find() answers the milter, which knows a session by
/*	client address and port only: which smtpd serves it.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "netaddr.h"
#include "session.h"
#include "util.h"

struct sess {
	char	 port[8];
	char	 client_ip[NETADDR_CANON_MAX];	/* of the policy requests */
	uint64_t since;			/* this session began after */
	uint64_t last_policy;
	uint64_t auth_t;		/* last finished attempt */
	int	 auth_failed;
	char	 auth_ip[NETADDR_CANON_MAX];
	char	 auth_ref[REF_LEN + 1];
	uint64_t touched;
};

static struct idmap sessions;
static int sessions_ready;
int session_enabled;	/* the policy service runs */

/* sess_get - the entry for a pid, created when missing */
static struct sess *
sess_get(pid_t pid)
{
	struct sess *s;

	if (!sessions_ready) {
		idmap_init(&sessions);
		sessions_ready = 1;
	}
	if ((s = idmap_get(&sessions, (unsigned)pid)) == NULL) {
		s = xcalloc(1, sizeof(*s));
		idmap_put(&sessions, (unsigned)pid, s);
	}
	return s;
}

/* session_auth - an attempt of this smtpd ended */
void
session_auth(pid_t pid, const char *ip, int failed, const char *ref,
    uint64_t now)
{
	struct sess *s;

	if (pid <= 0 || !session_enabled)
		return;
	s = sess_get(pid);
	s->touched = now;
	s->auth_t = now;
	s->auth_failed = failed;
	str_copy(s->auth_ip, sizeof(s->auth_ip), ip ? ip : "");
	str_copy(s->auth_ref, sizeof(s->auth_ref), ref);
}

/* session_lookup - did an AUTH of this request's session fail? */
void
session_lookup(pid_t pid, const char *ip, const char *port, uint64_t now,
    struct session_view *v)
{
	struct sess *s;

	memset(v, 0, sizeof(*v));
	if (pid <= 0)
		return;
	s = sess_get(pid);
	s->touched = now;
	if (port == NULL)
		port = "";
	if (strcmp(s->port, port) != 0) {
		s->since = s->last_policy;
		str_copy(s->port, sizeof(s->port), port);
	}
	if (str_copy(s->client_ip, sizeof(s->client_ip), ip ? ip : "") < 0)
		s->client_ip[0] = 0;
	s->last_policy = now;
	if (s->auth_failed && s->auth_t > s->since && ip &&
	    strcmp(ip, s->auth_ip) == 0) {
		v->auth_failed = 1;
		memcpy(v->ref, s->auth_ref, sizeof(v->ref));
	}
}

/* session_find - the smtpd pid serving a client address and port, or 0 */
pid_t
session_find(const char *ip, const char *port)
{
	struct idmap_iter it;
	struct sess *s;
	unsigned pid;

	if (!sessions_ready || *port == 0)
		return 0;
	idmap_iter_init(&it, &sessions);
	while ((s = idmap_next(&it, &pid)) != NULL)
		if (strcmp(s->port, port) == 0 && strcmp(s->client_ip, ip) == 0)
			return (pid_t)pid;
	return 0;
}

/* session_forget - the smtpd went away */
void
session_forget(pid_t pid)
{
	if (sessions_ready && pid > 0)
		free(idmap_del(&sessions, (unsigned)pid));
}

/* session_sweep - drop sessions idle for longer than max_idle ms */
void
session_sweep(uint64_t now, uint64_t max_idle)
{
	struct idmap_iter it;
	struct sess *s;
	unsigned pid;

	if (!sessions_ready)
		return;
	idmap_iter_init(&it, &sessions);
	while ((s = idmap_next(&it, &pid)) != NULL)
		if (now - s->touched > max_idle)
			free(idmap_del(&sessions, pid));
}

/* session_shutdown - release everything */
void
session_shutdown(void)
{
	void *s;

	if (!sessions_ready)
		return;
	while ((s = idmap_pop(&sessions)) != NULL)
		free(s);
	idmap_free(&sessions);
	sessions_ready = 0;
}
