/*++
/* NAME
/*	enforce 3
/* SUMMARY
/*	one attempt against the failure limits
/* DESCRIPTION
/*	The glue between the gate and lib/limits: it turns an attempt
/*	into a query (account in lower case, address key, keyed password
/*	fingerprint, exemptions), reserves a place for it before it is
/*	forwarded, and records its outcome: which windows a cause goes to
/*	is the catalogue's "counts" field; a repeat of a wrong password
/*	becomes stale-password, many distinct ones password-guessing. A
/*	lockout started by a failure is logged once as event=lock.
/*
/*	With a shared backend (shared 3), the check before forwarding
/*	and the record of a failure are asked of Redis, whose answer
/*	decides: enforce_check() and enforce_fail() then return
/*	ENFORCE_ASKED and the callback gets the answer, within
/*	redis_timeout. The same events always update this server's own
/*	state too, which decides when Redis does not answer; a lock that
/*	Redis reports is copied into it, so that it outlives an outage.
/*	Successes and releases are sent without waiting.
/*
/*	Every user name the gate accepts (up to SASL_FIELD_MAX bytes) is
/*	an account of its own. A longer one, which only Dovecot can name
/*	(a relayed mechanism's OK), is not tracked per account: that is
/*	logged, never silent, and enforce_set_account() returns -1.
/*
/*	The fingerprint of a password is that of Dovecot's pwhash of it
/*	when auth_policy_hash_nonce is set (the auth policy door sees
/*	only the pwhash: the same old password through IMAP and SMTP is
/*	then one fingerprint); enforce_fill_pwhash() takes the pwhash.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "accounts.h"
#include "authpolicy.h"
#include "enforce.h"
#include "metrics.h"
#include "fingerprint.h"
#include "logline.h"
#include "msg.h"
#include "netaddr.h"
#include "notify.h"
#include "sasl.h"
#include "shared.h"
#include "store.h"
#include "util.h"


/*
 * How long a reservation in Redis outlives a server that dies holding it:
 * an attempt ends within upstream_timeout (the user lookup included).
 */
#define ENFORCE_RESERVE_SECS(c)	((c)->upstream_timeout / 1000 + 2)

static const struct config *enf_cfg;

/* enforce_init - remember the configuration */
void
enforce_init(const struct config *cfg)
{
	enf_cfg = cfg;
}

/* query - the limits' view of this attempt */
static struct limits_query
query(const struct enforce *e)
{
	struct limits_query q;

	q.account = *e->account ? e->account : NULL;
	q.addr = *e->addr ? e->addr : NULL;
	q.fp = e->fp;
	q.exempt = e->exempt;
	q.no_limit = e->no_limit;
	return q;
}

/*
 * enforce_set_account - the account an attempt counts against, lower-cased;
 * -1 (logged, none) for a name longer than any the gate accepts
 */
int
enforce_set_account(struct enforce *e, const char *user)
{
	size_t n = strlen(user);

	free(e->account);
	if (n > SASL_FIELD_MAX) {
		e->account = xstrdup("");
		msg_warn("a user name of %zu bytes, longer than %d, is not "
		    "tracked per account; its address is", n, SASL_FIELD_MAX);
		return -1;
	}
	e->account = xstrdup(user);
	str_lower(e->account);
	return 0;
}

/* enforce_free - release what enforce_fill() took (its place: enforce_release) */
void
enforce_free(struct enforce *e)
{
	free(e->account);
	e->account = NULL;
}

/*
 * pass_fingerprint - the fingerprint of a password: of Dovecot's pwhash
 * of it when auth_policy_hash_nonce is known, so that the same password
 * through the auth policy door (which sees only the pwhash) is the same
 * fingerprint; Dovecot hashes the user name as auth_username_format
 * gives it, lower case by default
 */
static uint32_t
pass_fingerprint(const char *account, const char *pass)
{
	char hex[AUTHPOLICY_HASH_HEX_MAX + 1];
	uint32_t fp;

	if (*enf_cfg->auth_policy_hash_nonce == 0 ||
	    authpolicy_pwhash(enf_cfg->auth_policy_hash_nonce, account, pass,
	    enf_cfg->auth_policy_hash_truncate, hex) < 0)
		return fingerprint(store_secret, sizeof(store_secret), account,
		    pass);
	fp = fingerprint(store_secret, sizeof(store_secret), account, hex);
	wipe(hex, sizeof(hex));
	return fp;
}

