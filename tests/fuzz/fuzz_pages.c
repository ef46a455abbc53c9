/*++
/* NAME
/*	fuzz_pages 1
/* SUMMARY
/*	libFuzzer target: the pages of authguard-web from any JSON
/* DESCRIPTION
/*	The bytes are read as JSON (a why or an overview answer of the
/*	control socket, or anything else) and given to every page; the
/*	question, the flash and the user are taken from the JSON's own
/*	strings when there are, so that they too are any bytes. Each
/*	page must be one whole document with no unescaped markup from
/*	the input (no "<script", no NUL byte) and the closing tag at the
/*	end.
/*--*/
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "pages.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* check - a whole document without injected markup */
static void
check(struct buf *b)
{
	static const char end[] = "</html>\n";

	if (b->len < sizeof(end) - 1 ||
	    memcmp(b->data + b->len - (sizeof(end) - 1), end, sizeof(end) - 1))
		abort();
	if (memmem(b->data, b->len, "<script", 7) || memchr(b->data, 0, b->len))
		abort();
	buf_reset(b);
}

/* string_of - o[key] when a string, else a fallback */
static const char *
string_of(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : dflt;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)data, len, JSON_ALLOW_NUL, &err);
	struct page_ctx ctx;
	struct buf b;

	ctx.user = string_of(j, "query", "helpdesk");
	ctx.can_admin = len & 1;
	ctx.csrf = string_of(j, "now", "00ff");
	ctx.flash = len & 2 ? string_of(j, "query", NULL) : NULL;
	buf_init(&b);
	page_why(&b, &ctx, string_of(j, "query", ""), j);
	check(&b);
	page_overview(&b, &ctx, j);
	check(&b);
	page_why_error(&b, &ctx, ctx.user, err.text);
	check(&b);
	page_error(&b, &ctx, (unsigned)len, ctx.user);
	check(&b);
	page_search(&b, &ctx);
	check(&b);
	buf_free(&b);
	json_decref(j);
	return 0;
}
