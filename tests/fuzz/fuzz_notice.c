/*++
/* NAME
/*	fuzz_notice 1
/* SUMMARY
/*	libFuzzer target: owner notices from any template and any facts
/* DESCRIPTION
/*	The bytes are cut at NUL bytes: the first piece is a template,
/*	the next ones the account, ip, rname, door, ref, to, from,
/*	server and message_id (an ordinary value when there are fewer
/*	pieces); the length picks the kind and the times. The template
/*	is parsed; when it cannot be, the kind's built-in template is
/*	rendered instead, so that the facts are always tried. A message
/*	must have only the expected headers, each once (Message-ID at
/*	most once), a continuation line only in the Subject, no CR, no
/*	line past 998 bytes (the Subject's past 78), and a body of
/*	printable ASCII lines of at most 76 bytes that decode to text
/*	with no control character but tab and LF and no right-to-left
/*	override that the template does not have;
/*	a refused render leaves the buffer as it was.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "notice.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

#define PIECES	10
#define RLO	"\xe2\x80\xae"	/* U+202E, the right-to-left override */

static const char *const names[] = {
	"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
	"X-Auto-Response-Suppress", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding",
};

#define NAMES	(sizeof(names) / sizeof(*names))
#define SUBJECT	2
#define MSGID	4

/* header_index - which expected header a line starts, or abort */
static size_t
header_index(const char *p, size_t len)
{
	size_t i, n;

	for (i = 0; i < NAMES; i++) {
		n = strlen(names[i]);
		if (len >= n + 1 && memcmp(p, names[i], n) == 0 && p[n] == ':')
			return i;
	}
	abort();
}

/* check_headers - the header block; where the body starts */
static const char *
check_headers(const char *p, const char *end)
{
	unsigned seen[NAMES] = {0};
	size_t i, last = NAMES;
	const char *e;

	for (; p < end && *p != '\n'; p = e + 1) {
		if ((e = memchr(p, '\n', end - p)) == NULL || e - p > 998)
			abort();
		if (*p == ' ' || *p == '\t') {
			if (last != SUBJECT || e - p > 78)
				abort();
			continue;
		}
		last = header_index(p, e - p);
		if (last == SUBJECT && e - p > 78)
			abort();
		seen[last]++;
	}
	if (p >= end)
		abort();			/* no blank line */
	for (i = 0; i < NAMES; i++)
		if (seen[i] != 1 && !(i == MSGID && seen[i] == 0))
			abort();
	return p + 1;
}

/* check_body - quoted-printable lines of printable ASCII */
static void
check_body(const char *p, const char *end)
{
	const char *e;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', end - p)) == NULL || e - p > 76)
			abort();
		if (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			abort();
		for (; p < e; p++)
			if ((*p < 0x20 || *p > 0x7e) && *p != '\t')
				abort();
	}
}

/* hexval - a hex digit's value; abort on anything else */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	abort();
}

/* check_decoded - the body as the owner reads it: no control but tab
 * and LF, no bidi override unless the template has one */
static void
check_decoded(const char *p, const char *end, int rlo_ok)
{
	struct buf d;
	size_t i;

	buf_init(&d);
	while (p < end) {
		if (*p == '=' && p + 1 < end && p[1] == '\n')
			p += 2;
		else if (*p == '=') {
			if (end - p < 3)
				abort();
			buf_putc(&d, (char)(hexval(p[1]) * 16 + hexval(p[2])));
			p += 3;
		} else
			buf_putc(&d, *p++);
	}
	for (i = 0; i < d.len; i++) {
		unsigned char c = (unsigned char)d.data[i];

		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			abort();
	}
	if (!rlo_ok && d.len && memmem(d.data, d.len, RLO, 3) != NULL)
		abort();
	buf_free(&d);
}

/* check_message - the invariants of a rendered notice */
static void
check_message(const struct buf *b, int rlo_ok)
{
	const char *end = b->data + b->len;
	const char *body;

	if (b->len == 0 || memchr(b->data, '\r', b->len) ||
	    memchr(b->data, 0, b->len))
		abort();
	body = check_headers(b->data, end);
	check_body(body, end);
	check_decoded(body, end, rlo_ok);
}

/* try - render t with f, check what comes out */
static void
try(const struct notice_template *t, const struct notice_facts *f, int rlo_ok)
{
	char err[256];
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "x");
	if (notice_render(t, f, &b, err, sizeof(err)) < 0) {
		if (b.len != 1 || err[0] == 0)
			abort();
	} else {
		buf_consume(&b, 1);
		check_message(&b, rlo_ok);
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	const char *piece[PIECES] = {"", "anna@example.org", "192.0.2.7",
	    "phone.example.net", "IMAP", "6Z467MG6BS", "anna@example.org",
	    "postmaster", "mail.example.org", "<n1@mail.example.org>"};
	char *copy = malloc(len + 1), *p, *end, err[256];
	struct notice_template *t;
	struct notice_facts f;
	size_t i, tlen;
	int rlo_ok;

	memcpy(copy, data, len);
	copy[len] = 0;
	end = copy + len;
	tlen = strlen(copy);
	piece[0] = copy;
	for (p = copy + tlen, i = 1; p < end && i < PIECES; i++) {
		piece[i] = ++p;
		p += strlen(p);
	}
	f = (struct notice_facts){(enum notice_kind)(len % NOTICE_KINDS),
	    piece[1], piece[6], piece[7], piece[2], piece[3], piece[4],
	    piece[5], piece[8], piece[9], (uint32_t)len * 7919u,
	    (uint32_t)len * 7919u + 3600, len & 1 ? 0 : 0xfffffff0u,
	    (uint32_t)(len * 2654435761u), (unsigned)len};
	err[0] = 0;
	t = notice_template_parse(copy, tlen, err, sizeof(err));
	if (t == NULL && strncmp(err, "line ", 5) != 0 &&
	    strncmp(err, "longer than", 11) != 0)
		abort();
	rlo_ok = t != NULL && memmem(copy, tlen, RLO, 3) != NULL;
	if (t == NULL)
		t = notice_template_parse(notice_template_default(f.kind),
		    strlen(notice_template_default(f.kind)), err, sizeof(err));
	if (t == NULL)
		abort();
	try(t, &f, rlo_ok);
	notice_template_free(t);
	free(copy);
	return 0;
}
