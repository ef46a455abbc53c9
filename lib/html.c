/*++
/* NAME
/*	html 3
/* SUMMARY
/*	escaped HTML text, attributes and URL query values
/* SYNOPSIS
/*	#include "html.h"
/*
/*	void html_escn(struct buf *b, const char *s, size_t len)
/*	void html_esc(struct buf *b, const char *s)
/*
/*	void html_attr(struct buf *b, const char *name, const char *val)
/*
/*	void html_el(struct buf *b, const char *tag, const char *cls,
/*		const char *text)
/*
/*	void html_urlenc(struct buf *b, const char *s)
/*
/*	void html_href_q(struct buf *b, const char *path, const char *q)
/*
/*	size_t html_utf8_seq(const unsigned char *p, size_t len)
/* DESCRIPTION
/*	Everything a page shows of a peer's bytes (a user name, an
/*	address, a ref) goes through here, so that it shows as text and
/*	never as markup.
/*
/*	html_escn() appends len bytes as text that is safe both between
/*	tags and inside a quoted attribute value: & < > " ' become
/*	character references; NUL, the other control bytes (but tab,
/*	newline), DEL, the C1 controls and the bidirectional controls
/*	(which would show a name turned around) become U+FFFD, one for
/*	each; so does every byte that is not part of valid UTF-8
/*	(overlong forms, surrogates and code points past U+10FFFF
/*	included). Other valid UTF-8 passes.
/*	html_esc() does the same for a C string; NULL appends nothing.
/*
/*	html_attr() appends ` name="value"` with the value escaped;
/*	name is the caller's literal.
/*
/*	html_el() appends <tag class="cls">text</tag> (no class when cls
/*	is NULL), the text escaped; tag and cls are the caller's literals.
/*
/*	html_urlenc() appends s percent-encoded for a URL query value:
/*	every byte but the unreserved A-Z a-z 0-9 - . _ ~ becomes %XX.
/*	html_href_q() appends ` href="PATH?q=VALUE"`, VALUE encoded so.
/*
/*	html_utf8_seq() gives the length (1 to 4) of the valid UTF-8
/*	sequence at p, or 0 when the bytes there are not one.
/*--*/
#include <string.h>

#include "buf.h"
#include "html.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

/* html_utf8_seq - length of the valid UTF-8 sequence at p, 0 if none */
size_t
html_utf8_seq(const unsigned char *p, size_t len)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;		/* no overlong form */
		else if (c == 0xed)
			hi = 0x9f;		/* no surrogate */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;		/* no overlong form */
		else if (c == 0xf4)
			hi = 0x8f;		/* nothing past U+10FFFF */
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* shown_as_is - a valid sequence that is no control, nor a bidi control */
static int
shown_as_is(const unsigned char *p, size_t n)
{
	unsigned cp;

	if (n == 2)			/* U+0080..U+009F: the C1 controls */
		return !(p[0] == 0xc2 && p[1] < 0xa0) &&
		    !(p[0] == 0xd8 && p[1] == 0x9c);	/* U+061C */
	if (n != 3)
		return 1;
	cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	/* marks, embeddings, overrides and isolates turn text around */
	return !(cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* ascii_ref - the reference for one ASCII byte, or NULL to keep it */
static const char *
ascii_ref(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\t':
	case '\n':
		return NULL;
	}
	return c < 0x20 || c == 0x7f ? REPLACEMENT : NULL;
}

/* html_escn - append len bytes as escaped text */
void
html_escn(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *ref;
	size_t i = 0, run = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			if ((ref = ascii_ref(p[i])) == NULL) {
				i++;
				continue;
			}
			buf_append(b, p + run, i - run);
			buf_puts(b, ref);
			run = ++i;
			continue;
		}
		n = html_utf8_seq(p + i, len - i);
		if (n && shown_as_is(p + i, n)) {
			i += n;
			continue;
		}
		buf_append(b, p + run, i - run);
		buf_puts(b, REPLACEMENT);
		i += n ? n : 1;
		run = i;
	}
	buf_append(b, p + run, i - run);
}

/* html_esc - append a C string as escaped text */
void
html_esc(struct buf *b, const char *s)
{
	if (s)
		html_escn(b, s, strlen(s));
}

/* html_attr - append name="escaped value" */
void
html_attr(struct buf *b, const char *name, const char *val)
{
	buf_putc(b, ' ');
	buf_puts(b, name);
	buf_puts(b, "=\"");
	html_esc(b, val);
	buf_putc(b, '"');
}

/* html_el - append <tag class="cls">escaped text</tag> */
void
html_el(struct buf *b, const char *tag, const char *cls, const char *text)
{
	buf_putc(b, '<');
	buf_puts(b, tag);
	if (cls)
		html_attr(b, "class", cls);
	buf_putc(b, '>');
	html_esc(b, text);
	buf_puts(b, "</");
	buf_puts(b, tag);
	buf_putc(b, '>');
}

/* html_urlenc - append s percent-encoded as a query value */
void
html_urlenc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
			continue;
		}
		buf_putc(b, '%');
		buf_putc(b, hex[*p >> 4]);
		buf_putc(b, hex[*p & 15]);
	}
}

/* html_href_q - append href="PATH?q=VALUE" */
void
html_href_q(struct buf *b, const char *path, const char *q)
{
	buf_puts(b, " href=\"");
	html_esc(b, path);
	buf_puts(b, "?q=");
	html_urlenc(b, q);		/* only unreserved bytes and %XX */
	buf_putc(b, '"');
}
