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
/*--*/
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "enforce.h"
#include "metrics.h"
#include "fingerprint.h"
#include "logline.h"
#include "msg.h"
#include "store.h"
#include "util.h"

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

/* enforce_fill - user, address, password (may be NULL), account flags */
void
enforce_fill(struct enforce *e, const char *user, const char *ip,
    const char *pass, unsigned flags)
{
	memset(e, 0, sizeof(*e));
	if (user && str_copy(e->account, sizeof(e->account), user) == 0)
		str_lower(e->account);
	if (ip == NULL || limits_addr_key(ip, enf_cfg->ipv4_prefix,
	    enf_cfg->ipv6_prefix, e->addr, sizeof(e->addr)) < 0)
		e->addr[0] = 0;
	if (pass && *e->account)
		e->fp = fingerprint(store_secret, sizeof(store_secret),
		    e->account, pass);
	e->exempt = ip && netlist_match_str(&enf_cfg->limit_exempt_networks, ip);
	e->no_limit = (flags & ACCT_NO_LIMIT) != 0;
}

/* enforce_check - may it go ahead? On LV_ALLOW it is now in flight */
enum limits_verdict
enforce_check(struct enforce *e)
{
	struct limits_query q = query(e);
	enum limits_verdict v;

	v = limits_check(&store_limits, &q, store_now(), &e->retry_at);
	if (v == LV_ALLOW)
		limits_reserve(&store_limits, &q, store_now(), &e->tk);
	return v;
}

/* enforce_release - no longer in flight */
void
enforce_release(struct enforce *e)
{
	struct limits_query q = query(e);

	limits_release(&store_limits, &q, store_now(), &e->tk);
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
	logline_uint(&l, "seconds", out->locked_until - store_now());
	msg_event(1, logline_end(&l));
	logline_free(&l);
}

/* enforce_fail - record a failure; returns the cause, refined */
enum cause
enforce_fail(struct enforce *e, enum cause cause, const char *ref)
{
	struct limits_query q = query(e);
	struct limits_outcome out;
	unsigned counts = cause_info(cause)->counts;

	enforce_release(e);
	if (counts == 0)
		return cause;
	limits_fail(&store_limits, &q, (counts & CAUSE_COUNTS_ACCOUNT) != 0,
	    (counts & CAUSE_COUNTS_ADDRESS) != 0, store_now(), &out);
	store_dirty();
	if (out.locked_until) {
		log_lock(e, &out, ref);
		metrics_lock(out.locked_account);
	}
	return cause_overlay(cause, out.stale, out.guessing);
}

/* enforce_pass - a success */
void
enforce_pass(struct enforce *e)
{
	struct limits_query q = query(e);

	enforce_release(e);
	if (e->exempt)
		return;
	limits_pass(&store_limits, &q, store_now());
	store_dirty();
}

/* enforce_locked - is the account locked for this attempt (relayed OK)? */
int
enforce_locked(struct enforce *e)
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
