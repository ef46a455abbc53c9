/*++
/* NAME
/*	test_pages 1
/* SUMMARY
/*	unit tests: the HTML pages of authguard-web
/* DESCRIPTION
/*	The pages are fed JSON of the shapes the control socket answers
/*	(why, overview), with hostile user names, missing keys, wrong
/*	types and empty arrays, and the HTML is searched for what the
/*	browser tests select and for anything unescaped.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cause.h"
#include "pages.h"
#include "unit.h"

/* HAS - the page has this text */
#define HAS(s, text) (strstr((s), (text)) != NULL)

#define HOSTILE	"<script>alert(1)</script>@x"
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;@x"

static const char why_user[] =
"{\"query\":\"jane@example.com\",\"attempts\":["
"{\"time\":\"2026-12-02T10:00:00Z\",\"ref\":\"K7Q2M9XA3D\",\"result\":\"pass\","
"\"proto\":\"imap\",\"user\":\"jane@example.com\",\"ip\":\"192.0.2.7\","
"\"mech\":\"PLAIN\",\"tls\":\"yes\"},"
"{\"time\":\"2026-12-02T14:01:00Z\",\"ref\":\"A3D7Q2M9XK\",\"result\":\"fail\","
"\"cause\":\"stale-password\",\"proto\":\"smtp\",\"user\":\"jane@example.com\","
"\"ip\":\"198.51.100.9\",\"mech\":\"LOGIN\",\"tls\":\"yes\",\"smtpd_pid\":\"4711\"},"
"{\"time\":\"2026-12-02T14:02:00Z\",\"ref\":\"M9XA3DK7Q2\",\"result\":\"refused\","
"\"cause\":\"account-locked\",\"proto\":\"smtp\",\"user\":\"jane@example.com\","
"\"ip\":\"198.51.100.9\",\"mech\":\"PLAIN\",\"tls\":\"yes\",\"smtpd_pid\":\"4712\"},"
"{\"time\":\"2026-12-02T14:03:00Z\",\"ref\":\"Q2M9XA3DK7\",\"result\":\"fail\","
"\"cause\":\"brand-new-cause\",\"proto\":\"imap\",\"user\":\"jane@example.com\","
"\"ip\":\"198.51.100.9\",\"mech\":\"PLAIN\",\"tls\":\"yes\"}],"
"\"account\":{\"key\":\"jane@example.com\",\"locked\":\"yes\","
"\"locked_until\":\"2026-12-02T14:17:00Z\",\"seconds_left\":\"840\","
"\"failures_in_window\":\"5\",\"familiar_addresses\":\"1\"},"
"\"address\":{\"key\":\"198.51.100.9/32\",\"locked\":\"no\","
"\"failures_in_window\":\"3\"},"
"\"familiar\":[{\"ip\":\"192.0.2.7\",\"last_ok\":\"2026-12-02T10:00:00Z\"}],"
"\"hints\":{\"stale-password\":\"x\"}}";

static const char why_hostile[] =
"{\"query\":\"K7Q2M9XA3D\",\"shared\":\"unavailable\",\"attempts\":["
"{\"time\":\"2026-12-02T14:01:00Z\",\"ref\":\"K7Q2M9XA3D\",\"result\":\"fail\","
"\"cause\":\"bad-password\",\"proto\":\"smtp\",\"user\":\"" HOSTILE "\","
"\"ip\":\"2001:db8::1\",\"mech\":\"\\\"><img src=x onerror=alert(1)>\","
"\"tls\":\"no\"}],"
"\"account\":{\"key\":\"" HOSTILE "\",\"locked\":\"no\","
"\"failures_in_window\":\"1\",\"familiar_addresses\":\"0\"},"
"\"familiar\":[]}";

static const char overview[] =
"{\"now\":\"2026-12-02T14:30:00Z\",\"hours\":24,\"failures\":["
"{\"hour\":\"2026-12-02T12:00:00Z\",\"causes\":{}},"
"{\"hour\":\"2026-12-02T13:00:00Z\",\"causes\":{\"bad-password\":3,"
"\"unknown-user\":1}},"
"{\"hour\":\"2026-12-02T14:00:00Z\",\"causes\":{\"stale-password\":12}}],"
"\"locked_accounts\":[{\"key\":\"jane@example.com\",\"locked_until\":"
"\"2026-12-02T14:45:00Z\",\"seconds_left\":900,\"failures_in_window\":5}],"
"\"locked_accounts_total\":1,"
"\"locked_addresses\":[{\"key\":\"2001:db8:1::/64\",\"locked_until\":"
"\"2026-12-02T14:40:00Z\",\"seconds_left\":600,\"failures_in_window\":20}],"
"\"locked_addresses_total\":3,"
"\"stale\":[{\"user\":\"" HOSTILE "\",\"ip\":\"192.0.2.8\",\"proto\":\"imap\","
"\"count\":31,\"first\":\"2026-12-02T01:00:00Z\",\"last\":"
"\"2026-12-02T14:20:00Z\",\"ref\":\"Q2M9XA3DK7\"}],"
"\"stale_total\":7,\"kept\":5000,\"oldest\":\"2026-11-30T08:00:00Z\"}";

