/*++
/* NAME
/*	door 3
/* SUMMARY
/*	the auth policy door: Dovecot's logins through IMAP, POP3, ManageSieve
/* SYNOPSIS
/*	#include "door.h"
/*
/*	void authpolicy_init(const struct config *cfg,
/*		struct accounts_map *accounts, int fd)
/*
/*	void authpolicy_shutdown(void)
/* DESCRIPTION
/*	Dovecot's auth process asks an HTTP policy server before each
/*	authentication (POST /?command=allow) and tells it the outcome
/*	after (?command=report), for every service it authenticates:
/*	IMAP, POP3, ManageSieve, and the SMTP AUTH that Postfix passes
/*	on. authpolicy_init() serves that protocol on auth_policy_listen
/*	(the socket fd, bound by main), over HTTP/1.1 with keep-alive
/*	(http 3); the bodies are read by lib/authpolicy. Each login
/*	meets the same limits, lockouts, causes and refs as the SMTP
/*	gate's, and leaves one attempt line that names its door (proto).
/*
/*	When auth_policy_api_header is set, a request without that
/*	header and value gets 401 (logged, at most once per
/*	DOOR_WARN_MS). A body that is not one of Dovecot's gets 400.
/*
/*	allow: the account (login, in lower case) and the address
/*	(remote) go through the failure limits as the gate's attempts
/*	do (enforce 3), with the fingerprint of Dovecot's pwhash. Go:
/*	{"status":0}, and the attempt holds its place until its report.
/*	Locked: {"status":-1,"msg":"<client text> (ref=REF)"}, the text
/*	the gate gives for the cause under client_detail, and the
/*	attempt's line. Wait: it waits with the gate's requests in the
/*	same queues (park 3), at most auth_policy_max_wait (Dovecot
/*	gives its policy server 2 s); a wait that ends so ends as the
/*	gate's does, auth-service-unavailable. An account that
/*	accounts_map marks disabled is refused as account-disabled, a
/*	password mechanism for an oauth-only one as oauth-required; an
/*	accounts_map that cannot be read, as auth-service-unavailable
/*	(fail closed). Only a named mechanism (mech, not among
/*	Dovecot's documented attributes) tells a password from a token:
/*	Dovecot 2.3 hashes an XOAUTH2 or OAUTHBEARER token into pwhash as
/*	it does a password, so without mech the login goes on and the
/*	passdb decides (mech=%m in 2.3's auth_policy_request_attributes,
/*	mech = %{mechanism} in 2.4's, for oauth-only accounts).
/*	An auth_policy_max_wait of DOOR_DOVECOT_WAIT_MS or more is
/*	warned of at start: Dovecot stops waiting by then.
/*
/*	report: answered {"status":0} at once. A success clears the
/*	account's window and makes the address familiar; a failure is
/*	counted with its cause: fail_type (Dovecot 2.4) credentials is
/*	bad-password, account unknown-user, expired password-expired,
/*	disabled account-disabled, internal auth-service-unavailable
/*	(never counted against the user); without fail_type (Dovecot
/*	2.3) the auth-userdb lookup (for the login's service) tells
/*	unknown-user from bad-password
/*	(bad-credentials without userdb_upstream). The limits then make
/*	a repeated password stale-password and many password-guessing.
/*	A report of a login that the door refused at allow (policy
/*	fail_type, or policy_reject) was counted and logged then: nothing
/*	more. A report's attempt line carries the ref and place of the
/*	allow of the same session_id and login (kept DOOR_ENTRY_MS at
/*	most; an allow without a report gives its place back then), or
/*	a ref of its own.
/*
/*	Each allow holds its own place. An allow asked again (Dovecot
/*	asks again after the password) takes its earlier entry anew:
/*	that of its session, or without session_id (Dovecot 2.2's
/*	attributes) the oldest of its remote and login with the same
/*	pwhash. Any other allow (another password, or its session's
/*	entry in use) gets an entry of its own at the end of the line of
/*	its key (session_id or remote, and login), and a report takes
/*	the oldest entry of its key. At most DOOR_ENTRY_MAX entries are
/*	kept: past that the oldest is forgotten, its place given back,
/*	counted (authguard_authpolicy_evicted_total) and warned of at
/*	most once per DOOR_FULL_WARN_MS. Each entry takes some 400
/*	bytes plus its key and account: some 35 MB in all for ordinary
/*	names, about 230 MB at most with AUTHPOLICY_FIELD_MAX names.
/*
/*	The gate forwards each SMTP AUTH to Dovecot with its ref as the
/*	session (forwarded 3): Dovecot's questions about those (protocol
/*	smtp, session_id a ref the gate forwarded, with the login and
/*	remote address the gate saw; a report uses the ref up) are
/*	answered {"status":0} and counted nothing more. Any other smtp
/*	question (a Postfix that asks Dovecot without the gate) is a
/*	door like the others.
/*
/*	Nothing here sees a password: only Dovecot's pwhash, which is
/*	keyed by auth_policy_hash_nonce, and never logged.
/*--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "accounts.h"
#include "attempt.h"
#include "authpolicy.h"
#include "buf.h"
#include "cause.h"
#include "door.h"
#include "enforce.h"
#include "event.h"
#include "forwarded.h"
#include "htab.h"
#include "hush.h"
#include "http.h"
#include "logline.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "park.h"
#include "ref.h"
#include "sasl.h"
#include "store.h"
#include "userdb.h"
#include "util.h"

#define DOOR_ENTRY_MS	30000	/* an allow waits this long for its report */
#define DOOR_USERDB_MS	2000	/* a report's user lookup at most */
#define DOOR_WARN_MS	10000	/* one warning of a kind per this long */
#define DOOR_CONN_MAX	256
#define DOOR_IDLE_MS	60000
#define DOOR_ENTRY_MAX	65536	/* allows awaiting their report */
#define DOOR_FULL_WARN_MS 60000	/* one warning of a full table per this long */
#define DOOR_DOVECOT_WAIT_MS 2000	/* Dovecot's default policy timeout */

