/*++
/* NAME
/*	ctl_overview 3
/* SUMMARY
/*	the control command overview: the last day at a glance
/* DESCRIPTION
/*	overview (no argument) answers, from what this server keeps:
/*
/*	failures  per cause per hour, HOURLY_HOURS buckets of whole UTC
/*		hours, oldest first, the last the current (partial) hour
/*		(hourly 3), counted from the kept attempts (history_size)
/*		that failed or were refused; a cause with no failure in an
/*		hour is left out;
/*	locked_accounts, locked_addresses  the locks of the trackers
/*		now, the longest first, OVERVIEW_LOCKS_MAX of each, with
/*		their totals;
/*	stale	one row per account and address with a stale-password
/*		failure in the last day: how many, the first and the
/*		last, the last one's ref and door; the latest first,
/*		OVERVIEW_STALE_MAX rows, with their total;
/*	kept, oldest  how many attempts the counts come from, and the
/*		time of the oldest;
/*	truncated  true when a table shows fewer rows than its total.
/*
/*	Size: a key is a name a client chose, up to SASL_FIELD_MAX
/*	bytes (one Dovecot gave may be longer), and a control or stray
/*	byte takes 6 in JSON, so 200 rows of such names would be more
/*	than an answer may be (CTL_ANSWER_MAX). Each table stops taking rows once its rows
/*	pass OVERVIEW_TABLE_BUDGET bytes; a key is always shown whole
/*	(it is what lock and unlock take), and the totals stay exact.
/*	The text form says "(N more not shown)" under a table that
/*	was cut. Every table has a budget of its own: junk account
/*	names do not push the locked addresses out.
/*
/*	With a shared state the locks, like the attempts, are this
/*	server's: the answer says "shared":"local view" (why asks the
/*	shared state about one account or address).
/*
/*	In JSON the counts are numbers. The text form has a line per
/*	hour with failures, per lock and per stale row.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attempt.h"
#include "authlimits.h"
#include "authproto.h"
#include "buf.h"
#include "cause.h"
#include "ctl.h"
#include "ctlclient.h"
#include "history.h"
#include "hourly.h"
#include "logline.h"
#include "proto.h"
#include "shared.h"
#include "store.h"
#include "util.h"

#define OVERVIEW_LOCKS_MAX	200	/* locks of each kind shown */
#define OVERVIEW_STALE_MAX	200	/* stale rows shown */
#define OVERVIEW_DAY		(HOURLY_HOURS * HOURLY_SECS)
#define OVERVIEW_TABLE_BUDGET	(128 * 1024)	/* bytes of rows a table takes */
/* more than any row: a name is in a line of Dovecot's at most */
#define OVERVIEW_ROW_MAX	(6 * AUTHPROTO_LINE_MAX + 1024)
#define OVERVIEW_HOURS_MAX	(HOURLY_HOURS * (64 + CAUSE_COUNT * 48))

/* three tables, each one row past its budget at most, and the hours */
_Static_assert(3 * (OVERVIEW_TABLE_BUDGET + OVERVIEW_ROW_MAX) +
    OVERVIEW_HOURS_MAX < CTL_ANSWER_MAX, "overview answer budget");

/* One stale-password row: an account's failures from one address. */
struct stale_row {
	const struct hist_rec *last;	/* the latest: user, ip, ref, door */
	uint32_t	 first;
	unsigned	 count;
};

/* failed - a failure or a refusal, as why counts them */
static int
failed(const struct hist_rec *r)
{
	return r->result == ATTEMPT_FAIL || r->result == 3;
}

/* num_kv - "key":N in JSON, " key=N" in text */
static void
num_kv(struct buf *b, enum log_format fmt, int *first, const char *key,
    unsigned long long n)
{
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, "%s\"%s\":%llu", *first ? "" : ",", key, n);
	else
		buf_printf(b, "%s%s=%llu", *first ? "" : " ", key, n);
	*first = 0;
}

/* time_kv - an ISO time, as a string */
static void
time_kv(struct buf *b, enum log_format fmt, int *first, const char *key,
    uint32_t t)
{
	char when[32];

	ctl_kv(b, fmt, first, key, ctl_iso_time(t, when, sizeof(when)));
}