static const struct page_ctx viewer = {"helpdesk", 0, "c0ffee", NULL};
static const struct page_ctx admin = {"boss\"<i>", 1, "c0ffee",
    "unlocked jane@example.com"};

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* parse - JSON text, or NULL */
static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (j == NULL)
		fprintf(stderr, "# %s\n", err.text);
	return j;
}

/* whole_document - the frame every page has */
static int
whole_document(const char *s)
{
	size_t len = strlen(s);

	return strncmp(s, "<!DOCTYPE html>\n", 16) == 0 &&
	    strstr(s, "<meta charset=\"utf-8\">") != NULL &&
	    strstr(s, "<link rel=\"stylesheet\" href=\"style.css\">") != NULL &&
	    strstr(s, "<a href=\"./\">Search</a>") != NULL &&
	    strstr(s, "<a href=\"overview\">Overview</a>") != NULL &&
	    strstr(s, "id=\"whoami\"") != NULL &&
	    strstr(s, "<script") == NULL && strstr(s, " style=") == NULL &&
	    strstr(s, "href=\"http") == NULL && strstr(s, "<img") == NULL &&
	    strstr(s, "href=\"/") == NULL && strstr(s, "action=\"/") == NULL &&
	    count(s, "//") == count(s, "=\"http://www.w3.org/2000/svg\"") &&
	    len > 16 && strcmp(s + len - 8, "</html>\n") == 0;
}

TEST(page_search_form)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	page_search(&b, &viewer);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<form id=\"search\" method=\"get\" action=\"why\">"));
	CHECK(HAS(s, "<input id=\"q\" name=\"q\""));
	CHECK(HAS(s, "<button id=\"go\" type=\"submit\">"));
	CHECK(HAS(s, "<span id=\"whoami\">helpdesk</span>"));
	CHECK(strstr(s, "id=\"flash\"") == NULL);
	buf_free(&b);
}

