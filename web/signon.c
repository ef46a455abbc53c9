/*++
/* NAME
/*	signon 3
/* SUMMARY
/*	authguard-web's sign-on: who is asking, and may they look
/* SYNOPSIS
/*	#include "signon.h"
/*
/*	void	signon_init(const struct webconf *cfg)
/*
/*	void	signon_shutdown(void)
/*
/*	int	signon_htpasswd_load(const char *path, char *err, size_t len)
/*
/*	int	signon_htpasswd_mixed(void)
/*
/*	int	signon_who(struct http_req *req, struct web_who *who)
/*
/*	int	signon_host_ok(struct http_req *req)
/*
/*	void	web_log(const char *name, const char *value, ..., NULL)
/* DESCRIPTION
/*	signon_who() fills who (user, admin, trusted) for a request, or
/*	answers the request itself (400, 401, 403, 421 or 429, each with
/*	its page) and returns -1.
/*
/*	First, the host: with host_names set, a request whose Host (from
/*	a trusted proxy with the right proxy_secret, X-Forwarded-Host
/*	when it is there), without its :port and in any case, is not one
/*	of them gets 421, before any sign-on work, and is logged (once a
/*	minute at most, with the count of the others): a page of another
/*	site that a DNS name of its own leads to this address does not
/*	get through. signon_host_ok() is that check alone, for the pages
/*	that need no user; 1, or 0 when answered.
/*
/*	Who is asking: a request from a trusted_proxies address (a peer
/*	of a unix web_listen only when trusted_proxies names "unix"),
/*	with proxy_secret's header and value when it is set, with
/*	user_header set is that user (user_header empty: no proxy names
/*	the user; trusted_proxies then only tell the client's address,
/*	host and scheme). A trusted peer that sends user_header,
/*	X-Forwarded-Proto, X-Forwarded-Host or X-Forwarded-For more than
/*	once gets 400 (logged). Otherwise, with htpasswd set, HTTP
/*	basic authentication: the password is checked with crypt(3)
/*	against the file's hash and wiped; an unknown user is checked
/*	against the file's slowest setting, so the time taken does not
/*	tell whether a user exists (with one scheme in the file); each
/*	failure is logged (the user and the client, never the password).
/*	Failures are counted per client (the last address of a trusted
/*	proxy's X-Forwarded-For, else the peer; an IPv6 client by its
/*	/64) and user: after WEB_FAIL_FREE failures of a (client, user),
/*	each failure makes the pair wait
/*	(doubling, up to 5 minutes): it gets 429 without a crypt(3),
/*	logged once a minute at most; 15 quiet minutes forget it. When
/*	the table is full, the entry with the fewest failures goes (one
/*	that waits last), so that a flood of new names does not free an
/*	entry with more. crypt(3) runs on the loop: it may take half the
/*	loop's time at most, after a burst of half a second; past that a
/*	sign-on that needs it gets 503 with Retry-After, uncounted, said
/*	once a minute at most, so that the pages and the users whose
/*	password is remembered are still served while sign-ons pour in.
/*	A right password is then remembered
/*	for 5 minutes as a keyed hash (HMAC-SHA256, its key drawn at
/*	start), so that the pages of a session do not each cost a crypt(3);
/*	another password, right or wrong, goes through crypt(3) again.
/*	With neither, 403. A user header from an address that is not
/*	trusted is ignored, and logged (once a minute at most, with the
/*	count of the others). Then a user not in viewers (when set) gets
/*	403 (logged); admin tells whether the user is in admins.
/*
/*	signon_htpasswd_load() reads the htpasswd file (at start, before
/*	the privileges are dropped): 0, or -1 with the first error as
/*	"file:line: ...". signon_htpasswd_mixed() tells whether the file
/*	mixes schemes or costs.
/*
/*	signon_init() draws the key of the remembered passwords and
/*	starts the table of failures; signon_shutdown() forgets both and
/*	the htpasswd file's entries.
/*
/*	web_log() logs one event=web line of name and value pairs (a
/*	NULL value leaves its name out), escaped; the pages' lines too.
/*--*/
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authlimits.h"
#include "buf.h"
#include "csrf.h"
#include "event.h"
#include "htab.h"
#include "http.h"
#include "hushwin.h"
#include "keyedhash.h"
#include "logline.h"
#include "msg.h"
#include "netaddr.h"
#include "pages.h"
#include "signon.h"
#include "util.h"
#include "webconf.h"
#include "webform.h"