/* Where a request is; changed only in door_enter(). */
enum door_state {
	DS_NEW,
	DS_SHARED,			/* the shared state is asked */
	DS_PARKED,			/* waiting at the limits */
	DS_USERDB			/* a report: does the user exist? */
};

/* What was answered, for the metrics. */
enum door_answer {
	DA_ALLOW,			/* allow: status 0 */
	DA_REFUSE,			/* allow: status -1 */
	DA_REPORTED,			/* report: status 0 */
	DA_GATE,			/* the gate's own, status 0 */
	DA_BAD_REQUEST,			/* 400 */
	DA_UNAUTHORIZED,		/* 401 */
	DA_COUNT
};

static const char *const door_answer_names[DA_COUNT] = {
	[DA_ALLOW] = "allow",
	[DA_REFUSE] = "refuse",
	[DA_REPORTED] = "reported",
	[DA_GATE] = "gate",
	[DA_BAD_REQUEST] = "bad_request",
	[DA_UNAUTHORIZED] = "unauthorized",
};

/* Warnings kept to one per door_warn_ms each. */
enum door_warn { DW_KEY, DW_BODY, DW_FULL, DW_COUNT };

static const unsigned door_warn_ms[DW_COUNT] = {
	[DW_KEY] = DOOR_WARN_MS,
	[DW_BODY] = DOOR_WARN_MS,
	[DW_FULL] = DOOR_FULL_WARN_MS,
};

/* The logins of one key (session_id or remote, and login), oldest first. */
struct door_line {
	struct htab_link hl;
	TAILQ_HEAD(, door_entry) entries;
	char		 key[];
};

/*
 * One login as the door knows it: from its allow to its report, in the
 * line of its key; or one request's own (line NULL, not in the table).
 */
struct door_entry {
	TAILQ_ENTRY(door_entry) same;	/* its line's, oldest first */
	TAILQ_ENTRY(door_entry) age;	/* all in the table, oldest first */
	struct door_line *line;		/* NULL: its request's own */
	struct ev_timer	 timer;		/* DOOR_ENTRY_MS */
	char		 ref[REF_LEN + 1];
	struct enforce	 enf;		/* its query and place */
	int		 filled;	/* enf is filled */
	int		 holds;		/* a place is held for it */
	int		 refused;	/* refused at allow: logged */
	struct door_req	*busy;		/* the request using it */
	unsigned	 flags;		/* accounts_map */
	char		 pwhash[AUTHPOLICY_HASH_HEX_MAX + 1];	/* of its allow */
};

/* One request, until it is answered and its attempt is recorded. */
struct door_req {
	LIST_ENTRY(door_req) link;
	struct http_req	*h;		/* NULL once answered */
	enum authpolicy_cmd cmd;
	struct authpolicy_req body;
	enum door_state	 state;
	struct ev_timer	 timer;
	struct park_waiter wait;
	struct door_entry *ent;
	struct attempt	 at;
	unsigned	 udb_id;
	uint64_t	 started;
};

static const struct config *door_cfg;
static struct accounts_map *door_accounts;
static struct http_server *door_server;
static struct htab door_lines;	/* struct door_line by key */
static TAILQ_HEAD(, door_entry) door_age = TAILQ_HEAD_INITIALIZER(door_age);
static size_t door_nentries;		/* on door_age */
static unsigned long door_evicted;
static LIST_HEAD(, door_req) door_reqs = LIST_HEAD_INITIALIZER(door_reqs);
static unsigned long door_count[AP_CMD_REPORT + 1][DA_COUNT];
static unsigned long door_unreported;
static struct hush door_warned[DW_COUNT];

