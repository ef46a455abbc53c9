/*++
/* NAME
/*	control 3
/* SUMMARY
/*	the control socket: why, top, lock, unlock, stats, session
/* DESCRIPTION
/*	The admin CLI (and later the milter) connect to control_listen,
/*	send one request line and read the answer until the server
/*	closes the connection:
/*
/*	request:  COMMAND TAB FORMAT TAB ARGUMENT	(FORMAT: text | json)
/*	answer:   "OK" LF body, or "ERR" SP message LF
/*
/*	Options may follow the argument as TAB-separated NAME=VALUE
/*	fields: since=SECONDS (why, top), by=user|address|cause (top),
/*	for=SECONDS (lock).
/*
/*	why REF|USER|ADDRESS: the matching recent attempts (oldest
/*	first), the lock state of the account and the address with
/*	their failures in the window and familiar addresses, and the
/*	remedy for each cause seen. top (any argument): the accounts,
/*	addresses or causes with the most failures, with the dominant
/*	cause, stale-password or password-guessing, and the lock.
/*	lock USER|ADDRESS locks now (for= or lockout_time); unlock
/*	USER|ADDRESS lifts a lock and clears the window; either way,
/*	attempts waiting at the limits for that key are decided at
/*	once (gate_limits_changed). stats (any argument) counts what is
/*	tracked and evicted, the upstream state and the open SASL
/*	connections. session ADDRESS PORT SINCE: the AUTH attempts of
/*	one SMTP session, for authguard-milter. Text output escapes whatever came from the
/*	network, as the log does.
/*
/*	With a shared state (shared 3), why also asks Redis: the recent
/*	attempts of every server, by ref, user or address (each with the
/*	server= that saw it), and the lock state and window there. It
/*	answers from this server alone, saying so, when Redis does not
/*	answer within redis_timeout. lock and unlock act on both.
/*
/*	Lengths: a request line may be CTL_REQUEST_MAX bytes, room for
/*	any command with an argument of SASL_FIELD_MAX bytes (the longest
/*	user name the gate accepts) and every option. A longer line, or a
/*	longer argument, is refused with an ERR that says so and a log
/*	line; nothing is cut short. An address argument is taken in its
/*	canonical form (netaddr_canon(): ::ffff:192.0.2.7 is 192.0.2.7),
/*	as the gate records and counts it.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "attempt.h"
#include "authlimits.h"
#include "cause.h"
#include "conn.h"
#include "control.h"
#include "ctlclient.h"
#include "event.h"
#include "gate.h"
#include "history.h"
#include "logline.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "enforce.h"
#include "ref.h"
#include "sasl.h"
#include "session.h"
#include "shared.h"
#include "state.h"
#include "store.h"
#include "tally.h"
#include "upstream.h"
#include "util.h"

#define CONTROL_SHOW_MAX	100	/* attempts shown by why */
#define CONTROL_TOP_MAX		20	/* rows shown by top */

#define CONTROL_NAME_MAX	SASL_FIELD_MAX	/* longest argument */

/* Options after the argument: "since=SECONDS", "by=user|address|cause", "for=SECONDS" */
struct ctl_opts {
	unsigned long	 since;		/* seconds back, 0: all */
	char		 by[16];
	unsigned long	 for_secs;	/* lock: how long, when for_set */
	int		 for_set;	/* else lockout_time */
};

/* What Redis said for why: other servers' attempts, the shared windows. */
struct why_remote {
	int		 answered;	/* 0: Redis did not answer in time */
	struct hist_rec	 recs[CONTROL_SHOW_MAX];
	char		*lines[CONTROL_SHOW_MAX];	/* recs point into these */
	int		 n;
	int		 have_info;
	long long	 info[5];	/* shared.lua "info" */
};

/* One request line, split in a copy of its own. */
struct ctl_req {
	char		*copy;		/* the line's copy, split */
	const char	*cmd;
	const char	*arg;		/* canonical if an address */
	enum log_format	 fmt;
	struct ctl_opts	 o;
	char		 canon[NETADDR_CANON_MAX];
};

/* A why waiting for Redis. */
struct why_fetch {
	struct control_conn *cc;
	char		*line;
	char		 account[CONTROL_NAME_MAX + 1];
	char		 addr[64];
	int		 kind;		/* why_kind() */
	char		 ref[REF_LEN + 1];	/* kind 'r' */
	struct shared_op *op;
	struct why_remote rem;
};

struct control_conn {
	struct conn	 c;
	LIST_ENTRY(control_conn) link;
	struct why_fetch *fetch;	/* waiting for Redis */
};

