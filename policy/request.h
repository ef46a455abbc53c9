/*++
/* NAME
/*	request 3h
/* SUMMARY
/*	the life of one SASL request in the gate
/*--*/
#ifndef AUTHGUARD_REQUEST_H
#define AUTHGUARD_REQUEST_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "accounts.h"
#include "attempt.h"
#include "authproto.h"
#include "cause.h"
#include "config.h"
#include "conn.h"
#include "enforce.h"
#include "event.h"
#include "park.h"
#include "saslpeek.h"

enum req_state {
	RS_CLIENT, RS_PARKED, RS_UPSTREAM, RS_USERDB, RS_SHARED, RS_DELAYED
};
enum req_kind { RK_PLAIN, RK_LOGIN, RK_RELAY };

/* An smtpd connection (gate 3, server 3); its requests read and mark it. */
struct gate_conn {
	struct conn	 c;		/* first: conn callbacks cast back */
	pid_t		 pid;		/* smtpd: SO_PEERCRED, else CPID */
	int		 peercred;
	int		 closing;	/* no more input or output */
	int		 closed;	/* its close began (gate_close) */
	struct ev_timer	 close_later;	/* its requests end from the loop */
	LIST_HEAD(, gate_req) reqs;
};

struct gate_req {
	struct gate_conn *gc;		/* NULL: smtpd went away */
	LIST_ENTRY(gate_req) conn_link;	/* in gc->reqs */
	unsigned	 cid;		/* Postfix's id */
	unsigned	 uid;		/* Dovecot's id, 0 if none */
	unsigned	 udb_id;	/* userdb lookup, 0 if none */
	enum req_state	 state;
	enum req_kind	 kind;
	char		*params;	/* AUTH parameters to forward */
	char		*authzid;
	char		*user;
	char		*pass;		/* wiped when the request ends */
	char		*resp;		/* relayed: the response held back
					 * until the limits allow it */
	char		*ok_args;	/* relayed OK held for the lock check:
					 * its fields after the id */
	enum cause	 up_cause;	/* relayed FAIL held for the lock
					 * check: its code= */
	struct saslpeek	 peek;		/* relayed: where the account is */
	unsigned	 flags;		/* accounts_map */
	int		 map_err;	/* the map could not be read: no flags
					 * known, so nothing may pass */
	uint64_t	 asked;		/* when Postfix last sent us something */
	uint64_t	 up_sent;	/* when Dovecot last got something */
	unsigned	 delay_ms;	/* RS_DELAYED: how long */
	struct attempt	 at;
	struct ev_timer	 timer;
	struct enforce	 enf;		/* its place in the failure limits */
	int		 enf_ready;
	struct park_waiter wait;	/* RS_PARKED: waiting for a place */
};

void	req_init(const struct config *, struct accounts_map *,
	    void (*)(struct gate_conn *));
void	req_shutdown(void);

/* What smtpd's lines start (gate 3). */
struct gate_req *req_new(struct gate_conn *, unsigned, const char *,
	    const char *, int);
int	req_mech_refused(struct gate_req *);
int	req_tls_refused(struct gate_req *, const struct auth_request *);
void	req_plain(struct gate_req *, const char *);
void	req_login(struct gate_req *, const char *);
void	req_send_cont(struct gate_req *, const char *);
void	req_fail(struct gate_req *, enum cause);
void	req_abort(struct gate_req *, const char *);
void	req_end(struct gate_req *);
void	req_unlink(struct gate_req *);

/* What a relayed response's account starts (relay 3). */
void	req_learn_account(struct gate_req *, const char *);
enum cause req_precheck(struct gate_req *);
void	req_refuse(struct gate_req *, enum cause);
void	req_limits(struct gate_req *);

#endif
