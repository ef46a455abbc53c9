/*++
/* NAME
/*	logline 3
/* SUMMARY
/*	one event as a logfmt or JSON line, with escaping
/* DESCRIPTION
/*	Values come from the network (user names, addresses, reasons),
/*	so nothing is written raw: logfmt values are quoted when they
/*	hold a space, '=', '"', '\\', a control character or a byte
/*	that is not valid UTF-8, and those are escaped (\\n, \\t, \\r,
/*	\\" , \\\\, \\xNN). JSON strings escape the same set as \\uNNNN
/*	(a stray byte 0xNN becomes U+00NN, keeping the line valid JSON).
/*	One event is always one line, and a bounded one: a value longer
/*	than LOGLINE_VALUE_MAX bytes is cut there and marked with how
/*	much was left out, so that a 10 KiB user name cannot make a line
/*	that syslog cuts in the middle of its JSON.
/*--*/
#include <stdio.h>
#include <string.h>

#include "logline.h"

/* utf8_seq_len - length of a valid UTF-8 sequence at p, 0 if invalid */
static size_t
utf8_seq_len(const unsigned char *p, size_t len)
{
	size_t need, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* utf8_valid_prefix - bytes of p that are valid UTF-8 */
size_t
utf8_valid_prefix(const unsigned char *p, size_t len)
{
	size_t off = 0, n;

	while (off < len && (n = utf8_seq_len(p + off, len - off)) > 0)
		off += n;
	return off;
}

/* logfmt_needs_quotes - whether a value must be quoted */
static int
logfmt_needs_quotes(const unsigned char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return 1;
	for (i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] == '=' || p[i] == '"' ||
		    p[i] == '\\' || p[i] >= 0x7f)
			return 1;
	return 0;
}

/* escape_byte - append one escaped control/stray byte */
static void
escape_byte(struct logline *l, unsigned char c)
{
	if (c == '\n')
		buf_puts(&l->b, "\\n");
	else if (c == '\r')
		buf_puts(&l->b, "\\r");
	else if (c == '\t')
		buf_puts(&l->b, "\\t");
	else if (l->fmt == LOG_FORMAT_JSON)
		buf_printf(&l->b, "\\u%04x", c);
	else
		buf_printf(&l->b, "\\x%02x", c);
}

/* plain_run - bytes from p that need no escaping (printable ASCII) */
static size_t
plain_run(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
			break;
	return i;
}

/* append_escaped - the body of a quoted value */
static void
append_escaped(struct logline *l, const unsigned char *p, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = plain_run(p + i, len - i)) > 0) {
			buf_append(&l->b, p + i, n);
			i += n;
		} else if (p[i] == '"' || p[i] == '\\') {
			buf_putc(&l->b, '\\');
			buf_putc(&l->b, (char)p[i++]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			escape_byte(l, p[i++]);
		} else if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			escape_byte(l, p[i++]);
		} else {
			buf_append(&l->b, p + i, n);
			i += n;
		}
	}
}

/* logline_begin - start an event */
void
logline_begin(struct logline *l, enum log_format fmt)
{
	buf_init(&l->b);
	l->fmt = fmt;
	l->fields = 0;
	if (fmt == LOG_FORMAT_JSON)
		buf_putc(&l->b, '{');
}

/* logline_key - separator and key */
static void
logline_key(struct logline *l, const char *key)
{
	int json = l->fmt == LOG_FORMAT_JSON;

	if (l->fields)
		buf_putc(&l->b, json ? ',' : ' ');
	if (json)
		buf_putc(&l->b, '"');
	buf_puts(&l->b, key);
	buf_puts(&l->b, json ? "\":" : "=");
	l->fields++;
}

/* logline_mem - add a counted string value */
void
logline_mem(struct logline *l, const char *key, const char *val, size_t len)
{
	const unsigned char *p = (const unsigned char *)val;
	size_t cut = len > LOGLINE_VALUE_MAX ? LOGLINE_VALUE_MAX : len;
	int quote = l->fmt == LOG_FORMAT_JSON || cut < len ||
	    logfmt_needs_quotes(p, cut);
	char more[48];

	logline_key(l, key);
	if (quote)
		buf_putc(&l->b, '"');
	append_escaped(l, p, cut);
	if (cut < len) {
		snprintf(more, sizeof(more), "...(+%zu bytes)", len - cut);
		buf_append(&l->b, more, strlen(more));
	}
	if (quote)
		buf_putc(&l->b, '"');
}

/* logline_str - add a string value; NULL values are skipped */
void
logline_str(struct logline *l, const char *key, const char *val)
{
	if (val != NULL)
		logline_mem(l, key, val, strlen(val));
}

/* logline_uint - add a number */
void
logline_uint(struct logline *l, const char *key, unsigned long long v)
{
	char digits[24], *p = digits + sizeof(digits);

	logline_key(l, key);
	do {
		*--p = (char)('0' + v % 10);
	} while ((v /= 10) != 0);
	buf_append(&l->b, p, (size_t)(digits + sizeof(digits) - p));
}

/* logline_end - finish; the line stays valid until logline_free */
const char *
logline_end(struct logline *l)
{
	if (l->fmt == LOG_FORMAT_JSON)
		buf_putc(&l->b, '}');
	return buf_str(&l->b);
}

/* logline_free - release */
void
logline_free(struct logline *l)
{
	buf_free(&l->b);
}

/* escaped_value - one value, quoted and escaped as fmt wants, into b */
void
escaped_value(struct buf *b, enum log_format fmt, const char *val)
{
	struct logline l;
	size_t len = strlen(val);
	int quote = fmt == LOG_FORMAT_JSON ||
	    logfmt_needs_quotes((const unsigned char *)val, len);

	l.b = *b;
	l.fmt = fmt;
	l.fields = 0;
	if (quote)
		buf_putc(&l.b, '"');
	append_escaped(&l, (const unsigned char *)val, len);
	if (quote)
		buf_putc(&l.b, '"');
	*b = l.b;
}