static const struct config *ctl_cfg;
static struct listener ctl_listener;
static LIST_HEAD(, control_conn) ctl_conns = LIST_HEAD_INITIALIZER(ctl_conns);
static const struct why_remote *ctl_remote;	/* while answering a fetch */

/* iso_time - 2026-11-26T15:42:01Z */
static const char *
iso_time(uint32_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* result_name - what a history record says happened */
static const char *
result_name(unsigned r)
{
	static const char *const names[] = {"pass", "fail", "abort", "refused"};

	return r < NELEM(names) ? names[r] : "?";
}

/* matches - does a record belong to the question? */
static int
matches(const struct hist_rec *r, int kind, const char *arg)
{
	if (kind == 'r')
		return strcmp(r->ref, arg) == 0;
	if (kind == 'i')
		return strcmp(r->ip, arg) == 0;
	return r->user && strcasecmp(r->user, arg) == 0;
}

/* kv - " key=value" in text, "key":value in JSON */
static void
kv(struct buf *b, enum log_format fmt, int *first, const char *key,
    const char *val)
{
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	else
		buf_printf(b, "%s%s=", *first ? "" : " ", key);
	escaped_value(b, fmt, val);
	*first = 0;
}

/* show_attempt - one attempt */
static void
show_attempt(struct buf *b, enum log_format fmt, const struct hist_rec *r)
{
	char when[32], pid[16];
	int first = 1;

	if (fmt == LOG_FORMAT_JSON)
		buf_putc(b, '{');
	else
		buf_puts(b, "  ");
	kv(b, fmt, &first, "time", iso_time(r->t, when, sizeof(when)));
	kv(b, fmt, &first, "ref", r->ref);
	kv(b, fmt, &first, "result", result_name(r->result));
	if (r->result != ATTEMPT_PASS && r->result != ATTEMPT_ABORT)
		kv(b, fmt, &first, "cause", cause_id((enum cause)r->cause));
	kv(b, fmt, &first, "user", r->user ? r->user : "");
	kv(b, fmt, &first, "ip", r->ip);
	kv(b, fmt, &first, "mech", r->mech);
	kv(b, fmt, &first, "tls", r->tls ? "yes" : "no");
	snprintf(pid, sizeof(pid), "%ld", (long)r->smtpd_pid);
	kv(b, fmt, &first, "smtpd_pid", pid);
	if (r->server[0])
		kv(b, fmt, &first, "server", r->server);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* track_view - an entry's lock, window and familiar addresses */
struct track_view {
	uint32_t	 locked_until;
	unsigned	 failures;
	unsigned	 familiar;
};

/* track_local - this server's view of an entry */
static void
track_local(struct tracker *tr, const char *key, struct track_view *v)
{
	struct track *t = limits_find(tr, key);
	uint32_t now = store_now();

	memset(v, 0, sizeof(*v));
	if (t == NULL)
		return;
	v->locked_until = t->locked_until;
	v->failures = limits_window_count(tr, t, now);
	v->familiar = t->nfam;
}

/* show_track - lock state of an account or address */
static void
show_track(struct buf *b, enum log_format fmt, const char *what,
    const struct track_view *v, const char *key, int is_acct)
{
	uint32_t now = store_now();
	char when[32], num[16];
	int first = 1, locked = v->locked_until > now;

	if (key == NULL)
		return;
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, ",\"%s\":{", what);
	else
		buf_printf(b, "%s: ", what);
	kv(b, fmt, &first, "key", key);
	kv(b, fmt, &first, "locked", locked ? "yes" : "no");
	if (locked) {
		kv(b, fmt, &first, "locked_until", iso_time(v->locked_until, when,
		    sizeof(when)));
		snprintf(num, sizeof(num), "%u", v->locked_until - now);
		kv(b, fmt, &first, "seconds_left", num);
	}
	snprintf(num, sizeof(num), "%u", v->failures);
	kv(b, fmt, &first, "failures_in_window", num);
	if (is_acct) {
		snprintf(num, sizeof(num), "%u", v->familiar);
		kv(b, fmt, &first, "familiar_addresses", num);
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* show_tracks - the account's and the address's, shared or local */
static void
show_tracks(struct buf *b, enum log_format fmt, const char *account,
    const char *addr)
{
	const struct why_remote *rem = ctl_remote;
	struct track_view v;

	if (*account) {
		track_local(&store_limits.acct, account, &v);
		if (rem && rem->have_info) {
			v.locked_until = (uint32_t)rem->info[0];
			v.failures = (unsigned)rem->info[1];
			v.familiar = (unsigned)rem->info[2];
		}
		show_track(b, fmt, "account", &v, account, 1);
	}
	if (*addr) {
		track_local(&store_limits.addr, addr, &v);
		if (rem && rem->have_info) {
			v.locked_until = (uint32_t)rem->info[3];
			v.failures = (unsigned)rem->info[4];
		}
		show_track(b, fmt, "address", &v, addr, 0);
	}
}

/* show_hints - the remedy for each cause seen */
static void
show_hints(struct buf *b, enum log_format fmt, const unsigned char *seen)
{
	int i, first = 1;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"hints\":{" : "");
	for (i = 1; i < CAUSE_COUNT; i++) {
		if (!seen[i])
			continue;
		if (fmt == LOG_FORMAT_JSON)
			kv(b, fmt, &first, cause_id((enum cause)i),
			    cause_info((enum cause)i)->hint);
		else
			buf_printf(b, "what to do about %s: %s\n",
			    cause_id((enum cause)i), cause_info((enum cause)i)->hint);
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "");
}

/* recent - is a record within the --since window? */
static int
recent(const struct hist_rec *r, const struct ctl_opts *o)
{
	uint32_t now = store_now();

	return o->since == 0 || r->t + o->since >= now;
}

/* is_address - an IP address, in any spelling, with or without a zone */
static int
is_address(const char *arg)
{
	char canon[NETADDR_CANON_MAX];

	return netaddr_canon(arg, canon, sizeof(canon)) == canon;
}

/* why_kind - 'r' ref, 'i' address, 'u' user */
static int
why_kind(const char *arg)
{
	return ref_valid(arg) ? 'r' : is_address(arg) ? 'i' : 'u';
}

/* why_keys - the account and address key the question is about */
static void
why_keys(int kind, const char *arg, const struct hist_rec *first,
    char *account, size_t alen, char *addr, size_t ilen)
{
	*account = *addr = 0;
	if (kind != 'i' && str_copy(account, alen, kind == 'r' ? first->user :
	    arg) < 0)
		*account = 0;		/* longer than any tracked account */
	str_lower(account);
	limits_addr_key(kind == 'r' ? first->ip : kind == 'i' ? arg : "",
	    ctl_cfg->ipv4_prefix, ctl_cfg->ipv6_prefix, addr, ilen);
}

/* shown_has - is this ref among the shown already? */
static int
shown_has(const struct hist_rec **shown, int n, const char *ref)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(shown[i]->ref, ref) == 0)
			return 1;
	return 0;
}

