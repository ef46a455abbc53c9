/*++
/* NAME
/*	ctl_why 3
/* SUMMARY
/*	the control commands why and session: the attempts behind a question
/* DESCRIPTION
/*	why REF|USER|ADDRESS: the matching recent attempts (oldest
/*	first), the lock state of the account and the address with
/*	their failures in the window and familiar addresses, and the
/*	remedy for each cause seen. since= keeps the attempts of a user
/*	or an address that recent (a ref is found whatever its age).
/*
/*	With a shared state (shared 3), why also asks Redis: the recent
/*	attempts of every server, by ref, user or address (each with the
/*	server= that saw it), and the lock state and window there. It
/*	answers from this server alone, saying so, when Redis does not
/*	answer within redis_timeout. The request waits in a struct
/*	ctl_pending meanwhile; the answer goes out through the request's
/*	ctl_later (ctl 3h).
/*
/*	Each attempt shows the door it came through (proto=): why USER
/*	is one timeline of every door.
/*
/*	When the question names an account, familiar lists the
/*	addresses with a successful login of it among the kept attempts
/*	(here and, with a shared state, those Redis gave), each with its
/*	last success, newest first, WHY_FAMILIAR_MAX at most.
/*
/*	session ADDRESS PORT SINCE: the AUTH attempts of one SMTP
/*	session, for authguard-milter.
/*
/*	Size: CONTROL_SHOW_MAX attempts of names a client chooses
/*	(SASL_FIELD_MAX bytes, 6 a byte in JSON) come to less than
/*	WHY_ATTEMPTS_BUDGET; a name Dovecot or Postfix gives may be
/*	longer. The attempts shown are the newest that fit the budget,
/*	which keeps the answer under CTL_ANSWER_MAX; why then says how
/*	many older ones it left out: "attempts_not_shown" (JSON),
/*	"(N older not shown)" (text). Every attempt shown is whole.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "attempt.h"
#include "authlimits.h"
#include "buf.h"
#include "cause.h"
#include "config.h"
#include "ctl.h"
#include "history.h"
#include "logline.h"
#include "netaddr.h"
#include "proto.h"
#include "ref.h"
#include "session.h"
#include "shared.h"
#include "state.h"
#include "store.h"
#include "util.h"

#define CONTROL_SHOW_MAX	100	/* attempts shown by why */
#define WHY_FAMILIAR_MAX	20	/* familiar addresses shown by why */
#define WHY_ATTEMPTS_BUDGET	(768 * 1024)	/* bytes of attempts shown */
#define WHY_ATTEMPT_FIXED	256	/* an attempt's bytes besides its strings */

/* A familiar address: its last successful login. */
struct why_familiar {
	const char	*ip;
	uint32_t	 last_ok;
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

/* A why waiting for Redis. */
struct ctl_pending {
	struct ctl_later later;		/* how to answer */
	struct ctl_req	 q;		/* the request, answered then */
	char		 account[CONTROL_NAME_MAX + 1];
	char		 addr[64];
	int		 kind;		/* why_kind() */
	char		 ref[REF_LEN + 1];	/* kind 'r' */
	struct shared_op *op;
	struct why_remote rem;
};

static const struct why_remote *why_remote;	/* while answering a fetch */

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
	ctl_kv(b, fmt, &first, "key", key);
	ctl_kv(b, fmt, &first, "locked", locked ? "yes" : "no");
	if (locked) {
		ctl_kv(b, fmt, &first, "locked_until", ctl_iso_time(v->locked_until, when,
		    sizeof(when)));
		snprintf(num, sizeof(num), "%u", v->locked_until - now);
		ctl_kv(b, fmt, &first, "seconds_left", num);
	}
	snprintf(num, sizeof(num), "%u", v->failures);
	ctl_kv(b, fmt, &first, "failures_in_window", num);
	if (is_acct) {
		snprintf(num, sizeof(num), "%u", v->familiar);
		ctl_kv(b, fmt, &first, "familiar_addresses", num);
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* show_tracks - the account's and the address's, shared or local */
static void
show_tracks(struct buf *b, enum log_format fmt, const char *account,
    const char *addr)
{
	const struct why_remote *rem = why_remote;
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
			ctl_kv(b, fmt, &first, cause_id((enum cause)i),
			    cause_info((enum cause)i)->hint);
		else
			buf_printf(b, "what to do about %s: %s\n",
			    cause_id((enum cause)i), cause_info((enum cause)i)->hint);
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "");
}

/* familiar_add - one successful login into v[0..n); the new n */
static int
familiar_add(struct why_familiar *v, int n, int max,
    const struct hist_rec *r)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].ip, r->ip) == 0) {
			if (r->t > v[i].last_ok)
				v[i].last_ok = r->t;
			return n;
		}
	if (n == max)
		return n;
	v[n].ip = r->ip;
	v[n].last_ok = r->t;
	return n + 1;
}

