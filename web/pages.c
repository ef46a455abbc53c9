/*++
/* NAME
/*	pages 3
/* SUMMARY
/*	the HTML pages of authguard-web
/* SYNOPSIS
/*	#include "pages.h"
/*
/*	void page_search(struct buf *b, const struct page_ctx *ctx)
/*
/*	void page_why(struct buf *b, const struct page_ctx *ctx,
/*		const char *q, const json_t *why)
/*
/*	void page_why_error(struct buf *b, const struct page_ctx *ctx,
/*		const char *q, const char *err)
/*
/*	void page_overview(struct buf *b, const struct page_ctx *ctx,
/*		const json_t *ov)
/*
/*	void page_error(struct buf *b, const struct page_ctx *ctx,
/*		unsigned status, const char *msg)
/*
/*	extern const char page_css[];
/*	extern const size_t page_css_len;
/* DESCRIPTION
/*	Each function appends one whole HTML5 document to b: UTF-8, no
/*	script, no style attribute, no asset but the one stylesheet
/*	(style.css, page_css), relative links only, so that the site
/*	works under any prefix of the reverse proxy. Every value that
/*	comes from the control socket's JSON is escaped (html 3). A key
/*	that is missing or of another type shows as empty; a NULL or
/*	non-object JSON as an empty answer.
/*
/*	page_search() is the search form: a ref, a user or an address.
/*
/*	page_why() shows the why answer for q: first the verdict (the
/*	latest attempt, or the ref's, and each cause seen, most recent
/*	first, with what it means, what to tell the user and what the
/*	admin does: the catalogue, cause 3), then the lock state of the
/*	account and the address (with the lock and unlock forms when
/*	ctx->can_admin), the familiar addresses, and the timeline, newest
/*	first. page_why_error() shows a why that failed (err: the ERR
/*	text) beside the search form.
/*
/*	An address is keyed by its network ("203.0.113.0/24"); its lock
/*	and unlock forms and its why link carry the address itself
/*	("203.0.113.0"), which the control socket takes and counts under
/*	the same network.
/*
/*	page_overview() shows the overview answer: failures per cause per
/*	hour (svgchart 3), the locked accounts and addresses, and the
/*	accounts with a device that keeps an old password.
/*
/*	page_error() shows an error: status and message.
/*
/*	The ids and classes are the ones the browser tests select.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "cause.h"
#include "html.h"
#include "netaddr.h"
#include "pages.h"
#include "svgchart.h"
#include "util.h"

/* A cause seen in the attempts. */
struct seen {
	const char	*id;
	const char	*last;		/* time of its newest attempt */
	unsigned	 count;
};

/* An attempt, for sorting newest first. */
struct att {
	const json_t	*a;
	const char	*time;
	size_t		 index;
};

/* jget - o[key] when o is an object, else NULL */
static const json_t *
jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

/* jstr - o[key] when a string, else "" */
static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* jint - o[key] as a number (a JSON number or a decimal string), else -1 */
static long long
jint(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))		/* in range, or no number */
		return json_real_value(v) >= 0 && json_real_value(v) < 1e18 ?
		    (long long)json_real_value(v) : -1;
	if (!json_is_string(v) || *(s = json_string_value(v)) < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	return *end ? -1 : n;
}