/* newest_first - order of shown attempts */
static int
newest_first(const void *a, const void *b)
{
	const struct hist_rec *x = *(const struct hist_rec *const *)a;
	const struct hist_rec *y = *(const struct hist_rec *const *)b;

	return x->t < y->t ? 1 : x->t > y->t ? -1 : 0;
}

/* why_collect - matching attempts here and, if asked, elsewhere */
static int
why_collect(int kind, const char *arg, const struct ctl_opts *o,
    const struct hist_rec **shown)
{
	const struct why_remote *rem = ctl_remote;
	const struct hist_rec *r;
	int n = 0, i;
	size_t k;

	for (k = 0; (r = history_nth(&store_history, k)) && n < CONTROL_SHOW_MAX;
	    k++)
		if (matches(r, kind, arg) && (kind == 'r' || recent(r, o)))
			shown[n++] = r;
	for (i = 0; rem && i < rem->n && n < CONTROL_SHOW_MAX; i++) {
		r = &rem->recs[i];
		if (matches(r, kind, arg) && (kind == 'r' || recent(r, o)) &&
		    !shown_has(shown, n, r->ref))
			shown[n++] = r;
	}
	qsort(shown, (size_t)n, sizeof(*shown), newest_first);
	return n;
}

/* why - what happened to a ref, a user or an address */
static int
why(struct buf *b, enum log_format fmt, const char *arg,
    const struct ctl_opts *o)
{
	const struct hist_rec *shown[CONTROL_SHOW_MAX];
	unsigned char seen[CAUSE_COUNT] = {0};
	char account[CONTROL_NAME_MAX + 1], addr[64];
	int kind = why_kind(arg), n, i, first = 1;

	n = why_collect(kind, arg, o, shown);
	if (kind == 'r' && n == 0) {
		buf_printf(b, "ERR no attempt with ref %s among the last %zu%s\n",
		    arg, store_history.n, ctl_remote && ctl_remote->answered ?
		    " here, nor in the shared state" : "");
		return -1;
	}
	why_keys(kind, arg, n ? shown[0] : NULL, account, sizeof(account),
	    addr, sizeof(addr));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	if (fmt == LOG_FORMAT_JSON) {
		kv(b, fmt, &first, "query", arg);
		if (ctl_remote)
			kv(b, fmt, &first, "shared", ctl_remote->answered ? "yes" :
			    "unavailable");
		buf_puts(b, ",\"attempts\":[");
	} else {
		if (ctl_remote && !ctl_remote->answered)
			buf_puts(b, "shared state unavailable: this server's "
			    "attempts only\n");
		buf_printf(b, "%d recent attempt%s:\n", n, n == 1 ? "" : "s");
	}
	for (i = n - 1; i >= 0; i--) {
		if (fmt == LOG_FORMAT_JSON && i != n - 1)
			buf_putc(b, ',');
		show_attempt(b, fmt, shown[i]);
		if (shown[i]->result == ATTEMPT_FAIL || shown[i]->result == 3)
			seen[shown[i]->cause < CAUSE_COUNT ? shown[i]->cause : 0] = 1;
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]" : "");
	show_tracks(b, fmt, account, addr);
	show_hints(b, fmt, seen);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "");
	return 0;
}

