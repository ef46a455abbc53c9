/*++
/* NAME
/*	web 3
/* SUMMARY
/*	authguard-web's pages: who is asking, what they may do, the answers
/* SYNOPSIS
/*	#include "web.h"
/*
/*	int	web_htpasswd_load(const char *path, char *err, size_t len)
/*
/*	void	web_init(const struct webconf *cfg, int fd)
/*
/*	void	web_shutdown(void)
/* DESCRIPTION
/*	web_init() serves the pages on a listening socket (HTTP through
/*	http_start()); every page is made from one question to
/*	authguard-policyd's control socket (ctlask_start()), asked without
/*	blocking the loop: a slow or dead control socket holds up only
/*	the requests that wait for it.
/*
/*	Routes: GET / (search); GET /why?q=Q (the answer of "why", for
/*	Q without the spaces around it; q empty: the search); POST
/*	/unlock and POST /lock (form fields target and csrf; 303 to
/*	why?q=TARGET&done=unlocked|locked); GET /overview; GET
/*	/style.css; GET or HEAD /healthz ("ok", 503 when the control
/*	socket does not answer "stats"). Every other path is a 404 page.
/*	Every answer carries the security headers (a strict
/*	Content-Security-Policy without script, nosniff, no referrer, no
/*	framing, no-store).
/*
/*	Who is asking: a request from a trusted_proxies address (a peer
/*	of a unix web_listen only when trusted_proxies names "unix"),
/*	with proxy_secret's header and value when it is set, with
/*	user_header set is that user. A trusted peer that sends
/*	user_header, X-Forwarded-Proto or X-Forwarded-Host more than
/*	once gets 400 (logged). Otherwise, with htpasswd set, HTTP
/*	basic authentication: the password is checked with crypt(3)
/*	against the file's hash and wiped; an unknown user is checked
/*	against the file's slowest setting, so the time taken does not
/*	tell whether a user exists (with one scheme in the file); each
/*	failure is logged (the user and the client, never the password).
/*	After WEB_FAIL_FREE failures of one (peer, user), each failure
/*	makes the pair wait (doubling): it gets 429 without a crypt(3),
/*	logged once a minute at most. A right password is then remembered
/*	for 5 minutes as a keyed hash (HMAC-SHA256, its key drawn at
/*	start), so that the pages of a session do not each cost a crypt(3);
/*	another password, right or wrong, goes through crypt(3) again.
/*	With neither, 403. A user header from an address that is not
/*	trusted is ignored, and logged (once a minute at most, with the
/*	count of the others).
/*
/*	Then: a user not in viewers (when set) gets 403; a POST is
/*	refused 403 when Sec-Fetch-Site is present and not same-origin,
/*	when Origin is present, not "null" (what a browser sends for the
/*	page's own form under Referrer-Policy: no-referrer), and its host
/*	differs from the Host the browser sent (X-Forwarded-Host from a
/*	trusted proxy), when the user is not in admins, or when the CSRF
/*	cookie or the form's token is missing or wrong; each refusal is
/*	logged. A lock or unlock names its actor to policyd as web:USER.
/*	done= shows its flash only when the answer's state agrees.
/*
/*	web_htpasswd_load() reads the htpasswd file (at start, before the
/*	privileges are dropped): 0, or -1 with the first error as
/*	"file:line: ...".
/*--*/
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "csrf.h"
#include "ctlcmd.h"
#include "ctlask.h"
#include "event.h"
#include "htab.h"
#include "html.h"
#include "http.h"
#include "keyedhash.h"
#include "logline.h"
#include "msg.h"
#include "netaddr.h"
#include "pages.h"
#include "util.h"
#include "web.h"
#include "webconf.h"
#include "webform.h"

#define WEB_FORM_MAX	4096	/* bytes of a POST body */
#define WEB_Q_MAX	512	/* bytes of a question or a target */
#define WEB_CONN_MAX	64	/* connections at once */
#define WEB_IDLE_MS	30000	/* an idle keep-alive connection */
#define WEB_HUSH_MS	60000	/* untrusted user headers: one line */
#define WEB_HTPASSWD_MAX (1 << 20)	/* bytes of the htpasswd file */
#define CSRF_COOKIE	"authguard_csrf"
#define WEB_PASS_KEEP_MS 300000	/* a right password, remembered */
#define WEB_FAIL_FREE	10	/* failures of a (peer, user) before a wait */
#define WEB_FAIL_MAX	4096	/* (peer, user) pairs followed at most */
#define WEB_FAIL_FORGET_MS 900000	/* a pair quiet so long: forgotten */
#define WEB_WAIT_MS	1000	/* the first wait, doubled each failure */
#define WEB_WAIT_MAX_MS	300000	/* up to this */
#define WEB_FAIL_KEY	(NETADDR_CANON_MAX + WEB_NAME_MAX + 2)
#define WEB_ACTOR_PREFIX "web:"	/* actor= of a lock or unlock: web:USER */
#define WEB_ACTOR_USER_MAX (CTL_ACTOR_MAX - sizeof(WEB_ACTOR_PREFIX) + 1)

/* What a request asks policyd; each its command and page. */
enum web_kind {
	WEB_WHY, WEB_OVERVIEW, WEB_UNLOCK, WEB_LOCK, WEB_HEALTH,
};

/* Who asks, once known. */
struct web_who {
	char		 user[WEB_NAME_MAX + 1];
	int		 admin;
	int		 trusted;	/* the peer is a trusted proxy */
	char		 cookie[CSRF_COOKIE_LEN + 1];
	int		 new_cookie;	/* to set with this answer */
	char		 csrf[CSRF_TOKEN_LEN + 1];
};

/* A request waiting for policyd's answer. */
struct web_req {
	struct http_req	*req;
	struct ctlask	*ask;
	enum web_kind	 kind;
	struct web_who	 who;
	char		 q[WEB_Q_MAX + 1];	/* the question or target */
	char		 flash[WEB_Q_MAX + 16];
	enum web_kind	 done;		/* WEB_UNLOCK or WEB_LOCK: flash */
};