/* familiar_pass - a successful login of the account? */
static int
familiar_pass(const struct hist_rec *r, const char *account)
{
	return r->result == ATTEMPT_PASS && r->user &&
	    strcasecmp(r->user, account) == 0;
}

/* familiar_newest - order of familiar addresses */
static int
familiar_newest(const void *a, const void *b)
{
	const struct why_familiar *x = a, *y = b;

	return x->last_ok < y->last_ok ? 1 : x->last_ok > y->last_ok ? -1 :
	    strcmp(x->ip, y->ip);
}

/*
 * familiar_collect - the account's addresses with a success, newest
 * first: each source's WHY_FAMILIAR_MAX newest, merged
 */
static int
familiar_collect(const char *account, struct why_familiar *v)
{
	const struct why_remote *rem = why_remote;
	const struct hist_rec *r;
	int n = 0, i;
	size_t k;

	for (k = 0; (r = history_nth(&store_history, k)) != NULL &&
	    n < WHY_FAMILIAR_MAX; k++)
		if (familiar_pass(r, account))
			n = familiar_add(v, n, WHY_FAMILIAR_MAX, r);
	for (i = 0; rem && i < rem->n; i++)
		if (familiar_pass(&rem->recs[i], account))
			n = familiar_add(v, n, 2 * WHY_FAMILIAR_MAX,
			    &rem->recs[i]);
	qsort(v, (size_t)n, sizeof(*v), familiar_newest);
	return n < WHY_FAMILIAR_MAX ? n : WHY_FAMILIAR_MAX;
}

/* show_familiar - "familiar":[{"ip":..,"last_ok":..},...], or a text line each */
static void
show_familiar(struct buf *b, enum log_format fmt, const char *account)
{
	struct why_familiar v[2 * WHY_FAMILIAR_MAX];
	char when[32];
	int n, i, first;

	if (*account == 0)
		return;
	n = familiar_collect(account, v);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"familiar\":[" : "");
	for (i = 0; i < n; i++) {
		first = 1;
		if (fmt == LOG_FORMAT_JSON)
			buf_puts(b, i ? ",{" : "{");
		else
			buf_puts(b, "familiar: ");
		ctl_kv(b, fmt, &first, "ip", v[i].ip);
		ctl_kv(b, fmt, &first, "last_ok", ctl_iso_time(v[i].last_ok,
		    when, sizeof(when)));
		buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]" : "");
}

/* why_kind - 'r' ref, 'i' address, 'u' user */
static int
why_kind(const char *arg)
{
	return ref_valid(arg) ? 'r' : ctl_is_address(arg) ? 'i' : 'u';
}