static void door_enter(struct door_req *, enum door_state);
static void door_verdict(struct door_req *, enum limits_verdict);

/*
 * door_warn - "what from PEER: DETAIL" (the detail escaped: it may quote
 * the body), at most one of its kind per DOOR_WARN_MS
 */
static void
door_warn(enum door_warn kind, const char *what, const char *peer,
    const char *detail)
{
	long quiet = hush_pass(&door_warned[kind], ev_now(),
	    door_warn_ms[kind]);
	struct buf b;

	if (quiet < 0)
		return;
	buf_init(&b);
	buf_printf(&b, "auth_policy_listen: %s from ", what);
	escaped_value(&b, LOG_FORMAT_LOGFMT, peer ? peer : "?");
	if (detail) {
		buf_puts(&b, ": ");
		escaped_value(&b, LOG_FORMAT_LOGFMT, detail);
	}
	if (quiet)
		buf_printf(&b, " (and %ld more like it)", quiet);
	msg_warn("%s", buf_str(&b));
	buf_free(&b);
}

/* line_match - is this the line of the key? */
static int
line_match(const struct htab_link *l, const void *key)
{
	return strcmp(HTAB_ENTRY(l, struct door_line, hl)->key, key) == 0;
}

/* line_find - the logins of a key, or NULL */
static struct door_line *
line_find(const char *key)
{
	struct htab_link *l = htab_find(&door_lines, key);

	return l ? HTAB_ENTRY(l, struct door_line, hl) : NULL;
}

/* entry_free - forget a login; a place it still holds is given back */
static void
entry_free(struct door_entry *e)
{
	char *account = NULL, addr[sizeof(e->enf.addr)] = "";

	ev_timer_stop(&e->timer);
	if (e->line) {
		TAILQ_REMOVE(&e->line->entries, e, same);
		TAILQ_REMOVE(&door_age, e, age);
		door_nentries--;
		if (TAILQ_EMPTY(&e->line->entries)) {
			htab_remove(&door_lines, &e->line->hl);
			free(e->line);
		}
	}
	if (e->holds) {
		enforce_release(&e->enf);
		account = e->enf.account ? xstrdup(e->enf.account) : NULL;
		memcpy(addr, e->enf.addr, sizeof(addr));
	}
	enforce_free(&e->enf);
	free(e);
	if (account || *addr)
		park_wake(account, addr);
	free(account);
}

/* entry_expired - an allow that no report followed */
static void
entry_expired(struct ev_timer *t)
{
	struct door_entry *e = (struct door_entry *)((char *)t -
	    offsetof(struct door_entry, timer));

	if (e->busy) {			/* its request ends it */
		ev_timer_start(&e->timer, DOOR_ENTRY_MS, entry_expired);
		return;
	}
	if (e->holds)
		door_unreported++;
	entry_free(e);
}

/* entry_key - session_id (or the address) and login */
static char *
entry_key(const struct authpolicy_req *b)
{
	struct buf k;
	char *s;

	buf_init(&k);
	if (*b->session_id)
		buf_printf(&k, "s\t%s\t%s", b->session_id, b->login);
	else
		buf_printf(&k, "r\t%s\t%s", b->remote, b->login);
	s = xstrdup(buf_str(&k));
	buf_free(&k);
	return s;
}

/* entry_new - a request's own entry (not in the table) */
static struct door_entry *
entry_new(void)
{
	struct door_entry *e = xcalloc(1, sizeof(*e));

	ref_new(e->ref);
	return e;
}

/*
 * entry_evict - the table is full: forget its oldest login not in use
 * (its place given back); 0: every one is in use
 */
static int
entry_evict(void)
{
	struct door_entry *e;

	TAILQ_FOREACH(e, &door_age, age)
		if (e->busy == NULL)
			break;
	if (e == NULL)
		return 0;
	door_evicted++;
	if (hush_pass(&door_warned[DW_FULL], ev_now(),
	    door_warn_ms[DW_FULL]) >= 0)
		msg_warn("auth_policy_listen: %d logins awaiting their report: "
		    "the oldest forgotten, its place given back (%lu so far)",
		    DOOR_ENTRY_MAX, door_evicted);
	entry_free(e);
	return 1;
}

/*
 * entry_add - a new login at the end of its key's line; at DOOR_ENTRY_MAX
 * the oldest is forgotten first (the request's own when all are in use)
 */