/*
 * One user of the htpasswd file. A right password is remembered for
 * WEB_PASS_KEEP_MS as a keyed hash (HMAC-SHA256 under a key drawn at
 * start), so that a browser, which sends it with every request, costs
 * one crypt(3) now and then rather than one a page.
 */
struct htpasswd_entry {
	char		*name;
	char		*hash;
	unsigned char	 mac[32];	/* of the last right password */
	uint64_t	 mac_until;	/* 0: none */
};

/*
 * Failed basic authentications of one (peer, user): after WEB_FAIL_FREE,
 * each failure makes the pair wait (doubling), and while it waits its
 * requests get 429 without a crypt(3). In a table keyed by the keyed
 * hash, WEB_FAIL_MAX pairs at most (the oldest goes for a new one).
 */
struct web_fail {
	struct htab_link link;
	char		 key[WEB_FAIL_KEY];	/* peer NUL user */
	size_t		 keylen;
	unsigned	 count;
	uint64_t	 last;			/* the last failure */
	uint64_t	 until;			/* waits until */
};

/* A key to look up: peer NUL user. */
struct web_fail_key {
	const char	*data;
	size_t		 len;
};

static int web_crypt_ok(const char *, const char *);

static const struct webconf *cfg;
static struct http_server *web_srv;
static unsigned char csrf_key[CSRF_KEY_LEN];
static unsigned char pass_key[CSRF_KEY_LEN];	/* htpasswd_entry.mac */
static struct htpasswd_entry *htpw;
static size_t nhtpw;
static size_t htpw_dummy;	/* the slowest entry: for unknown users */
static int htpw_mixed;		/* more than one scheme or cost */
static struct ev_timer untrusted_timer;
static struct htab fails;
static struct ev_timer waits_timer;
static unsigned waits_quiet;
static int waits_open;
static unsigned untrusted_quiet;
static int untrusted_open;

static const char *const web_headers[] = {
	"Content-Security-Policy", "default-src 'none'; style-src 'self'; "
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	"base-uri 'none'",
	"X-Content-Type-Options", "nosniff",
	"Referrer-Policy", "no-referrer",
	"X-Frame-Options", "DENY",
	NULL,
};

static const struct {
	const char	*cmd;		/* the control command */
	const char	*action;	/* in log lines, and done= */
} web_kinds[] = {
	[WEB_WHY] = {"why", "why"},
	[WEB_OVERVIEW] = {"overview", "overview"},
	[WEB_UNLOCK] = {"unlock", "unlocked"},
	[WEB_LOCK] = {"lock", "locked"},
	[WEB_HEALTH] = {"stats", "health"},
};

/* web_log - one event=web line: name, value, ..., NULL */
static void
web_log(const char *first, ...)
{
	struct logline l;
	const char *k, *v;
	va_list ap;

	logline_begin(&l, cfg->log_format);
	logline_str(&l, "event", "web");
	va_start(ap, first);
	for (k = first; k; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		if (v)
			logline_str(&l, k, v);
	}
	va_end(ap);
	msg_info("%s", logline_end(&l));
	logline_free(&l);
}

/* web_reply - an answer with the CSRF cookie when it is new */
static void
web_reply(struct http_req *req, const struct web_who *who, unsigned status,
    const char *type, struct buf *body)
{
	char cookie[128];

	if (who && who->new_cookie) {
		snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; "
		    "SameSite=Strict; Path=/%s", CSRF_COOKIE, who->cookie,
		    who->trusted && http_header(req, "X-Forwarded-Proto") &&
		    strcasecmp(http_header(req, "X-Forwarded-Proto"),
		    "https") == 0 ? "; Secure" : "");
		http_add_header(req, "Set-Cookie", cookie);
	}
	http_reply(req, status, type, body->data ? body->data : "", body->len);
}

/* web_ctx - what a page shows of the user */
static void
web_ctx(struct page_ctx *ctx, const struct web_who *who, const char *flash)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->user = who && *who->user ? who->user : NULL;
	ctx->can_admin = who ? who->admin : 0;
	ctx->csrf = who ? who->csrf : "";
	ctx->flash = flash;
}

/* web_error - an error page */
static void
web_error(struct http_req *req, const struct web_who *who, unsigned status,
    const char *text)
{
	struct page_ctx ctx;
	struct buf b;

	web_ctx(&ctx, who, NULL);
	buf_init(&b);
	page_error(&b, &ctx, status, text);
	web_reply(req, who, status, "text/html; charset=utf-8", &b);
	buf_free(&b);
}

/* untrusted_end - the minute ends: how many more were ignored */
static void
untrusted_end(struct ev_timer *t)
{
	untrusted_open = 0;
	if (untrusted_quiet == 0)
		return;
	msg_warn("%u more requests with a user header that was not believed "
	    "in the last %d s", untrusted_quiet, WEB_HUSH_MS / 1000);
	untrusted_quiet = 0;
	untrusted_open = 1;
	ev_timer_start(&untrusted_timer, WEB_HUSH_MS, untrusted_end);
}

/* web_untrusted - a user header not believed: ignored, said */
static void
web_untrusted(struct http_req *req, const char *why)
{
	struct buf b;

	if (untrusted_open) {
		untrusted_quiet++;
		return;
	}
	untrusted_open = 1;
	ev_timer_start(&untrusted_timer, WEB_HUSH_MS, untrusted_end);
	buf_init(&b);
	escaped_value(&b, LOG_FORMAT_LOGFMT, http_peer(req));
	msg_warn("%s from %s%s: ignored", cfg->user_header, buf_str(&b), why);
	buf_free(&b);
}

/* htpasswd_find - an entry by name, or NULL */
static struct htpasswd_entry *
htpasswd_find(const char *name)
{
	size_t i;

	for (i = 0; i < nhtpw; i++)
		if (strcmp(htpw[i].name, name) == 0)
			return &htpw[i];
	return NULL;
}

