/*++
/* NAME
/*	buf 3
/* SUMMARY
/*	growable byte buffer that wipes what it lets go
/* DESCRIPTION
/*	Network buffers here carry SASL responses, hence passwords.
/*	Every byte that leaves a buffer (consumed, reset, reallocated
/*	away or freed) is cleared first, so no copy of a secret lingers
/*	in freed heap memory.
/*--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

/* buf_init - empty buffer */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* buf_free - wipe and release */
void
buf_free(struct buf *b)
{
	wipe_free(b->data, b->cap);
	buf_init(b);
}

/* buf_reserve - make room for len more bytes plus a terminator */
void
buf_reserve(struct buf *b, size_t len)
{
	size_t need = b->len + len + 1;
	size_t cap;
	char *p;

	if (need <= b->cap)
		return;
	for (cap = b->cap ? b->cap : 64; cap < need; cap *= 2)
		;
	p = xmalloc(cap);
	if (b->len)
		memcpy(p, b->data, b->len);
	wipe_free(b->data, b->cap);
	b->data = p;
	b->cap = cap;
}

/* buf_append_slow - add bytes, growing the buffer */
void
buf_append_slow(struct buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	buf_reserve(b, len);
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = 0;
}

/* buf_puts - add a string */
void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* buf_printf - add formatted text */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* buf_consume - drop n bytes from the front, wiping them */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	wipe(b->data + b->len - n, n);
	b->len -= n;
	b->data[b->len] = 0;
}

/* buf_reset - empty the buffer, keeping its memory */
void
buf_reset(struct buf *b)
{
	wipe(b->data, b->len);
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

/* buf_str - contents as a string (never NULL) */
const char *
buf_str(struct buf *b)
{
	return b->data ? b->data : "";
}
