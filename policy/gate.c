/*++
/* NAME
/*	gate 3
/* SUMMARY
/*	the SASL gate: Dovecot's auth-client protocol towards Postfix
/* DESCRIPTION
/*	Postfix's smtpd (smtpd_sasl_type = dovecot) connects here as
/*	if this were Dovecot's auth-client socket. The gate answers the
/*	handshake itself with Dovecot's last mechanism list, so that
/*	smtpd starts even while Dovecot is down, and turns each AUTH
/*	into a request with a life of its own:
/*
/*	RS_CLIENT	waiting for the client's next response (PLAIN
/*			without initial response, the two LOGIN steps,
/*			or a relayed mechanism's challenge);
/*	RS_PARKED	waiting until earlier attempts of the same
/*			account or address end (the failure limits);
/*	RS_UPSTREAM	forwarded to Dovecot, waiting for OK/FAIL/CONT;
/*	RS_USERDB	Dovecot said FAIL without a reason; asking the
/*			auth-userdb socket whether the user exists;
/*	RS_SHARED	asking the shared state (Redis) whether it may go
/*			ahead, or to record its failure (at most
/*			redis_timeout, see enforce 3);
/*	RS_DELAYED	failed, in client_detail safe or none: the
/*			answer waits until Dovecot's failures come
/*			(refusal_delay).
/*
/*	Mechanism names are case-blind (authproto 3 upper-cases them).
/*	A mechanism that Dovecot did not list in its last handshake is
/*	refused here as malformed-response: Dovecot would take the
/*	request as a protocol error and drop its connection, and with it
/*	every other client's attempt in flight.
/*
/*	Equal texts take equal time. Dovecot holds each of its failures
/*	for auth_failure_delay (Dovecot 2.3 counts it in whole seconds,
/*	so 2 s comes as 1 to 2.5 s), while a refusal decided here (an
/*	account that the accounts map restricts, a lock, a malformed
/*	response) needs no answer from it. Where the client text does
/*	not tell causes apart, the time must not either: no failure is
/*	sent before the longest time one of Dovecot's last
/*	GATE_DELAY_SAMPLES failures took (refusal_delay = dovecot; 2 s
/*	until one is seen), or a fixed time, counted from the client's
/*	response and within what is left of smtpd's wait. A refusal
/*	decided here and a failure of Dovecot's that came early both wait
/*	for it, so that failures are sent at one time after the response
/*	(a Dovecot failure slower than all before it comes when it
/*	comes). While it waits, a request holds no place at the limits.
/*
/*	PLAIN and LOGIN are decoded here, checked (TLS, syntax,
/*	authzid, accounts_map flags) and forwarded as PLAIN with an
/*	initial response, so that refused credentials never reach
/*	Dovecot.
/*
/*	Other mechanisms are relayed as they are, each client response
/*	read on its way (saslpeek 3) for the account that the mechanism
/*	carries in clear: CRAM-MD5 and DIGEST-MD5 in the response to the
/*	first challenge, SCRAM-* in its client-first message, OAUTHBEARER
/*	(a=) and XOAUTH2 (user=) in their first response. Until that
/*	response comes, only the address limits apply: an AUTH whose
/*	account comes later is forwarded at once, so that Dovecot sends
/*	its challenge, which holds no secret. The response that names
/*	the account is held back and checked as PLAIN is (authzid,
/*	accounts_map flags, then the account's limits with the address's
/*	again), and so is every later one, which may carry a proof of
/*	the password while a lock began meanwhile: a refused response
/*	never reaches Dovecot, whose open request is cancelled; an
/*	allowed one goes on in the same Dovecot request, after waiting
/*	for its turn if it must. A response that cannot be what the
/*	mechanism sends is refused as malformed, not forwarded.
/*
/*	Where no account can be read (GSSAPI, OAUTHBEARER without a=,
/*	...), the account is known once Dovecot names it in its OK or
/*	FAIL. Both are then treated alike: a locked account, a disabled
/*	one, or one restricted to OAuth on another mechanism gets the
/*	same refusal whether Dovecot said OK or FAIL, so that the reply
/*	never tells a right password from a wrong one. The same holds
/*	when Dovecot answers a PLAIN or LOGIN attempt for another account
/*	than the one typed (auth_default_realm, auth_username_format):
/*	the flags and the lock of the account it names apply too, and
/*	the outcome counts for that account.
/*
/*	Every request ends in exactly one attempt log line: pass, fail
/*	(with a cause and a ref that the client also sees), or abort
/*	(the client cancelled, started over, or went away). When Dovecot
/*	is down, too slow or says temp_fail, the attempt is logged as
/*	auth-service-unavailable and the smtpd's connection is closed:
/*	the one way to make Postfix answer 454 4.7.0, a temporary error
/*	the client retries instead of asking for a new password.
/*
/*	A request whose smtpd connection goes away while Dovecot is
/*	still deciding is kept until the outcome arrives, so that the
/*	outcome is logged.
/*
/*	Ending one request can end others: its end lets waiting
/*	requests try again (gate_wake_parked), and any of them may be
/*	refused, fail or find Dovecot down at once. Code that walks a
/*	list of requests therefore never keeps a pointer to the next
/*	one across a call that can end requests: it starts over from
/*	the head. A connection that must close because of a request
/*	(req_unavailable) is marked closing and stops reading and
/*	writing at once; its remaining requests end from the event
/*	loop, never inside the code that failed. The requests of a
/*	closing connection are never woken, and gate_conn_close() is
/*	idempotent.
/*--*/
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "attempt.h"
#include "authlimits.h"
#include "authproto.h"
#include "buf.h"
#include "cause.h"
#include "conn.h"
#include "enforce.h"
#include "event.h"
#include "gate.h"
#include "history.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "sasl.h"
#include "saslpeek.h"
#include "session.h"
#include "shared.h"
#include "store.h"
#include "upstream.h"
#include "userdb.h"
#include "util.h"

#define GATE_CLIENT_IDLE	300000	/* ms a client may take to respond */
#define GATE_USERDB_MAX		2000	/* ms for a user lookup at most */
#define GATE_USERDB_MIN		100
#define GATE_PARK_POLL		100	/* ms: attempts elsewhere end unseen */
#define GATE_DELAY_SAMPLES	64	/* Dovecot's failure delays kept */
#define GATE_DELAY_DEFAULT	2000	/* ms: auth_failure_delay's default */

enum req_state {
	RS_CLIENT, RS_PARKED, RS_UPSTREAM, RS_USERDB, RS_SHARED, RS_DELAYED
};
enum req_kind { RK_PLAIN, RK_LOGIN, RK_RELAY };

struct gate_conn;

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
	TAILQ_ENTRY(gate_req) park_link; /* RS_PARKED: waiting for a place */
};