/* htpasswd_free - forget the entries */
static void
htpasswd_free(void)
{
	size_t i;

	for (i = 0; i < nhtpw; i++) {
		free(htpw[i].name);
		wipe_str(htpw[i].hash);
		wipe(htpw[i].mac, sizeof(htpw[i].mac));
	}
	free(htpw);
	htpw = NULL;
	nhtpw = 0;
}

/*
 * htpasswd_setting - how long a hash's settings are: scheme and cost,
 * without the salt ("$y$j9T$", "$2b$12$", "$6$rounds=N$" or "$6$")
 */
static size_t
htpasswd_setting(const char *hash)
{
	const char *p, *last = NULL;

	for (p = hash; (p = strchr(p, '$')) != NULL; p++) {
		last = p;
	}
	if (strncmp(hash, "$2", 2) == 0)	/* salt and hash in one */
		return last ? (size_t)(last - hash) + 1 : strlen(hash);
	if (strncmp(hash, "$6$rounds=", 10) == 0 || strncmp(hash,
	    "$5$rounds=", 10) == 0 || strncmp(hash, "$y$", 3) == 0) {
		p = strchr(hash + 3, '$');
		return p ? (size_t)(p - hash) + 1 : strlen(hash);
	}
	return hash[0] == '$' && (p = strchr(hash + 1, '$')) != NULL ?
	    (size_t)(p - hash) + 1 : 0;
}

/* htpasswd_time - the time of one crypt(3) with an entry's settings */
static uint64_t
htpasswd_time(const char *hash)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	(void)web_crypt_ok("not the password", hash);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u +
	    (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
}

/*
 * htpasswd_slowest - the entry an unknown user is checked against:
 * one of the slowest settings (each setting timed once)
 */
static void
htpasswd_slowest(void)
{
	size_t i, j, n;
	uint64_t t, best = 0;

	htpw_dummy = 0;
	htpw_mixed = 0;
	for (i = 0; i < nhtpw; i++) {
		n = htpasswd_setting(htpw[i].hash);
		for (j = 0; j < i; j++)
			if (htpasswd_setting(htpw[j].hash) == n &&
			    strncmp(htpw[j].hash, htpw[i].hash, n) == 0)
				break;
		if (j < i)
			continue;		/* a setting timed already */
		if (i > 0)
			htpw_mixed = 1;
		if ((t = htpasswd_time(htpw[i].hash)) > best) {
			best = t;
			htpw_dummy = i;
		}
	}
}

/* web_htpasswd_mixed - does the file mix schemes or costs? */
int
web_htpasswd_mixed(void)
{
	return htpw_mixed;
}

/* web_htpasswd_load - the file's entries; -1 with the first error */
int
web_htpasswd_load(const char *path, char *err, size_t len)
{
	char name[WEB_NAME_MAX + 1], hash[WEB_HASH_MAX];
	const char *why, *p, *end, *nl;
	struct buf text;
	char chunk[4096];
	int lineno = 0, rc;
	size_t n;
	FILE *fp;

	htpasswd_free();
	if ((fp = fopen(path, "r")) == NULL)
		return snprintf(err, len, "htpasswd %s: %s", path,
		    strerror(errno)), -1;
	buf_init(&text);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 &&
	    text.len <= WEB_HTPASSWD_MAX)
		buf_append(&text, chunk, n);
	rc = ferror(fp) ? -1 : 0;
	fclose(fp);
	if (rc < 0 || text.len > WEB_HTPASSWD_MAX) {
		snprintf(err, len, "htpasswd %s: %s", path, rc < 0 ?
		    "read error" : "larger than 1 MiB");
		buf_free(&text);
		return -1;
	}
	p = text.data ? text.data : "";
	for (end = p + text.len; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((rc = htpasswd_line(p, (size_t)(nl - p), name, sizeof(name),
		    hash, sizeof(hash), &why)) < 0) {
			snprintf(err, len, "%s:%d: %s", path, lineno, why);
			break;
		}
		if (rc == 0)
			continue;
		if (htpasswd_find(name)) {
			snprintf(err, len, "%s:%d: %s listed twice", path,
			    lineno, name);
			rc = -1;
			break;
		}
		htpw = xrealloc(htpw, (nhtpw + 1) * sizeof(*htpw));
		memset(&htpw[nhtpw], 0, sizeof(*htpw));
		htpw[nhtpw].name = xstrdup(name);
		htpw[nhtpw++].hash = xstrdup(hash);
		rc = 0;
	}
	wipe(hash, sizeof(hash));
	buf_free(&text);
	if (rc < 0)
		htpasswd_free();
	else
		htpasswd_slowest();
	return rc < 0 ? -1 : 0;
}

/* web_crypt_ok - does the password make the hash? (constant time) */
static int
web_crypt_ok(const char *pass, const char *hash)
{
	static struct crypt_data cd;
	const char *out;
	int ok;

	memset(&cd, 0, sizeof(cd));
	out = crypt_r(pass, hash, &cd);
	ok = out != NULL && *out != '*' && strlen(out) == strlen(hash) &&
	    CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	wipe(&cd, sizeof(cd));
	return ok;
}

/* web_pass_mac - the keyed hash of a user's password */
static void
web_pass_mac(const char *user, const char *pass, unsigned char *mac)
{
	unsigned char msg[WEB_NAME_MAX + 1 + WEB_PASS_MAX + 1];
	size_t ul = strlen(user), pl = strlen(pass);
	unsigned int len = 0;

	if (ul > WEB_NAME_MAX || pl > WEB_PASS_MAX)
		msg_panic("web_pass_mac: a name or password over its cap");
	memcpy(msg, user, ul);
	msg[ul] = 0;
	memcpy(msg + ul + 1, pass, pl);
	if (HMAC(EVP_sha256(), pass_key, (int)sizeof(pass_key), msg,
	    ul + 1 + pl, mac, &len) == NULL || len != 32)
		msg_fatal("HMAC-SHA256 failed");
	wipe(msg, sizeof(msg));
}

