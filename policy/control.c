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
/*	USER|ADDRESS lifts a lock and clears the window. stats (any argument) counts what is
/*	tracked and evicted, the upstream state and the open SASL
/*	connections. session ADDRESS PORT SINCE: the AUTH attempts of
/*	one SMTP session, for authguard-milter. Text output escapes whatever came from the
/*	network, as the log does.
/*--*/
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "attempt.h"
#include "cause.h"
#include "conn.h"
#include "control.h"
#include "gate.h"
#include "logline.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "session.h"
#include "store.h"
#include "tally.h"
#include "upstream.h"
#include "util.h"

#define CONTROL_SHOW_MAX	100	/* attempts shown by why */
#define CONTROL_TOP_MAX		20	/* rows shown by top */

/* Options after the argument: "since=SECONDS", "by=user|address|cause", "for=SECONDS" */
struct ctl_opts {
	unsigned long	 since;		/* seconds back, 0: all */
	char		 by[16];
	unsigned long	 for_secs;	/* lock: 0 = lockout_time */
};

struct control_conn {
	struct conn	 c;
	LIST_ENTRY(control_conn) link;
};

static const struct config *ctl_cfg;
static struct listener ctl_listener;
static LIST_HEAD(, control_conn) ctl_conns = LIST_HEAD_INITIALIZER(ctl_conns);

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
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* show_track - lock state of an account or address */
static void
show_track(struct buf *b, enum log_format fmt, const char *what,
    struct tracker *tr, const char *key)
{
	struct track *t = key ? limits_find(tr, key) : NULL;
	uint32_t now = store_now();
	char when[32], num[16];
	int first = 1, locked = t && limits_is_locked(t, now);