/* put_val - o[key] as escaped text: a string, a number or a boolean */
static void
put_val(struct buf *b, const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	if (json_is_string(v))
		html_escn(b, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		buf_printf(b, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		buf_puts(b, json_is_true(v) ? "yes" : "no");
}

/* put_td - <td class="cls">o[key]</td> */
static void
put_td(struct buf *b, const char *cls, const json_t *o, const char *key)
{
	buf_puts(b, "<td");
	html_attr(b, "class", cls);
	buf_putc(b, '>');
	put_val(b, o, key);
	buf_puts(b, "</td>");
}

/* put_link_q - <a href="PATH?q=VAL">VAL</a> */
static void
put_link_q(struct buf *b, const char *path, const char *val)
{
	if (*val == 0)
		return;
	buf_puts(b, "<a");
	html_href_q(b, path, val);
	buf_putc(b, '>');
	html_esc(b, val);
	buf_puts(b, "</a>");
}

/*
 * addr_target - the address that lock, unlock and why take for an
 * address key: the control socket keys an address by its network
 * ("203.0.113.0/24", "2001:db8::/64", "192.0.2.7/32") but takes the
 * address itself, and counts it under the same network again. A key
 * that is no such network is given back as it is.
 */
static const char *
addr_target(const char *key, char *out, size_t len)
{
	const char *slash = strrchr(key, '/');
	char addr[NETADDR_CANON_MAX];

	if (slash == NULL || (size_t)(slash - key) >= sizeof(addr) ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    slash[1] == 0)
		return key;
	memcpy(addr, key, (size_t)(slash - key));
	addr[slash - key] = 0;
	return netaddr_canon(addr, out, len) == out ? out : key;
}

/* put_duration - seconds in words: "40 s", "14 min", "2 h 5 min", "3 d 4 h" */
static void
put_duration(struct buf *b, long long s)
{
	long long min = s >= 0 && s < 86400 ? (s + 59) / 60 : 0;

	if (s < 0)
		return;
	if (s < 60)
		buf_printf(b, "%lld s", s);
	else if (min < 60)
		buf_printf(b, "%lld min", min);
	else if (s < 86400) {
		buf_printf(b, "%lld h", min / 60);
		if (min % 60)
			buf_printf(b, " %lld min", min % 60);
	} else
		buf_printf(b, "%lld d %lld h", s / 86400, s % 86400 / 3600);
}

/* doc_open - doctype, head, header with the navigation */
static void
doc_open(struct buf *b, const struct page_ctx *ctx, const char *title)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>");
	html_esc(b, title);
	buf_puts(b, " - authguard</title>\n"
	    "<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n"
	    "<header class=\"top\">\n<nav><span class=\"brand\">authguard</span>"
	    "<a href=\"./\">Search</a><a href=\"overview\">Overview</a></nav>\n"
	    "<p class=\"who\">Signed in as <span id=\"whoami\">");
	html_esc(b, ctx && ctx->user ? ctx->user : "");
	buf_puts(b, "</span></p>\n</header>\n<main>\n");
}

/* doc_close - end of the document */
static void
doc_close(struct buf *b)
{
	buf_puts(b, "</main>\n</body>\n</html>\n");
}

/* put_flash - the result of the last lock or unlock */
static void
put_flash(struct buf *b, const struct page_ctx *ctx)
{
	if (ctx == NULL || ctx->flash == NULL)
		return;
	buf_puts(b, "<p id=\"flash\" role=\"status\">");
	html_esc(b, ctx->flash);
	buf_puts(b, "</p>\n");
}

/* put_search_form - the one search form */
static void
put_search_form(struct buf *b, const char *q)
{
	buf_puts(b, "<form id=\"search\" method=\"get\" action=\"why\">\n"
	    "<label for=\"q\">Ref, user name or address</label>\n"
	    "<div class=\"row\"><input id=\"q\" name=\"q\" type=\"search\" "
	    "autocomplete=\"off\" spellcheck=\"false\" maxlength=\"320\" "
	    "placeholder=\"K7Q2M9XA3D or jane@example.com\" required");
	if (q && *q)
		html_attr(b, "value", q);
	buf_puts(b, ">\n<button id=\"go\" type=\"submit\">Look up</button></div>\n"
	    "</form>\n");
}

/* put_admin_form - the lock or unlock button for a key */
static void
put_admin_form(struct buf *b, const struct page_ctx *ctx, const char *action,
    const char *key, const char *label)
{
	if (ctx == NULL || !ctx->can_admin || *key == 0)
		return;
	buf_printf(b, "<form class=\"%s\" method=\"post\" action=\"%s\">", action,
	    action);
	buf_puts(b, "<input type=\"hidden\" name=\"target\"");
	html_attr(b, "value", key);
	buf_puts(b, "><input type=\"hidden\" name=\"csrf\"");
	html_attr(b, "value", ctx->csrf ? ctx->csrf : "");
	buf_printf(b, "><button type=\"submit\" class=\"%s\">", action);
	html_esc(b, label);
	buf_puts(b, "</button></form>");
}

/* page_search - the search page */
void
page_search(struct buf *b, const struct page_ctx *ctx)
{
	doc_open(b, ctx, "Search");
	buf_puts(b, "<h1>Look up a login</h1>\n");
	put_flash(b, ctx);
	put_search_form(b, NULL);
	buf_puts(b, "<p class=\"help\">The <b>ref</b> is the 10-character code "
	    "in the error message the user sees (for example "
	    "<code>K7Q2M9XA3D</code>): it finds that one login. A <b>user "
	    "name</b> shows the account's recent logins from every app and "
	    "device; an <b>address</b> shows the logins from that network "
	    "address.</p>\n");
	doc_close(b);
}

/* att_cmp - newest first; the later in the answer first on a tie */
static int
att_cmp(const void *x, const void *y)
{
	const struct att *a = x, *c = y;
	int d = strcmp(c->time, a->time);

	if (d)
		return d;
	return a->index < c->index ? 1 : a->index > c->index ? -1 : 0;
}

/* sorted_attempts - the answer's attempts, newest first */
static struct att *
sorted_attempts(const json_t *why, size_t *n)
{
	const json_t *arr = jget(why, "attempts"), *a;
	struct att *v;
	size_t i, k = 0;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	v = xcalloc(json_array_size(arr), sizeof(*v));
	json_array_foreach(arr, i, a) {
		if (!json_is_object(a))
			continue;
		v[k].a = a;
		v[k].time = jstr(a, "time");
		v[k].index = i;
		k++;
	}
	qsort(v, k, sizeof(*v), att_cmp);
	*n = k;
	return v;
}

/* collect_causes - the causes of the attempts, most recent first */
static struct seen *
collect_causes(const struct att *v, size_t n, size_t *ns)
{
	struct seen *s = xcalloc(n + 1, sizeof(*s));
	const char *id;
	size_t i, j;

	*ns = 0;
	for (i = 0; i < n; i++) {
		id = jstr(v[i].a, "cause");
		if (*id == 0 || strcmp(id, "none") == 0)
			continue;
		for (j = 0; j < *ns && strcmp(s[j].id, id) != 0; j++)
			;
		if (j == *ns) {
			s[j].id = id;
			s[j].last = v[i].time;
			(*ns)++;
		}
		s[j].count++;
	}
	return s;
}

/* put_cause - one cause seen: what it is, what to say, what to do */
static void
put_cause(struct buf *b, const struct seen *s)
{
	enum cause c = cause_by_id(s->id);
	const struct cause_info *ci = c < CAUSE_COUNT && c != CAUSE_NONE ?
	    cause_info(c) : NULL;

	buf_puts(b, "<article class=\"cause\"");
	html_attr(b, "data-cause", s->id);
	buf_puts(b, ">\n<h3 class=\"title\">");
	html_esc(b, ci ? ci->title : s->id);
	buf_puts(b, "</h3>\n");
	if (ci) {
		buf_puts(b, "<p class=\"label\">Tell the user</p>\n<p class=\"tell\">");
		html_esc(b, ci->tell);
		buf_puts(b, "</p>\n<p class=\"label\">What the mail admin does</p>\n"
		    "<p class=\"todo\">");
		html_esc(b, ci->hint);
		buf_puts(b, "</p>\n");
	}
	buf_puts(b, "<p class=\"meta\"><code>");
	html_esc(b, s->id);
	buf_printf(b, "</code>: %u time%s, last at <time>", s->count,
	    s->count == 1 ? "" : "s");
	html_esc(b, s->last);
	buf_puts(b, "</time></p>\n</article>\n");
}

/* put_more - a link to the other logins of the user or the address */
static void
put_more(struct buf *b, const char *q, const char *val, const char *words)
{
	if (*val == 0 || strcasecmp(val, q) == 0)
		return;
	buf_puts(b, " <a class=\"more\"");
	html_href_q(b, "why", val);
	buf_printf(b, ">%s ", words);
	html_esc(b, val);
	buf_puts(b, "</a>");
}

/* put_verdict - the one attempt that answers the question, in words */
static void
put_verdict(struct buf *b, const char *q, const struct att *v, size_t n)
{
	const json_t *a = NULL;
	const char *result, *id;
	enum cause c;
	size_t i, fails = 0;
	int by_ref;

	for (i = 0; i < n; i++) {
		result = jstr(v[i].a, "result");
		if (strcmp(result, "fail") == 0 || strcmp(result, "refused") == 0)
			fails++;
		if (a == NULL && q && strcmp(jstr(v[i].a, "ref"), q) == 0)
			a = v[i].a;
	}
	buf_puts(b, "<section id=\"verdict\">\n");
	if (n == 0) {
		buf_puts(b, "<p class=\"summary\">No recent login attempts "
		    "match.</p>\n</section>\n");
		return;
	}
	by_ref = a != NULL;
	if (a == NULL)
		a = v[0].a;
	result = jstr(a, "result");
	id = jstr(a, "cause");
	c = cause_by_id(id);
	buf_printf(b, "<p class=\"summary %s\">", strcmp(result, "pass") == 0 ?
	    "ok" : strcmp(result, "abort") == 0 ? "neutral" : "bad");
	buf_puts(b, by_ref ? "This login: " : "Latest login: ");
	buf_puts(b, "<b>");
	html_esc(b, strcmp(result, "pass") == 0 ? "succeeded" :
	    strcmp(result, "abort") == 0 ? "given up by the app" : "failed");
	buf_puts(b, "</b>");
	if (c < CAUSE_COUNT && c != CAUSE_NONE) {
		buf_puts(b, ": ");
		html_esc(b, cause_info(c)->title);
	} else if (*id && strcmp(id, "none") != 0) {
		buf_puts(b, ": <code>");
		html_esc(b, id);
		buf_puts(b, "</code>");
	}
	buf_puts(b, "<br>at <time>");
	put_val(b, a, "time");
	buf_puts(b, "</time> by <span class=\"who\">");
	put_val(b, a, "user");
	buf_puts(b, "</span> from <span class=\"ip\">");
	put_val(b, a, "ip");
	buf_puts(b, "</span> (");
	put_val(b, a, "proto");
	buf_printf(b, ")</p>\n<p class=\"counts\">%zu recent attempt%s, %zu "
	    "failed.", n, n == 1 ? "" : "s", fails);
	put_more(b, q, jstr(a, "user"), "all logins of");
	put_more(b, q, jstr(a, "ip"), "all logins from");
	buf_puts(b, "</p>\n</section>\n");
}

/* put_causes - section#causes */
static void
put_causes(struct buf *b, const struct att *v, size_t n)
{
	struct seen *s;
	size_t ns, i;

	s = collect_causes(v, n, &ns);
	buf_puts(b, "<section id=\"causes\">\n<h2>What went wrong</h2>\n");
	if (ns == 0)
		buf_puts(b, "<p class=\"none\">No failed login among these "
		    "attempts.</p>\n");
	for (i = 0; i < ns; i++)
		put_cause(b, &s[i]);
	buf_puts(b, "</section>\n");
	free(s);
}

/* is_locked - "locked": "yes" (why) or true */
static int
is_locked(const json_t *t)
{
	const json_t *v = jget(t, "locked");

	return json_is_true(v) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "yes") == 0);
}