/*
 * web_pass_check - a user's password: right when it is the one
 * remembered, else when crypt(3) says so (and then remembered). An
 * unknown user (e NULL) costs a crypt(3) of the file's slowest setting.
 */
static int
web_pass_check(struct htpasswd_entry *e, const char *pass)
{
	unsigned char mac[32];
	int ok;

	if (e == NULL) {
		(void)web_crypt_ok(pass, htpw[htpw_dummy].hash);
		return 0;
	}
	web_pass_mac(e->name, pass, mac);
	if (e->mac_until > ev_now() && CRYPTO_memcmp(mac, e->mac,
	    sizeof(mac)) == 0)
		ok = 1;
	else if ((ok = web_crypt_ok(pass, e->hash)) != 0) {
		memcpy(e->mac, mac, sizeof(mac));
		e->mac_until = ev_now() + WEB_PASS_KEEP_MS;
	}
	wipe(mac, sizeof(mac));
	return ok;
}

/* fail_hash - a (peer, user) key's keyed hash */
static uint32_t
fail_hash(const void *arg)
{
	const struct web_fail_key *k = arg;

	return (uint32_t)keyedhash(k->data, k->len);
}

/* fail_match - does an entry hold the key? */
static int
fail_match(const struct htab_link *l, const void *arg)
{
	const struct web_fail *f = HTAB_ENTRY(l, struct web_fail, link);
	const struct web_fail_key *k = arg;

	return f->keylen == k->len && memcmp(f->key, k->data, k->len) == 0;
}

/* fail_key - peer NUL user, into buf */
static void
fail_key(struct web_fail_key *k, char *buf, const char *peer,
    const char *user)
{
	size_t pl = strlen(peer), ul = strlen(user);

	if (pl >= NETADDR_CANON_MAX || ul > WEB_NAME_MAX)
		msg_panic("fail_key: a peer or user over its cap");
	memcpy(buf, peer, pl + 1);
	memcpy(buf + pl + 1, user, ul);
	k->data = buf;
	k->len = pl + 1 + ul;
}

/* fail_find - the pair's entry, or NULL */
static struct web_fail *
fail_find(const char *peer, const char *user)
{
	char buf[WEB_FAIL_KEY];
	struct web_fail_key k;
	struct htab_link *l;

	fail_key(&k, buf, peer, user);
	l = htab_find(&fails, &k);
	return l ? HTAB_ENTRY(l, struct web_fail, link) : NULL;
}

/* fail_prune - room for one more: the forgotten go, else the oldest */
static void
fail_prune(void)
{
	struct web_fail *f, *oldest = NULL;
	struct htab_iter it;
	struct htab_link *l;

	htab_iter_init(&it, &fails);
	while ((l = htab_iter_next(&it)) != NULL) {
		f = HTAB_ENTRY(l, struct web_fail, link);
		if (f->last + WEB_FAIL_FORGET_MS < ev_now() && f->until <
		    ev_now()) {
			htab_remove(&fails, l);
			free(f);
		} else if (oldest == NULL || f->last < oldest->last)
			oldest = f;
	}
	if (fails.count >= WEB_FAIL_MAX && oldest) {
		htab_remove(&fails, &oldest->link);
		free(oldest);
	}
}

/* fail_note - one more failure of the pair */
static void
fail_note(const char *peer, const char *user)
{
	struct web_fail *f = fail_find(peer, user);
	struct web_fail_key k;
	uint64_t wait;

	if (f == NULL) {
		if (fails.count >= WEB_FAIL_MAX)
			fail_prune();
		f = xcalloc(1, sizeof(*f));
		fail_key(&k, f->key, peer, user);
		f->keylen = k.len;
		k.data = f->key;
		htab_insert(&fails, &f->link, &k);
	}
	f->count++;
	f->last = ev_now();
	if (f->count < WEB_FAIL_FREE)
		return;
	wait = f->count - WEB_FAIL_FREE >= 9 ? WEB_WAIT_MAX_MS :
	    (uint64_t)WEB_WAIT_MS << (f->count - WEB_FAIL_FREE);
	f->until = ev_now() + (wait < WEB_WAIT_MAX_MS ? wait :
	    WEB_WAIT_MAX_MS);
}

/* fail_clear - a right password: the pair starts again */
static void
fail_clear(const char *peer, const char *user)
{
	struct web_fail *f = fail_find(peer, user);

	if (f) {
		htab_remove(&fails, &f->link);
		free(f);
	}
}

/* fail_free - every entry */
static void
fail_free(void)
{
	struct htab_iter it;
	struct htab_link *l;

	if (fails.bucket == NULL)
		return;
	htab_iter_init(&it, &fails);
	while ((l = htab_iter_next(&it)) != NULL) {
		htab_remove(&fails, l);
		free(HTAB_ENTRY(l, struct web_fail, link));
	}
	htab_free(&fails);
}

/* waits_end - the minute ends: how many more waited */
static void
waits_end(struct ev_timer *t)
{
	waits_open = 0;
	if (waits_quiet == 0)
		return;
	msg_warn("%u more sign-ons refused while they waited after failures "
	    "in the last %d s", waits_quiet, WEB_HUSH_MS / 1000);
	waits_quiet = 0;
	waits_open = 1;
	ev_timer_start(&waits_timer, WEB_HUSH_MS, waits_end);
}

/* web_wait - the pair waits: 429, said once a minute at most */
static void
web_wait(struct http_req *req, const char *client, const char *user,
    const struct web_fail *f)
{
	char secs[32];

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)
	    ((f->until - ev_now() + 999) / 1000));
	if (waits_open)
		waits_quiet++;
	else {
		waits_open = 1;
		ev_timer_start(&waits_timer, WEB_HUSH_MS, waits_end);
		web_log("action", "login", "user", user, "peer",
		    client, "result", "refused", "reason",
		    "too-many-failures", "wait", secs, NULL);
	}
	http_add_header(req, "Retry-After", secs);
	web_error(req, NULL, 429, "too many failed sign-ons: wait, then try "
	    "again");
}