/* show_hours - "failures":[{"hour":..,"causes":{..}},...] */
static void
show_hours(struct buf *b, enum log_format fmt, uint32_t now)
{
	const struct hist_rec *r;
	struct hourly h;
	size_t k;
	int i, c, first, cf;

	hourly_init(&h, now);
	for (k = 0; (r = history_nth(&store_history, k)) != NULL; k++)
		if (failed(r))
			hourly_add(&h, r->t, r->cause);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"failures\":[" :
	    "failures per hour:\n");
	for (i = 0; i < HOURLY_HOURS; i++) {
		first = 1;
		buf_puts(b, fmt == LOG_FORMAT_JSON ? (i ? ",{" : "{") : "  ");
		time_kv(b, fmt, &first, "hour", hourly_hour(&h, i));
		buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"causes\":{" : "");
		cf = fmt == LOG_FORMAT_JSON;
		for (c = 0; c < CAUSE_COUNT; c++)
			if (h.n[i][c])
				num_kv(b, fmt, &cf, cause_id((enum cause)c),
				    h.n[i][c]);
		buf_puts(b, fmt == LOG_FORMAT_JSON ? "}}" : "\n");
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]" : "");
}

/* longest_first - locks by seconds left, then by key */
static int
longest_first(const void *a, const void *b)
{
	const struct track *x = *(const struct track *const *)a;
	const struct track *y = *(const struct track *const *)b;

	if (x->locked_until != y->locked_until)
		return x->locked_until < y->locked_until ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* locks_collect - the tracker's locked entries, longest first; their count */
static size_t
locks_collect(const struct tracker *tr, uint32_t now,
    const struct track ***out)
{
	const struct track *t, **v = xcalloc(tr->count + 1, sizeof(*v));
	size_t n = 0;
	int list;

	for (list = 0; list < LRU_LISTS; list++)
		for (t = tr->lru[list].lnext; t != &tr->lru[list] &&
		    n < tr->count; t = t->lnext)
			if (t->locked_until > now)
				v[n++] = t;
	qsort(v, n, sizeof(*v), longest_first);
	*out = v;
	return n;
}

/* room - whether a table that started at start may take another row */
static int
room(const struct buf *b, size_t start)
{
	return b->len - start < OVERVIEW_TABLE_BUDGET;
}

/* show_cut - the text form's note under a table that shows i of n; whether cut */
static int
show_cut(struct buf *b, enum log_format fmt, size_t i, size_t n)
{
	if (i < n && fmt != LOG_FORMAT_JSON)
		buf_printf(b, "  (%zu more not shown)\n", n - i);
	return i < n;
}

/* show_locks - "locked_accounts":[...],"locked_accounts_total":N; whether cut */
static int
show_locks(struct buf *b, enum log_format fmt, const char *what,
    const struct tracker *tr, uint32_t now)
{
	const struct track **v;
	size_t n = locks_collect(tr, now, &v), i, start;
	int first, cut;

	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, ",\"%s\":[", what);
	else
		buf_printf(b, "%s: %zu\n", what, n);
	start = b->len;
	for (i = 0; i < n && i < OVERVIEW_LOCKS_MAX && room(b, start); i++) {
		first = 1;
		buf_puts(b, fmt == LOG_FORMAT_JSON ? (i ? ",{" : "{") : "  ");
		ctl_kv(b, fmt, &first, "key", v[i]->key);
		time_kv(b, fmt, &first, "locked_until", v[i]->locked_until);
		num_kv(b, fmt, &first, "seconds_left", v[i]->locked_until - now);
		num_kv(b, fmt, &first, "failures_in_window",
		    limits_window_count(tr, v[i], now));
		buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
	}
	cut = show_cut(b, fmt, i, n);
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, "],\"%s_total\":%zu", what, n);
	free((void *)v);
	return cut;
}

/* by_user_ip - stale records by account (without case), address, newest first */
static int
by_user_ip(const void *a, const void *b)
{
	const struct hist_rec *x = *(const struct hist_rec *const *)a;
	const struct hist_rec *y = *(const struct hist_rec *const *)b;
	int c;

	if ((c = strcasecmp(x->user, y->user)) != 0 ||
	    (c = strcmp(x->ip, y->ip)) != 0)
		return c;
	return x->t < y->t ? 1 : x->t > y->t ? -1 : 0;
}

/* latest_first - stale rows by their last failure, then account */
static int
latest_first(const void *a, const void *b)
{
	const struct stale_row *x = a, *y = b;

	if (x->last->t != y->last->t)
		return x->last->t < y->last->t ? 1 : -1;
	return strcasecmp(x->last->user, y->last->user);
}