/*
 * enforce_fill_pwhash - user, address, Dovecot's pwhash ("": none),
 * account flags: the auth policy door's query
 */
void
enforce_fill_pwhash(struct enforce *e, const char *user, const char *ip,
    const char *pwhash, unsigned flags)
{
	enforce_fill(e, user, ip, NULL, flags);
	if (pwhash && *pwhash && *e->account)
		e->fp = fingerprint(store_secret, sizeof(store_secret),
		    e->account, pwhash);
}

/* enforce_fill - user, address, password (may be NULL), account flags */
void
enforce_fill(struct enforce *e, const char *user, const char *ip,
    const char *pass, unsigned flags)
{
	free(e->account);
	memset(e, 0, sizeof(*e));
	if (user)
		enforce_set_account(e, user);
	else
		e->account = xstrdup("");
	if (ip == NULL || limits_addr_key(ip, enf_cfg->ipv4_prefix,
	    enf_cfg->ipv6_prefix, e->addr, sizeof(e->addr)) < 0)
		e->addr[0] = 0;
	if (pass && *e->account)
		e->fp = pass_fingerprint(e->account, pass);
	e->exempt = ip && netlist_match_str(&enf_cfg->limit_exempt_networks, ip);
	e->no_limit = (flags & ACCT_NO_LIMIT) != 0;
}

/* script - shared.lua for this attempt: its keys, flags, fingerprint */
static struct shared_cmd *
script(const struct enforce *e, const char *op, unsigned flags,
    uint32_t now)
{
	struct shared_cmd *c;

	flags |= (*e->account ? SF_ACCOUNT : 0) | (*e->addr ? SF_ADDRESS : 0) |
	    (e->no_limit ? SF_NO_LIMIT : 0);
	c = shared_script(op, now, flags);
	if (*e->account)
		shared_key(c, 1, "a:", e->account);
	if (*e->addr)
		shared_key(c, 2, "i:", e->addr);
	shared_arg_num(c, 12, e->fp);
	/* keyed by the fingerprint key: the same on every server sharing Redis */
	shared_arg_num(c, 13, *e->addr ? limits_hash(e->addr) : 0);
	shared_arg(c, 15, e->resid);
	return c;
}

/* local_check - this server's own verdict; on LV_ALLOW now in flight */
static enum limits_verdict
local_check(struct enforce *e)
{
	struct limits_query q = query(e);
	enum limits_verdict v;

	v = limits_check(&store_limits, &q, store_now(), &e->retry_at);
	if (v == LV_ALLOW)
		limits_reserve(&store_limits, &q, store_now(), &e->tk);
	return v;
}

/* check_here - Redis cannot say: this server decides, nothing reserved there */
static enum limits_verdict
check_here(struct enforce *e)
{
	shared_count_local();
	e->resid[0] = 0;
	return local_check(e);
}

/* forget_op - stop waiting for Redis's answer to this attempt */
static void
forget_op(struct enforce *e)
{
	if (e->op)
		shared_forget(e->op);
	e->op = NULL;
}

/*
 * mirror_until - Redis's lock time for an entry this server holds locked
 * (an admin unlock elsewhere, or an old copy): Redis is right
 */
static void
mirror_until(struct tracker *tr, const char *key, long long until)
{
	struct track *t = *key ? limits_find(tr, key) : NULL;

	if (t && until >= 0 && limits_is_locked(t, store_now()) &&
	    t->locked_until != (uint32_t)until && (shared_settled() ||
	    (uint32_t)until > t->locked_until)) {	/* lower: once merged */
		t->locked_until = (uint32_t)until;
		store_dirty();
	}
}

/* mirror_lock - a lock Redis reported, kept here for an outage */
static void
mirror_lock(struct tracker *tr, const char *key, uint32_t until)
{
	uint32_t now = store_now();
	struct track *t = limits_get(tr, key, now);

	if (t->locked_until < until) {
		limits_set_lock(tr, t, until, limits_level(&store_limits, t,
		    now), now, now);
		store_dirty();
	}
}

