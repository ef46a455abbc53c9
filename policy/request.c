/*++
/* NAME
/*	request 3
/* SUMMARY
/*	the life of one SASL request in the gate
/* DESCRIPTION
/*	Each AUTH that smtpd sends the gate (gate 3) becomes a request
/*	with a life of its own. req_enter() is the one place where its
/*	state changes, with the state's deadline and its place in the
/*	queues of waiters (park 3):
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
/*	PLAIN and LOGIN are decoded here, checked (TLS, syntax,
/*	authzid, accounts_map flags) and forwarded as PLAIN with an
/*	initial response, so that refused credentials never reach
/*	Dovecot. Other mechanisms are relayed (relay 3).
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
/*	Ending one request can end others: its end lets the requests
/*	that wait for its account or address try again (park 3), and
/*	any of them may be refused, fail or find Dovecot down at once.
/*	A connection that must close because of a request
/*	(req_unavailable) is closed through the gate's close-later
/*	(req_init), which stops its input and output at once and ends
/*	its other requests from the event loop, never inside the code
/*	that failed.
/*--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "accounts.h"
#include "attempt.h"
#include "authlimits.h"
#include "authproto.h"
#include "buf.h"
#include "cause.h"
#include "config.h"
#include "conn.h"
#include "enforce.h"
#include "event.h"
#include "forwarded.h"
#include "history.h"
#include "metrics.h"
#include "netaddr.h"
#include "park.h"
#include "request.h"
#include "sasl.h"
#include "session.h"
#include "store.h"
#include "upstream.h"
#include "userdb.h"
#include "util.h"

#define GATE_CLIENT_IDLE	300000	/* ms a client may take to respond */
#define GATE_USERDB_MAX		2000	/* ms for a user lookup at most */
#define GATE_USERDB_MIN		100
#define GATE_DELAY_SAMPLES	64	/* Dovecot's failure delays kept */
#define GATE_DELAY_DEFAULT	2000	/* ms: auth_failure_delay's default */

static const struct config *req_cfg;
static struct accounts_map *req_accounts;
static void (*req_close_later)(struct gate_conn *);
static unsigned req_fail_ms[GATE_DELAY_SAMPLES], req_fail_n, req_fail_next;
static unsigned req_fail_max = GATE_DELAY_DEFAULT;

static void req_fail_answer(struct gate_req *, enum cause);
static void req_enter(struct gate_req *, enum req_state);
static void req_forward(struct gate_req *);

/* req_orphan - nobody reads this request's answer any more */
static int
req_orphan(const struct gate_req *r)
{
	return r->gc == NULL || r->gc->closing;
}

/* req_unlink - detach from the smtpd connection */
void
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
		park_leave(&r->wait);
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
	attempt_record(&r->at, req_cfg->log_format, ev_now());
	if (r->at.result != ATTEMPT_ABORT)
		session_auth(r->at.smtpd_pid, r->at.ip, r->at.result ==
		    ATTEMPT_FAIL, r->at.ref, ev_now());
}