TEST(page_why_user_verdict_causes_tracks)
{
	json_t *j = parse(why_user);
	const struct cause_info *stale = cause_info(CAUSE_STALE_PASSWORD);
	const char *s, *locked, *st, *q2, *m9, *a3, *k7;
	struct buf b;

	CHECK(j != NULL);
	buf_init(&b);
	page_why(&b, &viewer, "jane@example.com", j);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<h1 id=\"query\">jane@example.com</h1>"));
	/* causes: most recent first; the unknown id shows the id only */
	CHECK(count(s, "<article class=\"cause\"") == 3);
	locked = strstr(s, "data-cause=\"account-locked\"");
	st = strstr(s, "data-cause=\"stale-password\"");
	CHECK(strstr(s, "data-cause=\"brand-new-cause\"") < locked && locked < st);
	CHECK(HAS(s, "<h3 class=\"title\">brand-new-cause</h3>"));
	CHECK(count(s, "class=\"tell\"") == 2 && count(s, "class=\"todo\"") == 2);
	CHECK(st && strstr(st, stale->title) && strstr(st, stale->tell) &&
	    strstr(st, stale->hint));
	/* the verdict comes before the details */
	CHECK(strstr(s, "id=\"verdict\"") < strstr(s, "id=\"causes\""));
	CHECK(strstr(s, "id=\"causes\"") < strstr(s, "id=\"timeline\""));
	/* timeline newest first, one row per attempt */
	CHECK(count(s, "<tr data-ref=") == 4);
	q2 = strstr(s, "data-ref=\"Q2M9XA3DK7\"");
	m9 = strstr(s, "data-ref=\"M9XA3DK7Q2\"");
	a3 = strstr(s, "data-ref=\"A3D7Q2M9XK\"");
	k7 = strstr(s, "data-ref=\"K7Q2M9XA3D\"");
	CHECK(q2 && q2 < m9 && m9 < a3 && a3 < k7);
	CHECK(HAS(s, "<td class=\"time\">") && HAS(s, "<td class=\"door\">smtp") &&
	    HAS(s, "<td class=\"mech\">") && HAS(s, "<td class=\"tls\">") &&
	    HAS(s, "<td class=\"ip\">") && HAS(s, "<td class=\"result\">") &&
	    HAS(s, "<td class=\"cause\">") && HAS(s, "<td class=\"ref\">") &&
	    HAS(s, "<td class=\"user\">"));
	CHECK(HAS(s, "href=\"why?q=jane%40example.com\""));
	/* lock state of both */
	CHECK(HAS(s, "id=\"account\" class=\"track is-locked\" "
	    "data-key=\"jane@example.com\""));
	CHECK(HAS(s, "<b class=\"state\">locked</b>"));
	CHECK(HAS(s, "<time class=\"until\">2026-12-02T14:17:00Z</time>"));
	CHECK(HAS(s, "(14 min left)"));
	CHECK(HAS(s, "id=\"address\" class=\"track not-locked\" "
	    "data-key=\"198.51.100.9/32\""));
	CHECK(HAS(s, "<b class=\"state\">not locked</b>"));
	CHECK(HAS(s, "<span class=\"failures\">5</span>"));
	/* the window of a locked entry started over at its lock */
	CHECK(count(s, "counting window, which started over at the lock:")
	    == 1 && count(s, "Failed logins in the counting window: ") == 1);
	CHECK(strstr(s, "started over at the lock") < strstr(s,
	    "id=\"address\""));
	/* familiar addresses, marked in the timeline too */
	CHECK(count(s, "<td class=\"ip familiar\"") == 1);
	CHECK(count(s, "<td class=\"ip\">") == 3);
	CHECK(HAS(s, "<ul id=\"familiar\">\n<li><span class=\"ip\"><a "
	    "href=\"why?q=192.0.2.7\">192.0.2.7</a>"));
	CHECK(strstr(s, "all logins of") == NULL);	/* q is the user */
	CHECK(HAS(s, "all logins from 198.51.100.9"));
	/* a viewer gets no form */
	CHECK(strstr(s, "<form") == NULL && strstr(s, "c0ffee") == NULL);
	buf_free(&b);
	json_decref(j);
}

TEST(page_why_forms_only_for_admins)
{
	json_t *j = parse(why_user);
	struct buf b;
	const char *s;

	buf_init(&b);
	page_why(&b, &admin, "jane@example.com", j);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<span id=\"whoami\">boss&quot;&lt;i&gt;</span>"));
	CHECK(HAS(s, "<p id=\"flash\" role=\"status\">unlocked "
	    "jane@example.com</p>"));
	CHECK(count(s, "<form class=\"unlock\" method=\"post\" "
	    "action=\"unlock\">") == 1);
	CHECK(count(s, "<form class=\"lock\" method=\"post\" "
	    "action=\"lock\">") == 1);
	CHECK(HAS(s, "<input type=\"hidden\" name=\"target\" "
	    "value=\"jane@example.com\"><input type=\"hidden\" name=\"csrf\" "
	    "value=\"c0ffee\"><button type=\"submit\""));
	/* an address is locked by the address, not its network's key */
	CHECK(HAS(s, "name=\"target\" value=\"198.51.100.9\""));
	CHECK(strstr(s, "value=\"198.51.100.9/32\"") == NULL);
	/* the unlock form sits in the locked account's section */
	CHECK(strstr(strstr(s, "id=\"account\""), "form class=\"unlock\"") <
	    strstr(s, "id=\"address\""));
	buf_free(&b);
	json_decref(j);
}