/* int_at - element i of an array reply of integers, or -1 */
static long long
int_at(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_INTEGER)
		return -1;
	return r->element[i]->integer;
}

/*
 * check_late - Redis reserved for an attempt that no longer waits, or
 * (r NULL) the connection went and it may have: give the place back
 */
static void
check_late(const struct shared_cmd *c, const redisReply *r)
{
	struct shared_cmd *rel;
	int i;

	if (r && (int_at(r, 0) != LV_ALLOW || (int_at(r, 2) <= 0 &&
	    int_at(r, 3) <= 0)))
		return;
	rel = shared_script("release", store_now(), 0);
	rel->write = SHARED_CHANGE;
	for (i = 3; i < 6; i++) {		/* the same keys */
		free(rel->argv[i]);
		rel->argv[i] = xstrdup(c->argv[i]);
		rel->len[i] = c->len[i];
	}
	shared_arg(rel, 14, c->argv[SHARED_ARGV(14)]);
	shared_arg(rel, 15, c->argv[SHARED_ARGV(15)]);
	shared_send(rel, NULL, NULL, NULL);
}

/* check_answer - Redis's verdict, or NULL: decide here */
static void
check_answer(void *arg, const redisReply *r)
{
	struct enforce *e = arg;
	struct limits_query q = query(e);
	long long v = int_at(r, 0), until = int_at(r, 1);
	enum limits_verdict verdict;

	e->op = NULL;
	if (v < LV_ALLOW || v > LV_IP_BLOCKED || until < 0)
		verdict = check_here(e);
	else {
		verdict = (enum limits_verdict)v;
		e->retry_at = (uint32_t)until;
		if (verdict == LV_ALLOW) {
			e->stk.acct = int_at(r, 2) > 0;
			e->stk.addr = int_at(r, 3) > 0;
			mirror_until(&store_limits.acct, e->account, int_at(r, 4));
			mirror_until(&store_limits.addr, e->addr, int_at(r, 5));
			limits_reserve(&store_limits, &q, store_now(), &e->tk);
		} else if (verdict == LV_IP_BLOCKED)
			mirror_lock(&store_limits.addr, e->addr, e->retry_at);
		else if (verdict == LV_ACCOUNT_LOCKED)
			mirror_lock(&store_limits.acct, e->account, e->retry_at);
	}
	e->check_cb(e->arg, verdict);
}

/*
 * enforce_check - may it go ahead? A verdict (on LV_ALLOW it is now in
 * flight), or ENFORCE_ASKED: cb(arg, verdict) follows.
 */
int
enforce_check(struct enforce *e, void (*cb)(void *, enum limits_verdict),
    void *arg)
{
	struct shared_cmd *c;

	if (e->exempt || !shared_enabled())
		return local_check(e);
	if (!shared_up())
		return check_here(e);
	shared_new_id(e->resid, sizeof(e->resid));
	c = script(e, "check", 0, store_now());
	shared_arg_num(c, 16, store_now() + ENFORCE_RESERVE_SECS(enf_cfg));
	e->check_cb = cb;
	e->arg = arg;
	if ((e->op = shared_send(c, check_answer, e, check_late)) == NULL)
		return check_here(e);
	return ENFORCE_ASKED;
}

/* shared_release - give back the reservation Redis holds, if any */
static void
shared_release(struct enforce *e)
{
	struct shared_cmd *c;

	forget_op(e);			/* a check's late answer gives back */
	if ((e->stk.acct || e->stk.addr) && shared_enabled()) {
		c = script(e, "release", 0, store_now());
		c->write = SHARED_CHANGE;	/* idempotent: safe to resend */
		shared_send(c, NULL, NULL, NULL);
	}
	e->stk.acct = e->stk.addr = 0;
}

/* enforce_release - no longer in flight, here or in Redis */
void
enforce_release(struct enforce *e)
{
	struct limits_query q = query(e);

	limits_release(&store_limits, &q, store_now(), &e->tk);
	shared_release(e);
}