/*
 * web_client - the address failed sign-ons are counted for: behind a
 * trusted proxy, the last address of its X-Forwarded-For (the one the
 * proxy added); else the peer. Every client of a proxy comes from the
 * proxy's address: counting by it would let anyone make a user wait.
 */
static const char *
web_client(struct http_req *req, const struct web_who *who, char *buf,
    size_t len)
{
	const char *xff, *last;
	struct ipaddr a;
	size_t n;

	if (!who->trusted ||
	    (xff = http_header(req, "X-Forwarded-For")) == NULL)
		return http_peer(req);
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= len || last[n + strspn(last + n, " \t")] != 0)
		return http_peer(req);
	memcpy(buf, last, n);
	buf[n] = 0;
	return ipaddr_parse(buf, &a) < 0 ? http_peer(req) : buf;
}

/* web_basic - HTTP basic authentication against htpasswd; -1 answered */
static int
web_basic(struct http_req *req, struct web_who *who)
{
	const char *auth = http_header(req, "Authorization"), *reason = NULL;
	struct htpasswd_entry *e;
	struct web_fail *f;
	char pass[WEB_PASS_MAX + 1], addr[64];
	const char *client = web_client(req, who, addr, sizeof(addr));
	int ok;

	if (auth == NULL)
		reason = "";		/* the browser asks the user */
	else if (basic_parse(auth, who->user, sizeof(who->user), pass,
	    sizeof(pass)) < 0)
		reason = "malformed";
	else if ((f = fail_find(client, who->user)) != NULL &&
	    f->until > ev_now()) {
		wipe(pass, sizeof(pass));
		web_wait(req, client, who->user, f);
		*who->user = 0;
		return -1;
	} else {
		/* An unknown user costs a hash of the file all the same. */
		e = htpasswd_find(who->user);
		ok = nhtpw && web_pass_check(e, pass);
		wipe(pass, sizeof(pass));
		if (e && ok) {
			fail_clear(client, who->user);
			return 0;
		}
		fail_note(client, who->user);
		reason = e ? "bad-password" : "unknown-user";
	}
	if (*reason)
		web_log("action", "login", "user", *reason == 'm' ? NULL :
		    who->user, "peer", client, "result", "refused",
		    "reason", reason, NULL);
	http_add_header(req, "WWW-Authenticate",
	    "Basic realm=\"authguard\", charset=\"UTF-8\"");
	*who->user = 0;
	web_error(req, NULL, 401, "authentication required");
	return -1;
}

/*
 * web_trusted - is the peer a trusted proxy? A unix web_listen's peer
 * only with "unix" in trusted_proxies; a family that is neither never.
 */
static int
web_trusted(struct http_req *req)
{
	const char *peer = http_peer(req);

	if (strcmp(peer, "unix") == 0)
		return cfg->trust_unix;
	return netlist_match_str(&cfg->trusted_nets, peer);
}

/* web_secret_ok - proxy_secret unset, or sent once and equal */
static int
web_secret_ok(struct http_req *req)
{
	const char *v;
	size_t n;

	if (*cfg->secret_name == 0)
		return 1;
	v = http_header(req, cfg->secret_name);
	n = strlen(cfg->secret_value);
	return v != NULL && http_header_count(req, cfg->secret_name) == 1 &&
	    strlen(v) == n && CRYPTO_memcmp(v, cfg->secret_value, n) == 0;
}

/* Headers a trusted proxy sets: each at most once. */
static const char *const web_once[] = {
	"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-For",
};

/* web_twice - a header the proxy sets, sent twice: its name, or NULL */
static const char *
web_twice(struct http_req *req)
{
	size_t i;

	if (http_header_count(req, cfg->user_header) > 1)
		return cfg->user_header;
	for (i = 0; i < NELEM(web_once); i++)
		if (http_header_count(req, web_once[i]) > 1)
			return web_once[i];
	return NULL;
}

/* web_proxy - a trusted peer: its headers once each; -1 when answered */
static int
web_proxy(struct http_req *req, struct web_who *who)
{
	const char *twice;
	char text[128];

	if ((twice = web_twice(req)) == NULL)
		return 0;
	web_log("action", "login", "peer", http_peer(req), "result",
	    "refused", "reason", "header-twice", "header", twice, NULL);
	snprintf(text, sizeof(text), "bad request: header %s sent more than "
	    "once", twice);
	web_error(req, NULL, 400, text);
	return -1;
}

/* web_who - who asks, and may they look? -1 when answered */
static int
web_who(struct http_req *req, struct web_who *who)
{
	const char *hv = http_header(req, cfg->user_header), *c;

	memset(who, 0, sizeof(*who));
	who->trusted = web_trusted(req);
	if (who->trusted && web_proxy(req, who) < 0)
		return -1;
	if (hv && !who->trusted)
		web_untrusted(req, ", not in trusted_proxies");
	else if (who->trusted && !web_secret_ok(req)) {
		who->trusted = 0;
		if (hv)
			web_untrusted(req, " without the right proxy_secret");
	}
	if (hv && who->trusted) {
		if (!web_name_ok(hv)) {
			web_log("action", "login", "peer", http_peer(req),
			    "result", "refused", "reason", "bad-user-header",
			    NULL);
			web_error(req, NULL, 403, "not allowed: the user "
			    "header holds no usable name");
			return -1;
		}
		str_copy(who->user, sizeof(who->user), hv);
	} else if (*cfg->htpasswd) {
		if (web_basic(req, who) < 0)
			return -1;
	} else {
		web_error(req, NULL, 403, "not allowed: no user is known "
		    "(no trusted proxy's user header, no htpasswd)");
		return -1;
	}
	if (*cfg->viewers && !webconf_listed(cfg->viewers, who->user)) {
		web_log("action", "view", "actor", who->user, "peer",
		    http_peer(req), "result", "refused", "reason",
		    "not-a-viewer", NULL);
		web_error(req, who, 403, "not allowed: not a viewer");
		return -1;
	}
	who->admin = webconf_listed(cfg->admins, who->user);
	c = http_header(req, "Cookie");
	if (c == NULL || cookie_get(c, CSRF_COOKIE, who->cookie,
	    sizeof(who->cookie)) <= 0 || !csrf_cookie_ok(who->cookie)) {
		csrf_cookie_new(who->cookie);
		who->new_cookie = 1;
	}
	csrf_token(csrf_key, sizeof(csrf_key), who->cookie, who->user,
	    who->csrf);
	return 0;
}