/*
 * session - the attempts of one SMTP session, for the milter:
 * "ADDRESS PORT SINCE" (SINCE: unix seconds the session began). The
 * attempts from ADDRESS since SINCE; when the policy service saw the
 * session (same address and port), only those of its smtpd, which
 * tells apart two sessions from one address behind NAT.
 */
static int
session(struct buf *b, enum log_format fmt, const char *arg)
{
	char ip[64], port[16];
	unsigned long since;
	const struct hist_rec *r, *shown[CONTROL_SHOW_MAX];
	struct ipaddr addr;
	pid_t pid;
	size_t k;
	int n = 0;

	if (sscanf(arg, "%63s %15s %lu", ip, port, &since) != 3 ||
	    ipaddr_parse(ip, &addr) < 0)
		return buf_puts(b, "ERR usage: session ADDRESS PORT SINCE\n"), -1;
	pid = session_find(ip, port);
	for (k = 0; (r = history_nth(&store_history, k)) && n < CONTROL_SHOW_MAX;
	    k++) {
		if (r->t < since)
			break;
		if (strcmp(r->ip, ip) == 0 && r->result != 3 &&
		    (pid == 0 || r->smtpd_pid == (int32_t)pid))
			shown[n++] = r;
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n[" : "OK\n");
	while (n-- > 0) {
		show_attempt(b, fmt, shown[n]);
		if (fmt == LOG_FORMAT_JSON && n > 0)
			buf_putc(b, ',');
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]\n" : "");
	return 0;
}

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
top_lock(const char *by, const char *key, char *buf, size_t len)
{
	struct tracker *tr = strcmp(by, "address") == 0 ? &store_limits.addr :
	    &store_limits.acct;
	char akey[64];
	struct track *t;

	if (strcmp(by, "cause") == 0)
		return "-";
	if (tr == &store_limits.addr) {
		if (limits_addr_key(key, ctl_cfg->ipv4_prefix,
		    ctl_cfg->ipv6_prefix, akey, sizeof(akey)) < 0)
			return "no";
		key = akey;
	}
	if ((t = limits_find(tr, key)) == NULL ||
	    !limits_is_locked(t, store_now()))
		return "no";
	return iso_time(t->locked_until, buf, len);
}

/* top_show - one row */
static void
top_show(struct buf *b, enum log_format fmt, const char *by,
    const struct tally_row *t)
{
	char num[3][16], when[32], until[32];
	int first = 1;

	snprintf(num[0], sizeof(num[0]), "%u", t->fails);
	snprintf(num[1], sizeof(num[1]), "%u", t->passes);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "{" : "  ");
	kv(b, fmt, &first, by, t->key);
	kv(b, fmt, &first, "failures", num[0]);
	kv(b, fmt, &first, "passes", num[1]);
	if (strcmp(by, "cause") != 0) {
		kv(b, fmt, &first, "dominant_cause", cause_id(tally_dominant(t)));
		kv(b, fmt, &first, "pattern", pattern(t));
		kv(b, fmt, &first, "locked_until", top_lock(by, t->key, until,
		    sizeof(until)));
	}
	kv(b, fmt, &first, "last", iso_time(t->last, when, sizeof(when)));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* top - who is failing, and why */
static int
top(struct buf *b, enum log_format fmt, const struct ctl_opts *o)
{
	const char *by = *o->by ? o->by : "user", *key;
	struct tally rows = {NULL, 0, 0};
	struct tally_row *t;
	const struct hist_rec *r;
	size_t k;

	if (strcmp(by, "user") && strcmp(by, "address") && strcmp(by, "cause"))
		return buf_puts(b, "ERR by: user, address or cause\n"), -1;
	for (k = 0; (r = history_nth(&store_history, k)) && recent(r, o); k++) {
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
		top_show(b, fmt, by, &rows.v[k]);
	}
	if (fmt != LOG_FORMAT_JSON && (rows.n == 0 || rows.v[0].fails == 0))
		buf_puts(b, "no failures\n");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]\n" : "");
	tally_free(&rows);
	return 0;
}

/* log_admin - "control: locked KEY until T by the admin", KEY escaped */
static void
log_admin(const char *what, const char *key, const char *until)
{
	struct buf l;

	buf_init(&l);
	escaped_value(&l, LOG_FORMAT_LOGFMT, key);
	if (until)
		msg_warn("control: %s %s until %s by the admin", what,
		    buf_str(&l), until);
	else
		msg_info("control: %s %s", what, buf_str(&l));
	buf_free(&l);
}

/* admin_key - an account (lower-cased) or an address's key; -1 bad */
static int
admin_key(const char *arg, char *key, size_t len, int *is_addr)
{
	*is_addr = is_address(arg);
	if (*is_addr)
		return limits_addr_key(arg, ctl_cfg->ipv4_prefix,
		    ctl_cfg->ipv6_prefix, key, len);
	if (str_copy(key, len, arg) < 0)
		return -1;
	str_lower(key);
	return 0;
}

/* lock - lock an account or address now, for --for or lockout_time */
static int
lock(struct buf *b, enum log_format fmt, const char *arg,
    const struct ctl_opts *o)
{
	unsigned long secs = o->for_set ? o->for_secs :
	    ctl_cfg->lockout_time / 1000;
	uint32_t now = store_now();
	char key[CONTROL_NAME_MAX + 1], until[32];
	int is_addr, first = 1;

	if (admin_key(arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (secs == 0 || secs > 365UL * 86400)
		return buf_puts(b, "ERR for: 1s to 365d\n"), -1;
	enforce_lock(key, is_addr, now + (uint32_t)secs);
	iso_time(now + (uint32_t)secs, until, sizeof(until));
	log_admin("locked", key, until);
	gate_limits_changed(is_addr ? NULL : key, is_addr ? key : NULL);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	kv(b, fmt, &first, "locked", key);
	kv(b, fmt, &first, "until", until);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "\n");
	return 0;
}

/* unlock - lift a lock on an account or address */
static int
unlock(struct buf *b, enum log_format fmt, const char *arg)
{
	char key[CONTROL_NAME_MAX + 1];
	int is_addr;

	if (admin_key(arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (!enforce_unlock(key) && !shared_enabled()) {
		buf_puts(b, "ERR nothing is tracked under ");
		escaped_value(b, LOG_FORMAT_LOGFMT, key);
		buf_putc(b, '\n');
		return -1;
	}
	log_admin("unlocked", key, NULL);
	gate_limits_changed(key, key);	/* either tracker may have held it */
	if (fmt == LOG_FORMAT_JSON) {
		buf_puts(b, "OK\n{\"unlocked\":");
		escaped_value(b, fmt, key);
		buf_puts(b, "}\n");
	} else {
		buf_puts(b, "OK\nunlocked ");
		escaped_value(b, fmt, key);
		buf_putc(b, '\n');
	}
	return 0;
}

/* stats_shared - the shared state's health, when there is one */
static void
stats_shared(struct buf *b, enum log_format fmt)
{
	struct shared_stats st;
	const char *f = fmt == LOG_FORMAT_JSON ? ",\"%s\":%llu" : " %s=%llu";

	if (!shared_enabled())
		return;
	shared_stats(&st);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"shared\":" : " shared=");
	escaped_value(b, fmt, st.state);
	buf_printf(b, f, "shared_timeouts", st.timeouts);
	buf_printf(b, f, "shared_errors", st.errors);
	buf_printf(b, f, "shared_outages", st.outages);
	buf_printf(b, f, "shared_local_decisions", st.local);
	buf_printf(b, f, "shared_kept", (unsigned long long)st.journal);
	buf_printf(b, f, "shared_merged", st.merged);
	buf_printf(b, f, "shared_dropped", st.dropped);
	buf_printf(b, f, "shared_key_mismatch", (unsigned long long)st.key_mismatch);
}

/* stats - what is tracked, in numbers */
static int
stats(struct buf *b, enum log_format fmt)
{
	struct {
		const char *key;
		unsigned long long v;
	} rows[] = {
		{"accounts_tracked", store_limits.acct.count},
		{"addresses_tracked", store_limits.addr.count},
		{"max_tracked", store_limits.acct.max},
		{"accounts_evicted", store_limits.acct.evicted},
		{"addresses_evicted", store_limits.addr.evicted},
		{"recent_attempts", store_history.n},
		{"sasl_connections", gate_connections()},
	};
	size_t i;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "\"upstream\":" : "upstream=");
	escaped_value(b, fmt, upstream_state());
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "," : " ");
	for (i = 0; i < NELEM(rows); i++)
		buf_printf(b, fmt == LOG_FORMAT_JSON ? "%s\"%s\":%llu" : "%s%s=%llu",
		    i == 0 ? "" : fmt == LOG_FORMAT_JSON ? "," : " ", rows[i].key,
		    rows[i].v);
	stats_shared(b, fmt);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "\n");
	return 0;
}

