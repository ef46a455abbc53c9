/*++
/* NAME
/*	web 3
/* SUMMARY
/*	authguard-web's pages: the routes, what a user may do, the answers
/* SYNOPSIS
/*	#include "web.h"
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
/*	With host_names set, every route but /healthz (a monitor may ask
/*	by address) first checks the host (signon_host_ok(): 421).
/*	Every answer carries the security headers (a strict
/*	Content-Security-Policy without script, nosniff, no referrer, no
/*	framing, no-store).
/*
/*	Who is asking, and whether they may look, is signon_who()'s
/*	(signon 3): the search, why, overview, lock and unlock pages ask
/*	it first, and it answers a request it refuses. Each known user
/*	gets a CSRF cookie (HttpOnly, SameSite=Strict, Secure behind a
/*	trusted proxy that says https) and the forms' token from it.
/*
/*	Then: a POST is refused 403 when Sec-Fetch-Site is present and
/*	not same-origin, when Origin is present, not "null" (what a
/*	browser sends for the page's own form under Referrer-Policy:
/*	no-referrer), and its host differs from the Host the browser sent
/*	(X-Forwarded-Host from a trusted proxy), when the user is not in
/*	admins, or when the CSRF cookie or the form's token is missing or
/*	wrong; each refusal is logged. A lock or unlock names its actor
/*	to policyd as web:USER. done= shows its flash only when the
/*	answer's state agrees.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "csrf.h"
#include "ctlcmd.h"
#include "ctlask.h"
#include "html.h"
#include "http.h"
#include "logline.h"
#include "msg.h"
#include "pages.h"
#include "signon.h"
#include "util.h"
#include "web.h"
#include "webconf.h"
#include "webform.h"

#define WEB_FORM_MAX	4096	/* bytes of a POST body */
#define WEB_Q_MAX	512	/* bytes of a question or a target */
#define WEB_CONN_MAX	64	/* connections at once */
#define WEB_IDLE_MS	30000	/* an idle keep-alive connection */
#define CSRF_COOKIE	"authguard_csrf"
#define WEB_ACTOR_PREFIX "web:"	/* actor= of a lock or unlock: web:USER */
#define WEB_ACTOR_USER_MAX (CTL_ACTOR_MAX - sizeof(WEB_ACTOR_PREFIX) + 1)

/* What a request asks policyd; each its command and page. */
enum web_kind {
	WEB_WHY, WEB_OVERVIEW, WEB_UNLOCK, WEB_LOCK, WEB_HEALTH,
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

static const struct webconf *cfg;
static struct http_server *web_srv;
static unsigned char csrf_key[CSRF_KEY_LEN];

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

/* web_who - who asks (signon_who), with the CSRF cookie; -1 answered */
static int
web_who(struct http_req *req, struct web_who *who)
{
	const char *c;

	if (signon_who(req, who) < 0)
		return -1;
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
	if (signon_host_ok(req))
		http_reply(req, 200, "text/css; charset=utf-8", page_css,
		    page_css_len);
}

/* web_health - GET /healthz: does the control socket answer? (any host) */
static void
web_health(struct http_req *req, void *arg)
{
	web_ask(req, NULL, WEB_HEALTH, "-", NULL);
}

/* web_notfound - any other path */
static void
web_notfound(struct http_req *req, void *arg)
{
	if (signon_host_ok(req))
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
	signon_init(c);
	csrf_cookie_new(cookie);	/* OpenSSL reads its files now */
	csrf_token(csrf_key, sizeof(csrf_key), cookie, "", token);
	web_srv = http_start(fd, &web_ops);
}

/* web_shutdown - stop serving; what waits gets 503 */
void
web_shutdown(void)
{
	http_stop(web_srv);
	web_srv = NULL;
	signon_shutdown();
	wipe(csrf_key, sizeof(csrf_key));
}