struct gate_conn {
	struct conn	 c;		/* first: conn callbacks cast back */
	pid_t		 pid;		/* smtpd: SO_PEERCRED, else CPID */
	int		 peercred;
	int		 closing;	/* no more input or output */
	int		 closed;	/* gate_conn_close() ran */
	struct ev_timer	 close_later;	/* its requests end from the loop */
	LIST_HEAD(, gate_req) reqs;
	LIST_ENTRY(gate_conn) link;	/* all smtpd connections */
};

static const struct config *gate_cfg;
static struct accounts_map *gate_accounts;
static struct listener gate_listener;
static LIST_HEAD(, gate_conn) gate_conns = LIST_HEAD_INITIALIZER(gate_conns);
static unsigned gate_nconn, gate_cuid;
static TAILQ_HEAD(, gate_req) gate_parked = TAILQ_HEAD_INITIALIZER(gate_parked);
static int gate_waking;
static struct ev_timer gate_park_timer;
static unsigned gate_fail_ms[GATE_DELAY_SAMPLES], gate_fail_n, gate_fail_next;
static unsigned gate_fail_max = GATE_DELAY_DEFAULT;

static void gate_conn_close(struct gate_conn *, const char *);
static void gate_conn_close_later(struct gate_conn *);
static void gate_req_forward(struct gate_req *);
static void gate_wake_parked(const char *, const char *);
static void req_fail_answer(struct gate_req *, enum cause);
static void req_enter(struct gate_req *, enum req_state);
static void gate_unparsable(struct gate_conn *, char *, size_t, const char *);

/* gate_connections - how many smtpd connections are open */
unsigned
gate_connections(void)
{
	return gate_nconn;
}

/* req_orphan - nobody reads this request's answer any more */
static int
req_orphan(const struct gate_req *r)
{
	return r->gc == NULL || r->gc->closing;
}

/* req_unlink - detach from the smtpd connection */
static void
req_unlink(struct gate_req *r)
{
	if (r->gc == NULL)
		return;
	LIST_REMOVE(r, conn_link);
	r->gc = NULL;
}

/* req_wipe_secrets - the password and anything derived from it */
static void
req_wipe_secrets(struct gate_req *r)
{
	wipe_str(r->pass);
	r->pass = NULL;
}

/* req_free - end of a request */
static void
req_free(struct gate_req *r)
{
	if (r->state == RS_PARKED)
		TAILQ_REMOVE(&gate_parked, r, park_link);
	if (r->enf_ready)
		enforce_release(&r->enf);
	enforce_free(&r->enf);
	req_unlink(r);
	ev_timer_stop(&r->timer);
	if (r->uid)
		upstream_cancel(r->uid);
	if (r->udb_id)
		userdb_cancel(r->udb_id);
	req_wipe_secrets(r);
	wipe_str(r->resp);
	free(r->ok_args);
	free(r->params);
	free(r->authzid);
	free(r->user);
	attempt_free(&r->at);
	free(r);
}

/* req_log - the attempt's one log line, and its place in the history */
static void
req_log(struct gate_req *r)
{
	struct hist_rec h;

	attempt_log(&r->at, gate_cfg->log_format, ev_now());
	metrics_attempt(r->at.result, r->at.cause, ev_now() - r->at.started);
	memset(&h, 0, sizeof(h));
	memcpy(h.ref, r->at.ref, sizeof(h.ref));
	h.result = (uint8_t)r->at.result;
	h.cause = (uint8_t)r->at.cause;
	h.tls = (uint8_t)r->at.tls;
	h.t = store_now();
	h.smtpd_pid = (int32_t)r->at.smtpd_pid;
	str_copy(h.mech, sizeof(h.mech), r->at.mech);
	str_copy(h.ip, sizeof(h.ip), r->at.ip);
	store_history_add(&h, r->at.user);
	if (r->at.result != ATTEMPT_ABORT)
		session_auth(r->at.smtpd_pid, r->at.ip, r->at.result ==
		    ATTEMPT_FAIL, r->at.ref, ev_now());
}

/* req_end - log, free, and let waiting attempts try again */
static void
req_end(struct gate_req *r)
{
	char *account = NULL, addr[sizeof(r->enf.addr)] = "";

	if (r->enf_ready) {
		account = xstrdup(r->enf.account);
		memcpy(addr, r->enf.addr, sizeof(addr));
	}
	req_log(r);
	req_free(r);
	gate_wake_parked(account ? account : "", addr);	/* it held a place */
	free(account);
}

/* req_enforce_ready - the attempt's limits query, built once */
static void
req_enforce_ready(struct gate_req *r)
{
	if (r->enf_ready)
		return;
	enforce_fill(&r->enf, r->user ? r->user : r->at.user, r->at.ip,
	    r->pass, r->flags);
	r->enf_ready = 1;
}

/* locked_text - the client text of a lockout, with when to retry */
static const char *
locked_text(enum cause cause, uint32_t until, char *buf, size_t len)
{
	uint32_t now = store_now(), wait = until > now ? until - now : 1;
	const char *what = cause == CAUSE_ACCOUNT_LOCKED ? "this account" :
	    "this address";

	if (wait >= 120)
		snprintf(buf, len, "too many failed attempts for %s: try again "
		    "in %u minutes", what, (wait + 59) / 60);
	else
		snprintf(buf, len, "too many failed attempts for %s: try again "
		    "in %u seconds", what, wait);
	return buf;
}

/* user_printable - safe to hand back to Postfix in user= (it unescapes
 * nothing, and turns control characters into '?') */
static int
user_printable(const char *u)
{
	for (; *u; u++)
		if ((unsigned char)*u < 0x20 || *u == 0x7f)
			return 0;
	return 1;
}

/* gate_fail_done - the shared state recorded the failure */
static void
gate_fail_done(void *arg, enum cause cause)
{
	req_fail_answer(arg, cause);
}

/* req_fail - record the failure (the shared state may be asked), answer */
static void
req_fail(struct gate_req *r, enum cause cause)
{
	int c;

	req_enforce_ready(r);
	c = enforce_fail(&r->enf, cause, r->at.ref, gate_fail_done, r);
	if (c == ENFORCE_ASKED)
		req_enter(r, RS_SHARED);
	else
		req_fail_answer(r, (enum cause)c);
}

/* req_fail_send - FAIL with r->at.cause's text and the ref */
static void
req_fail_send(struct gate_req *r)
{
	enum cause cause = r->at.cause;
	const char *text;
	struct buf line;
	char locked[128];

	if (req_orphan(r))
		return;
	text = cause_client_text(cause, gate_cfg->client_detail);
	if (text && (cause == CAUSE_ACCOUNT_LOCKED || cause == CAUSE_IP_BLOCKED))
		text = locked_text(cause, r->enf.retry_at, locked, sizeof(locked));
	buf_init(&line);
	buf_printf(&line, "FAIL\t%u", r->cid);
	if (r->at.user && user_printable(r->at.user))
		buf_printf(&line, "\tuser=%s", r->at.user);
	buf_printf(&line, "\treason=%s%s(ref=%s)\n", text ? text : "",
	    text ? " " : "", r->at.ref);
	conn_send(&r->gc->c, line.data, line.len);
	buf_free(&line);
}