/* ctl_opts_parse - "name=value" fields after the argument */
static int
ctl_opts_parse(char *save, struct ctl_opts *o)
{
	char *f, *v;
	unsigned long n;

	memset(o, 0, sizeof(*o));
	while ((f = strtok_r(NULL, "\t", &save)) != NULL) {
		if ((v = strchr(f, '=')) == NULL)
			return -1;
		*v++ = 0;
		if (strcmp(f, "by") == 0) {
			if (str_copy(o->by, sizeof(o->by), v) < 0)
				return -1;
			continue;
		}
		if (parse_uint(v, 0xffffffffUL, &n) < 0)
			return -1;
		if (strcmp(f, "since") == 0)
			o->since = n;
		else if (strcmp(f, "for") == 0) {
			o->for_secs = n;
			o->for_set = 1;
		} else
			return -1;
	}
	return 0;
}

/* too_long - refuse an argument no account can have, saying so, and log it */
static int
too_long(struct buf *b, const char *cmd, size_t len)
{
	struct buf l;

	buf_init(&l);
	escaped_value(&l, LOG_FORMAT_LOGFMT, cmd);
	msg_warn("control: %s refused: an argument of %zu bytes, longer than "
	    "the %d of the longest user name", buf_str(&l), len,
	    CONTROL_NAME_MAX);
	buf_free(&l);
	buf_printf(b, "ERR argument of %zu bytes: no user name is longer than "
	    "%d bytes\n", len, CONTROL_NAME_MAX);
	return -1;
}