static struct door_entry *
entry_add(const char *key)
{
	struct door_entry *e = entry_new();
	struct door_line *line;
	size_t n;

	if (door_nentries >= DOOR_ENTRY_MAX && !entry_evict())
		return e;
	if ((line = line_find(key)) == NULL) {
		n = strlen(key) + 1;
		line = xcalloc(1, sizeof(*line) + n);
		memcpy(line->key, key, n);
		TAILQ_INIT(&line->entries);
		htab_insert(&door_lines, &line->hl, line->key);
	}
	e->line = line;
	TAILQ_INSERT_TAIL(&line->entries, e, same);
	TAILQ_INSERT_TAIL(&door_age, e, age);
	door_nentries++;
	ev_timer_start(&e->timer, DOOR_ENTRY_MS, entry_expired);
	return e;
}

/*
 * entry_oldest - the oldest login of a key not in use (of this pwhash
 * unless NULL), or NULL
 */
static struct door_entry *
entry_oldest(const char *key, const char *pwhash)
{
	struct door_line *line = line_find(key);
	struct door_entry *e;

	if (line == NULL)
		return NULL;
	TAILQ_FOREACH(e, &line->entries, same)
		if (e->busy == NULL && (pwhash == NULL ||
		    (*e->pwhash && strcmp(e->pwhash, pwhash) == 0)))
			return e;
	return NULL;
}

/*
 * entry_get - the entry for this request. An allow asked again (Dovecot
 * asks after the password too) takes its login's entry: its session's,
 * or without session_id the oldest of its address and login with the
 * same pwhash; any other allow a new one at the end of its key's line,
 * so that each holds its own place. A report takes the oldest of its
 * key, or one of its own (a report with no allow before it).
 */
static struct door_entry *
entry_get(struct door_req *r)
{
	const struct authpolicy_req *b = &r->body;
	char *key = entry_key(b);
	struct door_entry *e;

	if (r->cmd == AP_CMD_REPORT || *b->session_id)
		e = entry_oldest(key, NULL);
	else
		e = *b->pwhash ? entry_oldest(key, b->pwhash) : NULL;
	if (e == NULL)
		e = r->cmd == AP_CMD_ALLOW ? entry_add(key) : entry_new();
	if (r->cmd == AP_CMD_ALLOW && strlen(b->pwhash) < sizeof(e->pwhash))
		memcpy(e->pwhash, b->pwhash, strlen(b->pwhash) + 1);
	free(key);
	e->busy = r;
	return e;
}

/* no_password_hash - Dovecot's pwhash when no password was given */
static int
no_password_hash(const struct authpolicy_req *b)
{
	char hex[AUTHPOLICY_HASH_HEX_MAX + 1];

	if (*door_cfg->auth_policy_hash_nonce == 0 || *b->pwhash == 0)
		return *b->pwhash == 0;
	if (authpolicy_pwhash(door_cfg->auth_policy_hash_nonce, b->login,
	    NULL, door_cfg->auth_policy_hash_truncate, hex) < 0)
		return 0;
	return strcmp(hex, b->pwhash) == 0;
}

/*
 * entry_fill - the limits' query of a login: its account's flags, its
 * address, the fingerprint of its pwhash. -1: accounts_map unreadable.
 */
static int
entry_fill(struct door_entry *e, const struct authpolicy_req *b)
{
	char canon[NETADDR_CANON_MAX];
	const char *ip = *b->remote ? netaddr_canon(b->remote, canon,
	    sizeof(canon)) : NULL;
	int err = 0;

	if (*b->login && accounts_lookup(door_accounts, b->login,
	    &e->flags) < 0)
		err = -1;
	enforce_fill_pwhash(&e->enf, *b->login ? b->login : NULL, ip,
	    no_password_hash(b) ? NULL : b->pwhash, e->flags);
	e->filled = 1;
	return err;
}

/* door_count_answer - one request answered */
static void
door_count_answer(const struct door_req *r, enum door_answer a)
{
	door_count[r->cmd][a]++;
}

/* door_send - the HTTP answer (a request is answered once) */
static void
door_send(struct door_req *r, unsigned status, const char *json)
{
	if (r->h == NULL)
		return;
	http_reply(r->h, status, "application/json", json, strlen(json));
	r->h = NULL;
}

/* door_status - {"status":N[,"msg":...]} */
static void
door_status(struct door_req *r, int status, const char *msg)
{
	char *json = authpolicy_answer(status, msg);

	door_send(r, 200, json);
	free(json);
}

/* door_free - the end of a request: it waits for nothing any more */
static void
door_free(struct door_req *r)
{
	if (r->state == DS_PARKED)
		park_leave(&r->wait);
	if (r->state == DS_SHARED)	/* its answer is not wanted */
		enforce_release(&r->ent->enf);
	ev_timer_stop(&r->timer);
	if (r->udb_id)
		userdb_cancel(r->udb_id);
	if (r->ent) {
		r->ent->busy = NULL;
		if (r->ent->line == NULL)
			entry_free(r->ent);
	}
	LIST_REMOVE(r, link);
	authpolicy_free(&r->body);
	if (r->at.ref[0])
		attempt_free(&r->at);
	free(r);
}