/* put_track - section#account or section#address */
static void
put_track(struct buf *b, const struct page_ctx *ctx, const json_t *why,
    const char *what, const char *heading)
{
	const json_t *t = jget(why, what);
	const char *key = jstr(t, "key"), *target = key;
	char addr[NETADDR_CANON_MAX];
	int locked = is_locked(t);

	if (!json_is_object(t))
		return;
	buf_printf(b, "<section id=\"%s\" class=\"track %s\"", what, locked ?
	    "is-locked" : "not-locked");
	html_attr(b, "data-key", key);
	buf_printf(b, ">\n<h2>%s <span class=\"key\">", heading);
	html_esc(b, key);
	buf_printf(b, "</span></h2>\n<p>State: <b class=\"state\">%s</b>",
	    locked ? "locked" : "not locked");
	if (locked) {
		buf_puts(b, " until <time class=\"until\">");
		put_val(b, t, "locked_until");
		buf_puts(b, "</time>");
		if (jint(t, "seconds_left") >= 0) {
			buf_puts(b, " <span class=\"left\">(");
			put_duration(b, jint(t, "seconds_left"));
			buf_puts(b, " left)</span>");
		}
	}
	buf_puts(b, locked ? "</p>\n<p>Failed logins in the counting window, "
	    "which started over at the lock: <span class=\"failures\">" :
	    "</p>\n<p>Failed logins in the counting window: "
	    "<span class=\"failures\">");
	put_val(b, t, "failures_in_window");
	buf_puts(b, "</span></p>\n");
	if (jget(t, "familiar_addresses")) {
		buf_puts(b, "<p>Addresses with a good login: <span "
		    "class=\"familiar-count\">");
		put_val(b, t, "familiar_addresses");
		buf_puts(b, "</span></p>\n");
	}
	if (strcmp(what, "address") == 0)
		target = addr_target(key, addr, sizeof(addr));
	if (locked)
		put_admin_form(b, ctx, "unlock", target, "Unlock now");
	else
		put_admin_form(b, ctx, "lock", target, "Lock");
	buf_puts(b, "</section>\n");
}