TEST(page_why_hostile_names_escaped)
{
	json_t *j = parse(why_hostile);
	struct buf b;
	const char *s;

	CHECK(j != NULL);
	buf_init(&b);
	page_why(&b, &admin, HOSTILE, j);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<h1 id=\"query\">" HOSTILE_ESC "</h1>"));
	CHECK(HAS(s, "data-key=\"" HOSTILE_ESC "\""));
	CHECK(HAS(s, "value=\"" HOSTILE_ESC "\""));
	CHECK(HAS(s, "href=\"why?q=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%40x\""));
	CHECK(strstr(s, "<img") == NULL);
	CHECK(HAS(s, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
	CHECK(HAS(s, "class=\"warn\""));	/* shared unavailable */
	/* the ref asked for is the verdict, and its row is marked */
	CHECK(HAS(s, "Latest login: <b>failed</b>: The password was wrong."));
	CHECK(strstr(s, "class=\"fail hit\"") == NULL);
	CHECK(HAS(s, "<ul id=\"familiar\">\n</ul>"));
	buf_free(&b);
	page_why(&b, &viewer, "K7Q2M9XA3D", j);
	CHECK(HAS(buf_str(&b), "class=\"fail hit\""));
	CHECK(HAS(buf_str(&b), "This login: <b>failed</b>"));
	/* from a ref to the user's and the address's other logins */
	CHECK(HAS(buf_str(&b), "<a class=\"more\" href=\"why?q=%3Cscript%3Ealert"
	    "%281%29%3C%2Fscript%3E%40x\">all logins of " HOSTILE_ESC "</a>"));
	CHECK(HAS(buf_str(&b), "<a class=\"more\" href=\"why?q=2001%3Adb8%3A%3A1\">"
	    "all logins from 2001:db8::1</a>"));
	buf_free(&b);
	json_decref(j);
}

TEST(page_why_missing_and_wrong_types)
{
	static const char *const texts[] = {
		"{}",
		"[]",
		"null",
		"{\"attempts\":{},\"account\":[],\"address\":\"x\",\"familiar\":7}",
		"{\"attempts\":[1,null,[],{\"time\":5,\"cause\":{},\"ref\":[]},{}],"
		"\"account\":{\"key\":7,\"locked\":true,\"seconds_left\":\"abc\"},"
		"\"familiar\":[1,{\"ip\":{}}]}",
		"{\"attempts\":[],\"account\":{}}",
		"{\"account\":{\"locked\":\"yes\",\"seconds_left\":1e300}}",
		"{\"account\":{\"locked\":\"yes\",\"seconds_left\":-1e300}}",
		"{\"account\":{\"locked\":\"yes\",\"seconds_left\":"
		"\"99999999999999999999999\"}}",
		"{\"account\":{\"locked\":\"yes\",\"seconds_left\":"
		"9223372036854775807}}",
	};
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *j = parse(texts[i]);

		buf_reset(&b);
		page_why(&b, &admin, "x", j);
		CHECK(whole_document(buf_str(&b)));
		CHECK(HAS(buf_str(&b), "<table id=\"timeline\">"));
		CHECK(!HAS(buf_str(&b), "( left)"));
		json_decref(j);
	}
	buf_reset(&b);
	page_why(&b, &admin, NULL, NULL);
	CHECK(whole_document(buf_str(&b)));
	CHECK(HAS(buf_str(&b), "No recent login attempts"));
	CHECK(strstr(buf_str(&b), "id=\"account\"") == NULL);
	buf_free(&b);
}

/* Only a network of an address loses its "/N" for the forms. */
TEST(page_address_targets)
{
	static const char *const keys[][2] = {
		{"203.0.113.0/24", "203.0.113.0"},
		{"192.0.2.7/32", "192.0.2.7"},
		{"2001:DB8::/64", "2001:db8::"},
		{"203.0.113.0", "203.0.113.0"},
		{"x/24", "x/24"},
		{"10.0.0.1/abc", "10.0.0.1/abc"},
		{"10.0.0.1/", "10.0.0.1/"},
		{"/24", "/24"},
	};
	char text[256], want[128];
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j;

		snprintf(text, sizeof(text), "{\"address\":{\"key\":\"%s\","
		    "\"locked\":\"yes\"}}", keys[i][0]);
		j = parse(text);
		buf_reset(&b);
		page_why(&b, &admin, keys[i][1], j);
		snprintf(want, sizeof(want), "name=\"target\" value=\"%s\">",
		    keys[i][1]);
		CHECK(strstr(buf_str(&b), want) != NULL);
		json_decref(j);
	}
	buf_free(&b);
}

TEST(page_why_error_notfound)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	page_why_error(&b, &viewer, "ZZZZZZZZZZ", "ERR no attempt with ref "
	    "ZZZZZZZZZZ among the last 5000");
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<h1 id=\"query\">ZZZZZZZZZZ</h1>"));
	CHECK(HAS(s, "<p id=\"notfound\">no attempt with ref ZZZZZZZZZZ"));
	CHECK(HAS(s, "form id=\"search\""));
	buf_reset(&b);
	page_why_error(&b, &viewer, HOSTILE, HOSTILE);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(count(s, HOSTILE_ESC) == 4);	/* title, h1, message, value */
	buf_free(&b);
}