/* req_end - log, free, and let waiting attempts try again */
void
req_end(struct gate_req *r)
{
	char *account = NULL, addr[sizeof(r->enf.addr)] = "";

	if (r->enf_ready) {
		account = xstrdup(r->enf.account);
		memcpy(addr, r->enf.addr, sizeof(addr));
	}
	req_log(r);
	req_free(r);
	park_wake(account, addr);	/* it held a place */
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

/* req_fail_done - the shared state recorded the failure */
static void
req_fail_done(void *arg, enum cause cause)
{
	req_fail_answer(arg, cause);
}

/* req_fail - record the failure (the shared state may be asked), answer */
void
req_fail(struct gate_req *r, enum cause cause)
{
	int c;

	req_enforce_ready(r);
	c = enforce_fail(&r->enf, cause, r->at.ref, req_fail_done, r);
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
	text = cause_refusal_text(cause, req_cfg->client_detail,
	    r->enf.retry_at > store_now() ? r->enf.retry_at - store_now() : 1,
	    locked, sizeof(locked));
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
 * req_fail_sample - how long Dovecot took to say FAIL: kept with the
 * last ones, and the longest of them
 */
static void
req_fail_sample(uint64_t ms)
{
	unsigned i;

	req_fail_ms[req_fail_next] = ms > req_cfg->upstream_timeout ?
	    req_cfg->upstream_timeout : (unsigned)ms;
	req_fail_next = (req_fail_next + 1) % GATE_DELAY_SAMPLES;
	if (req_fail_n < GATE_DELAY_SAMPLES)
		req_fail_n++;
	req_fail_max = 0;
	for (i = 0; i < req_fail_n; i++)
		if (req_fail_ms[i] > req_fail_max)
			req_fail_max = req_fail_ms[i];
}

/* req_refusal_ms - when, from the client's response, a failure is sent */
static unsigned
req_refusal_ms(void)
{
	if (req_cfg->refusal_delay != REFUSAL_DELAY_DOVECOT)
		return req_cfg->refusal_delay;
	return req_fail_max;
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
	uint64_t spent = ev_now() - r->asked, want = req_refusal_ms();
	uint64_t most = req_cfg->upstream_timeout > GATE_USERDB_MIN ?
	    req_cfg->upstream_timeout - GATE_USERDB_MIN : 0;

	if (req_cfg->client_detail == DETAIL_FULL || req_orphan(r))
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
		park_wake(r->enf.account, r->enf.addr);
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
		req_close_later(gc);
	req_end(r);
}

/* req_abort - the client will not finish this exchange */
void
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
	uint64_t left = spent < req_cfg->upstream_timeout ?
	    req_cfg->upstream_timeout - spent : 0;

	if (left > GATE_USERDB_MAX)
		return GATE_USERDB_MAX;
	return left < GATE_USERDB_MIN ? GATE_USERDB_MIN : (unsigned)left;
}

/*
 * req_enter - one place for state changes, their deadlines and the
 * queues of waiters (a request is on them exactly while RS_PARKED)
 */
static void
req_enter(struct gate_req *r, enum req_state s)
{
	uint64_t spent = ev_now() - r->asked;
	unsigned ms;

	if (r->state == RS_PARKED && s != RS_PARKED)
		park_leave(&r->wait);
	else if (r->state != RS_PARKED && s == RS_PARKED)
		park_enter(&r->wait, r->enf.account, r->enf.addr);
	r->state = s;
	if (s == RS_CLIENT)
		ms = GATE_CLIENT_IDLE;
	else if (s == RS_DELAYED)
		ms = r->delay_ms;
	else if (s == RS_USERDB)
		ms = req_userdb_budget(r);
	else	/* waiting and Dovecot share what is left of smtpd's wait */
		ms = spent + GATE_USERDB_MIN < req_cfg->upstream_timeout ?
		    (unsigned)(req_cfg->upstream_timeout - spent) :
		    GATE_USERDB_MIN;
	if (s == RS_SHARED && ms < req_cfg->redis_timeout + GATE_USERDB_MIN)
		ms = req_cfg->redis_timeout + GATE_USERDB_MIN;	/* it answers */
	ev_timer_start(&r->timer, ms, req_timeout);
}

/* req_send_cont - a challenge for the client (relayed ones can be long) */
void
req_send_cont(struct gate_req *r, const char *b64)
{
	int gives_back = r->kind == RK_RELAY && r->enf_ready;
	struct buf line;

	/*
	 * While the client answers a relayed challenge, the request holds no
	 * place in the limits (its next response is checked anew): else a
	 * client that never answers would keep the account's places, and
	 * with them the account's owner, waiting. Those who wait for the
	 * place go on now.
	 */
	if (gives_back)
		enforce_release(&r->enf);
	buf_init(&line);
	buf_printf(&line, "CONT\t%u\t%s\n", r->cid, b64);
	req_enter(r, RS_CLIENT);
	conn_send(&r->gc->c, line.data, line.len);
	buf_free(&line);
	if (gives_back)		/* last: a waiter that goes on can end others */
		park_wake(r->enf.account, r->enf.addr);
}

/* req_malformed - the client's response could not be decoded */
static void
req_malformed(struct gate_req *r, enum sasl_error err)
{
	attempt_set_detail(&r->at, sasl_error_str(err));
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* req_plain - a PLAIN response */
void
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
	req_forward(r);
}

/* req_login - one LOGIN step: user name, then password */
void
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
		req_send_cont(r, "UGFzc3dvcmQ6");	/* "Password:" */
		return;
	}
	r->pass = value;
	req_forward(r);
}

/* req_lookup_flags - the accounts_map flags of user, or a read error */
static void
req_lookup_flags(struct gate_req *r, const char *user)
{
	r->map_err = accounts_lookup(req_accounts, user, &r->flags) < 0;
}

/* req_account_check - what the accounts_map flags refuse (r->flags known) */
static enum cause
req_account_check(const struct gate_req *r)
{
	if (r->map_err)		/* fail closed: a temporary error, 454 */
		return CAUSE_AUTH_SERVICE_UNAVAILABLE;
	if (r->flags & ACCT_DISABLED)
		return CAUSE_ACCOUNT_DISABLED;
	if ((r->flags & ACCT_OAUTH_ONLY) && !sasl_mech_is_oauth(r->at.mech))
		return CAUSE_OAUTH_REQUIRED;
	return CAUSE_NONE;
}