/* door_attempt - the request's attempt, with its login's ref */
static void
door_attempt(struct door_req *r)
{
	const struct authpolicy_req *b = &r->body;
	char canon[NETADDR_CANON_MAX];

	attempt_init(&r->at, *b->mech ? b->mech : "-", *b->remote ?
	    netaddr_canon(b->remote, canon, sizeof(canon)) : "", b->tls == 1, 0,
	    r->started);
	memcpy(r->at.ref, r->ent->ref, sizeof(r->at.ref));
	r->at.proto = b->proto;
	attempt_set_user(&r->at, b->login);
}

/* door_record - the attempt's one line, counters, history */
static void
door_record(struct door_req *r, enum attempt_result result, enum cause cause)
{
	if (r->at.ref[0] == 0)
		door_attempt(r);
	r->at.result = result;
	r->at.cause = cause;
	attempt_record(&r->at, door_cfg->log_format, ev_now());
}

/* door_end - recorded and answered: free; a login done forgets its entry */
static void
door_end(struct door_req *r, int login_done)
{
	struct door_entry *e = r->ent;

	if (login_done && e && e->line) {
		e->busy = NULL;
		r->ent = NULL;
		entry_free(e);
	}
	door_free(r);
}

/* door_refused - an allow refused: its text and ref, its line */
static void
door_refused(struct door_req *r, enum cause cause)
{
	struct door_entry *e = r->ent;
	uint32_t now = store_now();
	char locked[128], *msg;
	const char *text;
	struct buf b;

	text = cause_refusal_text(cause, door_cfg->client_detail,
	    e->enf.retry_at > now ? e->enf.retry_at - now : 1, locked,
	    sizeof(locked));
	buf_init(&b);
	buf_printf(&b, "%s%s(ref=%s)", text ? text : "", text ? " " : "",
	    e->ref);
	msg = xstrdup(buf_str(&b));
	buf_free(&b);
	door_status(r, -1, msg);
	free(msg);
	door_count_answer(r, DA_REFUSE);
	door_record(r, ATTEMPT_FAIL, cause);
	e->refused = 1;
	door_end(r, 0);
}

/* door_fail_done - a failure recorded (the shared state may have been asked) */
static void
door_fail_done(void *arg, enum cause cause)
{
	struct door_req *r = arg;

	if (r->state == DS_SHARED) {
		ev_timer_stop(&r->timer);
		r->state = DS_NEW;
	}
	if (r->cmd == AP_CMD_ALLOW) {
		door_refused(r, cause);
		return;
	}
	door_record(r, ATTEMPT_FAIL, cause);
	door_end(r, 1);
}

/* door_fail - count a failure of this login, then answer or record it */
static void
door_fail(struct door_req *r, enum cause cause)
{
	struct door_entry *e = r->ent;
	char *account, addr[sizeof(e->enf.addr)];
	int c;

	if (r->at.ref[0] == 0)
		door_attempt(r);
	e->holds = 0;			/* enforce_fail gives the place back */
	account = xstrdup(e->enf.account ? e->enf.account : "");
	memcpy(addr, e->enf.addr, sizeof(addr));
	c = enforce_fail(&e->enf, cause, e->ref, door_fail_done, r);
	if (c == ENFORCE_ASKED)
		door_enter(r, DS_SHARED);
	else
		door_fail_done(r, (enum cause)c);
	park_wake(account, addr);
	free(account);
}

/* door_timeout - the state's deadline passed */
static void
door_timeout(struct ev_timer *t)
{
	struct door_req *r = (struct door_req *)((char *)t -
	    offsetof(struct door_req, timer));

	if (r->state == DS_SHARED && r->cmd == AP_CMD_REPORT) {
		/* counted here already; its refinement is not wanted */
		enforce_release(&r->ent->enf);
		r->state = DS_NEW;
		door_record(r, ATTEMPT_FAIL, r->ent->enf.cause);
		door_end(r, 1);
		return;
	}
	switch (r->state) {
	case DS_PARKED:
	case DS_SHARED:
		if (r->state == DS_SHARED)	/* its answer is not wanted */
			enforce_release(&r->ent->enf);
		if (r->at.ref[0] == 0)
			door_attempt(r);
		attempt_set_detail(&r->at, r->state == DS_PARKED ?
		    "waited too long for earlier attempts of the same account "
		    "or address" : "no answer from the shared state in time");
		door_enter(r, DS_NEW);
		door_fail(r, CAUSE_AUTH_SERVICE_UNAVAILABLE);
		break;
	case DS_USERDB:
		userdb_cancel(r->udb_id);
		r->udb_id = 0;
		door_enter(r, DS_NEW);
		door_fail(r, cause_after_fail(NULL, r->ent->flags, -1));
		break;
	case DS_NEW:
		break;
	}
}

