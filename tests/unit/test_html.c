/*++
/* NAME
/*	test_html 1
/* SUMMARY
/*	unit tests: HTML escaping, URL encoding, the SVG chart
/*--*/
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "svgchart.h"
#include "unit.h"

/* esc - html_escn into a fresh buffer; the caller frees */
static void
esc(struct buf *b, const char *s, size_t len)
{
	buf_init(b);
	html_escn(b, s, len);
}

#define ESC(b, lit) esc((b), (lit), sizeof(lit) - 1)

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

TEST(html_escapes_markup)
{
	struct buf b;

	ESC(&b, "<script>alert(1)</script>@x");
	CHECK_STR(buf_str(&b), "&lt;script&gt;alert(1)&lt;/script&gt;@x");
	buf_free(&b);
	ESC(&b, "a\"b'c&d");
	CHECK_STR(buf_str(&b), "a&quot;b&#39;c&amp;d");
	buf_free(&b);
	ESC(&b, "&amp;");
	CHECK_STR(buf_str(&b), "&amp;amp;");
	buf_free(&b);
}

TEST(html_replaces_control_bytes)
{
	struct buf b;

	ESC(&b, "a\0b\x01\x1b[31m\x7f\tc\n");
	CHECK_STR(buf_str(&b), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd[31m"
	    "\xef\xbf\xbd\tc\n");
	CHECK(memchr(b.data, 0, b.len) == NULL);
	buf_free(&b);
	ESC(&b, "\r");		/* CR would be folded by the parser */
	CHECK_STR(buf_str(&b), "\xef\xbf\xbd");
	buf_free(&b);
	ESC(&b, "\xc2\x85\xc2\x9f\xc2\xa0");	/* C1 controls, then NBSP */
	CHECK_STR(buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd\xc2\xa0");
	buf_free(&b);
	/* "jane\u202Emoc.elpmaxe@" would show as "jane@example.com" */
	ESC(&b, "jane\xe2\x80\xaemoc.elpmaxe@");
	CHECK_STR(buf_str(&b), "jane\xef\xbf\xbdmoc.elpmaxe@");
	buf_free(&b);
	ESC(&b, "\xe2\x80\x8e\xe2\x80\x8f\xe2\x81\xa6\xe2\x81\xa9\xd8\x9c"
	    "\xe2\x80\xaa\xe2\x80\x94\xd8\xa8");	/* then an em dash, an Arabic letter */
	CHECK_STR(buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xe2\x80\x94\xd8\xa8");
	buf_free(&b);
}

TEST(html_utf8_valid_passes_invalid_replaced)
{
	struct buf b;

	ESC(&b, "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\xa7");
	CHECK_STR(buf_str(&b), "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\xa7");
	buf_free(&b);
	/* a lone continuation byte, a truncated sequence, Latin-1 */
	ESC(&b, "\x80x\xe2\x82y\xe9");
	CHECK_STR(buf_str(&b), "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd");
	buf_free(&b);
	/* overlong "<" (C0 BC), overlong "/" in 3 bytes, a surrogate, past U+10FFFF */
	ESC(&b, "\xc0\xbc");
	CHECK(strchr(buf_str(&b), '<') == NULL);
	CHECK(count(buf_str(&b), "\xef\xbf\xbd") == 2);
	buf_free(&b);
	CHECK(html_utf8_seq((const unsigned char *)"\xe0\x80\xaf", 3) == 0);
	CHECK(html_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3) == 0);
	CHECK(html_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0);
	CHECK(html_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4) == 4);
	CHECK(html_utf8_seq((const unsigned char *)"\xf0\x9f\x93", 3) == 0);
	CHECK(html_utf8_seq((const unsigned char *)"\xff", 1) == 0);
}

TEST(html_attr_and_element)
{
	struct buf b;

	buf_init(&b);
	html_attr(&b, "value", "x\" onmouseover=\"alert(1)");
	CHECK_STR(buf_str(&b), " value=\"x&quot; onmouseover=&quot;alert(1)\"");
	buf_reset(&b);
	html_attr(&b, "value", NULL);
	CHECK_STR(buf_str(&b), " value=\"\"");
	buf_reset(&b);
	html_el(&b, "td", "user", "<b>");
	CHECK_STR(buf_str(&b), "<td class=\"user\">&lt;b&gt;</td>");
	buf_reset(&b);
	html_el(&b, "p", NULL, "a'b");
	CHECK_STR(buf_str(&b), "<p>a&#39;b</p>");
	buf_free(&b);
}

TEST(html_url_encoding)
{
	struct buf b;

	buf_init(&b);
	html_urlenc(&b, "jane@example.com");
	CHECK_STR(buf_str(&b), "jane%40example.com");
	buf_reset(&b);
	html_urlenc(&b, "a b&c=d/e?f#g+h%i~j_k-l.m");
	CHECK_STR(buf_str(&b), "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i~j_k-l.m");
	buf_reset(&b);
	html_urlenc(&b, "\"<>'\xc3\xbc\x01");
	CHECK_STR(buf_str(&b), "%22%3C%3E%27%C3%BC%01");
	buf_reset(&b);
	html_urlenc(&b, "2001:db8::1");
	CHECK_STR(buf_str(&b), "2001%3Adb8%3A%3A1");
	buf_reset(&b);
	html_href_q(&b, "why", "<script>alert(1)</script>@x");
	CHECK_STR(buf_str(&b), " href=\"why?q=%3Cscript%3Ealert%281%29%3C%2F"
	    "script%3E%40x\"");
	buf_free(&b);
}

static const char *const hours3[] = {
	"2026-12-02T12:00:00Z", "2026-12-02T13:00:00Z", "2026-12-02T14:00:00Z",
};

TEST(svgchart_one_rect_per_cell)
{
	static const struct svgchart_cell cells[] = {
		{0, "bad-password", 3},
		{0, "unknown-user", 1},
		{1, "bad-password", 0},		/* zero: no rect */
		{2, "stale-password", 7},
		{2, "stale-password", 2},	/* same hour and cause: added */
		{5, "bad-password", 9},		/* hour out of range: left out */
	};
	struct buf b;
	const char *s;

	buf_init(&b);
	svgchart_render(&b, "chart", "Failures", hours3, 3, cells, 6);
	s = buf_str(&b);
	CHECK(strncmp(s, "<svg ", 5) == 0);
	CHECK(strstr(s, " id=\"chart\"") != NULL);
	CHECK(strstr(s, "role=\"img\"") != NULL);
	CHECK(strstr(s, "viewBox=\"0 0 ") != NULL);
	CHECK(strstr(s, "<title>Failures</title>") != NULL);
	CHECK(count(s, "data-count=") == 3);
	CHECK(strstr(s, "data-hour=\"2026-12-02T12:00:00Z\" "
	    "data-cause=\"bad-password\" data-count=\"3\"") != NULL);
	CHECK(strstr(s, "data-hour=\"2026-12-02T14:00:00Z\" "
	    "data-cause=\"stale-password\" data-count=\"9\"") != NULL);
	CHECK(strstr(s, "data-count=\"0\"") == NULL);
	/* the count axis: 0, half, top, whole numbers above the tallest bar */
	CHECK(strstr(s, ">0</text>") && strstr(s, ">5</text>") &&
	    strstr(s, ">10</text>"));
	/* hour labels, and the legend with totals, largest first */
	CHECK(strstr(s, ">12</text>") && strstr(s, ">13</text>") &&
	    strstr(s, ">14</text>"));
	CHECK(strstr(s, ">stale-password (9)</text>") != NULL);
	CHECK(strstr(s, ">bad-password (3)</text>") != NULL);
	CHECK(strstr(s, "stale-password (9)") < strstr(s, "bad-password (3)"));
	CHECK(strstr(s, "style=") == NULL);
	CHECK(strcmp(s + b.len - 6, "</svg>") == 0);
	buf_free(&b);
}

TEST(svgchart_colours_fixed_per_cause)
{
	static const struct svgchart_cell cells[] = {
		{0, "bad-password", 1}, {1, "bad-password", 1}, {1, "no-such", 1},
	};
	struct buf b;
	char want[128];

	CHECK(strcmp(svgchart_colour("bad-password"),
	    svgchart_colour("unknown-user")) != 0);
	CHECK_STR(svgchart_colour("no-such"), svgchart_colour(NULL));
	buf_init(&b);
	svgchart_render(&b, "chart", "t", hours3, 2, cells, 3);
	snprintf(want, sizeof(want), "fill=\"%s\" data-hour=\"%s\" "
	    "data-cause=\"bad-password\"", svgchart_colour("bad-password"),
	    hours3[1]);
	CHECK(strstr(buf_str(&b), want) != NULL);
	/* swatch in the legend, same colour: 2 rects + 1 swatch */
	snprintf(want, sizeof(want), "fill=\"%s\"", svgchart_colour("bad-password"));
	CHECK(count(buf_str(&b), want) == 3);
	buf_free(&b);
}

TEST(svgchart_hostile_and_empty)
{
	static const char *const hours[] = {"<x>\"", NULL};
	static const struct svgchart_cell cells[] = {
		{0, "<script>alert(1)</script>", 18446744073709551615ULL},
		{0, "\"onload=\"x", 18446744073709551615ULL},
		{1, NULL, 4},
	};
	struct buf b;
	const char *s;

	buf_init(&b);
	svgchart_render(&b, "chart", "<t>", hours, 2, cells, 3);
	s = buf_str(&b);
	CHECK(strstr(s, "<script") == NULL);
	CHECK(strstr(s, "\"onload") == NULL);
	CHECK(strstr(s, "<title>&lt;t&gt;</title>") != NULL);
	CHECK(strstr(s, "data-hour=\"&lt;x&gt;&quot;\"") != NULL);
	CHECK(strstr(s, "nan") == NULL && strstr(s, "inf") == NULL);
	buf_reset(&b);
	svgchart_render(&b, "chart", "none", hours, 0, NULL, 0);
	s = buf_str(&b);
	CHECK(strstr(s, ">0</text>") && strstr(s, ">1</text>") &&
	    strstr(s, ">2</text>"));
	CHECK(strncmp(s, "<svg ", 5) == 0 && strstr(s, "</svg>") != NULL);
	CHECK(strstr(s, "data-count") == NULL);
	buf_free(&b);
}