/*
 * gate_fail_sample - how long Dovecot took to say FAIL: kept with the
 * last ones, and the longest of them
 */
static void
gate_fail_sample(uint64_t ms)
{
	unsigned i;

	gate_fail_ms[gate_fail_next] = ms > gate_cfg->upstream_timeout ?
	    gate_cfg->upstream_timeout : (unsigned)ms;
	gate_fail_next = (gate_fail_next + 1) % GATE_DELAY_SAMPLES;
	if (gate_fail_n < GATE_DELAY_SAMPLES)
		gate_fail_n++;
	gate_fail_max = 0;
	for (i = 0; i < gate_fail_n; i++)
		if (gate_fail_ms[i] > gate_fail_max)
			gate_fail_max = gate_fail_ms[i];
}

/* gate_refusal_ms - when, from the client's response, a failure is sent */
static unsigned
gate_refusal_ms(void)
{
	if (gate_cfg->refusal_delay != REFUSAL_DELAY_DOVECOT)
		return gate_cfg->refusal_delay;
	return gate_fail_max;
}

/*
 * req_delay - where texts do not tell causes apart, no failure is sent
 * before the time Dovecot's take (counted from the client's response,
 * within smtpd's wait): one decided here, or one of Dovecot's that came
 * early, waits; its place at the limits is given back now. 0: send now.
 */
static int
req_delay(struct gate_req *r)
{
	uint64_t spent = ev_now() - r->asked, want = gate_refusal_ms();
	uint64_t most = gate_cfg->upstream_timeout > GATE_USERDB_MIN ?
	    gate_cfg->upstream_timeout - GATE_USERDB_MIN : 0;

	if (gate_cfg->client_detail == DETAIL_FULL || req_orphan(r))
		return 0;
	if (want > most)
		want = most;
	if (want <= spent)
		return 0;
	r->delay_ms = (unsigned)(want - spent);
	if (r->uid) {		/* decided: Dovecot's open exchange is not */
		upstream_cancel(r->uid);
		r->uid = 0;
	}
	req_enter(r, RS_DELAYED);
	if (r->enf_ready) {
		enforce_release(&r->enf);
		gate_wake_parked(r->enf.account, r->enf.addr);
	}
	return 1;
}

/* req_fail_answer - answer FAIL with cause and ref (maybe later), log, end */
static void
req_fail_answer(struct gate_req *r, enum cause cause)
{
	r->at.result = ATTEMPT_FAIL;
	r->at.cause = cause;
	if (req_delay(r))
		return;
	req_fail_send(r);
	req_end(r);
}

/* req_unavailable - Dovecot cannot answer: log, make Postfix say 454 */
static void
req_unavailable(struct gate_req *r, const char *why)
{
	struct gate_conn *gc = r->gc;

	r->at.result = ATTEMPT_FAIL;
	r->at.cause = CAUSE_AUTH_SERVICE_UNAVAILABLE;
	attempt_set_detail(&r->at, why);
	if (gc)			/* first: its other requests are not woken */
		gate_conn_close_later(gc);
	req_end(r);
}

/* req_abort - the client will not finish this exchange */
static void
req_abort(struct gate_req *r, const char *why)
{
	r->at.result = ATTEMPT_ABORT;
	attempt_set_detail(&r->at, why);
	req_end(r);
}

