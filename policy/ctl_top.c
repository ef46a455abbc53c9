/*++
/* NAME
/*	ctl_top 3
/* SUMMARY
/*	the control command top: who fails most, and why
/* DESCRIPTION
/*	top (any argument): the accounts, addresses, causes or doors
/*	(by=user, the default, by=address, by=cause or by=proto) with
/*	the most failures among the recent attempts (since=SECONDS: that
/*	recent), at most CONTROL_TOP_MAX rows, with their passes, their
/*	failures by door (protos=smtp:N,imap:N,..., SMTP's first: the
/*	door a stale password or a guesser uses), the dominant cause,
/*	stale-password or password-guessing, the lock and the last
/*	attempt, as far as each applies to what is counted. A user
/*	name's row compares without case.
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
#include "proto.h"
#include "store.h"
#include "tally.h"
#include "util.h"

#define CONTROL_TOP_MAX		20	/* rows shown by top */

/* top_user - a record's user name, as given */
static const char *
top_user(const struct hist_rec *r)
{
	return r->user;
}

/* top_address - a record's client address */
static const char *
top_address(const struct hist_rec *r)
{
	return r->ip;
}

/* top_cause - a failure's cause; NULL: not counted */
static const char *
top_cause(const struct hist_rec *r)
{
	return r->result == ATTEMPT_FAIL || r->result == 3 ?
	    cause_id((enum cause)r->cause) : NULL;
}

/* top_proto - a record's door */
static const char *
top_proto(const struct hist_rec *r)
{
	return proto_name((enum proto)r->proto);
}

#define TOP_LOCK	(1 << 0)	/* rows are accounts or addresses */
#define TOP_CAUSES	(1 << 1)	/* dominant cause and pattern shown */
#define TOP_PROTOS	(1 << 2)	/* failures by door shown */

/*
 * What top counts by: what a record is counted under (of any length;
 * NULL: not counted), and what its rows show.
 */
static const struct top_by {
	const char	*name;
	const char	*(*key)(const struct hist_rec *);
	int		 show;
} top_bys[] = {
	{"user", top_user, TOP_LOCK | TOP_CAUSES | TOP_PROTOS},
	{"address", top_address, TOP_LOCK | TOP_CAUSES | TOP_PROTOS},
	{"cause", top_cause, TOP_PROTOS},
	{"proto", top_proto, TOP_CAUSES},
};

/* top_by_find - by=NAME, or NULL */
static const struct top_by *
top_by_find(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(top_bys); i++)
		if (strcmp(name, top_bys[i].name) == 0)
			return &top_bys[i];
	return NULL;
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

/* top_lock - "no", or when the lock ends: of an account or an address */
static const char *
top_lock(const struct config *cfg, const struct top_by *by, const char *key,
    char *buf, size_t len)
{
	struct tracker *tr = by->key == top_address ? &store_limits.addr :
	    &store_limits.acct;
	char akey[64];
	struct track *t;

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

/* top_protos - a row's failures by door: smtp:N,imap:N or an object */
static void
top_protos(struct buf *b, enum log_format fmt, const struct tally_row *t)
{
	int p, first = 1;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"protos\":{" : " protos=");
	for (p = 0; p < PROTO_COUNT; p++) {
		if (t->protos[p] == 0)
			continue;
		buf_printf(b, fmt == LOG_FORMAT_JSON ? "%s\"%s\":\"%u\"" :
		    "%s%s:%u", first ? "" : ",", proto_name((enum proto)p),
		    t->protos[p]);
		first = 0;
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "");
}

/* top_show - one row */
static void
top_show(struct buf *b, const struct ctl_req *q, const struct top_by *by,
    const struct tally_row *t)
{
	char num[3][16], when[32], until[32];
	enum log_format fmt = q->fmt;
	int first = 1;

	snprintf(num[0], sizeof(num[0]), "%u", t->fails);
	snprintf(num[1], sizeof(num[1]), "%u", t->passes);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "{" : "  ");
	ctl_kv(b, fmt, &first, by->name, t->key);
	ctl_kv(b, fmt, &first, "failures", num[0]);
	ctl_kv(b, fmt, &first, "passes", num[1]);
	if (by->show & TOP_PROTOS)
		top_protos(b, fmt, t);
	if (by->show & TOP_CAUSES) {
		ctl_kv(b, fmt, &first, "dominant_cause", cause_id(tally_dominant(t)));
		ctl_kv(b, fmt, &first, "pattern", pattern(t));
	}
	if (by->show & TOP_LOCK)
		ctl_kv(b, fmt, &first, "locked_until", top_lock(q->cfg, by, t->key,
		    until, sizeof(until)));
	ctl_kv(b, fmt, &first, "last", ctl_iso_time(t->last, when, sizeof(when)));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* top_count - one recent attempt into its row */
static void
top_count(struct tally *rows, const struct top_by *by,
    const struct hist_rec *r)
{
	const char *key = by->key(r);
	struct tally_row *t;

	if (key == NULL || !*key)
		return;
	t = tally_row(rows, key);
	if (t->fails + t->passes == 0 && by->key == top_user)
		str_lower(t->key);	/* found still: rows ignore case */
	if (r->result == ATTEMPT_PASS)
		t->passes++;
	else if (r->result == ATTEMPT_FAIL || r->result == 3) {
		t->fails++;
		t->causes[r->cause < CAUSE_COUNT ? r->cause : 0]++;
		if (r->proto < PROTO_COUNT)
			t->protos[r->proto]++;
	}
	if (r->t > t->last)
		t->last = r->t;
}

/* ctl_top - who is failing, and why */
int
ctl_top(const struct ctl_req *q, struct buf *b)
{
	const struct ctl_opts *o = &q->o;
	enum log_format fmt = q->fmt;
	const struct top_by *by = top_by_find(*o->by ? o->by : "user");
	struct tally rows = {NULL, 0, 0};
	const struct hist_rec *r;
	size_t k;

	if (by == NULL)
		return buf_puts(b, "ERR by: user, address, cause or proto\n"), -1;
	for (k = 0; (r = history_nth(&store_history, k)) && ctl_recent(r, o); k++)
		top_count(&rows, by, r);
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