/* req_precheck - refusals decided before Dovecot sees anything */
enum cause
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
void
req_refuse(struct gate_req *r, enum cause cause)
{
	if (cause == CAUSE_AUTH_SERVICE_UNAVAILABLE)
		req_unavailable(r, "accounts_map cannot be read");
	else
		req_fail(r, cause);
}

/* params_session - do smtpd's AUTH parameters name a session? */
static int
params_session(const char *p)
{
	for (; p && *p; p++) {
		if (strncmp(p, "session=", 8) == 0)
			return 1;
		if ((p = strchr(p, '\t')) == NULL)
			break;
	}
	return 0;
}

/*
 * req_submit - hand the request to Dovecot, its ref as the session
 * (unless smtpd named one; Postfix does not), so that Dovecot's auth
 * policy hook asking the door about it (protocol smtp, session_id the
 * ref, the same account and address) is known as counted here
 * (forwarded 3)
 */
static void
req_submit(struct gate_req *r, const char *mech, const char *resp)
{
	const char *err, *params = r->params ? r->params : "";
	int ours = !params_session(params);
	struct buf b;

	buf_init(&b);
	buf_puts(&b, params);
	if (ours)
		buf_printf(&b, "%ssession=%s", *params ? "\t" : "", r->at.ref);
	r->uid = upstream_auth(r, mech, buf_str(&b), resp, &err);
	buf_free(&b);
	if (r->uid == 0) {
		req_unavailable(r, err);
		return;
	}
	if (ours) {
		req_enforce_ready(r);
		forwarded_add(r->at.ref, r->enf.account, r->at.ip, ev_now());
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

/* req_verdict - act on what the failure limits said */
static void
req_verdict(struct gate_req *r, enum limits_verdict v)
{
	switch (v) {
	case LV_ALLOW:
		req_go(r, r->at.mech, r->resp);
		break;
	case LV_WAIT:		/* until earlier attempts of its keys end */
		req_enter(r, RS_PARKED);
		break;
	case LV_ACCOUNT_LOCKED:
		req_fail(r, CAUSE_ACCOUNT_LOCKED);
		break;
	case LV_IP_BLOCKED:
		req_fail(r, CAUSE_IP_BLOCKED);
		break;
	}
}

/* req_check_done - the shared state's verdict */
static void
req_check_done(void *arg, enum limits_verdict v)
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
	int v = enforce_check(&r->enf, req_check_done, r);

	if (v == ENFORCE_ASKED)
		req_enter(r, RS_SHARED);
	return v;
}

/* req_limits - the failure limits decide: go, wait or refuse */
void
req_limits(struct gate_req *r)
{
	int v;

	req_enforce_ready(r);
	if ((v = req_check(r)) != ENFORCE_ASKED)
		req_verdict(r, (enum limits_verdict)v);
}

/*
 * req_wake - the limits changed for a waiting request: it tries again (one
 * that must still wait keeps its place in the queues)
 */
static void
req_wake(struct park_waiter *w)
{
	struct gate_req *r = (struct gate_req *)((char *)w -
	    offsetof(struct gate_req, wait));
	int v;

	if (req_orphan(r))	/* its connection ends it */
		return;
	if ((v = req_check(r)) != LV_WAIT && v != ENFORCE_ASKED)
		req_verdict(r, (enum limits_verdict)v);	/* its next state
							 * takes it off */
}

/* req_forward - a decoded PLAIN/LOGIN response: check, then forward */
static void
req_forward(struct gate_req *r)
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

/* req_userdb_done - the user lookup answered */
static void
req_userdb_done(void *arg, enum userdb_reply_kind kind)
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
void
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
 * req_outcome_lock_done - a relayed mechanism's or a renamed account's OK
 * (r->ok_args) or FAIL (r->up_cause), once the account's lock is known,
 * here or from the shared state: a locked account, and what the accounts
 * map refuses, get the same answer whatever Dovecot said
 */
static void
req_outcome_lock_done(void *arg, int locked)
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

/*
 * req_outcome - a relayed mechanism's OK or FAIL, or one for an account
 * Dovecot renamed: the lock of the account first
 */
static void
req_outcome(struct gate_req *r)
{
	int locked;

	req_enforce_ready(r);
	locked = r->user ? enforce_locked(&r->enf, req_outcome_lock_done, r) : 0;
	if (locked == ENFORCE_ASKED)
		req_enter(r, RS_SHARED);
	else
		req_outcome_lock_done(r, locked);
}

/*
 * req_renamed - Dovecot answered for another account than the one typed
 * (auth_default_realm, auth_username_format: "alice" is
 * alice@example.com): that account's flags and lock apply too, and the
 * outcome counts for it, as for a relayed mechanism. The place held
 * under the typed name is given back first (it is released by its key).
 */
static int
req_renamed(struct gate_req *r, const char *user, char **typed)
{
	*typed = NULL;
	if (r->kind == RK_RELAY || user == NULL || r->user == NULL ||
	    strcasecmp(user, r->user) == 0)
		return 0;
	if (r->enf_ready) {
		enforce_release(&r->enf);
		*typed = xstrdup(r->enf.account);
	}
	req_learn_account(r, user);
	return 1;
}

/*
 * req_renamed_outcome - the outcome of a renamed account; then those
 * waiting for the place given back under the typed name go on (the
 * request's end wakes only the account it counts for)
 */
static void
req_renamed_outcome(struct gate_req *r, char *typed)
{
	req_outcome(r);			/* may end r */
	park_wake(typed, NULL);
	free(typed);
}

/* req_upstream_fail - FAIL from Dovecot */
static void
req_upstream_fail(struct gate_req *r, const struct auth_reply *rep)
{
	enum cause cause = cause_from_code(rep->code);
	char *typed;

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
		req_fail_sample(ev_now() - r->up_sent);
	if (req_renamed(r, rep->user, &typed)) {
		r->up_cause = cause;
		req_renamed_outcome(r, typed);
		return;
	}
	if (r->kind != RK_RELAY) {
		req_classify(r, cause, rep->user ? rep->user : r->user);
		return;
	}
	if (r->user == NULL && rep->user)	/* else the name it was checked as */
		req_learn_account(r, rep->user);
	r->up_cause = cause;
	req_outcome(r);
}

/* req_upstream_ok - OK from Dovecot */
static void
req_upstream_ok(struct gate_req *r, const struct auth_reply *rep,
    const struct authline *al)
{
	char *typed;

	r->ok_args = ok_args(al);
	if (req_renamed(r, rep->user, &typed)) {
		req_renamed_outcome(r, typed);
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
	req_outcome(r);
}

/* req_upstream_reply - OK, FAIL or CONT from Dovecot */
static void
req_upstream_reply(void *arg, const struct auth_reply *rep,
    struct authline *al)
{
	struct gate_req *r = arg;

	if (rep->kind != AUTH_REPLY_CONT)
		r->uid = 0;
	switch (rep->kind) {
	case AUTH_REPLY_OK:
		req_upstream_ok(r, rep, al);
		break;
	case AUTH_REPLY_FAIL:
		req_upstream_fail(r, rep);
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
			req_send_cont(r, rep->data);
		break;
	}
}

/*
 * req_upstream_refused - the request was held for Dovecot's handshake,
 * whose new list lacks its mechanism: refused as req_mech_refused() does
 */
static void
req_upstream_refused(void *arg, const char *mech)
{
	struct gate_req *r = arg;
	char why[96];

	r->uid = 0;
	snprintf(why, sizeof(why), "mechanism %s is no longer offered by "
	    "Dovecot", mech);
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* req_upstream_lost - Dovecot will not answer this request */
static void
req_upstream_lost(void *arg, const char *why)
{
	struct gate_req *r = arg;

	r->uid = 0;
	req_unavailable(r, why);
}

static const struct upstream_callbacks req_upstream_cb = {
	.reply = req_upstream_reply,
	.lost = req_upstream_lost,
	.refused = req_upstream_refused,
};

/* req_new - an attempt for an AUTH line */
struct gate_req *
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

/* req_tls_refused - credentials in clear: refuse, never forward */
int
req_tls_refused(struct gate_req *r, const struct auth_request *ar)
{
	struct sasl_plain sp;
	char *user;

	if (ar->secured || !req_cfg->require_tls_for_auth ||
	    netlist_match_str(&req_cfg->tls_exempt_networks, ar->rip))
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
int
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

/*
 * req_init - wire requests to Dovecot, its userdb and the waiting queues;
 * close_later(gc): the gate ends a connection from the event loop
 */
void
req_init(const struct config *cfg, struct accounts_map *accounts,
    void (*close_later)(struct gate_conn *))
{
	req_cfg = cfg;
	req_accounts = accounts;
	req_close_later = close_later;
	memset(req_fail_ms, 0, sizeof(req_fail_ms));
	req_fail_n = req_fail_next = 0;
	req_fail_max = GATE_DELAY_DEFAULT;
	park_init(req_wake);
	upstream_init(&cfg->sasl_upstream, cfg->state_dir, cfg->upstream_timeout,
	    &req_upstream_cb);
	userdb_init(&cfg->userdb_upstream, req_userdb_done);
}

/* req_shutdown - the requests still kept end: Dovecot and userdb go */
void
req_shutdown(void)
{
	upstream_shutdown();
	userdb_shutdown();
	park_shutdown();
}