	if (key == NULL)
		return;
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, ",\"%s\":{", what);
	else
		buf_printf(b, "%s: ", what);
	kv(b, fmt, &first, "key", key);
	kv(b, fmt, &first, "locked", locked ? "yes" : "no");
	if (locked) {
		kv(b, fmt, &first, "locked_until", iso_time(t->locked_until, when,
		    sizeof(when)));
		snprintf(num, sizeof(num), "%u", t->locked_until - now);
		kv(b, fmt, &first, "seconds_left", num);
	}
	snprintf(num, sizeof(num), "%u", t ? limits_window_count(tr, t, now) : 0);
	kv(b, fmt, &first, "failures_in_window", num);
	if (tr == &store_limits.acct) {
		snprintf(num, sizeof(num), "%u", t ? t->nfam : 0);
		kv(b, fmt, &first, "familiar_addresses", num);
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
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

/* why - what happened to a ref, a user or an address */
static int
why(struct buf *b, enum log_format fmt, const char *arg,
    const struct ctl_opts *o)
{
	const struct hist_rec *r, *shown[CONTROL_SHOW_MAX];
	unsigned char seen[CAUSE_COUNT] = {0};
	struct ipaddr ip;
	char account[256] = "", addr[64] = "";
	int kind, n = 0, i, first = 1;
	size_t k;

	kind = ref_valid(arg) ? 'r' : ipaddr_parse(arg, &ip) == 0 ? 'i' : 'u';
	for (k = 0; (r = history_nth(&store_history, k)) && n < CONTROL_SHOW_MAX;
	    k++)
		if (matches(r, kind, arg) && (kind == 'r' || recent(r, o)))
			shown[n++] = r;
	if (kind == 'r' && n == 0) {
		buf_printf(b, "ERR no attempt with ref %s among the last %zu\n",
		    arg, store_history.n);
		return -1;
	}
	if (kind != 'i')
		str_copy(account, sizeof(account), kind == 'r' ? shown[0]->user :
		    arg);
	str_lower(account);
	limits_addr_key(kind == 'r' ? shown[0]->ip : kind == 'i' ? arg : "",
	    ctl_cfg->ipv4_prefix, ctl_cfg->ipv6_prefix, addr, sizeof(addr));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	if (fmt == LOG_FORMAT_JSON) {
		kv(b, fmt, &first, "query", arg);
		buf_puts(b, ",\"attempts\":[");
	} else
		buf_printf(b, "%d recent attempt%s:\n", n, n == 1 ? "" : "s");
	for (i = n - 1; i >= 0; i--) {
		if (fmt == LOG_FORMAT_JSON && i != n - 1)
			buf_putc(b, ',');
		show_attempt(b, fmt, shown[i]);
		if (shown[i]->result == ATTEMPT_FAIL || shown[i]->result == 3)
			seen[shown[i]->cause < CAUSE_COUNT ? shown[i]->cause : 0] = 1;
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]" : "");
	show_track(b, fmt, "account", &store_limits.acct, *account ? account :
	    NULL);
	show_track(b, fmt, "address", &store_limits.addr, *addr ? addr : NULL);
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

/* top_key - what a record is counted under; NULL: not counted */
static const char *
top_key(const struct hist_rec *r, const char *by, char *buf, size_t len)
{
	if (strcmp(by, "address") == 0)
		return r->ip;
	if (strcmp(by, "cause") == 0)
		return r->result == ATTEMPT_FAIL || r->result == 3 ?
		    cause_id((enum cause)r->cause) : NULL;
	if (r->user == NULL || str_copy(buf, len, r->user) < 0)
		return NULL;
	str_lower(buf);
	return buf;
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
	char kbuf[128];

	if (strcmp(by, "user") && strcmp(by, "address") && strcmp(by, "cause"))
		return buf_puts(b, "ERR by: user, address or cause\n"), -1;
	for (k = 0; (r = history_nth(&store_history, k)) && recent(r, o); k++) {
		if ((key = top_key(r, by, kbuf, sizeof(kbuf))) == NULL || !*key)
			continue;
		t = tally_row(&rows, key);
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

/* admin_key - an account (lower-cased) or an address's key; -1 bad */
static int
admin_key(const char *arg, char *key, size_t len, int *is_addr)
{
	struct ipaddr ip;

	*is_addr = ipaddr_parse(arg, &ip) == 0;
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
	unsigned long secs = o->for_secs ? o->for_secs :
	    ctl_cfg->lockout_time / 1000;
	uint32_t now = store_now();
	struct tracker *tr;
	struct track *t;
	char key[256], until[32];
	int is_addr, first = 1;

	if (admin_key(arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (secs == 0 || secs > 365UL * 86400)
		return buf_puts(b, "ERR for: 1s to 365d\n"), -1;
	tr = is_addr ? &store_limits.addr : &store_limits.acct;
	t = limits_get(tr, key, now);
	limits_set_lock(tr, t, now + (uint32_t)secs, t->lock_level, now, now);
	store_dirty();
	msg_warn("control: locked %s until %s by the admin", key,
	    iso_time(t->locked_until, until, sizeof(until)));
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
	char key[256];
	int is_addr;

	if (admin_key(arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (!limits_unlock(&store_limits, key)) {
		buf_puts(b, "ERR nothing is tracked under ");
		escaped_value(b, LOG_FORMAT_LOGFMT, key);
		buf_putc(b, '\n');
		return -1;
	}
	store_dirty();
	msg_info("control: unlocked %s", key);
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
		else if (strcmp(f, "for") == 0)
			o->for_secs = n;
		else
			return -1;
	}
	return 0;
}

/* control_command - one request line to its answer */
int
control_command(const char *line, struct buf *b)
{
	char copy[1024], *cmd, *fmt, *arg, *save = NULL;
	struct ctl_opts o;
	enum log_format f;

	if (str_copy(copy, sizeof(copy), line) < 0)
		return buf_puts(b, "ERR request too long\n"), -1;
	cmd = strtok_r(copy, "\t", &save);
	fmt = strtok_r(NULL, "\t", &save);
	arg = strtok_r(NULL, "\t", &save);
	if (cmd == NULL || fmt == NULL || arg == NULL || *arg == 0 ||
	    (strcmp(fmt, "text") && strcmp(fmt, "json")))
		return buf_puts(b, "ERR usage: COMMAND<TAB>text|json<TAB>"
		    "ARGUMENT[<TAB>NAME=VALUE...]\n"), -1;
	if (ctl_opts_parse(save, &o) < 0)
		return buf_puts(b, "ERR options: since=SECONDS, by=user|"
		    "address|cause, for=SECONDS\n"), -1;
	f = strcmp(fmt, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_LOGFMT;
	if (strcmp(cmd, "why") == 0)
		return why(b, f, arg, &o);
	if (strcmp(cmd, "top") == 0)
		return top(b, f, &o);
	if (strcmp(cmd, "lock") == 0)
		return lock(b, f, arg, &o);
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

/* control_line - the request */
static void
control_line(struct conn *c, char *line, size_t len)
{
	struct buf b;

	buf_init(&b);
	if (memchr(line, 0, len))
		buf_puts(&b, "ERR NUL byte in request\n");
	else
		control_command(line, &b);
	conn_send(c, b.data, b.len);
	buf_free(&b);
	conn_finish(c);
}

/* control_overlong - refuse */
static void
control_overlong(struct conn *c, char *prefix, size_t len)
{
	conn_puts(c, "ERR request too long\n");
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

	conn_init(&cc->c, fd, 1024, &control_ops, cc, "control client");
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