/* web_free - a request's memory */
static void
web_free(struct web_req *w)
{
	wipe(w, sizeof(*w));
	free(w);
}

/* web_abandon - the server stops first: the question goes */
static void
web_abandon(void *arg)
{
	struct web_req *w = arg;

	ctlask_cancel(w->ask);
	web_free(w);
}

/* web_json - the object after "OK\n", or NULL */
static json_t *
web_json(const char *answer, size_t len)
{
	json_error_t jerr;
	json_t *j;

	if (len < 3 || memcmp(answer, "OK\n", 3) != 0)
		return NULL;
	j = json_loadb(answer + 3, len - 3, 0, &jerr);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* web_err_text - an "ERR text" answer's text, or NULL */
static const char *
web_err_text(const char *answer, size_t len, char *out, size_t outlen)
{
	size_t n;

	if (len < 4 || memcmp(answer, "ERR ", 4) != 0)
		return NULL;
	n = strcspn(answer + 4, "\n");
	snprintf(out, outlen, "%.*s", (int)n, answer + 4);
	return out;
}

/*
 * web_key_is - does policyd's key name the page's target? An address is
 * keyed by its network ("192.0.2.7/32"), the forms send the address.
 */
static int
web_key_is(const char *key, const char *target)
{
	size_t n = strlen(target);

	return strcmp(key, target) == 0 ||
	    (strncmp(key, target, n) == 0 && key[n] == '/');
}

/* web_state_locked - the why answer's lock of key: 1, 0, or -1 (none) */
static int
web_state_locked(const json_t *why, const char *key)
{
	static const char *const parts[] = {"account", "address"};
	const json_t *t, *v;
	size_t i;

	for (i = 0; i < NELEM(parts); i++) {
		t = json_object_get(why, parts[i]);
		v = json_object_get(t, "key");
		if (!json_is_string(v) || !web_key_is(json_string_value(v), key))
			continue;
		v = json_object_get(t, "locked");
		return json_is_true(v) || (json_is_string(v) &&
		    strcmp(json_string_value(v), "yes") == 0);
	}
	return -1;
}

/*
 * web_flash - done=unlocked|locked: shown only when the answer's own
 * state agrees (the key named is not locked, or is); else nothing
 */
static const char *
web_flash(const struct web_req *w, const json_t *why)
{
	int locked;

	if (*w->flash == 0 || (locked = web_state_locked(why, w->q)) < 0)
		return NULL;
	if (w->done == WEB_UNLOCK && locked == 0)
		return w->flash;
	if (w->done == WEB_LOCK && locked == 1)
		return w->flash;
	return NULL;
}

/* web_page_done - why or overview: the page of the answer */
static void
web_page_done(struct web_req *w, const char *answer, size_t len)
{
	struct page_ctx ctx;
	char err[256];
	json_t *j = web_json(answer, len);
	unsigned status = 200;
	struct buf b;

	web_ctx(&ctx, &w->who, NULL);
	buf_init(&b);
	if (j && w->kind == WEB_WHY) {
		ctx.flash = web_flash(w, j);
		page_why(&b, &ctx, w->q, j);
	}
	else if (j)
		page_overview(&b, &ctx, j);
	else if (w->kind == WEB_WHY && web_err_text(answer, len, err,
	    sizeof(err))) {
		status = 404;
		page_why_error(&b, &ctx, w->q, err);
	} else if (web_err_text(answer, len, err, sizeof(err))) {
		status = 502;
		msg_warn("control socket %s: %s: ERR %s", cfg->control_socket,
		    web_kinds[w->kind].cmd, err);
		page_error(&b, &ctx, status, err);
	} else {
		status = 502;
		msg_warn("control socket %s: %s: an answer that is not OK and "
		    "JSON", cfg->control_socket, web_kinds[w->kind].cmd);
		page_error(&b, &ctx, status, "authguard-policyd gave an answer "
		    "that cannot be read");
	}
	json_decref(j);
	web_reply(w->req, &w->who, status, "text/html; charset=utf-8", &b);
	buf_free(&b);
}

/* web_admin_done - unlock or lock: back to the answer page */
static void
web_admin_done(struct web_req *w, const char *answer, size_t len)
{
	const char *action = w->kind == WEB_UNLOCK ? "unlock" : "lock";
	char err[256];
	struct buf loc;

	if (len >= 3 && memcmp(answer, "OK\n", 3) == 0) {
		web_log("action", action, "target", w->q, "actor", w->who.user,
		    "peer", http_peer(w->req), "result", "ok", NULL);
		buf_init(&loc);
		buf_puts(&loc, "why?q=");
		html_urlenc(&loc, w->q);
		buf_printf(&loc, "&done=%s", web_kinds[w->kind].action);
		http_add_header(w->req, "Location", buf_str(&loc));
		buf_reset(&loc);
		web_reply(w->req, &w->who, 303, "text/plain", &loc);
		buf_free(&loc);
		return;
	}
	if (web_err_text(answer, len, err, sizeof(err)) == NULL)
		snprintf(err, sizeof(err), "an answer that cannot be read");
	web_log("action", action, "target", w->q, "actor", w->who.user, "peer",
	    http_peer(w->req), "result", "refused", "reason", err, NULL);
	web_error(w->req, &w->who, 409, err);
}

/* web_health_done - "ok", or 503 */
static void
web_health_done(struct web_req *w, int ok, const char *answer, size_t len)
{
	if (ok && len >= 3 && memcmp(answer, "OK\n", 3) == 0)
		http_reply(w->req, 200, "text/plain", "ok\n", 3);
	else
		http_reply(w->req, 503, "text/plain",
		    "control socket does not answer\n", 31);
}

/* web_done - policyd's answer, or none */
static void
web_done(void *arg, int ok, const char *answer, size_t len, const char *err)
{
	struct web_req *w = arg;

	w->ask = NULL;
	http_on_abandon(w->req, NULL, NULL);
	if (w->kind == WEB_HEALTH)
		web_health_done(w, ok, answer, len);
	else if (!ok) {
		msg_warn("control socket %s: %s: %s", cfg->control_socket,
		    web_kinds[w->kind].cmd, err);
		if (w->kind == WEB_UNLOCK || w->kind == WEB_LOCK)
			web_log("action", w->kind == WEB_UNLOCK ? "unlock" :
			    "lock", "target", w->q, "actor", w->who.user,
			    "peer", http_peer(w->req), "result", "refused",
			    "reason", "control-socket", NULL);
		web_error(w->req, &w->who, 502, "authguard-policyd does not "
		    "answer");
	} else if (w->kind == WEB_UNLOCK || w->kind == WEB_LOCK)
		web_admin_done(w, answer, len);
	else
		web_page_done(w, answer, len);
	web_free(w);
}

/* web_ask - one question for policyd; the answer comes to web_done */
static void
web_ask(struct http_req *req, const struct web_who *who, enum web_kind kind,
    const char *q, const char *flash)
{
	struct web_req *w = xcalloc(1, sizeof(*w));
	struct buf line;

	w->req = req;
	w->kind = kind;
	if (who)
		w->who = *who;
	str_copy(w->q, sizeof(w->q), q);
	if (flash) {
		str_copy(w->flash, sizeof(w->flash), flash);
		w->done = strncmp(flash, "unlocked ", 9) == 0 ? WEB_UNLOCK :
		    WEB_LOCK;
	}
	buf_init(&line);
	buf_printf(&line, "%s\tjson\t%s", web_kinds[kind].cmd, q);
	if (kind == WEB_UNLOCK || kind == WEB_LOCK)
		buf_printf(&line, "\tactor=" WEB_ACTOR_PREFIX "%s", who->user);
	if (kind == WEB_LOCK && cfg->lock_time)
		buf_printf(&line, "\tfor=%u", (cfg->lock_time + 999) / 1000);
	http_on_abandon(req, web_abandon, w);
	w->ask = ctlask_start(cfg->control_socket, buf_str(&line),
	    cfg->control_timeout, web_done, w);
	buf_free(&line);
}

/* web_text_ok - a question or a target: no control byte, not too long */
static int
web_text_ok(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return p - (const unsigned char *)s <= WEB_Q_MAX;
}

/* web_bad_request - 400, said in the log */
static void
web_bad_request(struct http_req *req, const struct web_who *who,
    const char *what)
{
	struct buf b;

	buf_init(&b);
	escaped_value(&b, LOG_FORMAT_LOGFMT, who ? who->user : "-");
	msg_warn("%s %s from %s (user %s): %s", http_method(req),
	    http_path(req), http_peer(req), buf_str(&b), what);
	buf_free(&b);
	web_error(req, who, 400, what);
}

/* web_search_page - the search page, for a known user */
static void
web_search_page(struct http_req *req, const struct web_who *who)
{
	struct page_ctx ctx;
	struct buf b;

	web_ctx(&ctx, who, NULL);
	buf_init(&b);
	page_search(&b, &ctx);
	web_reply(req, who, 200, "text/html; charset=utf-8", &b);
	buf_free(&b);
}

/* web_search - GET /: the search page */
static void
web_search(struct http_req *req, void *arg)
{
	struct web_who who;

	if (web_who(req, &who) == 0)
		web_search_page(req, &who);
}

/* web_why - GET /why?q=Q: the answer of "why" */
static void
web_why(struct http_req *req, void *arg)
{
	const char *q = http_query(req, "q"), *done = http_query(req, "done");
	char flash[WEB_Q_MAX + 16], trimmed[WEB_Q_MAX + 1];
	struct web_who who;
	size_t n;

	if (web_who(req, &who) < 0)
		return;
	if (q != NULL) {		/* a ref pasted with spaces around it */
		q += strspn(q, " ");
		for (n = strlen(q); n > 0 && q[n - 1] == ' '; n--)
			 /* void */ ;
		if (n <= WEB_Q_MAX) {
			memcpy(trimmed, q, n);
			trimmed[n] = 0;
			q = trimmed;
		}
	}
	if (q == NULL || *q == 0)
		return web_search_page(req, &who);
	if (!web_text_ok(q))
		return web_bad_request(req, &who, "q: a control byte, or "
		    "longer than 512 bytes");
	*flash = 0;
	if (done && (strcmp(done, "unlocked") == 0 || strcmp(done,
	    "locked") == 0))
		snprintf(flash, sizeof(flash), "%s %s", done, q);
	web_ask(req, &who, WEB_WHY, q, *flash ? flash : NULL);
}

/* web_overview - GET /overview */
static void
web_overview(struct http_req *req, void *arg)
{
	struct web_who who;

	if (web_who(req, &who) < 0)
		return;
	web_ask(req, &who, WEB_OVERVIEW, "-", NULL);
}

/*
 * web_origin_ok - Origin absent, or of the host the browser asked.
 * "null" counts as absent: a browser sends it for the page's own form
 * under Referrer-Policy: no-referrer; a request from another site
 * still lacks the SameSite=Strict cookie and so the token.
 */
static int
web_origin_ok(struct http_req *req, const struct web_who *who)
{
	const char *origin = http_header(req, "Origin"), *host, *p;

	if (origin == NULL || strcmp(origin, "null") == 0)
		return 1;
	host = who->trusted && http_header(req, "X-Forwarded-Host") ?
	    http_header(req, "X-Forwarded-Host") : http_header(req, "Host");
	if (host == NULL || (p = strstr(origin, "://")) == NULL)
		return 0;
	p += 3;
	return strcasecmp(p, host) == 0;
}

/* web_refuse - a POST refused: 403 and its line */
static void
web_refuse(struct http_req *req, const struct web_who *who,
    const char *action, const char *target, const char *reason,
    const char *text)
{
	web_log("action", action, "target", target, "actor", who->user, "peer",
	    http_peer(req), "result", "refused", "reason", reason, NULL);
	web_error(req, who, 403, text);
}

/* web_admin - POST /unlock, /lock: checked, then asked */
static void
web_admin(struct http_req *req, enum web_kind kind)
{
	const char *action = kind == WEB_UNLOCK ? "unlock" : "lock";
	const char *site = http_header(req, "Sec-Fetch-Site"), *c;
	char target[WEB_Q_MAX + 1], token[CSRF_TOKEN_LEN + 2];
	char cookie[CSRF_COOKIE_LEN + 2];
	struct web_who who;
	const char *body;
	size_t len;
	int rt, rc;

	if (web_who(req, &who) < 0)
		return;
	body = http_body(req, &len);
	rt = form_get(body, len, "target", target, sizeof(target));
	rc = rt < 0 ? -1 : form_get(body, len, "csrf", token, sizeof(token));
	if (rt < 0 || rc < 0) {
		web_log("action", action, "actor", who.user, "peer",
		    http_peer(req), "result", "refused", "reason", "malformed",
		    NULL);
		return web_bad_request(req, &who, "a malformed form");
	}
	if (rt == 0)
		*target = 0;
	if (site && strcmp(site, "same-origin") != 0)
		return web_refuse(req, &who, action, target, "cross-site",
		    "refused: a request from another site");
	if (!web_origin_ok(req, &who))
		return web_refuse(req, &who, action, target, "foreign-origin",
		    "refused: a request from another site");
	if (!who.admin)
		return web_refuse(req, &who, action, target, "not-an-admin",
		    "not allowed: only admins may lock and unlock");
	if (strlen(who.user) > WEB_ACTOR_USER_MAX)
		return web_refuse(req, &who, action, target, "user-too-long",
		    "not allowed: a user name longer than 124 bytes cannot be "
		    "named in authguard-policyd's log");
	c = http_header(req, "Cookie");
	if (rc == 0 || c == NULL || cookie_get(c, CSRF_COOKIE, cookie,
	    sizeof(cookie)) <= 0 || !csrf_check(csrf_key, sizeof(csrf_key),
	    cookie, who.user, token))
		return web_refuse(req, &who, action, target, "bad-token",
		    "refused: bad or missing token (reload the page and try "
		    "again)");
	if (*target == 0 || !web_text_ok(target))
		return web_bad_request(req, &who, "target: empty, a control "
		    "byte, or longer than 512 bytes");
	web_ask(req, &who, kind, target, NULL);
}

/* web_unlock - POST /unlock */
static void
web_unlock(struct http_req *req, void *arg)
{
	web_admin(req, WEB_UNLOCK);
}

/* web_lock - POST /lock */
static void
web_lock(struct http_req *req, void *arg)
{
	web_admin(req, WEB_LOCK);
}

/* web_css - GET /style.css: the one stylesheet, for everyone */
static void
web_css(struct http_req *req, void *arg)
{
	http_reply(req, 200, "text/css; charset=utf-8", page_css, page_css_len);
}

/* web_health - GET /healthz: does the control socket answer? */
static void
web_health(struct http_req *req, void *arg)
{
	web_ask(req, NULL, WEB_HEALTH, "-", NULL);
}

/* web_notfound - any other path */
static void
web_notfound(struct http_req *req, void *arg)
{
	web_error(req, NULL, 404, "no such page");
}

static const struct http_route web_routes[] = {
	{"/", "GET", 0, web_search, NULL},
	{"/why", "GET", 0, web_why, NULL},
	{"/unlock", "POST", WEB_FORM_MAX, web_unlock, NULL},
	{"/lock", "POST", WEB_FORM_MAX, web_lock, NULL},
	{"/overview", "GET", 0, web_overview, NULL},
	{"/style.css", "GET", 0, web_css, NULL},
	{"/healthz", "GET HEAD", 0, web_health, NULL},
	{"*", "GET POST", WEB_FORM_MAX, web_notfound, NULL},
};

static const struct http_ops web_ops = {
	.listen_name = "web_listen",
	.routes = web_routes,
	.nroutes = NELEM(web_routes),
	.conn_max = WEB_CONN_MAX,
	.idle_ms = WEB_IDLE_MS,
	.headers = web_headers,
};

/* web_init - serve the pages on a listening socket */
void
web_init(const struct webconf *c, int fd)
{
	char cookie[CSRF_COOKIE_LEN + 1], token[CSRF_TOKEN_LEN + 1];

	cfg = c;
	csrf_key_new(csrf_key, sizeof(csrf_key));
	csrf_key_new(pass_key, sizeof(pass_key));
	csrf_cookie_new(cookie);	/* OpenSSL reads its files now */
	csrf_token(csrf_key, sizeof(csrf_key), cookie, "", token);
	htab_init(&fails, 64, fail_hash, fail_match);
	web_srv = http_start(fd, &web_ops);
}

/* web_shutdown - stop serving; what waits gets 503 */
void
web_shutdown(void)
{
	http_stop(web_srv);
	web_srv = NULL;
	ev_timer_stop(&untrusted_timer);
	ev_timer_stop(&waits_timer);
	fail_free();
	htpasswd_free();
	wipe(csrf_key, sizeof(csrf_key));
	wipe(pass_key, sizeof(pass_key));
}