/* put_familiar - ul#familiar: where the account logged in fine */
static void
put_familiar(struct buf *b, const json_t *why)
{
	const json_t *arr = jget(why, "familiar"), *f;
	size_t i;

	if (!json_is_array(arr))
		return;
	buf_puts(b, "<section id=\"familiar-addresses\">\n<h2>Familiar "
	    "addresses</h2>\n<p class=\"help\">Where this account logged in "
	    "successfully, the latest first. A failure from one of these is "
	    "likely the user's own device.</p>\n<ul id=\"familiar\">\n");
	json_array_foreach(arr, i, f) {
		buf_puts(b, "<li><span class=\"ip\">");
		put_link_q(b, "why", jstr(f, "ip"));
		buf_puts(b, "</span> <span class=\"last\">last good login <time>");
		put_val(b, f, "last_ok");
		buf_puts(b, "</time></span></li>\n");
	}
	buf_puts(b, "</ul>\n");
	if (json_array_size(arr) == 0)
		buf_puts(b, "<p class=\"none\">No successful login among the kept "
		    "attempts.</p>\n");
	buf_puts(b, "</section>\n");
}

/* is_familiar - an address among the account's good logins? */
static int
is_familiar(const json_t *familiar, const char *ip)
{
	const json_t *f;
	size_t i;

	if (*ip == 0)
		return 0;
	json_array_foreach(familiar, i, f)
		if (strcmp(jstr(f, "ip"), ip) == 0)
			return 1;
	return 0;
}