/*
 * req_parse - split a request line (copied: free with req_free); -1
 * with the ERR answer in b
 */
static int
req_parse(const char *line, struct ctl_req *q, struct buf *b)
{
	char *fmt, *arg, *save = NULL;

	memset(q, 0, sizeof(*q));
	q->copy = xstrdup(line);
	q->cmd = strtok_r(q->copy, "\t", &save);
	fmt = strtok_r(NULL, "\t", &save);
	arg = strtok_r(NULL, "\t", &save);
	if (q->cmd == NULL || fmt == NULL || arg == NULL || *arg == 0 ||
	    (strcmp(fmt, "text") && strcmp(fmt, "json")))
		return buf_puts(b, "ERR usage: COMMAND<TAB>text|json<TAB>"
		    "ARGUMENT[<TAB>NAME=VALUE...]\n"), -1;
	if (strlen(arg) > CONTROL_NAME_MAX)
		return too_long(b, q->cmd, strlen(arg));
	if (ctl_opts_parse(save, &q->o) < 0)
		return buf_puts(b, "ERR options: since=SECONDS, by=user|"
		    "address|cause, for=SECONDS\n"), -1;
	q->fmt = strcmp(fmt, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_LOGFMT;
	q->arg = netaddr_canon(arg, q->canon, sizeof(q->canon));
	return 0;
}

/* req_free - release a parsed request */
static void
req_free(struct ctl_req *q)
{
	free(q->copy);
	q->copy = NULL;
}

/* req_run - a parsed request to its answer */
static int
req_run(const struct ctl_req *q, struct buf *b)
{
	const char *cmd = q->cmd, *arg = q->arg;
	enum log_format f = q->fmt;

	if (strcmp(cmd, "why") == 0)
		return why(b, f, arg, &q->o);
	if (strcmp(cmd, "top") == 0)
		return top(b, f, &q->o);
	if (strcmp(cmd, "lock") == 0)
		return lock(b, f, arg, &q->o);
	if (strcmp(cmd, "unlock") == 0)
		return unlock(b, f, arg);
	if (strcmp(cmd, "stats") == 0)
		return stats(b, f);
	if (strcmp(cmd, "session") == 0)
		return session(b, f, arg);
	if (strcmp(cmd, "metrics") == 0) {
		buf_puts(b, "OK\n");
		metrics_render(b);
		return 0;
	}
	buf_puts(b, "ERR unknown command\n");
	return -1;
}

/* control_command - one request line to its answer */
int
control_command(const char *line, struct buf *b)
{
	struct ctl_req q;
	int rc = -1;

	if (req_parse(line, &q, b) == 0)
		rc = req_run(&q, b);
	req_free(&q);
	return rc;
}

/* local_ref - this server's record of a ref, or NULL */
static const struct hist_rec *
local_ref(const char *ref)
{
	const struct hist_rec *r;
	size_t k;

	for (k = 0; (r = history_nth(&store_history, k)) != NULL; k++)
		if (strcmp(r->ref, ref) == 0)
			return r;
	return NULL;
}

/* fetch_free - a why fetch is over */
static void
fetch_free(struct why_fetch *wf)
{
	int i;

	if (wf->op)
		shared_forget(wf->op);
	for (i = 0; i < wf->rem.n; i++)
		free(wf->rem.lines[i]);
	free(wf->line);
	if (wf->cc)
		wf->cc->fetch = NULL;
	free(wf);
}

/* fetch_answer - render with what Redis said, reply, finish */
static void
fetch_answer(struct why_fetch *wf)
{
	struct control_conn *cc = wf->cc;
	struct buf b;

	buf_init(&b);
	ctl_remote = &wf->rem;
	control_command(wf->line, &b);
	ctl_remote = NULL;
	wf->op = NULL;
	fetch_free(wf);			/* before cc may go */
	conn_send(&cc->c, b.data, b.len);
	buf_free(&b);
	conn_finish(&cc->c);
}

/* fetch_info - the shared windows answered (or not) */
static void
fetch_info(void *arg, const redisReply *r)
{
	struct why_fetch *wf = arg;
	size_t i;

	wf->op = NULL;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 5) {
		for (i = 0; i < 5 && r->element[i]->type == REDIS_REPLY_INTEGER;
		    i++)
			wf->rem.info[i] = r->element[i]->integer;
		wf->rem.have_info = i == 5;
	}
	fetch_answer(wf);
}