/* why_keys - the account and address key the question is about */
static void
why_keys(const struct config *cfg, int kind, const char *arg,
    const struct hist_rec *first, char *account, size_t alen, char *addr,
    size_t ilen)
{
	*account = *addr = 0;
	if (kind != 'i' && str_copy(account, alen, kind == 'r' ? first->user :
	    arg) < 0)
		*account = 0;		/* longer than any tracked account */
	str_lower(account);
	limits_addr_key(kind == 'r' ? first->ip : kind == 'i' ? arg : "",
	    cfg->ipv4_prefix, cfg->ipv6_prefix, addr, ilen);
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

/* attempt_size - at most the bytes ctl_show_attempt() writes for r */
static size_t
attempt_size(const struct hist_rec *r)
{
	return WHY_ATTEMPT_FIXED + 6 * (strlen(r->user ? r->user : "") +
	    strlen(r->ip) + strlen(r->mech) + strlen(r->server) +
	    strlen(r->ref));
}

/* attempts_fit - how many of the n attempts, newest first, fit the budget */
static int
attempts_fit(const struct hist_rec *const *shown, int n)
{
	size_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		if ((sum += attempt_size(shown[i])) > WHY_ATTEMPTS_BUDGET)
			break;
	return i;
}

/* why_collect - matching attempts here and, if asked, elsewhere */
static int
why_collect(int kind, const char *arg, const struct ctl_opts *o,
    const struct hist_rec **shown)
{
	const struct why_remote *rem = why_remote;
	const struct hist_rec *r;
	int n = 0, i;
	size_t k;

	for (k = 0; (r = history_nth(&store_history, k)) && n < CONTROL_SHOW_MAX;
	    k++)
		if (matches(r, kind, arg) && (kind == 'r' || ctl_recent(r, o)))
			shown[n++] = r;
	for (i = 0; rem && i < rem->n && n < CONTROL_SHOW_MAX; i++) {
		r = &rem->recs[i];
		if (matches(r, kind, arg) && (kind == 'r' || ctl_recent(r, o)) &&
		    !shown_has(shown, n, r->ref))
			shown[n++] = r;
	}
	qsort(shown, (size_t)n, sizeof(*shown), newest_first);
	return n;
}

/* why_answer - what happened to a ref, a user or an address */
static int
why_answer(const struct ctl_req *q, struct buf *b)
{
	const struct hist_rec *shown[CONTROL_SHOW_MAX];
	unsigned char seen[CAUSE_COUNT] = {0};
	char account[CONTROL_NAME_MAX + 1], addr[64];
	const char *arg = q->arg;
	enum log_format fmt = q->fmt;
	int kind = why_kind(arg), n, i, first = 1, all;

	all = why_collect(kind, arg, &q->o, shown);
	n = attempts_fit(shown, all);
	if (kind == 'r' && all == 0) {
		buf_printf(b, "ERR no attempt with ref %s among the last %zu%s\n",
		    arg, store_history.n, why_remote && why_remote->answered ?
		    " here, nor in the shared state" : "");
		return -1;
	}
	why_keys(q->cfg, kind, arg, n ? shown[0] : NULL, account,
	    sizeof(account), addr, sizeof(addr));
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	if (fmt == LOG_FORMAT_JSON) {
		ctl_kv(b, fmt, &first, "query", arg);
		if (why_remote)
			ctl_kv(b, fmt, &first, "shared", why_remote->answered ? "yes" :
			    "unavailable");
		buf_puts(b, ",\"attempts\":[");
	} else {
		if (why_remote && !why_remote->answered)
			buf_puts(b, "shared state unavailable: this server's "
			    "attempts only\n");
		buf_printf(b, "%d recent attempt%s:\n", all, all == 1 ? "" : "s");
		if (n < all)
			buf_printf(b, "  (%d older not shown)\n", all - n);
	}
	for (i = n - 1; i >= 0; i--) {
		if (fmt == LOG_FORMAT_JSON && i != n - 1)
			buf_putc(b, ',');
		ctl_show_attempt(b, fmt, shown[i]);
		if (shown[i]->result == ATTEMPT_FAIL || shown[i]->result == 3)
			seen[shown[i]->cause < CAUSE_COUNT ? shown[i]->cause : 0] = 1;
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]" : "");
	if (fmt == LOG_FORMAT_JSON && n < all)
		buf_printf(b, ",\"attempts_not_shown\":\"%d\"", all - n);
	show_tracks(b, fmt, account, addr);
	show_familiar(b, fmt, account);
	show_hints(b, fmt, seen);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "");
	return 0;
}