/*
 * door_enter - one place for state changes, their deadlines and the
 * queues of waiters (a request is on them exactly while DS_PARKED)
 */
static void
door_enter(struct door_req *r, enum door_state s)
{
	uint64_t spent = ev_now() - r->started;
	unsigned ms = 0;

	if (r->state == DS_PARKED && s != DS_PARKED)
		park_leave(&r->wait);
	else if (r->state != DS_PARKED && s == DS_PARKED)
		park_enter(&r->wait, r->ent->enf.account, r->ent->enf.addr);
	r->state = s;
	ev_timer_stop(&r->timer);
	if (s == DS_PARKED || (s == DS_SHARED && r->cmd == AP_CMD_ALLOW))
		ms = spent < door_cfg->auth_policy_max_wait ?
		    (unsigned)(door_cfg->auth_policy_max_wait - spent) : 1;
	else if (s == DS_SHARED)	/* a report's failure: Redis answers */
		ms = door_cfg->redis_timeout + DOOR_USERDB_MS;
	else if (s == DS_USERDB)
		ms = DOOR_USERDB_MS;
	if (ms)
		ev_timer_start(&r->timer, ms, door_timeout);
}

/* door_check_done - the shared state's verdict */
static void
door_check_done(void *arg, enum limits_verdict v)
{
	door_verdict(arg, v);
}

/* door_check - ask the limits; ENFORCE_ASKED: the shared state is asked */
static int
door_check(struct door_req *r)
{
	int v = enforce_check(&r->ent->enf, door_check_done, r);

	if (v == ENFORCE_ASKED)
		door_enter(r, DS_SHARED);
	return v;
}

/* door_verdict - act on what the failure limits said */
static void
door_verdict(struct door_req *r, enum limits_verdict v)
{
	switch (v) {
	case LV_ALLOW:
		door_enter(r, DS_NEW);
		r->ent->holds = 1;
		door_status(r, 0, NULL);
		door_count_answer(r, DA_ALLOW);
		door_end(r, 0);
		break;
	case LV_WAIT:
		door_enter(r, DS_PARKED);
		break;
	case LV_ACCOUNT_LOCKED:
		door_enter(r, DS_NEW);
		door_fail(r, CAUSE_ACCOUNT_LOCKED);
		break;
	case LV_IP_BLOCKED:
		door_enter(r, DS_NEW);
		door_fail(r, CAUSE_IP_BLOCKED);
		break;
	}
}

/* door_wake - the limits changed for a waiting allow: it tries again */
static void
door_wake(struct park_waiter *w)
{
	struct door_req *r = (struct door_req *)((char *)w -
	    offsetof(struct door_req, wait));
	int v;

	if ((v = door_check(r)) != LV_WAIT && v != ENFORCE_ASKED)
		door_verdict(r, (enum limits_verdict)v);
}

/*
 * door_account_check - what the accounts_map flags refuse, as the gate
 * does: a disabled account; a password mechanism for an oauth-only one,
 * when Dovecot names the mechanism (without it a token and a password
 * look the same: the passdb decides)
 */
static enum cause
door_account_check(const struct door_req *r)
{
	const struct authpolicy_req *b = &r->body;

	if (r->ent->flags & ACCT_DISABLED)
		return CAUSE_ACCOUNT_DISABLED;
	if ((r->ent->flags & ACCT_OAUTH_ONLY) == 0)
		return CAUSE_NONE;
	return *b->mech && !sasl_mech_is_oauth(b->mech) ?
	    CAUSE_OAUTH_REQUIRED : CAUSE_NONE;
}

/* door_allow - before Dovecot checks the password */
static void
door_allow(struct door_req *r)
{
	struct door_entry *e;
	enum cause cause;
	int v;

	e = r->ent = entry_get(r);
	if (e->holds) {		/* asked again (after the password): anew */
		enforce_release(&e->enf);
		e->holds = 0;
	}
	e->refused = 0;
	if (entry_fill(e, &r->body) < 0) {
		door_attempt(r);
		attempt_set_detail(&r->at, "accounts_map cannot be read");
		door_fail(r, CAUSE_AUTH_SERVICE_UNAVAILABLE);
		return;
	}
	if ((cause = door_account_check(r)) != CAUSE_NONE) {
		door_fail(r, cause);
		return;
	}
	if ((v = door_check(r)) != ENFORCE_ASKED)
		door_verdict(r, (enum limits_verdict)v);
}