#define WEB_HUSH_MS	60000	/* a hushed warning: one line */
#define WEB_HTPASSWD_MAX (1 << 20)	/* bytes of the htpasswd file */
#define WEB_PASS_KEEP_MS 300000	/* a right password, remembered */
#define WEB_CRYPT_BURST_NS 500000000ull	/* crypt(3) time at once, at most */
#define WEB_FAIL_FREE	10	/* failures of a (client, user) before a wait */
#define WEB_FAIL_MAX	4096	/* entries followed at most */
#define WEB_FAIL_FORGET_MS 900000	/* an entry quiet so long: forgotten */
#define WEB_WAIT_MS	1000	/* the first wait, doubled each failure */
#define WEB_WAIT_MAX_MS	300000	/* up to this */
#define WEB_FAIL_KEY	(NETADDR_CANON_MAX + WEB_NAME_MAX + 2)

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
 * Failed basic authentications of one (client, user): past
 * WEB_FAIL_FREE, each failure makes the pair wait (doubling), and while
 * it waits its requests get 429 without a crypt(3). The client is a
 * network (an IPv4 address, an IPv6 /64). An entry quiet for
 * WEB_FAIL_FORGET_MS starts again. In
 * a table keyed by the keyed hash, WEB_FAIL_MAX entries at most: for a
 * new one the forgotten go, else the one with the fewest failures.
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
static unsigned char pass_key[CSRF_KEY_LEN];	/* htpasswd_entry.mac */
static struct htpasswd_entry *htpw;
static size_t nhtpw;
static size_t htpw_dummy;	/* the slowest entry: for unknown users */
static int htpw_mixed;		/* more than one scheme or cost */
static struct htab fails;
static struct hushwin untrusted_hush;
static struct hushwin waits_hush;
static struct hushwin host_hush;
static struct hushwin busy_hush;
static uint64_t crypt_debt;	/* ns of crypt(3), draining at half the clock */
static uint64_t crypt_debt_at;	/* ev_now() of its last drain */

/* web_log - one event=web line: name, value, ..., NULL */
void
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

/* signon_error - a refusal's page (the user shown, when known) */
static void
signon_error(struct http_req *req, const char *user, unsigned status,
    const char *text)
{
	struct page_ctx ctx;
	struct buf b;

	memset(&ctx, 0, sizeof(ctx));
	ctx.user = user && *user ? user : NULL;
	ctx.csrf = "";
	buf_init(&b);
	page_error(&b, &ctx, status, text);
	http_reply(req, status, "text/html; charset=utf-8", b.data ? b.data :
	    "", b.len);
	buf_free(&b);
}