/* fetch_record - one record from Redis, kept if it parses */
static void
fetch_record(struct why_fetch *wf, const redisReply *r)
{
	char *line, *user;

	if (r->type != REDIS_REPLY_STRING || wf->rem.n >= CONTROL_SHOW_MAX)
		return;
	line = xstrndup(r->str, r->len);
	if (state_history_parse(line, &wf->rem.recs[wf->rem.n], &user) < 0) {
		free(line);
		return;
	}
	wf->rem.lines[wf->rem.n++] = line;
}

/* fetch_records - the attempts answered: now the windows */
static void
fetch_records(void *arg, const redisReply *r)
{
	struct why_fetch *wf = arg;
	const struct hist_rec *first;
	struct shared_cmd *c;
	size_t i;

	wf->op = NULL;
	if (r == NULL) {
		fetch_answer(wf);	/* answered = 0: local only */
		return;
	}
	wf->rem.answered = 1;
	if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements; i++)
			fetch_record(wf, r->element[i]);
	else
		fetch_record(wf, r);
	if (wf->kind == 'r' && (first = wf->rem.n ? &wf->rem.recs[0] :
	    local_ref(wf->ref)) != NULL)
		why_keys('r', "", first, wf->account, sizeof(wf->account),
		    wf->addr, sizeof(wf->addr));
	if (!*wf->account && !*wf->addr) {	/* nothing to ask about */
		fetch_answer(wf);
		return;
	}
	c = shared_script("info", store_now(), (*wf->account ? SF_ACCOUNT : 0) |
	    (*wf->addr ? SF_ADDRESS : 0));
	if (*wf->account)
		shared_key(c, 1, "a:", wf->account);
	if (*wf->addr)
		shared_key(c, 2, "i:", wf->addr);
	if ((wf->op = shared_send(c, fetch_info, wf, NULL)) == NULL)
		fetch_answer(wf);
}