/* put_attempt - one row of the timeline */
static void
put_attempt(struct buf *b, const json_t *a, const char *q,
    const json_t *familiar)
{
	const char *ref = jstr(a, "ref"), *result = jstr(a, "result");
	const char *id = jstr(a, "cause");
	enum cause c = cause_by_id(id);

	buf_puts(b, "<tr");
	html_attr(b, "data-ref", ref);
	buf_printf(b, " class=\"%s%s\">", strcmp(result, "pass") == 0 ? "pass" :
	    "fail", q && *ref && strcmp(ref, q) == 0 ? " hit" : "");
	put_td(b, "time", a, "time");
	buf_puts(b, "<td class=\"user\">");
	put_link_q(b, "why", jstr(a, "user"));
	buf_puts(b, "</td>");
	buf_puts(b, is_familiar(familiar, jstr(a, "ip")) ?
	    "<td class=\"ip familiar\" title=\"a good login came from here\">" :
	    "<td class=\"ip\">");
	put_link_q(b, "why", jstr(a, "ip"));
	buf_puts(b, "</td>");
	put_td(b, "door", a, "proto");
	put_td(b, "mech", a, "mech");
	put_td(b, "tls", a, "tls");
	put_td(b, "result", a, "result");
	buf_puts(b, "<td class=\"cause\">");
	if (c < CAUSE_COUNT && c != CAUSE_NONE) {
		buf_puts(b, "<abbr");
		html_attr(b, "title", cause_info(c)->title);
		buf_putc(b, '>');
		html_esc(b, id);
		buf_puts(b, "</abbr>");
	} else
		html_esc(b, id);
	buf_puts(b, "</td><td class=\"ref\">");
	put_link_q(b, "why", ref);
	buf_puts(b, "</td></tr>\n");
}