/* web_untrusted - a user header not believed: ignored, said */
static void
web_untrusted(struct http_req *req, const char *why)
{
	struct buf b;

	if (!hushwin_speak(&untrusted_hush))
		return;
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
	uint64_t t0 = now_ns();

	(void)web_crypt_ok("not the password", hash);
	return now_ns() - t0;
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

/* signon_htpasswd_mixed - does the file mix schemes or costs? */
int
signon_htpasswd_mixed(void)
{
	return htpw_mixed;
}

/* signon_htpasswd_load - the file's entries; -1 with the first error */
int
signon_htpasswd_load(const char *path, char *err, size_t len)
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
 * crypt_busy - has crypt(3) had its share of the loop? Its time is a
 * debt that drains at half the clock: crypt(3) takes at most half of
 * the loop's time, after a burst of WEB_CRYPT_BURST_NS, so that the
 * pages, and the users whose password is remembered, are still served
 * while sign-ons pour in.
 */
static int
crypt_busy(void)
{
	uint64_t ms = ev_now() - crypt_debt_at, drained;

	drained = ms > 60000 ? UINT64_MAX : ms * 1000000u / 2;
	crypt_debt = crypt_debt > drained ? crypt_debt - drained : 0;
	crypt_debt_at = ev_now();
	return crypt_debt > WEB_CRYPT_BURST_NS;
}

/* crypt_timed - web_crypt_ok(), its time added to the debt */
static int
crypt_timed(const char *pass, const char *hash)
{
	uint64_t t0 = now_ns();
	int ok = web_crypt_ok(pass, hash);

	crypt_debt += now_ns() - t0;
	return ok;
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
		if (crypt_busy())
			return -1;
		(void)crypt_timed(pass, htpw[htpw_dummy].hash);
		return 0;
	}
	web_pass_mac(e->name, pass, mac);
	if (e->mac_until > ev_now() && CRYPTO_memcmp(mac, e->mac,
	    sizeof(mac)) == 0)
		ok = 1;
	else if (crypt_busy())
		ok = -1;
	else if ((ok = crypt_timed(pass, e->hash)) != 0) {
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

/* fail_forgotten - quiet so long, and not waiting: as if never seen */
static int
fail_forgotten(const struct web_fail *f)
{
	return f->last + WEB_FAIL_FORGET_MS < ev_now() && f->until <= ev_now();
}

/*
 * fail_before - should a go before b to make room? One that does not
 * wait before one that does, then the fewer failures, then the older.
 */
static int
fail_before(const struct web_fail *a, const struct web_fail *b)
{
	int aw = a->until > ev_now(), bw = b->until > ev_now();

	if (aw != bw)
		return bw;
	if (a->count != b->count)
		return a->count < b->count;
	return a->last < b->last;
}

/*
 * fail_prune - room for one more: the forgotten go, else the one
 * fail_before() puts first, so that a flood of names with a failure
 * each cannot free an entry that has more
 */
static void
fail_prune(void)
{
	struct web_fail *f, *victim = NULL;
	struct htab_iter it;
	struct htab_link *l;

	htab_iter_init(&it, &fails);
	while ((l = htab_iter_next(&it)) != NULL) {
		f = HTAB_ENTRY(l, struct web_fail, link);
		if (fail_forgotten(f)) {
			htab_remove(&fails, l);
			free(f);
		} else if (victim == NULL || fail_before(f, victim))
			victim = f;
	}
	if (fails.count >= WEB_FAIL_MAX && victim) {
		htab_remove(&fails, &victim->link);
		free(victim);
	}
}

/* fail_note - one more failure of the pair; past WEB_FAIL_FREE it waits */
static void
fail_note(const char *peer, const char *user)
{
	struct web_fail *f = fail_find(peer, user);
	struct web_fail_key k;
	uint64_t wait;

	if (f && fail_forgotten(f))
		f->count = 0;
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

/* fail_waiting - the entry of (client, user) that waits now, or NULL */
static struct web_fail *
fail_waiting(const char *client, const char *user)
{
	struct web_fail *f = fail_find(client, user);

	return f && f->until > ev_now() ? f : NULL;
}

/* web_wait - the pair waits: 429, said once a minute at most */
static void
web_wait(struct http_req *req, const char *client, const char *user,
    const struct web_fail *f)
{
	char secs[32];

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)
	    ((f->until - ev_now() + 999) / 1000));
	if (hushwin_speak(&waits_hush))
		web_log("action", "login", "user", user, "peer",
		    client, "result", "refused", "reason",
		    "too-many-failures", "wait", secs, NULL);
	http_add_header(req, "Retry-After", secs);
	signon_error(req, NULL, 429, "too many failed sign-ons: wait, then try "
	    "again");
}

/*
 * web_forwarded - a trusted proxy's client: the last address of its
 * X-Forwarded-For (the one the proxy added), into buf; NULL if none
 */
static const char *
web_forwarded(struct http_req *req, const struct web_who *who, char *buf,
    size_t len)
{
	const char *xff, *last;
	struct ipaddr a;
	size_t n;

	if (!who->trusted ||
	    (xff = http_header(req, "X-Forwarded-For")) == NULL)
		return NULL;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= len || last[n + strspn(last + n, " \t")] != 0)
		return NULL;
	memcpy(buf, last, n);
	buf[n] = 0;
	return ipaddr_parse(buf, &a) < 0 ? NULL : buf;
}