TEST(page_overview_chart_and_tables)
{
	json_t *j = parse(overview);
	struct buf b;
	const char *s;

	CHECK(j != NULL);
	buf_init(&b);
	page_overview(&b, &viewer, j);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "id=\"chart\"") && HAS(s, "role=\"img\""));
	CHECK(count(s, "data-count=") == 3);
	CHECK(HAS(s, "data-hour=\"2026-12-02T14:00:00Z\" "
	    "data-cause=\"stale-password\" data-count=\"12\""));
	CHECK(HAS(s, "<table id=\"locked-accounts\">"));
	CHECK(HAS(s, "<table id=\"locked-addresses\">"));
	CHECK(HAS(s, "<tr data-key=\"jane@example.com\">"));
	CHECK(HAS(s, "<tr data-key=\"2001:db8:1::/64\"><td class=\"key\">"
	    "<a href=\"why?q=2001%3Adb8%3A1%3A%3A\">2001:db8:1::/64</a>"));
	CHECK(HAS(s, "1 locked shown, of 3"));
	CHECK(HAS(s, "<td class=\"left\">15 min</td>"));
	CHECK(HAS(s, "<table id=\"stale\">"));
	CHECK(HAS(s, "<tr data-user=\"" HOSTILE_ESC "\">"));
	CHECK(HAS(s, "href=\"why?q=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%40x\""));
	CHECK(HAS(s, "<td class=\"count\">31</td>"));
	CHECK(HAS(s, "1 shown, of 7."));
	CHECK(strstr(s, "<form") == NULL);
	/* the chart first, then what is locked, then the stale devices */
	CHECK(strstr(s, "id=\"chart\"") < strstr(s, "id=\"locked-accounts\""));
	CHECK(strstr(s, "id=\"locked-addresses\"") < strstr(s, "id=\"stale\""));
	buf_reset(&b);
	page_overview(&b, &admin, j);
	CHECK(count(buf_str(&b), "<form class=\"unlock\"") == 2);
	CHECK(HAS(buf_str(&b), "name=\"target\" value=\"2001:db8:1::\""));
	buf_free(&b);
	json_decref(j);
}

TEST(page_overview_missing_and_wrong_types)
{
	static const char *const texts[] = {
		"{}", "[]", "7",
		"{\"failures\":{},\"locked_accounts\":\"x\",\"stale\":{}}",
		"{\"failures\":[null,1,{\"hour\":5,\"causes\":[]},{\"causes\":"
		"{\"bad-password\":\"3\",\"unknown-user\":-2,\"x\":1.5}}],"
		"\"locked_accounts\":[null,{\"key\":[]}],\"stale\":[7,{}]}",
	};
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *j = parse(texts[i]);

		buf_reset(&b);
		page_overview(&b, &admin, j);
		CHECK(whole_document(buf_str(&b)));
		CHECK(HAS(buf_str(&b), "id=\"chart\""));
		CHECK(strstr(buf_str(&b), "data-count=") == NULL);
		CHECK(HAS(buf_str(&b), "No failed login in these 24 hours"));
		CHECK(HAS(buf_str(&b), "<table id=\"stale\">"));
		json_decref(j);
	}
	buf_free(&b);
}

TEST(page_error_message)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	page_error(&b, &viewer, 403, "cross-site request refused");
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<p id=\"error\">cross-site request refused</p>"));
	CHECK(HAS(s, "<h1>403 Not allowed</h1>"));
	buf_reset(&b);
	page_error(&b, NULL, 502, HOSTILE);
	s = buf_str(&b);
	CHECK(whole_document(s));
	CHECK(HAS(s, "<p id=\"error\">" HOSTILE_ESC "</p>"));
	CHECK(HAS(s, "<span id=\"whoami\"></span>"));
	buf_reset(&b);
	page_error(&b, NULL, 429, "wait");
	CHECK(HAS(buf_str(&b), "<h1>429 Too many failed sign-ons</h1>"));
	buf_reset(&b);
	page_error(&b, NULL, 409, "not done");
	CHECK(HAS(buf_str(&b), "<h1>409 Not done</h1>"));
	buf_free(&b);
}

TEST(page_css_plain)
{
	CHECK(page_css_len == strlen(page_css) && page_css_len > 500);
	CHECK(!HAS(page_css, "@import") && !HAS(page_css, "url("));
	CHECK(HAS(page_css, "@media print"));
	CHECK(HAS(page_css, "@media (max-width"));
}