/* log_lock - a lockout started */
static void
log_lock(const struct enforce *e, const struct limits_outcome *out,
    const char *ref)
{
	struct logline l;

	logline_begin(&l, enf_cfg->log_format);
	logline_str(&l, "event", "lock");
	logline_str(&l, "ref", ref);
	logline_str(&l, "kind", out->locked_account ? "account" : "address");
	logline_str(&l, "key", out->locked_account ? e->account : e->addr);
	logline_uint(&l, "seconds", out->locked_until > store_now() ?
	    out->locked_until - store_now() : 0);
	if (shared_enabled())
		logline_str(&l, "shared", shared_up() ? "yes" : "no");
	msg_event(1, logline_end(&l));
	logline_free(&l);
}

/* fail_outcome - log a lock, refine the cause */
static enum cause
fail_outcome(struct enforce *e, const struct limits_outcome *out)
{
	if (out->locked_until) {
		log_lock(e, out, e->ref);
		metrics_lock(out->locked_account);
		if (out->locked_account && e->account && *e->account)
			notify_lock(e->account, e->addr, e->ref, e->addr[0] &&
			    limits_familiar(&store_limits, e->account, e->addr,
			    store_now()), out->locked_until, e->win_n + 1,
			    e->win_n ? e->win_first : store_now());
	}
	return cause_overlay(e->cause, out->stale, out->guessing);
}

/* fail_answer - Redis recorded the failure, or did not answer */
static void
fail_answer(void *arg, const redisReply *r)
{
	struct enforce *e = arg;
	struct limits_outcome out = e->local;

	e->op = NULL;
	if (int_at(r, 3) >= 0) {
		out.stale = int_at(r, 0) > 0;
		out.guessing = int_at(r, 1) > 0;
		out.locked_until = (uint32_t)int_at(r, 2);
		out.locked_account = int_at(r, 3) > 0;
		if (out.locked_until)
			mirror_lock(out.locked_account ? &store_limits.acct :
			    &store_limits.addr, out.locked_account ? e->account :
			    e->addr, out.locked_until);
	} else
		shared_count_local();
	e->fail_cb(e->arg, fail_outcome(e, &out));
}

/* window_before - the account's failures so far, for a lock's notice */
static void
window_before(struct enforce *e)
{
	struct track *t;

	e->win_n = 0;
	e->win_first = 0;
	if (e->account && *e->account &&
	    (t = limits_find(&store_limits.acct, e->account)) != NULL)
		e->win_n = limits_window_span(&store_limits.acct, t,
		    store_now(), &e->win_first);
}

/*
 * enforce_fail - record a failure: the cause, refined, or ENFORCE_ASKED
 * and cb(arg, cause) follows.
 */
int
enforce_fail(struct enforce *e, enum cause cause, const char *ref,
    void (*cb)(void *, enum cause), void *arg)
{
	struct limits_query q = query(e);
	unsigned counts = cause_info(cause)->counts, flags;
	struct shared_cmd *c;
	char id[40];

	limits_release(&store_limits, &q, store_now(), &e->tk);
	forget_op(e);
	e->cause = cause;
	str_copy(e->ref, sizeof(e->ref), ref);
	if (counts == 0 || e->exempt) {
		shared_release(e);
		return cause;
	}
	window_before(e);
	limits_fail(&store_limits, &q, (counts & CAUSE_COUNTS_ACCOUNT) != 0,
	    (counts & CAUSE_COUNTS_ADDRESS) != 0, store_now(), &e->local);
	store_dirty();
	if (!shared_enabled())
		return fail_outcome(e, &e->local);
	flags = (counts & CAUSE_COUNTS_ACCOUNT ? SF_COUNT_ACCT : 0) |
	    (counts & CAUSE_COUNTS_ADDRESS ? SF_COUNT_ADDR : 0);
	c = script(e, "fail", flags, store_now());
	c->write = SHARED_CHANGE;
	shared_arg_num(c, 16, *e->account ? limits_hash(e->account) : 0);
	shared_new_id(id, sizeof(id));
	shared_arg(c, 17, id);
	shared_key(c, 3, "f:", id);
	e->stk.acct = e->stk.addr = 0;	/* "fail" gives them back */
	e->fail_cb = cb;
	e->arg = arg;
	if ((e->op = shared_send(c, fail_answer, e, NULL)) == NULL) {
		shared_count_local();
		return fail_outcome(e, &e->local);
	}
	return ENFORCE_ASKED;
}