/*
 * web_client - who failed sign-ons are counted for: the client's address
 * (a trusted proxy's client, else the peer) into addr, for the log, and
 * its network (the address itself; an IPv6 /64) into net, for the count.
 * Every client of a proxy comes from the proxy's address: counting by it
 * would let anyone make a user wait.
 */
static void
web_client(struct http_req *req, const struct web_who *who, char *addr,
    char *net)
{
	char buf[NETADDR_CANON_MAX];
	const char *ip = web_forwarded(req, who, buf, sizeof(buf));

	if (ip == NULL)
		ip = http_peer(req);
	if (netaddr_canon(ip, addr, NETADDR_CANON_MAX) != addr)
		str_copy(addr, NETADDR_CANON_MAX, ip);
	if (limits_addr_key(ip, 32, 64, net, NETADDR_CANON_MAX) < 0)
		str_copy(net, NETADDR_CANON_MAX, addr);
	else if (strchr(net, ':') == NULL)
		net[strcspn(net, "/")] = 0;	/* IPv4: the address itself */
}

/*
 * web_busy - crypt(3) had its share: 503, Retry-After the time its debt
 * takes to drain below the burst, said once a minute at most
 */
static int
web_busy(struct http_req *req, struct web_who *who, const char *client)
{
	char secs[32];

	if (hushwin_speak(&busy_hush))
		web_log("action", "login", "user", who->user, "peer", client,
		    "result", "refused", "reason", "busy", NULL);
	/* when the debt over the burst has drained, at half the clock */
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)
	    ((crypt_debt - WEB_CRYPT_BURST_NS) * 2 / 1000000000u + 1));
	*who->user = 0;
	http_add_header(req, "Retry-After", secs);
	signon_error(req, NULL, 503, "busy checking passwords: try again in a "
	    "moment");
	return -1;
}

/* web_basic - HTTP basic authentication against htpasswd; -1 answered */
static int
web_basic(struct http_req *req, struct web_who *who)
{
	const char *auth = http_header(req, "Authorization"), *reason = NULL;
	struct htpasswd_entry *e;
	struct web_fail *f;
	char pass[WEB_PASS_MAX + 1], client[NETADDR_CANON_MAX];
	char net[NETADDR_CANON_MAX];
	int ok;

	web_client(req, who, client, net);

	if (auth == NULL)
		reason = "";		/* the browser asks the user */
	else if (basic_parse(auth, who->user, sizeof(who->user), pass,
	    sizeof(pass)) < 0)
		reason = "malformed";
	else if ((f = fail_waiting(net, who->user)) != NULL) {
		wipe(pass, sizeof(pass));
		web_wait(req, client, who->user, f);
		*who->user = 0;
		return -1;
	} else {
		/* An unknown user costs a hash of the file all the same. */
		e = htpasswd_find(who->user);
		ok = nhtpw ? web_pass_check(e, pass) : 0;
		wipe(pass, sizeof(pass));
		if (ok < 0)
			return web_busy(req, who, client);
		if (e && ok) {
			fail_clear(net, who->user);
			return 0;
		}
		fail_note(net, who->user);
		reason = e ? "bad-password" : "unknown-user";
	}
	if (*reason)
		web_log("action", "login", "user", *reason == 'm' ? NULL :
		    who->user, "peer", client, "result", "refused",
		    "reason", reason, NULL);
	http_add_header(req, "WWW-Authenticate",
	    "Basic realm=\"authguard\", charset=\"UTF-8\"");
	*who->user = 0;
	signon_error(req, NULL, 401, "authentication required");
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

	if (*cfg->user_header && http_header_count(req, cfg->user_header) > 1)
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
	signon_error(req, NULL, 400, text);
	return -1;
}