/* fail_cause - what Dovecot 2.4's fail_type says; CAUSE_NONE: ask userdb */
static enum cause
fail_cause(enum authpolicy_fail f, unsigned flags)
{
	static const struct {
		enum authpolicy_fail fail;
		enum cause	 cause;
	} map[] = {
		{AP_FAIL_INTERNAL, CAUSE_AUTH_SERVICE_UNAVAILABLE},
		{AP_FAIL_EXPIRED, CAUSE_PASSWORD_EXPIRED},
		{AP_FAIL_DISABLED, CAUSE_ACCOUNT_DISABLED},
	};
	size_t i;

	if (f == AP_FAIL_CREDENTIALS)
		return cause_after_fail(NULL, flags, 1);
	if (f == AP_FAIL_ACCOUNT)
		return cause_after_fail(NULL, flags, 0);
	for (i = 0; i < NELEM(map); i++)
		if (map[i].fail == f)
			return map[i].cause;
	return CAUSE_NONE;
}

/* door_userdb_done - the report's user lookup answered */
static void
door_userdb_done(void *arg, enum userdb_reply_kind kind)
{
	struct door_req *r = arg;
	int known = kind == USERDB_FOUND ? 1 : kind == USERDB_NOTFOUND ? 0 : -1;

	r->udb_id = 0;
	door_enter(r, DS_NEW);
	door_fail(r, cause_after_fail(NULL, r->ent->flags, known));
}

/* door_report - after Dovecot's answer: count it */
static void
door_report(struct door_req *r)
{
	const struct authpolicy_req *b = &r->body;
	struct door_entry *e;
	enum cause cause;

	door_status(r, 0, NULL);
	door_count_answer(r, DA_REPORTED);
	e = r->ent = entry_get(r);
	if (e->refused || b->policy_reject == 1 ||
	    b->fail_type == AP_FAIL_POLICY) {	/* counted at allow */
		door_end(r, 1);
		return;
	}
	door_attempt(r);
	if (!e->filled && entry_fill(e, b) < 0)
		attempt_set_detail(&r->at, "accounts_map cannot be read");
	if (b->success == 1) {
		e->holds = 0;		/* enforce_pass gives the place back */
		enforce_pass(&e->enf);
		door_record(r, ATTEMPT_PASS, CAUSE_NONE);
		park_wake(e->enf.account, e->enf.addr);
		door_end(r, 1);
		return;
	}
	if ((cause = fail_cause(b->fail_type, e->flags)) != CAUSE_NONE ||
	    !*b->login || (r->udb_id = userdb_lookup_with(door_userdb_done, r,
	    b->login, proto_name(b->proto))) == 0) {
		door_fail(r, cause != CAUSE_NONE ? cause :
		    cause_after_fail(NULL, e->flags, -1));
		return;
	}
	door_enter(r, DS_USERDB);
}

/* door_key_ok - the API header, when one is set */
static int
door_key_ok(struct http_req *h)
{
	const char *set = door_cfg->auth_policy_api_header, *want;
	char name[128];

	if (*set == 0)
		return 1;
	if (authpolicy_header_split(set, name, sizeof(name), &want) < 0)
		return 0;		/* said at start */
	return authpolicy_key_equal(want, http_header(h, name));
}

/* door_bad - 400 with a line in the log */
static void
door_bad(struct door_req *r, const char *peer, const char *why)
{
	door_warn(DW_BODY, "bad request", peer, why);
	door_send(r, 400, "{\"error\":\"bad request\"}");
	door_count_answer(r, DA_BAD_REQUEST);
}

/* door_abandon - the listener stops before the answer: end it */
static void
door_abandon(void *arg)
{
	struct door_req *r = arg;

	r->h = NULL;
	if (r->ent && !r->at.logged)
		door_record(r, ATTEMPT_ABORT, CAUSE_NONE);
	door_end(r, 0);
}

/* door_handle - POST /?command=allow|report */
static void
door_handle(struct http_req *h, void *arg)
{
	struct door_req *r = xcalloc(1, sizeof(*r));
	const char *body, *peer = http_peer(h);
	char err[256];
	size_t len;

	r->h = h;
	r->started = ev_now();
	r->wait.wake = door_wake;
	LIST_INSERT_HEAD(&door_reqs, r, link);
	r->cmd = authpolicy_command(http_query(h, "command"));
	body = http_body(h, &len);
	if (!door_key_ok(h)) {
		door_warn(DW_KEY, "a request without the header of "
		    "auth_policy_api_header", peer, NULL);
		door_send(r, 401, "{\"error\":\"unauthorized\"}");
		door_count_answer(r, DA_UNAUTHORIZED);
	} else if (r->cmd == AP_CMD_NONE)
		door_bad(r, peer, "no command=allow or command=report");
	else if (authpolicy_parse(body ? body : "", body ? len : 0, &r->body,
	    err, sizeof(err)) < 0)
		door_bad(r, peer, err);
	else if (r->cmd == AP_CMD_REPORT && r->body.success < 0)
		door_bad(r, peer, "a report without success");
	else if (r->body.proto == PROTO_SMTP && *r->body.session_id &&
	    (r->cmd == AP_CMD_REPORT ? forwarded_take : forwarded_has)(
	    r->body.session_id, r->body.login, r->body.remote, ev_now())) {
		door_status(r, 0, NULL);	/* the gate counts it */
		door_count_answer(r, DA_GATE);
	} else {
		http_on_abandon(h, door_abandon, r);
		if (r->cmd == AP_CMD_ALLOW)
			door_allow(r);
		else
			door_report(r);
		return;
	}
	door_end(r, 0);
}