/* enforce_pass - a success */
void
enforce_pass(struct enforce *e)
{
	struct limits_query q = query(e);
	struct shared_cmd *c;

	limits_release(&store_limits, &q, store_now(), &e->tk);
	if (e->exempt) {
		shared_release(e);
		return;
	}
	limits_pass(&store_limits, &q, store_now());
	store_dirty();
	if (!shared_enabled())
		return;
	forget_op(e);
	c = script(e, "pass", 0, store_now());
	c->write = SHARED_CHANGE;
	e->stk.acct = e->stk.addr = 0;	/* "pass" gives them back */
	shared_send(c, NULL, NULL, NULL);
}

/* local_locked - this server's view: is the account locked for this attempt? */
static int
local_locked(struct enforce *e)
{
	struct limits_query q = query(e);
	struct track *t;

	q.addr = NULL;		/* the address was checked before forwarding */
	if (q.account == NULL || q.exempt || q.no_limit ||
	    (t = limits_find(&store_limits.acct, q.account)) == NULL ||
	    !limits_is_locked(t, store_now()) ||
	    (e->addr[0] && limits_familiar(&store_limits, q.account, e->addr,
	    store_now())))
		return 0;
	e->retry_at = t->locked_until;
	return 1;
}

/* locked_answer - Redis's lock time for the account (0: not for this one) */
static void
locked_answer(void *arg, const redisReply *r)
{
	struct enforce *e = arg;
	int locked;

	e->op = NULL;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		shared_count_local();
		locked = local_locked(e);
	} else if ((locked = r->integer > 0) != 0) {
		e->retry_at = (uint32_t)r->integer;
		mirror_lock(&store_limits.acct, e->account, e->retry_at);
	}
	e->locked_cb(e->arg, locked);
}

/*
 * enforce_locked - after a relayed mechanism's OK (the account known only
 * now): is the account locked for this attempt? 1 or 0, or ENFORCE_ASKED
 * and cb(arg, locked) follows.
 */
int
enforce_locked(struct enforce *e, void (*cb)(void *, int), void *arg)
{
	struct shared_cmd *c;

	if (!*e->account || e->exempt || e->no_limit)
		return 0;
	if (!shared_up())
		return local_locked(e);
	c = script(e, "locked", 0, store_now());
	e->locked_cb = cb;
	e->arg = arg;
	if ((e->op = shared_send(c, locked_answer, e, NULL)) == NULL) {
		shared_count_local();
		return local_locked(e);
	}
	return ENFORCE_ASKED;
}

/* enforce_lock - the admin locks an account or address key until a time */
int
enforce_lock(const char *key, int is_addr, uint32_t until)
{
	struct tracker *tr = is_addr ? &store_limits.addr : &store_limits.acct;
	uint32_t now = store_now();
	struct track *t = limits_get(tr, key, now);
	struct shared_cmd *c;

	limits_set_lock(tr, t, until, limits_level(&store_limits, t, now), now,
	    now);
	store_dirty();
	if (!shared_enabled())
		return 0;
	c = shared_script("lock", now, is_addr ? SF_ADDRESS : SF_ACCOUNT);
	shared_key(c, is_addr ? 2 : 1, is_addr ? "i:" : "a:", key);
	shared_arg_num(c, 16, until);
	c->write = SHARED_CHANGE;
	shared_send(c, NULL, NULL, NULL);
	return 0;
}

/* enforce_unlock - lift a lock here and in Redis; 0 if known nowhere here */
int
enforce_unlock(const char *key)
{
	struct shared_cmd *c;
	int found = limits_unlock(&store_limits, key);

	store_dirty();
	if (!shared_enabled())
		return found;
	c = shared_script("unlock", store_now(), SF_ACCOUNT | SF_ADDRESS);
	shared_key(c, 1, "a:", key);
	shared_key(c, 2, "i:", key);
	c->write = SHARED_CHANGE;
	shared_send(c, NULL, NULL, NULL);
	return found;
}