/* stale_rows - the last day's stale-password failures, one row per account and address */
static size_t
stale_rows(uint32_t now, struct stale_row **out)
{
	const struct hist_rec *r, **v;
	struct stale_row *rows;
	size_t k, n = 0, nrows = 0;

	v = xcalloc(store_history.n + 1, sizeof(*v));
	for (k = 0; (r = history_nth(&store_history, k)) != NULL; k++)
		if (failed(r) && r->cause == CAUSE_STALE_PASSWORD && r->user &&
		    r->t + OVERVIEW_DAY > now)
			v[n++] = r;
	qsort(v, n, sizeof(*v), by_user_ip);
	rows = xcalloc(n + 1, sizeof(*rows));
	for (k = 0; k < n; k++) {
		if (k == 0 || strcasecmp(v[k - 1]->user, v[k]->user) ||
		    strcmp(v[k - 1]->ip, v[k]->ip))
			rows[nrows++].last = v[k];	/* the newest of its row */
		rows[nrows - 1].first = v[k]->t;
		rows[nrows - 1].count++;
	}
	free((void *)v);
	qsort(rows, nrows, sizeof(*rows), latest_first);
	*out = rows;
	return nrows;
}

/* show_stale - "stale":[{"user":..,"ip":..,...}],"stale_total":N; whether cut */
static int
show_stale(struct buf *b, enum log_format fmt, uint32_t now)
{
	struct stale_row *rows;
	size_t n = stale_rows(now, &rows), i, start;
	int first, cut;

	if (fmt == LOG_FORMAT_JSON)
		buf_puts(b, ",\"stale\":[");
	else
		buf_printf(b, "stale passwords: %zu\n", n);
	start = b->len;
	for (i = 0; i < n && i < OVERVIEW_STALE_MAX && room(b, start); i++) {
		first = 1;
		buf_puts(b, fmt == LOG_FORMAT_JSON ? (i ? ",{" : "{") : "  ");
		ctl_kv(b, fmt, &first, "user", rows[i].last->user);
		ctl_kv(b, fmt, &first, "ip", rows[i].last->ip);
		ctl_kv(b, fmt, &first, "proto",
		    proto_name((enum proto)rows[i].last->proto));
		num_kv(b, fmt, &first, "count", rows[i].count);
		time_kv(b, fmt, &first, "first", rows[i].first);
		time_kv(b, fmt, &first, "last", rows[i].last->t);
		ctl_kv(b, fmt, &first, "ref", rows[i].last->ref);
		buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
	}
	cut = show_cut(b, fmt, i, n);
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, "],\"stale_total\":%zu", n);
	free(rows);
	return cut;
}

/* show_kept - how many attempts the counts come from, and the oldest */
static void
show_kept(struct buf *b, enum log_format fmt)
{
	const struct hist_rec *oldest = store_history.n ?
	    history_nth(&store_history, store_history.n - 1) : NULL;
	int first = 0;

	num_kv(b, fmt, &first, "kept", store_history.n);
	if (oldest)
		time_kv(b, fmt, &first, "oldest", oldest->t);
	else if (fmt == LOG_FORMAT_JSON)
		buf_puts(b, ",\"oldest\":null");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "" : "\n");
}

/* ctl_overview - failures per hour, locks, stale passwords */
int
ctl_overview(const struct ctl_req *q, struct buf *b)
{
	enum log_format fmt = q->fmt;
	uint32_t now = store_now();
	int first = 1, cut = 0;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	time_kv(b, fmt, &first, "now", now);
	num_kv(b, fmt, &first, "hours", HOURLY_HOURS);
	if (shared_enabled())
		ctl_kv(b, fmt, &first, "shared", "local view");
	if (fmt != LOG_FORMAT_JSON)
		show_kept(b, fmt);
	show_hours(b, fmt, now);
	cut |= show_locks(b, fmt, "locked_accounts", &store_limits.acct, now);
	cut |= show_locks(b, fmt, "locked_addresses", &store_limits.addr, now);
	cut |= show_stale(b, fmt, now);
	if (fmt == LOG_FORMAT_JSON) {
		show_kept(b, fmt);
		buf_printf(b, ",\"truncated\":%s", cut ? "true" : "false");
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "");
	return 0;
}