/*
 * ctl_session - the attempts of one SMTP session, for the milter:
 * "ADDRESS PORT SINCE" (SINCE: unix seconds the session began). The
 * SMTP attempts from ADDRESS since SINCE (a login of the same address
 * on another door is no part of it); when the policy service saw the
 * session (same address and port), only those of its smtpd, which
 * tells apart two sessions from one address behind NAT.
 */
int
ctl_session(const struct ctl_req *q, struct buf *b)
{
	const char *arg = q->arg;
	enum log_format fmt = q->fmt;
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
		    r->proto == PROTO_SMTP &&
		    (pid == 0 || r->smtpd_pid == (int32_t)pid))
			shown[n++] = r;
	}
	n = attempts_fit(shown, n);		/* the newest that fit */
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n[" : "OK\n");
	while (n-- > 0) {
		ctl_show_attempt(b, fmt, shown[n]);
		if (fmt == LOG_FORMAT_JSON && n > 0)
			buf_putc(b, ',');
	}
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]\n" : "");
	return 0;
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
fetch_free(struct ctl_pending *wf)
{
	int i;

	if (wf->op)
		shared_forget(wf->op);
	for (i = 0; i < wf->rem.n; i++)
		free(wf->rem.lines[i]);
	free(wf->q.copy);
	if (wf->later.slot)
		*wf->later.slot = NULL;
	free(wf);
}

/* ctl_pending_cancel - the connection went before Redis answered */
void
ctl_pending_cancel(struct ctl_pending *wf)
{
	fetch_free(wf);
}

/* fetch_answer - render with what Redis said, reply */
static void
fetch_answer(struct ctl_pending *wf)
{
	struct ctl_later later = wf->later;
	struct buf b;

	buf_init(&b);
	why_remote = &wf->rem;
	why_answer(&wf->q, &b);
	why_remote = NULL;
	wf->op = NULL;
	fetch_free(wf);			/* before the connection may go */
	later.reply(later.ctx, &b);
	buf_free(&b);
}

/* fetch_info - the shared windows answered (or not) */
static void
fetch_info(void *arg, const redisReply *r)
{
	struct ctl_pending *wf = arg;
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
fetch_record(struct ctl_pending *wf, const redisReply *r)
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
	struct ctl_pending *wf = arg;
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
		why_keys(wf->q.cfg, 'r', "", first, wf->account,
		    sizeof(wf->account), wf->addr, sizeof(wf->addr));
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

/* fetch_new - the why fetch of a parsed request, answered through later */
static struct ctl_pending *
fetch_new(const struct ctl_req *q)
{
	struct ctl_pending *wf = xcalloc(1, sizeof(*wf));
	const char *arg = q->arg;

	wf->later = *q->later;
	wf->q.copy = xstrdup(arg);
	wf->q.cmd = "why";
	wf->q.arg = wf->q.copy;
	wf->q.fmt = q->fmt;
	wf->q.o = q->o;
	wf->q.cfg = q->cfg;		/* later stays NULL: answer then */
	wf->kind = why_kind(arg);
	if (wf->kind == 'r')
		str_copy(wf->ref, sizeof(wf->ref), arg);
	else
		why_keys(q->cfg, wf->kind, arg, NULL, wf->account,
		    sizeof(wf->account), wf->addr, sizeof(wf->addr));
	return wf;
}

/* fetch_start - why, with a shared state: ask Redis first */
static void
fetch_start(const struct ctl_req *q)
{
	struct ctl_pending *wf = fetch_new(q);
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
	*wf->later.slot = wf;
	if ((wf->op = shared_send(c, fetch_records, wf, NULL)) == NULL)
		fetch_answer(wf);
}

/* ctl_why - answered now, or once the shared state has answered */
int
ctl_why(const struct ctl_req *q, struct buf *b)
{
	if (q->later && shared_enabled()) {
		fetch_start(q);
		return CTL_LATER;
	}
	return why_answer(q, b);
}