/* put_timeline - table#timeline, newest first */
static void
put_timeline(struct buf *b, const char *q, const struct att *v, size_t n,
    const json_t *familiar)
{
	size_t i;

	buf_puts(b, "<section id=\"attempts\">\n<h2>Timeline</h2>\n"
	    "<div class=\"scroll\"><table id=\"timeline\">\n<thead><tr>"
	    "<th>Time (UTC)</th><th>User</th><th>Address</th><th>Door</th>"
	    "<th>Method</th><th>TLS</th><th>Result</th><th>Cause</th>"
	    "<th>Ref</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < n; i++)
		put_attempt(b, v[i].a, q, familiar);
	buf_puts(b, "</tbody>\n</table></div>\n");
	if (n == 0)
		buf_puts(b, "<p class=\"none\">No attempts.</p>\n");
	buf_puts(b, "</section>\n");
}

/* page_why - the answer for a ref, a user or an address */
void
page_why(struct buf *b, const struct page_ctx *ctx, const char *q,
    const json_t *why)
{
	struct att *v;
	size_t n;

	q = q ? q : "";
	v = sorted_attempts(why, &n);
	doc_open(b, ctx, q);
	buf_puts(b, "<p class=\"kicker\">Logins for</p>\n<h1 id=\"query\">");
	html_esc(b, q);
	buf_puts(b, "</h1>\n");
	put_flash(b, ctx);
	if (strcmp(jstr(why, "shared"), "unavailable") == 0)
		buf_puts(b, "<p class=\"warn\">The shared state did not answer: "
		    "these are this server's attempts only.</p>\n");
	put_verdict(b, q, v, n);
	put_causes(b, v, n);
	buf_puts(b, "<div class=\"tracks\">\n");
	put_track(b, ctx, why, "account", "Account");
	put_track(b, ctx, why, "address", "Address");
	buf_puts(b, "</div>\n");
	put_familiar(b, why);
	put_timeline(b, q, v, n, jget(why, "familiar"));
	doc_close(b);
	free(v);
}

/* page_why_error - a why that got ERR */
void
page_why_error(struct buf *b, const struct page_ctx *ctx, const char *q,
    const char *err)
{
	q = q ? q : "";
	err = err ? err : "";
	if (strncmp(err, "ERR ", 4) == 0)
		err += 4;
	doc_open(b, ctx, q);
	buf_puts(b, "<p class=\"kicker\">Logins for</p>\n<h1 id=\"query\">");
	html_esc(b, q);
	buf_puts(b, "</h1>\n");
	put_flash(b, ctx);
	buf_puts(b, "<p id=\"notfound\">");
	html_esc(b, err);
	buf_puts(b, "</p>\n<p class=\"help\">A ref is kept only while the "
	    "attempt is among the recent ones; a user name or an address "
	    "always answers.</p>\n");
	put_search_form(b, q);
	doc_close(b);
}

/* put_locked_table - table#locked-accounts or table#locked-addresses */
static void
put_locked_table(struct buf *b, const struct page_ctx *ctx, const json_t *ov,
    const char *what, const char *id, const char *heading)
{
	const json_t *arr = jget(ov, what), *t;
	int is_addr = strcmp(what, "locked_addresses") == 0;
	char total[64], addr[NETADDR_CANON_MAX];
	const char *key, *target;
	long long all;
	size_t i;

	snprintf(total, sizeof(total), "%s_total", what);
	all = jint(ov, total);
	buf_printf(b, "<section class=\"locked\">\n<h2>%s</h2>\n<p class=\"total\">",
	    heading);
	if (json_array_size(arr) == 0 && all <= 0)
		buf_puts(b, "None locked now.");
	else
		buf_printf(b, "%zu locked", json_array_size(arr));
	if (all >= 0 && (size_t)all > json_array_size(arr))
		buf_printf(b, " shown, of %lld", all);
	buf_puts(b, json_array_size(arr) || all > 0 ? ".</p>\n" : "</p>\n");
	buf_printf(b, "<div class=\"scroll\"><table id=\"%s\">\n<thead><tr>"
	    "<th>%s</th><th>Locked until (UTC)</th><th>Time left</th>"
	    "<th>Failures</th>%s</tr></thead>\n<tbody>\n", id,
	    is_addr ? "Address" : "Account",
	    ctx && ctx->can_admin ? "<th></th>" : "");
	json_array_foreach(arr, i, t) {
		if (!json_is_object(t))
			continue;
		key = jstr(t, "key");
		target = is_addr ? addr_target(key, addr, sizeof(addr)) : key;
		buf_puts(b, "<tr");
		html_attr(b, "data-key", key);
		buf_puts(b, "><td class=\"key\"><a");
		html_href_q(b, "why", target);
		buf_putc(b, '>');
		html_esc(b, key);
		buf_puts(b, "</a></td>");
		put_td(b, "until", t, "locked_until");
		buf_puts(b, "<td class=\"left\">");
		put_duration(b, jint(t, "seconds_left"));
		buf_puts(b, "</td>");
		put_td(b, "failures", t, "failures_in_window");
		if (ctx && ctx->can_admin) {
			buf_puts(b, "<td>");
			put_admin_form(b, ctx, "unlock", target, "Unlock");
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody>\n</table></div>\n</section>\n");
}

/* put_stale - table#stale: the devices with an old password */
static void
put_stale(struct buf *b, const json_t *ov)
{
	const json_t *arr = jget(ov, "stale"), *s;
	long long all;
	size_t i;

	buf_puts(b, "<section class=\"stale\">\n<h2>Devices with an old "
	    "password</h2>\n<p class=\"help\">These accounts have a device or "
	    "app that keeps trying a password that is no longer valid (in the "
	    "last 24 hours): worth a call to the user.</p>\n"
	    "<div class=\"scroll\"><table id=\"stale\">\n<thead><tr><th>User</th>"
	    "<th>Address</th><th>Door</th><th>Failures</th><th>First (UTC)</th>"
	    "<th>Last (UTC)</th><th>Ref</th></tr></thead>\n<tbody>\n");
	json_array_foreach(arr, i, s) {
		if (!json_is_object(s))
			continue;
		buf_puts(b, "<tr");
		html_attr(b, "data-user", jstr(s, "user"));
		buf_puts(b, "><td class=\"user\">");
		put_link_q(b, "why", jstr(s, "user"));
		buf_puts(b, "</td>");
		put_td(b, "ip", s, "ip");
		put_td(b, "door", s, "proto");
		put_td(b, "count", s, "count");
		put_td(b, "first", s, "first");
		put_td(b, "last", s, "last");
		buf_puts(b, "<td class=\"ref\">");
		put_link_q(b, "why", jstr(s, "ref"));
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody>\n</table></div>\n");
	if (json_array_size(arr) == 0)
		buf_puts(b, "<p class=\"none\">None.</p>\n");
	else if ((all = jint(ov, "stale_total")) > 0 &&
	    (size_t)all > json_array_size(arr))
		buf_printf(b, "<p class=\"total\">%zu shown, of %lld.</p>\n",
		    json_array_size(arr), all);
	buf_puts(b, "</section>\n");
}

/* add_cells - an hour's counts per cause, as chart cells */
static void
add_cells(const json_t *causes, size_t hour, struct svgchart_cell **cells,
    size_t *nc, size_t *cap)
{
	const char *key;
	json_t *cnt;

	if (!json_is_object(causes))
		return;
	json_object_foreach((json_t *)causes, key, cnt) {
		if (!json_is_integer(cnt) || json_integer_value(cnt) <= 0)
			continue;
		if (*nc == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*cells = xrealloc(*cells, *cap * sizeof(**cells));
		}
		(*cells)[*nc].hour = hour;
		(*cells)[*nc].cause = key;
		(*cells)[*nc].count = (unsigned long long)json_integer_value(cnt);
		(*nc)++;
	}
}

/* put_chart - the failures per cause per hour */
static void
put_chart(struct buf *b, const json_t *ov)
{
	const json_t *arr = jget(ov, "failures"), *h;
	const char *hours[SVGCHART_HOURS_MAX];
	struct svgchart_cell *cells = NULL;
	size_t nh = 0, nc = 0, cap = 0, i;

	json_array_foreach(arr, i, h) {
		if (nh == SVGCHART_HOURS_MAX)
			break;
		hours[nh] = jstr(h, "hour");
		add_cells(jget(h, "causes"), nh, &cells, &nc, &cap);
		nh++;
	}
	buf_puts(b, "<section class=\"failures\">\n<h2>Failed logins per hour, "
	    "by cause</h2>\n<figure>");
	svgchart_render(b, "chart", "Failed logins per hour and cause, the "
	    "last 24 hours", hours, nh, cells, nc);
	buf_puts(b, "</figure>\n");
	if (nc == 0)
		buf_puts(b, "<p class=\"none\">No failed login in these 24 "
		    "hours.</p>\n");
	buf_puts(b, "</section>\n");
	free(cells);
}

/* page_overview - the last 24 hours and what is locked now */
void
page_overview(struct buf *b, const struct page_ctx *ctx, const json_t *ov)
{
	doc_open(b, ctx, "Overview");
	buf_puts(b, "<h1>Overview</h1>\n");
	put_flash(b, ctx);
	buf_puts(b, "<p class=\"summary\">The last 24 hours up to <time>");
	put_val(b, ov, "now");
	buf_puts(b, "</time>, from <span class=\"kept\">");
	put_val(b, ov, "kept");
	buf_puts(b, "</span> kept attempts since <time>");
	put_val(b, ov, "oldest");
	buf_puts(b, "</time>.</p>\n");
	put_chart(b, ov);
	put_locked_table(b, ctx, ov, "locked_accounts", "locked-accounts",
	    "Locked accounts");
	put_locked_table(b, ctx, ov, "locked_addresses", "locked-addresses",
	    "Locked addresses");
	put_stale(b, ov);
	doc_close(b);
}

/* status_text - the words for an HTTP status */
static const char *
status_text(unsigned status)
{
	static const struct {
		unsigned	 code;
		const char	*text;
	} texts[] = {
		{400, "Bad request"},
		{401, "Sign-in needed"},
		{403, "Not allowed"},
		{404, "Not found"},
		{405, "Method not allowed"},
		{409, "Not done"},
		{413, "Request too large"},
		{421, "Misdirected request"},
		{429, "Too many failed sign-ons"},
		{500, "Internal error"},
		{502, "The authguard service does not answer"},
		{503, "Service unavailable"},
		{504, "The authguard service is too slow"},
	};
	size_t i;

	for (i = 0; i < NELEM(texts); i++)
		if (texts[i].code == status)
			return texts[i].text;
	return "Error";
}

/* page_error - an error page */
void
page_error(struct buf *b, const struct page_ctx *ctx, unsigned status,
    const char *msg)
{
	char title[64];

	snprintf(title, sizeof(title), "%u %s", status, status_text(status));
	doc_open(b, ctx, title);
	buf_puts(b, "<h1>");
	html_esc(b, title);
	buf_puts(b, "</h1>\n<p id=\"error\">");
	html_esc(b, msg ? msg : "");
	buf_puts(b, "</p>\n<p><a href=\"./\">Back to the search</a></p>\n");
	doc_close(b);
}

const char page_css[] =
":root{--fg:#1d232a;--muted:#5b6570;--line:#d5dae0;--bg:#ffffff;"
"--soft:#f3f5f7;--bad:#b3261e;--badbg:#fdecea;--ok:#1e6b34;--okbg:#e7f4ea;"
"--accent:#1f5fa8}\n"
"*{box-sizing:border-box}\n"
"html{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
"\"Helvetica Neue\",Arial,sans-serif;font-size:16px;line-height:1.45;"
"color:var(--fg);background:var(--bg)}\n"
"body{margin:0}\n"
"main{max-width:64rem;margin:0 auto;padding:1rem}\n"
"header.top{display:flex;flex-wrap:wrap;justify-content:space-between;"
"align-items:center;gap:.5rem;padding:.5rem 1rem;background:var(--soft);"
"border-bottom:1px solid var(--line)}\n"
"header.top nav{display:flex;gap:1rem;align-items:center}\n"
"header.top .brand{font-weight:700}\n"
"header.top p.who{margin:0;color:var(--muted);font-size:.9rem}\n"
"a{color:var(--accent)}\n"
"h1{font-size:1.6rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}\n"
"h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\n"
"h3{font-size:1.05rem;margin:0 0 .5rem}\n"
"p.kicker{margin:.5rem 0 0;color:var(--muted)}\n"
"code,td,.key,.ip{overflow-wrap:anywhere}\n"
"code{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,Consolas,"
"monospace;font-size:.92em}\n"
".help,.none,.meta,.total{color:var(--muted)}\n"
"time{white-space:nowrap}\n"
"#flash{padding:.6rem .8rem;background:var(--okbg);border-left:4px solid "
"var(--ok)}\n"
".warn,#notfound,#error{padding:.6rem .8rem;background:var(--badbg);"
"border-left:4px solid var(--bad)}\n"
"form#search label{display:block;font-weight:600;margin-bottom:.3rem}\n"
"form#search .row{display:flex;gap:.5rem;flex-wrap:wrap}\n"
"input#q{flex:1 1 16rem;min-width:0;font:inherit;padding:.5rem .6rem;"
"border:1px solid var(--muted);border-radius:4px}\n"
"button{font:inherit;padding:.45rem 1rem;border-radius:4px;border:1px "
"solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}\n"
"button.lock{background:#fff;color:var(--bad);border-color:var(--bad)}\n"
"button:focus-visible,input:focus-visible,a:focus-visible{outline:3px "
"solid #f2a900;outline-offset:2px}\n"
"#verdict .summary{font-size:1.15rem;padding:.8rem 1rem;border-radius:6px;"
"margin:0}\n"
"#verdict .summary.bad{background:var(--badbg);border-left:6px solid "
"var(--bad)}\n"
"#verdict .summary.ok{background:var(--okbg);border-left:6px solid "
"var(--ok)}\n"
"#verdict .summary.neutral{background:var(--soft);border-left:6px solid "
"var(--muted)}\n"
"#verdict .counts{color:var(--muted);margin:.4rem 0 0}\n"
"article.cause{border:1px solid var(--line);border-radius:6px;"
"padding:.8rem 1rem;margin:.6rem 0}\n"
"article.cause .label{margin:.5rem 0 0;font-size:.8rem;font-weight:700;"
"text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}\n"
"article.cause .tell{font-size:1.1rem;margin:.1rem 0 .4rem;padding:.4rem "
".6rem;background:var(--soft);border-left:4px solid var(--accent)}\n"
"article.cause .todo{margin:.1rem 0}\n"
"article.cause .meta{font-size:.85rem;margin:.5rem 0 0}\n"
".tracks{display:grid;grid-template-columns:repeat(auto-fit,"
"minmax(18rem,1fr));gap:1rem}\n"
"section.track{border:1px solid var(--line);border-radius:6px;"
"padding:0 1rem .8rem}\n"
"section.track.is-locked{border-color:var(--bad)}\n"
"section.track.is-locked .state{color:var(--bad)}\n"
"section.track.not-locked .state{color:var(--ok)}\n"
"ul#familiar{padding-left:1.2rem}\n"
"ul#familiar .last{color:var(--muted);font-size:.9rem}\n"
".scroll{overflow-x:auto}\n"
"table{border-collapse:collapse;width:100%;font-size:.9rem}\n"
"th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid "
"var(--line);vertical-align:top}\n"
"th{background:var(--soft);font-weight:600}\n"
"tr.fail td.result{color:var(--bad);font-weight:600}\n"
"tr.pass td.result{color:var(--ok)}\n"
"tr.hit{background:#fff7d6}\n"
"td.ip.familiar::after{content:\"(familiar)\";display:block;"
"color:var(--muted);font-size:.85em}\n"
"td.time,td.until,td.first,td.last,td.ref,td.cause,td.door,td.mech,"
"td.tls,td.result{white-space:nowrap;overflow-wrap:normal}\n"
"td.ref,td.time{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,"
"Consolas,monospace}\n"
"td form{margin:0}\n"
"figure{margin:0}\n"
"svg.chart{width:100%;height:auto;max-width:60rem}\n"
"svg.chart text{fill:var(--fg);font-family:inherit}\n"
"svg.chart .grid{stroke:var(--line)}\n"
"#verdict a.more{margin-left:.6rem;white-space:nowrap}\n"
"@media (prefers-color-scheme:dark){:root{--fg:#e4e7eb;--muted:#a3acb6;"
"--line:#3a424b;--bg:#15191d;--soft:#20262c;--bad:#ff8a80;--badbg:#3b1f1d;"
"--ok:#7bd88f;--okbg:#1b3323;--accent:#8ab4f8}button{color:#15191d}"
"button.lock{background:transparent}tr.hit{background:#3a3420}}\n"
"@media (max-width:40rem){main{padding:.6rem}h1{font-size:1.3rem}"
"th,td{padding:.3rem}"
"#timeline td.mech,#timeline th:nth-child(5),#timeline td.tls,"
"#timeline th:nth-child(6){display:none}}\n"
"@media print{:root{--fg:#000;--muted:#333;--line:#999;--bg:#fff;"
"--soft:#f3f5f7;--badbg:#fff;--okbg:#fff}"
"header.top nav,form,button{display:none}"
"main{max-width:none;padding:0}a{color:inherit;text-decoration:none}"
".scroll{overflow:visible}article.cause,section.track{break-inside:avoid}"
"#verdict .summary{border:1px solid #000}}\n";

const size_t page_css_len = sizeof(page_css) - 1;