/*
 * signon_host_ok - host_names unset, or the host the browser asked (a
 * trusted proxy's X-Forwarded-Host, else Host) listed; else 421, said
 * once a minute at most; 0 when answered
 */
int
signon_host_ok(struct http_req *req)
{
	const char *host = NULL;

	if (*cfg->host_names == 0)
		return 1;
	if (web_trusted(req) && web_secret_ok(req))
		host = http_header(req, "X-Forwarded-Host");
	if (host == NULL)
		host = http_header(req, "Host");
	if (host && webconf_host_listed(cfg->host_names, host))
		return 1;
	if (hushwin_speak(&host_hush))
		web_log("action", "request", "host", host, "peer",
		    http_peer(req), "result", "refused", "reason",
		    "host-not-listed", NULL);
	signon_error(req, NULL, 421, "misdirected request: this server does "
	    "not answer for that host name");
	return 0;
}

/* signon_who - who asks, and may they look? -1 when answered */
int
signon_who(struct http_req *req, struct web_who *who)
{
	const char *hv = *cfg->user_header ? http_header(req,
	    cfg->user_header) : NULL;

	memset(who, 0, sizeof(*who));
	if (!signon_host_ok(req))
		return -1;
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
			signon_error(req, NULL, 403, "not allowed: the user "
			    "header holds no usable name");
			return -1;
		}
		str_copy(who->user, sizeof(who->user), hv);
	} else if (*cfg->htpasswd) {
		if (web_basic(req, who) < 0)
			return -1;
	} else {
		signon_error(req, NULL, 403, "not allowed: no user is known "
		    "(no trusted proxy's user header, no htpasswd)");
		return -1;
	}
	if (*cfg->viewers && !webconf_listed(cfg->viewers, who->user)) {
		web_log("action", "view", "actor", who->user, "peer",
		    http_peer(req), "result", "refused", "reason",
		    "not-a-viewer", NULL);
		signon_error(req, who->user, 403, "not allowed: not a viewer");
		return -1;
	}
	who->admin = webconf_listed(cfg->admins, who->user);
	return 0;
}

/* signon_init - the passwords' key, the failures' table, the warnings */
void
signon_init(const struct webconf *c)
{
	cfg = c;
	csrf_key_new(pass_key, sizeof(pass_key));
	htab_init(&fails, 64, fail_hash, fail_match);
	hushwin_init(&untrusted_hush, "", "requests with a user header that was "
	    "not believed", WEB_HUSH_MS);
	hushwin_init(&waits_hush, "", "sign-ons refused while they waited after "
	    "failures", WEB_HUSH_MS);
	hushwin_init(&host_hush, "", "requests for a host not in host_names",
	    WEB_HUSH_MS);
	hushwin_init(&busy_hush, "", "sign-ons refused while crypt(3) had its "
	    "share", WEB_HUSH_MS);
}

/* signon_shutdown - forget the failures, the entries and the key */
void
signon_shutdown(void)
{
	hushwin_stop(&untrusted_hush);
	hushwin_stop(&waits_hush);
	hushwin_stop(&host_hush);
	hushwin_stop(&busy_hush);
	fail_free();
	htpasswd_free();
	wipe(pass_key, sizeof(pass_key));
}