/* door_metrics - the door's requests by command and answer */
static void
door_metrics(struct buf *b)
{
	static const enum authpolicy_cmd cmds[] = {AP_CMD_NONE, AP_CMD_ALLOW,
	    AP_CMD_REPORT};
	const struct door_entry *e;
	size_t i, a, holding = 0;

	metrics_family(b, "authguard_authpolicy_requests_total", "counter",
	    "Requests of Dovecot's auth policy, by command and answer "
	    "(gate: an SMTP AUTH the gate counted already).");
	for (i = 0; i < NELEM(cmds); i++)
		for (a = 0; a < DA_COUNT; a++)
			buf_printf(b, "authguard_authpolicy_requests_total{command="
			    "\"%s\",answer=\"%s\"} %lu\n",
			    authpolicy_command_name(cmds[i]),
			    door_answer_names[a], door_count[cmds[i]][a]);
	metrics_family(b, "authguard_authpolicy_unreported_total", "counter",
	    "Allowed logins whose report never came (their place given back).");
	buf_printf(b, "authguard_authpolicy_unreported_total %lu\n",
	    door_unreported);
	metrics_family(b, "authguard_authpolicy_evicted_total", "counter",
	    "Logins forgotten before their report because the door's table "
	    "was full (their place given back).");
	buf_printf(b, "authguard_authpolicy_evicted_total %lu\n", door_evicted);
	metrics_family(b, "authguard_authpolicy_logins", "gauge",
	    "Allowed logins holding a place until their report.");
	TAILQ_FOREACH(e, &door_age, age)
		holding += e->holds != 0;
	buf_printf(b, "authguard_authpolicy_logins %zu\n", holding);
}

static const struct http_route door_routes[] = {
	{"*", "POST", AUTHPOLICY_BODY_MAX, door_handle, NULL},
};

static const struct http_ops door_ops = {
	.listen_name = "auth_policy_listen",
	.routes = door_routes,
	.nroutes = NELEM(door_routes),
	.conn_max = DOOR_CONN_MAX,
	.idle_ms = DOOR_IDLE_MS,
};

/* authpolicy_init - serve Dovecot's auth policy on fd */
void
authpolicy_init(const struct config *cfg, struct accounts_map *accounts,
    int fd)
{
	const char *value;
	char name[128];

	door_cfg = cfg;
	door_accounts = accounts;
	if (door_lines.bucket == NULL)
		htab_init(&door_lines, 256, htab_hash_str, line_match);
	metrics_source(METRICS_AUTHPOLICY, door_metrics);
	if (*cfg->auth_policy_api_header && authpolicy_header_split(
	    cfg->auth_policy_api_header, name, sizeof(name), &value) < 0)
		msg_warn("auth_policy_api_header: no header name before the "
		    "colon: every request is refused");
	if (cfg->auth_policy_max_wait >= DOOR_DOVECOT_WAIT_MS)
		msg_warn("auth_policy_max_wait: %u ms: Dovecot waits for its "
		    "policy server %d ms by default "
		    "(auth_policy_server_timeout_msecs) and then goes on as its "
		    "auth_policy_reject_on_fail says", cfg->auth_policy_max_wait,
		    DOOR_DOVECOT_WAIT_MS);
	if ((door_server = http_start(fd, &door_ops)) == NULL)
		msg_fatal("auth_policy_listen: cannot serve HTTP");
}

/* authpolicy_shutdown - stop serving; every login's place given back */
void
authpolicy_shutdown(void)
{
	struct door_entry *e;
	struct door_req *r;

	if (door_server)
		http_stop(door_server);	/* the waiting ones are abandoned */
	door_server = NULL;
	while ((r = LIST_FIRST(&door_reqs)) != NULL)
		door_abandon(r);
	while ((e = TAILQ_FIRST(&door_age)) != NULL)
		entry_free(e);
	htab_free(&door_lines);
}