/* fetch_new - the why fetch of a parsed request */
static struct why_fetch *
fetch_new(struct control_conn *cc, const char *line, const char *arg)
{
	struct why_fetch *wf = xcalloc(1, sizeof(*wf));

	wf->cc = cc;
	wf->line = xstrdup(line);
	wf->kind = why_kind(arg);
	if (wf->kind == 'r')
		str_copy(wf->ref, sizeof(wf->ref), arg);
	else
		why_keys(wf->kind, arg, NULL, wf->account, sizeof(wf->account),
		    wf->addr, sizeof(wf->addr));
	return wf;
}

/* fetch_start - why, with a shared state: ask Redis first */
static void
fetch_start(struct control_conn *cc, const char *line, const struct ctl_req *q)
{
	struct why_fetch *wf = fetch_new(cc, line, q->arg);
	struct shared_cmd *c;
	char *lower = xstrdup(q->arg), last[16];

	str_lower(lower);
	snprintf(last, sizeof(last), "%d", CONTROL_SHOW_MAX - 1);
	if (wf->kind == 'r')
		c = shared_command(2, "GET", "");
	else
		c = shared_command(4, "LRANGE", "", "0", last);
	shared_key_at(c, 1, wf->kind == 'r' ? "h:" : wf->kind == 'i' ? "hi:" :
	    "hu:", wf->kind == 'u' ? lower : q->arg);
	free(lower);
	cc->fetch = wf;
	if ((wf->op = shared_send(c, fetch_records, wf, NULL)) == NULL)
		fetch_answer(wf);
}

/* control_line - the request: answered now, or once Redis has answered */
static void
control_line(struct conn *c, char *line, size_t len)
{
	struct control_conn *cc = (struct control_conn *)c;
	struct ctl_req q;
	struct buf b;
	int asked = 0;

	if (cc->fetch)
		return;		/* one request per connection */
	buf_init(&b);
	memset(&q, 0, sizeof(q));
	if (memchr(line, 0, len))
		buf_puts(&b, "ERR NUL byte in request\n");
	else if (req_parse(line, &q, &b) == 0) {
		if ((asked = shared_enabled() && strcmp(q.cmd, "why") == 0))
			fetch_start(cc, line, &q);	/* it answers */
		else
			req_run(&q, &b);
	}
	req_free(&q);
	if (!asked) {
		conn_send(c, b.data, b.len);
		conn_finish(c);
	}
	buf_free(&b);
}

/* control_overlong - refuse, saying how long a request may be, and log it */
static void
control_overlong(struct conn *c, char *prefix, size_t len)
{
	char text[96];

	msg_warn("control: request too long: more than %d bytes, refused",
	    CTL_REQUEST_MAX);
	snprintf(text, sizeof(text), "ERR request too long: more than %d "
	    "bytes\n", CTL_REQUEST_MAX);
	conn_puts(c, text);
	conn_finish(c);
}

/* control_conn_free - deferred release */
static void
control_conn_free(void *p)
{
	conn_free(p);
	free(p);
}

/* control_closed - done or gone */
static void
control_closed(struct conn *c, const char *why_)
{
	struct control_conn *cc = (struct control_conn *)c;

	if (cc->fetch)
		fetch_free(cc->fetch);
	conn_close(c);
	LIST_REMOVE(cc, link);
	ev_defer_free(control_conn_free, cc);
}

static const struct conn_ops control_ops = {
	.line = control_line,
	.overlong = control_overlong,
	.closed = control_closed,
};

/* control_accepted - a CLI connection */
static void
control_accepted(int fd, pid_t pid)
{
	struct control_conn *cc = xcalloc(1, sizeof(*cc));

	conn_init(&cc->c, fd, CTL_REQUEST_MAX, &control_ops, cc,
	    "control client");
	LIST_INSERT_HEAD(&ctl_conns, cc, link);
}

/* control_init - start accepting */
void
control_init(const struct config *cfg, int fd)
{
	ctl_cfg = cfg;
	listener_start(&ctl_listener, fd, "control_listen", control_accepted);
}

/* control_shutdown - close everything */
void
control_shutdown(void)
{
	if (ctl_cfg == NULL)
		return;
	listener_stop(&ctl_listener);
	while (!LIST_EMPTY(&ctl_conns))
		control_closed(&LIST_FIRST(&ctl_conns)->c, "stopping");
}
