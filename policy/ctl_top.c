/*++
/* NAME
/*	ctl_top 3
/* SUMMARY
/*	the control command top: who fails most, and why
/* DESCRIPTION
/*	top (any argument): the accounts, addresses or causes (by=user,
/*	the default, by=address or by=cause) with the most failures
/*	among the recent attempts (since=SECONDS: that recent), at most
/*	CONTROL_TOP_MAX rows, with their passes, the dominant cause,
/*	stale-password or password-guessing, the lock and the last
/*	attempt. A user name's row compares without case.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attempt.h"
#include "authlimits.h"
#include "buf.h"
#include "cause.h"
#include "config.h"
#include "ctl.h"
#include "history.h"
#include "logline.h"
#include "store.h"
#include "tally.h"
#include "util.h"

#define CONTROL_TOP_MAX		20	/* rows shown by top */

/*
 * top_key - what a record is counted under, of any length; NULL: not
 * counted. A user name's row compares without case, and is shown lower-cased.
 */
static const char *
top_key(const struct hist_rec *r, const char *by)
{
	if (strcmp(by, "address") == 0)
		return r->ip;
	if (strcmp(by, "cause") == 0)
		return r->result == ATTEMPT_FAIL || r->result == 3 ?
		    cause_id((enum cause)r->cause) : NULL;
	return r->user;
}

/* pattern - stale password or guessing, when the limits saw either */
static const char *
pattern(const struct tally_row *t)
{
	if (t->causes[CAUSE_PASSWORD_GUESSING] > t->causes[CAUSE_STALE_PASSWORD])
		return "password-guessing";
	if (t->causes[CAUSE_STALE_PASSWORD])
		return "stale-password";
	return "-";
}

/* top_lock - "no", or when the lock ends */
static const char *
top_lock(const struct config *cfg, const char *by, const char *key, char *buf,
    size_t len)
{
	struct tracker *tr = strcmp(by, "address") == 0 ? &store_limits.addr :
	    &store_limits.acct;
	char akey[64];
	struct track *t;

	if (strcmp(by, "cause") == 0)
		return "-";
	if (tr == &store_limits.addr) {
		if (limits_addr_key(key, cfg->ipv4_prefix, cfg->ipv6_prefix,
		    akey, sizeof(akey)) < 0)
			return "no";
		key = akey;
	}
	if ((t = limits_find(tr, key)) == NULL ||
	    !limits_is_locked(t, store_now()))
		return "no";
	return ctl_iso_time(t->locked_until, buf, len);
}

/* top_show - one row */
static void
top_show(struct buf *b, const struct ctl_req *q, const char *by,
    const struct tally_row *t)
{
	char num[3][16], when[32], until[32];
	enum log_format fmt = q->fmt;
	int first = 1;

	snprintf(num[0], sizeof(num[0]), "%u", t->fails);
	snprintf(num[1], sizeof(num[1]), "%u", t->passes);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "{" : "  ");
	ctl_kv(b, fmt, &first, by, t->key);
	ctl_kv(b, fmt, &first, "failures", num[0]);
	ctl_kv(b, fmt, &first, "passes", num[1]);
	if (strcmp(by, "cause") != 0) {
		ctl_kv(b, fmt, &first, "dominant_cause", cause_id(tally_dominant(t)));
		ctl_kv(b, fmt, &first, "pattern", pattern(t));
		ctl_kv(b, fmt, &first, "locked_until", top_lock(q->cfg, by, t->key, until,
		    sizeof(until)));
	}
	ctl_kv(b, fmt, &first, "last", ctl_iso_time(t->last, when, sizeof(when)));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* ctl_top - who is failing, and why */
int
ctl_top(const struct ctl_req *q, struct buf *b)
{
	const struct ctl_opts *o = &q->o;
	enum log_format fmt = q->fmt;
	const char *by = *o->by ? o->by : "user", *key;
	struct tally rows = {NULL, 0, 0};
	struct tally_row *t;
	const struct hist_rec *r;
	size_t k;

	if (strcmp(by, "user") && strcmp(by, "address") && strcmp(by, "cause"))
		return buf_puts(b, "ERR by: user, address or cause\n"), -1;
	for (k = 0; (r = history_nth(&store_history, k)) && ctl_recent(r, o); k++) {
		if ((key = top_key(r, by)) == NULL || !*key)
			continue;
		t = tally_row(&rows, key);
		if (t->fails + t->passes == 0 && strcmp(by, "user") == 0)
			str_lower(t->key);	/* found still: rows ignore case */
		if (r->result == ATTEMPT_PASS)
			t->passes++;
		else if (r->result == ATTEMPT_FAIL || r->result == 3) {
			t->fails++;
			t->causes[r->cause < CAUSE_COUNT ? r->cause : 0]++;
		}
		if (r->t > t->last)
			t->last = r->t;
	}
	tally_sort(&rows);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n[" : "OK\n");
	for (k = 0; k < rows.n && k < CONTROL_TOP_MAX && rows.v[k].fails; k++) {
		if (fmt == LOG_FORMAT_JSON && k)
			buf_putc(b, ',');
		top_show(b, q, by, &rows.v[k]);
	}
	if (fmt != LOG_FORMAT_JSON && (rows.n == 0 || rows.v[0].fails == 0))
		buf_puts(b, "no failures\n");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]\n" : "");
	tally_free(&rows);
	return 0;
}