/* ok_args - Dovecot's OK fields after the id, tab-separated */
static char *
ok_args(const struct authline *al)
{
	struct buf b;
	char *s;
	int i;

	buf_init(&b);
	for (i = 2; i < al->argc; i++)
		buf_printf(&b, "\t%s", al->argv[i]);
	buf_putc(&b, 0);
	s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

/* req_pass - Dovecot said OK: relay it (args as ok_args()), log, end */
static void
req_pass(struct gate_req *r, const char *args)
{
	struct buf line;

	r->at.result = ATTEMPT_PASS;
	req_enforce_ready(r);
	enforce_pass(&r->enf);
	if (r->gc) {
		buf_init(&line);
		buf_printf(&line, "OK\t%u%s\n", r->cid, args);
		conn_send(&r->gc->c, line.data, line.len);
		buf_free(&line);
	}
	req_end(r);
}

/* req_timeout - the state's deadline passed */
static void
req_timeout(struct ev_timer *t)
{
	struct gate_req *r = (struct gate_req *)((char *)t -
	    offsetof(struct gate_req, timer));

	switch (r->state) {
	case RS_CLIENT:
		req_abort(r, "no client response in time");
		break;
	case RS_PARKED:
		req_unavailable(r, "waited too long for earlier attempts of the "
		    "same account or address");
		break;
	case RS_UPSTREAM:
		req_unavailable(r, "no answer from Dovecot in time");
		break;
	case RS_USERDB:
		userdb_cancel(r->udb_id);
		r->udb_id = 0;
		req_fail(r, cause_after_fail(r->pass, r->flags, -1));
		break;
	case RS_SHARED:		/* Redis answers or times out well before */
		req_unavailable(r, "no answer from the shared state in time");
		break;
	case RS_DELAYED:
		req_fail_send(r);
		req_end(r);
		break;
	}
}

/* req_userdb_budget - time left for a user lookup within smtpd's wait */
static unsigned
req_userdb_budget(const struct gate_req *r)
{
	uint64_t spent = ev_now() - r->asked;
	uint64_t left = spent < gate_cfg->upstream_timeout ?
	    gate_cfg->upstream_timeout - spent : 0;

	if (left > GATE_USERDB_MAX)
		return GATE_USERDB_MAX;
	return left < GATE_USERDB_MIN ? GATE_USERDB_MIN : (unsigned)left;
}

/*
 * req_enter - one place for state changes, their deadlines and the
 * waiting list (a request is on it exactly while RS_PARKED)
 */
static void
req_enter(struct gate_req *r, enum req_state s)
{
	uint64_t spent = ev_now() - r->asked;
	unsigned ms;

	if (r->state == RS_PARKED && s != RS_PARKED)
		TAILQ_REMOVE(&gate_parked, r, park_link);
	else if (r->state != RS_PARKED && s == RS_PARKED)
		TAILQ_INSERT_TAIL(&gate_parked, r, park_link);	/* first come,
								 * first go */
	r->state = s;
	if (s == RS_CLIENT)
		ms = GATE_CLIENT_IDLE;
	else if (s == RS_DELAYED)
		ms = r->delay_ms;
	else if (s == RS_USERDB)
		ms = req_userdb_budget(r);
	else	/* waiting and Dovecot share what is left of smtpd's wait */
		ms = spent + GATE_USERDB_MIN < gate_cfg->upstream_timeout ?
		    (unsigned)(gate_cfg->upstream_timeout - spent) :
		    GATE_USERDB_MIN;
	if (s == RS_SHARED && ms < gate_cfg->redis_timeout + GATE_USERDB_MIN)
		ms = gate_cfg->redis_timeout + GATE_USERDB_MIN;	/* it answers */
	ev_timer_start(&r->timer, ms, req_timeout);
}

/* gate_send_cont - a challenge for the client (relayed ones can be long) */
static void
gate_send_cont(struct gate_req *r, const char *b64)
{
	struct buf line;

	/*
	 * While the client answers a relayed challenge, the request holds no
	 * place in the limits (its next response is checked anew): else a
	 * client that never answers would keep the account's places, and
	 * with them the account's owner, waiting.
	 */
	if (r->kind == RK_RELAY && r->enf_ready)
		enforce_release(&r->enf);
	buf_init(&line);
	buf_printf(&line, "CONT\t%u\t%s\n", r->cid, b64);
	req_enter(r, RS_CLIENT);
	conn_send(&r->gc->c, line.data, line.len);
	buf_free(&line);
}

/* req_malformed - the client's response could not be decoded */
static void
req_malformed(struct gate_req *r, enum sasl_error err)
{
	attempt_set_detail(&r->at, sasl_error_str(err));
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* req_plain - a PLAIN response */
static void
req_plain(struct gate_req *r, const char *b64)
{
	struct sasl_plain sp;
	enum sasl_error err;

	if ((err = sasl_plain_decode(b64, strlen(b64), &sp)) != SASL_OK) {
		req_malformed(r, err);
		return;
	}
	r->authzid = xstrdup(sp.authzid);
	r->user = xstrdup(sp.user);
	r->pass = xstrdup(sp.pass);
	sasl_plain_wipe(&sp);
	attempt_set_user(&r->at, r->user);
	gate_req_forward(r);
}

/* req_login - one LOGIN step: user name, then password */
static void
req_login(struct gate_req *r, const char *b64)
{
	enum sasl_error err;
	char *value;

	if ((err = sasl_login_decode(b64, strlen(b64), r->user != NULL,
	    &value)) != SASL_OK) {
		req_malformed(r, err);
		return;
	}
	if (r->user == NULL) {
		r->user = value;
		r->authzid = xstrdup("");
		attempt_set_user(&r->at, r->user);
		gate_send_cont(r, "UGFzc3dvcmQ6");	/* "Password:" */
		return;
	}
	r->pass = value;
	gate_req_forward(r);
}

/* mech_is_oauth - an OAuth mechanism (what ACCT_OAUTH_ONLY allows) */
static int
mech_is_oauth(const char *mech)
{
	return strcmp(mech, "OAUTHBEARER") == 0 || strcmp(mech, "XOAUTH2") == 0;
}

/* req_lookup_flags - the accounts_map flags of user, or a read error */
static void
req_lookup_flags(struct gate_req *r, const char *user)
{
	r->map_err = accounts_lookup(gate_accounts, user, &r->flags) < 0;
}

/* req_account_check - what the accounts_map flags refuse (r->flags known) */
static enum cause
req_account_check(const struct gate_req *r)
{
	if (r->map_err)		/* fail closed: a temporary error, 454 */
		return CAUSE_AUTH_SERVICE_UNAVAILABLE;
	if (r->flags & ACCT_DISABLED)
		return CAUSE_ACCOUNT_DISABLED;
	if ((r->flags & ACCT_OAUTH_ONLY) && !mech_is_oauth(r->at.mech))
		return CAUSE_OAUTH_REQUIRED;
	return CAUSE_NONE;
}

/* req_precheck - refusals decided before Dovecot sees anything */
static enum cause
req_precheck(struct gate_req *r)
{
	if (*r->authzid && strcmp(r->authzid, r->user) != 0)
		return CAUSE_AUTHZID_MISMATCH;
	req_lookup_flags(r, r->user);
	return req_account_check(r);
}

/*
 * req_refuse - what the checks before Dovecot refused: a failure with
 * its cause, or a temporary error when the accounts map cannot be read
 */
static void
req_refuse(struct gate_req *r, enum cause cause)
{
	if (cause == CAUSE_AUTH_SERVICE_UNAVAILABLE)
		req_unavailable(r, "accounts_map cannot be read");
	else
		req_fail(r, cause);
}

/* req_submit - hand the request to Dovecot */
static void
req_submit(struct gate_req *r, const char *mech, const char *resp)
{
	const char *err;

	if ((r->uid = upstream_auth(r, mech, r->params, resp, &err)) == 0) {
		req_unavailable(r, err);
		return;
	}
	r->up_sent = ev_now();
	req_enter(r, RS_UPSTREAM);
}

/*
 * req_go - past every check: to Dovecot (PLAIN and LOGIN as PLAIN; a
 * relayed response held back goes on in its open Dovecot request)
 */
static void
req_go(struct gate_req *r, const char *mech, const char *resp)
{
	const char *err;
	struct buf b;

	if (r->kind == RK_RELAY) {
		r->resp = NULL;		/* req_submit may end r */
		if (r->uid == 0)
			req_submit(r, mech, resp);
		else if (upstream_cont(r->uid, resp ? resp : "", &err) < 0)
			req_unavailable(r, err);
		else {
			r->up_sent = ev_now();
			req_enter(r, RS_UPSTREAM);
		}
		wipe_str((char *)resp);
		return;
	}
	buf_init(&b);
	sasl_plain_encode(&b, r->authzid, r->user, r->pass);
	req_submit(r, "PLAIN", b.data);
	buf_free(&b);
}

/* gate_park_poll - with a shared state, attempts on other servers end too */
static void
gate_park_poll(struct ev_timer *t)
{
	gate_wake_parked(NULL, NULL);
	if (!TAILQ_EMPTY(&gate_parked) && shared_enabled())
		ev_timer_start(&gate_park_timer, GATE_PARK_POLL, gate_park_poll);
}

/* req_park - wait until earlier attempts of the same name/address end */
static void
req_park(struct gate_req *r)
{
	req_enter(r, RS_PARKED);
	if (shared_enabled() && !gate_park_timer.slot)
		ev_timer_start(&gate_park_timer, GATE_PARK_POLL, gate_park_poll);
}

/* req_verdict - act on what the failure limits said */
static void
req_verdict(struct gate_req *r, enum limits_verdict v)
{
	switch (v) {
	case LV_ALLOW:
		req_go(r, r->at.mech, r->resp);
		break;
	case LV_WAIT:
		req_park(r);
		break;
	case LV_ACCOUNT_LOCKED:
		req_fail(r, CAUSE_ACCOUNT_LOCKED);
		break;
	case LV_IP_BLOCKED:
		req_fail(r, CAUSE_IP_BLOCKED);
		break;
	}
}

/* gate_check_done - the shared state's verdict */
static void
gate_check_done(void *arg, enum limits_verdict v)
{
	struct gate_req *r = arg;

	if (req_orphan(r))	/* smtpd went away meanwhile: nothing to ask */
		req_abort(r, "smtpd connection closed");
	else
		req_verdict(r, v);
}

/* req_check - ask the limits; ENFORCE_ASKED: waiting for the shared state */
static int
req_check(struct gate_req *r)
{
	int v = enforce_check(&r->enf, gate_check_done, r);

	if (v == ENFORCE_ASKED)
		req_enter(r, RS_SHARED);
	return v;
}

/* req_limits - the failure limits decide: go, wait or refuse */
static void
req_limits(struct gate_req *r)
{
	int v;

	req_enforce_ready(r);
	if ((v = req_check(r)) != ENFORCE_ASKED)
		req_verdict(r, (enum limits_verdict)v);
}

/*
 * parked_concerns - with a shared state, an attempt that ended wakes only
 * those waiting for its account or address (each wake is a question to
 * Redis); the poll (account NULL) wakes all, as does every end without one
 */
static int
parked_concerns(const struct gate_req *r, const char *account,
    const char *addr)
{
	if (req_orphan(r))	/* its connection ends it */
		return 0;
	if (account == NULL || !shared_enabled())
		return 1;
	return (*account && strcmp(r->enf.account, account) == 0) ||
	    (*addr && strcmp(r->enf.addr, addr) == 0);
}

/* gate_wake_parked - limits changed: let waiting attempts try again */
static void
gate_wake_parked(const char *account, const char *addr)
{
	struct gate_req *r;
	int v = LV_WAIT;

	if (gate_waking)
		return;
	gate_waking = 1;
	do {
		TAILQ_FOREACH(r, &gate_parked, park_link)
			if (parked_concerns(r, account, addr) &&
			    (v = req_check(r)) != LV_WAIT)
				break;
		if (r && v != ENFORCE_ASKED)	/* its next state takes it off */
			req_verdict(r, (enum limits_verdict)v);
	} while (r);
	gate_waking = 0;
}

/*
 * gate_limits_changed - the admin locked or unlocked an account or address
 * key (NULL both: anything may have changed): requests waiting for it are
 * decided now, not when an earlier attempt ends or they time out
 */
void
gate_limits_changed(const char *account, const char *addr)
{
	if (account == NULL && addr == NULL)
		gate_wake_parked(NULL, NULL);
	else
		gate_wake_parked(account ? account : "", addr ? addr : "");
}

/* gate_req_forward - a decoded PLAIN/LOGIN response: check, then forward */
static void
gate_req_forward(struct gate_req *r)
{
	enum cause cause;

	if ((cause = req_precheck(r)) != CAUSE_NONE) {
		req_refuse(r, cause);
		return;
	}
	req_limits(r);
}

/*
 * req_classify - Dovecot said FAIL (cause: from its code=, temp_fail
 * excepted) about who: find out why
 */
static void
req_classify(struct gate_req *r, enum cause cause, const char *who)
{
	if (cause != CAUSE_NONE) {
		req_fail(r, cause);
		return;
	}
	cause = cause_after_fail(r->pass, r->flags, -1);
	if (cause == CAUSE_APP_PASSWORD_SPACES || who == NULL ||
	    (r->udb_id = userdb_lookup(r, who)) == 0) {
		req_fail(r, cause);
		return;
	}
	req_enter(r, RS_USERDB);
}

/* gate_userdb_done - the user lookup answered */
static void
gate_userdb_done(void *arg, enum userdb_reply_kind kind)
{
	struct gate_req *r = arg;
	int known = kind == USERDB_FOUND ? 1 : kind == USERDB_NOTFOUND ? 0 : -1;

	r->udb_id = 0;
	req_fail(r, cause_after_fail(r->pass, r->flags, known));
}

/*
 * req_learn_account - a relayed mechanism's account, read from the
 * client's response (before req_enforce_ready()) or, when none could be
 * read, named by Dovecot (then the place held is the address's alone),
 * or the account Dovecot renamed a typed one to (req_renamed): its
 * flags, and its window and lock from now on
 */
static void
req_learn_account(struct gate_req *r, const char *user)
{
	free(r->user);
	r->user = xstrdup(user);
	attempt_set_user(&r->at, user);
	req_lookup_flags(r, user);
	if (!r->enf_ready)		/* req_enforce_ready() takes it */
		return;
	enforce_set_account(&r->enf, user);
	r->enf.no_limit = (r->flags & ACCT_NO_LIMIT) != 0;
}

/*
 * req_relay_found - a relayed response names the account: checked as
 * PLAIN is before it goes on; a place held for the address alone (the
 * exchange's first step) is given back and taken again with the account
 */
static void
req_relay_found(struct gate_req *r, const struct saslpeek_id *id)
{
	enum cause cause;

	if (r->enf_ready) {
		enforce_release(&r->enf);
		r->enf_ready = 0;
	}
	free(r->authzid);
	r->authzid = xstrdup(id->authzid);
	req_learn_account(r, id->user);
	if ((cause = req_precheck(r)) != CAUSE_NONE)
		req_refuse(r, cause);
	else
		req_limits(r);
}

/* req_relay_malformed - a relayed response no client of its mechanism sends */
static void
req_relay_malformed(struct gate_req *r)
{
	attempt_set_detail(&r->at, r->peek.why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/*
 * req_relay_start - a relayed AUTH: its initial response read, then
 * checked with the account if it names one, else with the address only
 * (the account comes later, or never in clear)
 */
static void
req_relay_start(struct gate_req *r)
{
	enum saslpeek_status s = SASLPEEK_NOT_THIS_STEP;
	struct saslpeek_id id;

	saslpeek_start(&r->peek, r->at.mech);
	if (r->resp)		/* "=": SMTP's empty one, as if none */
		s = saslpeek_push(&r->peek, 1, r->resp, strcmp(r->resp, "=") ?
		    strlen(r->resp) : 0, &id);
	if (s == SASLPEEK_FOUND)
		req_relay_found(r, &id);
	else if (s == SASLPEEK_MALFORMED)
		req_relay_malformed(r);
	else
		req_limits(r);
}

/*
 * req_relay_cont - a relayed response to a challenge, held back until the
 * limits allow it: each response may carry a proof of the password, and
 * the account or address may have been locked since the last one (its
 * place is given back and taken again, as for a new attempt)
 */
static void
req_relay_cont(struct gate_req *r, const char *b64)
{
	enum saslpeek_status s;
	struct saslpeek_id id;

	s = saslpeek_push(&r->peek, 0, b64, strlen(b64), &id);
	if (s == SASLPEEK_MALFORMED) {
		req_relay_malformed(r);
		return;
	}
	wipe_str(r->resp);
	r->resp = xstrdup(b64);
	if (s == SASLPEEK_FOUND)
		req_relay_found(r, &id);
	else {
		enforce_release(&r->enf);
		req_limits(r);
	}
}

/*
 * gate_relay_lock_done - a relayed mechanism's OK (r->ok_args) or FAIL
 * (r->up_cause), once the account's lock is known, here or from the
 * shared state: a locked account, and what the accounts map refuses, get
 * the same answer whatever Dovecot said
 */
static void
gate_relay_lock_done(void *arg, int locked)
{
	struct gate_req *r = arg;
	enum cause cause = CAUSE_NONE;

	if (locked)
		cause = CAUSE_ACCOUNT_LOCKED;
	else if (r->user)
		cause = req_account_check(r);
	if (cause != CAUSE_NONE)
		req_refuse(r, cause);
	else if (r->ok_args)
		req_pass(r, r->ok_args);
	else
		req_classify(r, r->up_cause, r->user);
}

/* req_relay_outcome - a relayed mechanism's OK or FAIL: the lock first */
static void
req_relay_outcome(struct gate_req *r)
{
	int locked;

	req_enforce_ready(r);
	locked = r->user ? enforce_locked(&r->enf, gate_relay_lock_done, r) : 0;
	if (locked == ENFORCE_ASKED)
		req_enter(r, RS_SHARED);
	else
		gate_relay_lock_done(r, locked);
}

/*
 * req_renamed - Dovecot answered for another account than the one typed
 * (auth_default_realm, auth_username_format: "alice" is
 * alice@example.com): that account's flags and lock apply too, and the
 * outcome counts for it, as for a relayed mechanism. The place held
 * under the typed name is given back first (it is released by its key).
 */
static int
req_renamed(struct gate_req *r, const char *user)
{
	if (r->kind == RK_RELAY || user == NULL || r->user == NULL ||
	    strcasecmp(user, r->user) == 0)
		return 0;
	if (r->enf_ready)
		enforce_release(&r->enf);
	req_learn_account(r, user);
	return 1;
}

/* gate_upstream_fail - FAIL from Dovecot */
static void
gate_upstream_fail(struct gate_req *r, const struct auth_reply *rep)
{
	enum cause cause = cause_from_code(rep->code);

	if (rep->reason)
		attempt_set_detail(&r->at, rep->reason);
	if (cause == CAUSE_AUTH_SERVICE_UNAVAILABLE) {
		req_unavailable(r, "Dovecot: temp_fail");
		return;
	}
	/*
	 * Only Dovecot's failures of credentials the gate built itself are
	 * held for auth_failure_delay: one with a code= (invalid_base64 of
	 * a relayed response) comes at once, and a client that sent many
	 * would bring the wait down to nothing.
	 */
	if (r->kind != RK_RELAY && rep->code == NULL)
		gate_fail_sample(ev_now() - r->up_sent);
	if (req_renamed(r, rep->user)) {
		r->up_cause = cause;
		req_relay_outcome(r);
		return;
	}
	if (r->kind != RK_RELAY) {
		req_classify(r, cause, rep->user ? rep->user : r->user);
		return;
	}
	if (r->user == NULL && rep->user)	/* else the name it was checked as */
		req_learn_account(r, rep->user);
	r->up_cause = cause;
	req_relay_outcome(r);
}

/* gate_upstream_ok - OK from Dovecot */
static void
gate_upstream_ok(struct gate_req *r, const struct auth_reply *rep,
    const struct authline *al)
{
	r->ok_args = ok_args(al);
	if (req_renamed(r, rep->user)) {
		req_relay_outcome(r);
		return;
	}
	if (r->kind != RK_RELAY) {
		if (r->user == NULL && rep->user)
			attempt_set_user(&r->at, rep->user);
		req_pass(r, r->ok_args);
		return;
	}
	if (r->user == NULL && rep->user)	/* else the name it was checked as */
		req_learn_account(r, rep->user);
	req_relay_outcome(r);
}

/* gate_upstream_reply - OK, FAIL or CONT from Dovecot */
static void
gate_upstream_reply(void *arg, const struct auth_reply *rep,
    struct authline *al)
{
	struct gate_req *r = arg;

	if (rep->kind != AUTH_REPLY_CONT)
		r->uid = 0;
	switch (rep->kind) {
	case AUTH_REPLY_OK:
		gate_upstream_ok(r, rep, al);
		break;
	case AUTH_REPLY_FAIL:
		gate_upstream_fail(r, rep);
		break;
	case AUTH_REPLY_CONT:
		if (r->kind != RK_RELAY) {
			upstream_cancel(r->uid);
			r->uid = 0;
			req_unavailable(r, "Dovecot asked to continue a PLAIN "
			    "exchange");
		} else if (req_orphan(r))
			req_abort(r, "smtpd connection closed");
		else
			gate_send_cont(r, rep->data);
		break;
	}
}

/*
 * gate_upstream_refused - the request was held for Dovecot's handshake,
 * whose new list lacks its mechanism: refused as req_mech_refused() does
 */
static void
gate_upstream_refused(void *arg, const char *mech)
{
	struct gate_req *r = arg;
	char why[96];

	r->uid = 0;
	snprintf(why, sizeof(why), "mechanism %s is no longer offered by "
	    "Dovecot", mech);
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* gate_upstream_lost - Dovecot will not answer this request */
static void
gate_upstream_lost(void *arg, const char *why)
{
	struct gate_req *r = arg;

	r->uid = 0;
	req_unavailable(r, why);
}

static const struct upstream_callbacks gate_upstream_cb = {
	.reply = gate_upstream_reply,
	.lost = gate_upstream_lost,
	.refused = gate_upstream_refused,
};

/* gate_find - the request with Postfix's id on this connection */
static struct gate_req *
gate_find(struct gate_conn *gc, unsigned cid)
{
	struct gate_req *r;

	LIST_FOREACH(r, &gc->reqs, conn_link)
		if (r->cid == cid)
			return r;
	return NULL;
}

/* gate_first_waiting - a request of gc waiting for the client, or NULL */
static struct gate_req *
gate_first_waiting(struct gate_conn *gc)
{
	struct gate_req *r;

	LIST_FOREACH(r, &gc->reqs, conn_link)
		if (r->state == RS_CLIENT)
			return r;
	return NULL;
}

/*
 * gate_abandon_waiting - a new AUTH ends exchanges left half-way (from the
 * head each time: an end can end other requests of gc)
 */
static void
gate_abandon_waiting(struct gate_conn *gc)
{
	struct gate_req *r;

	while ((r = gate_first_waiting(gc)) != NULL)
		req_abort(r, "client cancelled or started over");
}

/* req_new - an attempt for an AUTH line */
static struct gate_req *
req_new(struct gate_conn *gc, unsigned cid, const char *mech, const char *rip,
    int secured)
{
	struct gate_req *r = xcalloc(1, sizeof(*r));
	char canon[NETADDR_CANON_MAX];

	r->gc = gc;
	r->cid = cid;
	r->asked = ev_now();
	if (rip)		/* ::ffff:192.0.2.7 is 192.0.2.7 everywhere */
		rip = netaddr_canon(rip, canon, sizeof(canon));
	attempt_init(&r->at, mech, rip, secured, gc->pid, ev_now());
	LIST_INSERT_HEAD(&gc->reqs, r, conn_link);
	return r;
}

/* join_params - the AUTH parameters to forward, without resp= */
static char *
join_params(const struct authline *al, int first)
{
	struct buf b;
	char *s;
	int i;

	buf_init(&b);
	for (i = first; i < al->argc; i++) {
		if (strncmp(al->argv[i], "resp=", 5) == 0)
			continue;
		buf_printf(&b, "%s%s", b.len ? "\t" : "", al->argv[i]);
	}
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* req_tls_refused - credentials in clear: refuse, never forward */
static int
req_tls_refused(struct gate_req *r, const struct auth_request *ar)
{
	struct sasl_plain sp;
	char *user;

	if (ar->secured || !gate_cfg->require_tls_for_auth ||
	    netlist_match_str(&gate_cfg->tls_exempt_networks, ar->rip))
		return 0;
	/* For the log only: the user name of an initial response. */
	if (ar->resp && r->kind == RK_PLAIN &&
	    sasl_plain_decode(ar->resp, strlen(ar->resp), &sp) == SASL_OK) {
		attempt_set_user(&r->at, sp.user);
		sasl_plain_wipe(&sp);
	} else if (ar->resp && r->kind == RK_LOGIN &&
	    sasl_login_decode(ar->resp, strlen(ar->resp), 0, &user) == SASL_OK) {
		attempt_set_user(&r->at, user);
		wipe_str(user);
	}
	req_fail(r, CAUSE_TLS_REQUIRED);
	return 1;
}

/*
 * req_mech_refused - a mechanism Dovecot did not offer (PLAIN and LOGIN
 * go to it as PLAIN): refused here, as Dovecot would drop its connection
 */
static int
req_mech_refused(struct gate_req *r)
{
	const char *missing = NULL;
	char why[96];

	if (!upstream_offers(r->at.mech))
		missing = r->at.mech;
	else if (r->kind != RK_RELAY && !upstream_offers("PLAIN"))
		missing = "PLAIN (what the gate sends Dovecot)";
	if (missing == NULL)
		return 0;
	snprintf(why, sizeof(why), "mechanism %s is not offered by Dovecot",
	    missing);
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
	return 1;
}

/* req_refuse_line - an AUTH line that cannot be served: FAIL it with a ref */
static void
req_refuse_line(struct gate_conn *gc, unsigned id, const struct authline *al,
    const char *why)
{
	char mech[32] = "?";
	struct gate_req *r;

	if (al->argc > 2 && authproto_valid_mech(al->argv[2]) &&
	    str_copy(mech, sizeof(mech), al->argv[2]) == 0)
		str_upper(mech);

	r = req_new(gc, id, mech, authline_param(al, 3, "rip"),
	    authline_param(al, 3, "secured") != NULL);
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* gate_auth - AUTH from Postfix */
static void
gate_auth(struct gate_conn *gc, struct authline *al)
{
	struct auth_request ar;
	struct gate_req *r;
	const char *err;
	unsigned id;

	gate_abandon_waiting(gc);
	if (gc->closing)
		return;
	if (authproto_parse_auth(al, &ar, &err) < 0) {
		if (al->argc < 2 || authline_id(al->argv[1], &id) < 0)
			msg_warn("%s: AUTH without a valid id ignored: %s",
			    gc->c.name, err);
		else if (gate_find(gc, id) == NULL)
			req_refuse_line(gc, id, al, err);
		return;
	}
	if (gate_find(gc, ar.id)) {
		msg_warn("%s: AUTH reuses id %u of a pending request; ignored",
		    gc->c.name, ar.id);
		return;
	}
	r = req_new(gc, ar.id, ar.mech, ar.rip, ar.secured);
	r->kind = strcmp(ar.mech, "PLAIN") == 0 ? RK_PLAIN :
	    strcmp(ar.mech, "LOGIN") == 0 ? RK_LOGIN : RK_RELAY;
	if (req_mech_refused(r) || req_tls_refused(r, &ar))
		return;
	r->params = join_params(al, ar.first_param);
	if (r->kind == RK_RELAY) {
		r->resp = ar.resp ? xstrdup(ar.resp) : NULL;
		req_relay_start(r);
	}
	else if (r->kind == RK_PLAIN && ar.resp)
		req_plain(r, ar.resp);
	else if (r->kind == RK_PLAIN)
		gate_send_cont(r, "");
	else if (ar.resp)
		req_login(r, ar.resp);
	else
		gate_send_cont(r, "VXNlcm5hbWU6");	/* "Username:" */
}

/* gate_cont - CONT from Postfix: the client's response */
static void
gate_cont(struct gate_conn *gc, struct authline *al)
{
	struct gate_req *r;
	unsigned id;
	char line[96];

	if (al->argc < 3 || authline_id(al->argv[1], &id) < 0) {
		msg_warn("%s: malformed CONT ignored", gc->c.name);
		return;
	}
	if ((r = gate_find(gc, id)) == NULL || r->state != RS_CLIENT) {
		msg_warn("%s: CONT for %s request %u", gc->c.name,
		    r ? "a busy" : "an unknown", id);
		if (r == NULL) {
			snprintf(line, sizeof(line), "FAIL\t%u\treason=unknown "
			    "authentication request\n", id);
			conn_puts(&gc->c, line);
		}
		return;
	}
	r->asked = ev_now();
	if (r->kind == RK_PLAIN)
		req_plain(r, al->argv[2]);
	else if (r->kind == RK_LOGIN)
		req_login(r, al->argv[2]);
	else
		req_relay_cont(r, al->argv[2]);
}

/* gate_cancel - CANCEL from a client: drop the request */
static void
gate_cancel(struct gate_conn *gc, struct authline *al)
{
	struct gate_req *r;
	unsigned id;

	if (al->argc < 2 || authline_id(al->argv[1], &id) < 0 ||
	    (r = gate_find(gc, id)) == NULL)
		return;
	if (r->state == RS_DELAYED)	/* refused already: no answer wanted */
		req_end(r);
	else
		req_abort(r, "cancelled by the client");
}

/* gate_line - one line from smtpd */
static void
gate_line(struct conn *c, char *line, size_t len)
{
	struct gate_conn *gc = (struct gate_conn *)c;
	struct authline al;
	unsigned long pid;
	unsigned major, minor;

	if (authline_split(line, len, &al) < 0) {
		gate_unparsable(gc, line, len, "NUL byte or too many fields");
		return;
	}
	if (strcmp(al.argv[0], "AUTH") == 0)
		gate_auth(gc, &al);
	else if (strcmp(al.argv[0], "CONT") == 0)
		gate_cont(gc, &al);
	else if (strcmp(al.argv[0], "CANCEL") == 0)
		gate_cancel(gc, &al);
	else if (strcmp(al.argv[0], "VERSION") == 0) {
		if (authproto_parse_version(&al, &major, &minor) < 0 ||
		    major != 1)
			gate_conn_close(gc, "unsupported protocol version");
	} else if (strcmp(al.argv[0], "CPID") == 0) {
		if (!gc->peercred && al.argc >= 2 &&
		    parse_uint(al.argv[1], 0x7fffffff, &pid) == 0)
			gc->pid = (pid_t)pid;
	} else
		msg_warn("%s: unknown command ignored: %.20s", c->name,
		    al.argv[0]);
}

/* gate_unparsable - a line too long or invalid: fail its request, if any */
static void
gate_unparsable(struct gate_conn *gc, char *line, size_t len, const char *why)
{
	struct authline al;
	struct gate_req *r;
	const char *cmd;
	unsigned id;

	msg_warn("%s: %s; line discarded", gc->c.name, why);
	if (authproto_overlong_id(line, &cmd, &id) < 0)
		return;
	if (strcmp(cmd, "AUTH") == 0) {
		gate_abandon_waiting(gc);
		if (gc->closing || gate_find(gc, id) != NULL)
			return;
		if (authline_split(line, strnlen(line, len), &al) < 0)
			al.argc = 0;
		req_refuse_line(gc, id, &al, why);
		return;
	}
	if (strcmp(cmd, "CONT") != 0 || (r = gate_find(gc, id)) == NULL ||
	    r->state != RS_CLIENT)
		return;
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* gate_overlong - a line over 16 KiB */
static void
gate_overlong(struct conn *c, char *prefix, size_t len)
{
	gate_unparsable((struct gate_conn *)c, prefix, len,
	    "line longer than 16 KiB");
}

/* gate_conn_free - deferred release */
static void
gate_conn_free(void *p)
{
	struct gate_conn *gc = p;

	conn_free(&gc->c);
	free((char *)gc->c.name);
	free(gc);
}

/*
 * gate_conn_close - end an smtpd connection and its requests; why NULL: on
 * purpose. Idempotent. An abort can end other requests of gc, so each
 * round takes the head of the list again.
 */
static void
gate_conn_close(struct gate_conn *gc, const char *why)
{
	struct gate_req *r;

	if (gc->closed)
		return;
	gc->closed = gc->closing = 1;
	if (why)
		msg_warn("%s: closing: %s", gc->c.name, why);
	ev_timer_stop(&gc->close_later);
	conn_close(&gc->c);
	LIST_REMOVE(gc, link);
	gate_nconn--;
	while ((r = LIST_FIRST(&gc->reqs)) != NULL) {
		if (r->state == RS_DELAYED)	/* decided: logged as it is */
			req_end(r);
		else if (r->state == RS_CLIENT || r->state == RS_PARKED)
			req_abort(r, "smtpd connection closed");
		else
			req_unlink(r);	/* keep it to log its outcome */
	}
	ev_defer_free(gate_conn_free, gc);
}

/* gate_conn_close_timer - the deferred end of a closing connection */
static void
gate_conn_close_timer(struct ev_timer *t)
{
	gate_conn_close((struct gate_conn *)((char *)t -
	    offsetof(struct gate_conn, close_later)), NULL);
}

/*
 * gate_conn_close_later - smtpd must see the connection end now (its 454),
 * but the caller is in the middle of a request: stop all I/O here, end the
 * other requests from the event loop
 */
static void
gate_conn_close_later(struct gate_conn *gc)
{
	if (gc->closing)
		return;
	gc->closing = 1;
	conn_close(&gc->c);
	ev_timer_start(&gc->close_later, 0, gate_conn_close_timer);
}

/* gate_closed - smtpd went away (normal at smtpd exit) */
static void
gate_closed(struct conn *c, const char *why)
{
	struct gate_conn *gc = (struct gate_conn *)c;

	if (msg_verbose)
		msg_info("%s: %s", c->name, why);
	gate_conn_close(gc, NULL);
}

static const struct conn_ops gate_ops = {
	.line = gate_line,
	.overlong = gate_overlong,
	.closed = gate_closed,
};

/* gate_hello - our half of the handshake, sent at once */
static void
gate_hello(struct gate_conn *gc)
{
	unsigned char rnd[16];
	struct buf b;
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	buf_init(&b);
	buf_puts(&b, "VERSION\t1\t2\n");
	buf_puts(&b, upstream_mechs());
	buf_printf(&b, "SPID\t%ld\nCUID\t%u\nCOOKIE\t", (long)getpid(),
	    ++gate_cuid);
	for (i = 0; i < sizeof(rnd); i++)
		buf_printf(&b, "%02x", rnd[i]);
	buf_puts(&b, "\nDONE\n");
	conn_send(&gc->c, b.data, b.len);
	buf_free(&b);
}

/* gate_accepted - a new smtpd connection */
static void
gate_accepted(int fd, pid_t pid)
{
	struct gate_conn *gc = xcalloc(1, sizeof(*gc));
	char name[48];

	gc->pid = pid;
	gc->peercred = pid > 0;
	snprintf(name, sizeof(name), "sasl client pid %ld", (long)gc->pid);
	conn_init(&gc->c, fd, AUTHPROTO_LINE_MAX, &gate_ops, gc, xstrdup(name));
	LIST_INIT(&gc->reqs);
	LIST_INSERT_HEAD(&gate_conns, gc, link);
	gate_nconn++;
	gate_hello(gc);
}

/* gate_init - wire the gate to its upstreams */
void
gate_init(const struct config *cfg, struct accounts_map *accounts)
{
	gate_cfg = cfg;
	gate_accounts = accounts;
	memset(gate_fail_ms, 0, sizeof(gate_fail_ms));
	gate_fail_n = gate_fail_next = 0;
	gate_fail_max = GATE_DELAY_DEFAULT;
	upstream_init(&cfg->sasl_upstream, cfg->state_dir, cfg->upstream_timeout,
	    &gate_upstream_cb);
	userdb_init(&cfg->userdb_upstream, gate_userdb_done);
}

/* gate_listen - start accepting on the SASL socket */
void
gate_listen(int fd)
{
	listener_start(&gate_listener, fd, "sasl_listen", gate_accepted);
}

/* gate_shutdown - close the listener and every smtpd connection */
void
gate_shutdown(void)
{
	listener_stop(&gate_listener);
	ev_timer_stop(&gate_park_timer);
	while (!LIST_EMPTY(&gate_conns))
		gate_conn_close(LIST_FIRST(&gate_conns), NULL);
	upstream_shutdown();
	userdb_shutdown();
}
