/*++
/* NAME
/*	notice 3
/* SUMMARY
/*	notices to an account's owner: kinds, templates, the message
/* SYNOPSIS
/*	#include "notice.h"
/*
/*	const char *notice_kind_name(enum notice_kind kind)
/*	int	notice_kind_lookup(const char *name)
/*
/*	const char *notice_template_default(enum notice_kind kind)
/*	struct notice_template *notice_template_parse(const char *text,
/*		size_t len, char *err, size_t errlen)
/*	void	notice_template_free(struct notice_template *t)
/*
/*	int	notice_render(const struct notice_template *t,
/*		const struct notice_facts *f, struct buf *out,
/*		char *err, size_t errlen)
/*
/*	int	notice_addr_ok(const char *addr)
/*	int	notice_rname_ok(const char *name)
/* DESCRIPTION
/*	A notice tells the owner of a mail account, in plain words, what
/*	the server saw and what to do about it. Nothing here does I/O.
/*
/*	notice_kind_name() gives a kind's name ("stale-password",
/*	"app-password-required", "lock", "password-guessing"), which is
/*	also the name of its template file without ".txt"; NULL for no
/*	kind. notice_kind_lookup() gives the kind of a name, or -1.
/*
/*	notice_template_default() gives the built-in template of a kind
/*	(NULL for no kind), the same text as conf-examples/notices.
/*
/*	notice_template_parse() reads a template (at most NOTICE_TEXT_MAX
/*	bytes): header lines, of which only Subject: is allowed (its name
/*	in any case), a blank line, the body. ${name} is a placeholder,
/*	$$ a dollar sign. A NUL byte, invalid UTF-8, a control character
/*	(but tab and the line end, LF or CR LF), another header, a second
/*	Subject:, no blank line after the headers, an unknown name, an
/*	unclosed ${ or a lone $ make it fail: NULL, and err has one line
/*	that names the line of the template. The template is kept in
/*	pieces (text, placeholder) so that notice_render() only copies.
/*	notice_template_free() frees it (NULL is fine).
/*
/*	notice_render() appends to out the whole message for
/*	"sendmail -t -oi", LF line ends: From:, To:, Subject: (RFC 2047
/*	Q encoded-words, each at most 75 characters, lines at most 78,
/*	when it is not short plain ASCII), Date: (from now), Message-ID:
/*	(left out when message_id is empty), Auto-Submitted:,
/*	X-Auto-Response-Suppress:, the MIME headers, a blank line and
/*	the body in quoted-printable (lines at most 76). Every value put
/*	in goes through one cleaner: control characters (C0, DEL, C1),
/*	the bidirectional controls, the line and paragraph separators and
/*	invalid UTF-8 become U+FFFD, and a value longer than 256 bytes is
/*	cut on a character boundary and ends in "...". An empty rname
/*	shows as "no reverse name"; a time shows as
/*	"2026-12-02 14:03:07 UTC", 0 as nothing. It returns 0, or -1
/*	with err set and out as it was when to is not notice_addr_ok(),
/*	from is neither an address nor a bare local part, message_id is
/*	not "<left@right>", the kind is none, or the body grows past
/*	NOTICE_TEXT_MAX bytes.
/*
/*	notice_addr_ok() says whether an address may go in To: as it is:
/*	local@domain, at most NOTICE_ADDR_MAX bytes, a dot-atom local part
/*	of at most 64 bytes (RFC 5322 atext, no quotes), a domain of ASCII
/*	letter-digit-hyphen labels and dots, one @: so no comma, space,
/*	angle bracket or line end can add a recipient or a header.
/*
/*	notice_rname_ok() says whether a reverse name is a host name:
/*	letter-digit-hyphen labels of 1 to 63 bytes and dots, at most 253
/*	bytes.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "html.h"
#include "notice.h"
#include "util.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */
#define VALUE_MAX	256		/* bytes of one value, then cut */
#define SUBJECT_MAX	900		/* bytes of the subject, then cut */
#define LOCAL_MAX	64		/* bytes of an address's local part */
#define NAME_MAX_LEN	253		/* bytes of a host name */
#define LABEL_MAX	63		/* bytes of one label */
#define MSGID_MAX	250		/* bytes of a Message-ID */
#define QP_LINE		76		/* RFC 2045 */
#define HEADER_LINE	78		/* RFC 5322's should */
#define EW_MAX		75		/* RFC 2047: one encoded-word */
#define EW_OPEN		"=?UTF-8?Q?"
#define EW_CLOSE	"?="

/* The placeholders, by their names. */
enum field {
	F_ACCOUNT, F_TO, F_FROM, F_IP, F_RNAME, F_DOOR, F_REF, F_FIRST,
	F_LAST, F_COUNT, F_UNTIL, F_SERVER, F_KIND, F_FIELDS,
	F_TEXT = F_FIELDS		/* a piece of the template's text */
};

static const char *const field_names[F_FIELDS] = {
	[F_ACCOUNT] = "account", [F_TO] = "to", [F_FROM] = "from",
	[F_IP] = "ip", [F_RNAME] = "rname", [F_DOOR] = "door",
	[F_REF] = "ref", [F_FIRST] = "first", [F_LAST] = "last",
	[F_COUNT] = "count", [F_UNTIL] = "until", [F_SERVER] = "server",
	[F_KIND] = "kind",
};

static const char *const kind_names[NOTICE_KINDS] = {
	[NOTICE_STALE_PASSWORD] = "stale-password",
	[NOTICE_APP_PASSWORD] = "app-password-required",
	[NOTICE_LOCK] = "lock",
	[NOTICE_GUESSING] = "password-guessing",
};

static const char *const defaults[NOTICE_KINDS] = {
	[NOTICE_STALE_PASSWORD] =
	"Subject: A mail app still uses your old password\n"
	"\n"
	"Hello,\n"
	"\n"
	"This is an automatic message from the mail server ${server} about\n"
	"your mail account ${account}.\n"
	"\n"
	"A phone or mail app at ${ip} (${rname}) still uses your old\n"
	"password: update the password in that app.\n"
	"\n"
	"What we saw: sign-ins over ${door} with a password that is no\n"
	"longer the right one, all from the same place.\n"
	"\n"
	"    Sign-ins:    ${count}\n"
	"    First seen:  ${first}\n"
	"    Last seen:   ${last}\n"
	"    Address:     ${ip} (${rname})\n"
	"    Reference:   ${ref}\n"
	"\n"
	"What to do: open the settings of the mail app on your phone,\n"
	"tablet or computer, find this account and type your current\n"
	"password there. Until then the app cannot fetch or send your mail,\n"
	"and if it keeps trying, the server may block it for a while.\n"
	"\n"
	"If you do not know this device, tell the helpdesk and quote the\n"
	"reference ${ref}.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n",

	[NOTICE_APP_PASSWORD] =
	"Subject: Your mail app needs an app password\n"
	"\n"
	"Hello,\n"
	"\n"
	"This is an automatic message from the mail server ${server} about\n"
	"your mail account ${account}.\n"
	"\n"
	"Your account uses two-step sign-in; the mail app must use an app\n"
	"password: create one and put it in the app instead of your account\n"
	"password.\n"
	"\n"
	"What we saw: sign-ins over ${door} with your account password,\n"
	"which mail apps cannot use on this account.\n"
	"\n"
	"    Sign-ins:    ${count}\n"
	"    First seen:  ${first}\n"
	"    Last seen:   ${last}\n"
	"    Address:     ${ip} (${rname})\n"
	"    Reference:   ${ref}\n"
	"\n"
	"What to do: create an app password where you manage your account,\n"
	"then open the settings of the mail app and put the app password in\n"
	"the place of your account password.\n"
	"\n"
	"If you need help, ask the helpdesk and quote the reference ${ref}.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n",

	[NOTICE_LOCK] =
	"Subject: Your mail account was locked for a while\n"
	"\n"
	"Hello,\n"
	"\n"
	"This is an automatic message from the mail server ${server} about\n"
	"your mail account ${account}.\n"
	"\n"
	"Your account was locked for a while after failed logins from\n"
	"addresses it has not used before (${ip}).\n"
	"\n"
	"What we saw: failed sign-ins over ${door}.\n"
	"\n"
	"    Failed:      ${count}\n"
	"    First seen:  ${first}\n"
	"    Last seen:   ${last}\n"
	"    Address:     ${ip} (${rname})\n"
	"    Reference:   ${ref}\n"
	"    Open again:  ${until}\n"
	"\n"
	"What to do: if that was not you, nothing is needed, but consider\n"
	"changing your password. Your account opens again at\n"
	"${until}.\n"
	"\n"
	"If you need help, ask the helpdesk and quote the reference ${ref}.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n",

	[NOTICE_GUESSING] =
	"Subject: Someone is trying to guess your mail password\n"
	"\n"
	"Hello,\n"
	"\n"
	"This is an automatic message from the mail server ${server} about\n"
	"your mail account ${account}.\n"
	"\n"
	"Someone is trying many passwords against your account from ${ip}.\n"
	"\n"
	"What we saw: failed sign-ins over ${door}.\n"
	"\n"
	"    Failed:      ${count}\n"
	"    First seen:  ${first}\n"
	"    Last seen:   ${last}\n"
	"    Address:     ${ip} (${rname})\n"
	"    Reference:   ${ref}\n"
	"\n"
	"What to do: if your password is weak or reused, change it. A good\n"
	"password is long and used nowhere else.\n"
	"\n"
	"If you need help, ask the helpdesk and quote the reference ${ref}.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n",
};

/* One piece of a template: text in lit, or a placeholder. */
struct seg {
	enum field	 field;
	size_t		 off;		/* F_TEXT: where in lit */
	size_t		 len;
};

struct segs {
	struct seg	*v;
	size_t		 n;
	size_t		 cap;
};

struct notice_template {
	struct buf	 lit;		/* the text pieces, $$ made $ */
	struct segs	 subject;
	struct segs	 body;
};

/* A template being read. */
struct parser {
	const char	*p;
	const char	*end;
	unsigned	 line;
	struct notice_template *t;
	char		*err;
	size_t		 errlen;
};

/* The values of one render, cleaned, in one buffer. */
struct values {
	struct buf	 b;
	size_t		 off[F_FIELDS];
	size_t		 len[F_FIELDS];
};

/* notice_kind_name - a kind's name, NULL for none */
const char *
notice_kind_name(enum notice_kind kind)
{
	return (unsigned)kind < NOTICE_KINDS ? kind_names[kind] : NULL;
}

/* notice_kind_lookup - the kind of a name, -1 for none */
int
notice_kind_lookup(const char *name)
{
	int k;

	for (k = 0; name != NULL && k < NOTICE_KINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

/* notice_template_default - a kind's built-in template */
const char *
notice_template_default(enum notice_kind kind)
{
	return (unsigned)kind < NOTICE_KINDS ? defaults[kind] : NULL;
}

/* field_lookup - the placeholder of a name, -1 for none */
static int
field_lookup(const char *name, size_t len)
{
	int f;

	for (f = 0; f < F_FIELDS; f++)
		if (strlen(field_names[f]) == len &&
		    memcmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

/* fail - set the error, with the line; -1 */
static int
fail(struct parser *ps, const char *what)
{
	if (ps->err != NULL && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "line %u: %s", ps->line, what);
	return -1;
}

/* seg_add - one more piece */
static void
seg_add(struct segs *s, enum field field, size_t off, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n].field = field;
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	s->n++;
}

/* text_flush - the text since start as one piece, if any */
static void
text_flush(struct notice_template *t, struct segs *s, size_t *start)
{
	if (t->lit.len > *start)
		seg_add(s, F_TEXT, *start, t->lit.len - *start);
	*start = t->lit.len;
}

/* template_char_ok - length of an allowed character at p, 0 if none */
static size_t
template_char_ok(const unsigned char *p, size_t len)
{
	size_t n = html_utf8_seq(p, len);

	if (n == 1 && p[0] < 0x20)
		return p[0] == '\t' || p[0] == '\n' ||
		    (p[0] == '\r' && len > 1 && p[1] == '\n');
	if (n == 1 && p[0] == 0x7f)
		return 0;
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;			/* a C1 control */
	return n;
}

/* template_check - every byte allowed, or fail naming the line */
static int
template_check(struct parser *ps, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n;

	ps->line = 1;
	while (i < len) {
		if (p[i] == 0)
			return fail(ps, "a NUL byte");
		if ((n = template_char_ok(p + i, len - i)) == 0)
			return fail(ps, html_utf8_seq(p + i, len - i) ?
			    "a control character" : "invalid UTF-8");
		if (p[i] == '\n')
			ps->line++;
		i += n;
	}
	return 0;
}

/* placeholder - the ${name} at ps->p into s; 0, or -1 */
static int
placeholder(struct parser *ps, struct segs *s, const char *end)
{
	const char *name = ps->p + 2, *close;
	char what[96];
	size_t n;
	int f;

	for (close = name; close < end && *close != '}' && *close != '\n';)
		close++;
	if (close >= end || *close != '}')
		return fail(ps, "${ is not closed by }");
	n = close - name;
	if ((f = field_lookup(name, n)) < 0) {
		if (n <= 32 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") >= n)
			snprintf(what, sizeof(what),
			    "unknown placeholder ${%.*s}", (int)n, name);
		else
			snprintf(what, sizeof(what), "unknown placeholder");
		return fail(ps, what);
	}
	seg_add(s, (enum field)f, 0, 0);
	ps->p = close + 1;
	return 0;
}

/* pieces - the text from ps->p to end into s; 0, or -1 */
static int
pieces(struct parser *ps, struct segs *s, const char *end)
{
	struct notice_template *t = ps->t;
	size_t start = t->lit.len;

	while (ps->p < end) {
		char c = *ps->p;

		if (c == '$' && ps->p + 1 < end && ps->p[1] == '$') {
			buf_putc(&t->lit, '$');
			ps->p += 2;
			continue;
		}
		if (c == '$' && (ps->p + 1 >= end || ps->p[1] != '{'))
			return fail(ps, "a lone $ (write $$ for a dollar sign)");
		if (c == '$') {
			text_flush(t, s, &start);
			if (placeholder(ps, s, end) < 0)
				return -1;
			start = t->lit.len;
			continue;
		}
		if (c == '\n')
			ps->line++;
		if (c != '\r')			/* checked: before LF */
			buf_putc(&t->lit, c);
		ps->p++;
	}
	text_flush(t, s, &start);
	return 0;
}

/* line_end - the end of the line at p, CR LF or LF not included */
static const char *
line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', end - p);

	if (nl == NULL)
		return *next = end;
	*next = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

/* header - one header line of a template; 0, or -1 */
static int
header(struct parser *ps, const char *e, int *seen)
{
	static const char name[] = "Subject:";
	const char *v = ps->p + sizeof(name) - 1;

	if (*ps->p == ' ' || *ps->p == '\t')
		return fail(ps, "a header cannot go on over two lines");
	if ((size_t)(e - ps->p) < sizeof(name) - 1 ||
	    strncasecmp(ps->p, name, sizeof(name) - 1) != 0)
		return fail(ps, "only a Subject: line may come before the "
		    "blank line that starts the body");
	if ((*seen)++)
		return fail(ps, "a second Subject: line");
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	ps->p = v;
	return pieces(ps, &ps->t->subject, e);
}

/* headers - the header lines, up to and past the blank line */
static int
headers(struct parser *ps)
{
	const char *e, *next;
	int seen = 0;

	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "the file ends before the blank line "
			    "that starts the body");
		e = line_end(ps->p, ps->end, &next);
		if (e == ps->p)
			break;
		if (header(ps, e, &seen) < 0)
			return -1;
		if (next == ps->end)
			return fail(ps, "the file ends before the blank line "
			    "that starts the body");
		ps->p = next;
		ps->line++;
	}
	if (!seen)
		return fail(ps, "no Subject: line before the blank line");
	ps->p = next;
	ps->line++;
	return 0;
}

/* notice_template_parse - a template from its text */
struct notice_template *
notice_template_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = {text, text + len, 1, NULL, err, errlen};

	if (len > NOTICE_TEXT_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "longer than %u bytes",
			    (unsigned)NOTICE_TEXT_MAX);
		return NULL;
	}
	if (template_check(&ps, text, len) < 0)
		return NULL;
	ps.line = 1;
	ps.t = xcalloc(1, sizeof(*ps.t));
	buf_init(&ps.t->lit);
	if (headers(&ps) < 0 || pieces(&ps, &ps.t->body, ps.end) < 0) {
		notice_template_free(ps.t);
		return NULL;
	}
	return ps.t;
}

/* notice_template_free - let a template go */
void
notice_template_free(struct notice_template *t)
{
	if (t == NULL)
		return;
	buf_free(&t->lit);
	free(t->subject.v);
	free(t->body.v);
	free(t);
}

/* shown_as_is - a valid sequence that is no control, bidi control or
 * line or paragraph separator */
static int
shown_as_is(const unsigned char *p, size_t n)
{
	unsigned cp;

	if (n == 1)
		return p[0] >= 0x20 && p[0] != 0x7f;
	if (n == 2)
		return !(p[0] == 0xc2 && p[1] < 0xa0) &&
		    !(p[0] == 0xd8 && p[1] == 0x9c);	/* U+061C */
	if (n != 3)
		return 1;
	cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	return !(cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
	    cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069));
}

/* clean - append s with every unsafe character made U+FFFD, cut at max */
static void
clean(struct buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, out = 0, n;

	while (i < len) {
		const char *piece = s + i;
		size_t plen = n = html_utf8_seq(p + i, len - i);

		if (n == 0 || !shown_as_is(p + i, n)) {
			piece = REPLACEMENT;
			plen = sizeof(REPLACEMENT) - 1;
			n = n ? n : 1;
		}
		if (out + plen > max) {
			buf_puts(b, ELLIPSIS);
			return;
		}
		buf_append(b, piece, plen);
		out += plen;
		i += n;
	}
}

/* time_text - append a time as "2026-12-02 14:03:07 UTC"; 0 as nothing */
static void
time_text(struct buf *b, uint32_t t)
{
	time_t tt = t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return;
	buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* value_text - append the text of one placeholder */
static void
value_text(struct buf *b, enum field f, const struct notice_facts *nf)
{
	const char *const str[F_FIELDS] = {
		[F_ACCOUNT] = nf->account, [F_TO] = nf->to,
		[F_FROM] = nf->from, [F_IP] = nf->ip, [F_RNAME] = nf->rname,
		[F_DOOR] = nf->door, [F_REF] = nf->ref,
		[F_SERVER] = nf->server, [F_KIND] = notice_kind_name(nf->kind),
	};
	const uint32_t times[F_FIELDS] = {
		[F_FIRST] = nf->first, [F_LAST] = nf->last,
		[F_UNTIL] = nf->until,
	};

	if (f == F_COUNT)
		buf_printf(b, "%u", nf->count);
	else if (f == F_FIRST || f == F_LAST || f == F_UNTIL)
		time_text(b, times[f]);
	else if (f == F_RNAME && *nf->rname == 0)
		buf_puts(b, "no reverse name");
	else
		clean(b, str[f], VALUE_MAX);
}

/* values_make - every placeholder's text for these facts */
static void
values_make(struct values *v, const struct notice_facts *nf)
{
	int f;

	buf_init(&v->b);
	for (f = 0; f < F_FIELDS; f++) {
		v->off[f] = v->b.len;
		value_text(&v->b, (enum field)f, nf);
		v->len[f] = v->b.len - v->off[f];
	}
}

/* expand - the pieces with the values put in; -1 when past max */
static int
expand(struct buf *b, const struct notice_template *t, const struct segs *s,
    const struct values *v, size_t max)
{
	const struct seg *g;
	size_t i;

	for (i = 0; i < s->n; i++) {
		g = s->v + i;
		if (g->field == F_TEXT)
			buf_append(b, t->lit.data + g->off, g->len);
		else
			buf_append(b, v->b.data + v->off[g->field],
			    v->len[g->field]);
		if (b->len > max)
			return -1;
	}
	return 0;
}

/* cut - shorten b to at most max bytes on a character boundary, "..." */
static void
cut(struct buf *b, size_t max)
{
	size_t n = max;

	if (b->len <= max)
		return;
	while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
		n--;
	b->len = n;
	buf_puts(b, ELLIPSIS);
}

/* is_atext - an RFC 5322 atext character */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~",
	    c) != NULL);
}

/* is_ldh - a letter, digit or hyphen */
static int
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* dot_atom_ok - atext runs joined by single dots */
static int
dot_atom_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return 0;
	return 1;
}

/* domain_ok - LDH labels of 1 to 63 bytes joined by dots */
static int
domain_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > LABEL_MAX ||
			    s[i - label] == '-' || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (!is_ldh(s[i]))
			return 0;
		else
			label++;
	}
	return 1;
}

/* notice_addr_ok - an address that may go in To: as it is */
int
notice_addr_ok(const char *s)
{
	const char *at;
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > NOTICE_ADDR_MAX)
		return 0;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	return (size_t)(at - s) <= LOCAL_MAX && dot_atom_ok(s, at - s) &&
	    domain_ok(at + 1, len - (at - s) - 1);
}

/* notice_rname_ok - a host name */
int
notice_rname_ok(const char *s)
{
	return s != NULL && domain_ok(s, strlen(s));
}

/* notice_from_ok - notify_from: an address, or a bare local part */
int
notice_from_ok(const char *s)
{
	size_t len = strlen(s);

	return notice_addr_ok(s) || (len <= LOCAL_MAX && dot_atom_ok(s, len));
}

/* msgid_ok - "<left@right>", both dot-atoms */
static int
msgid_ok(const char *s)
{
	size_t len = strlen(s);
	const char *at = memchr(s, '@', len);

	if (len < 5 || len > MSGID_MAX || s[0] != '<' || s[len - 1] != '>' ||
	    at == NULL)
		return 0;
	return dot_atom_ok(s + 1, at - s - 1) &&
	    dot_atom_ok(at + 1, s + len - 1 - at - 1);
}

/* facts_check - what must hold before anything is written */
static const char *
facts_check(const struct notice_facts *f)
{
	if (notice_kind_name(f->kind) == NULL)
		return "no such notice kind";
	if (!notice_addr_ok(f->to))
		return "the owner's address is not one a notice may go to";
	if (!notice_from_ok(f->from))
		return "the sender is neither an address nor a local part";
	if (*f->message_id && !msgid_ok(f->message_id))
		return "the Message-ID is not <left@right>";
	return NULL;
}

/* subject_plain - short printable ASCII that needs no encoding */
static int
subject_plain(const char *s, size_t len)
{
	size_t i;

	if (len + sizeof("Subject: ") - 1 > HEADER_LINE ||
	    memmem(s, len, "=?", 2) != NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* q_char - one character in RFC 2047 Q form into out; its length */
static size_t
q_char(char *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (n == 1 && p[0] == ' ') {
		out[0] = '_';
		return 1;
	}
	if (n == 1 && ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' &&
	    p[0] <= 'Z') || (p[0] >= '0' && p[0] <= '9') ||
	    strchr("!*+-/", p[0]) != NULL)) {
		out[0] = p[0];
		return 1;
	}
	for (i = 0; i < n; i++) {
		out[o++] = '=';
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 15];
	}
	return o;
}

/* subject_encoded - Subject: as Q encoded-words, folded */
static void
subject_encoded(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t lead = sizeof("Subject: ") - 1, over = sizeof(EW_OPEN EW_CLOSE) - 1;
	size_t room = HEADER_LINE - lead - over, used = 0, i = 0, n, qn;
	char q[12];
	int open = 0;

	buf_puts(b, "Subject: ");
	while (i < len) {
		if ((n = html_utf8_seq(p + i, len - i)) == 0)
			n = 1;			/* cannot be: cleaned */
		qn = q_char(q, p + i, n);
		if (open && used + qn > room) {
			buf_puts(b, EW_CLOSE "\n ");
			open = 0;
			room = EW_MAX - over;
		}
		if (!open) {
			buf_puts(b, EW_OPEN);
			open = 1;
			used = 0;
		}
		buf_append(b, q, qn);
		used += qn;
		i += n;
	}
	if (open)
		buf_puts(b, EW_CLOSE);
	buf_putc(b, '\n');
}

/* date_header - Date: in RFC 5322 form, UTC */
static void
date_header(struct buf *b, uint32_t now)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = now;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return;
	buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* qp_plain - a byte that may stand as itself at this place of a line */
static int
qp_plain(const unsigned char *p, size_t i, size_t n, size_t col)
{
	unsigned char c = p[i];

	if (c == ' ' || c == '\t')
		return i + 1 < n;		/* not at the end of the line */
	if (c < 0x21 || c > 0x7e || c == '=')
		return 0;
	if (col == 0 && (c == '.' || (c == 'F' && n - i >= 5 &&
	    memcmp(p + i, "From ", 5) == 0)))
		return 0;			/* for SMTP and mbox */
	return 1;
}

/* qp_line - one line of the body in quoted-printable, soft breaks */
static void
qp_line(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0, w;
	int plain;

	for (i = 0; i < n; i++) {
		plain = qp_plain(p, i, n, col);
		w = plain ? 1 : 3;
		if (col + w > (i + 1 == n ? QP_LINE : QP_LINE - 1)) {
			buf_append(b, "=\n", 2);
			col = 0;
			plain = qp_plain(p, i, n, col);
			w = plain ? 1 : 3;
		}
		if (plain)
			buf_putc(b, (char)p[i]);
		else {
			buf_putc(b, '=');
			buf_putc(b, hex[p[i] >> 4]);
			buf_putc(b, hex[p[i] & 15]);
		}
		col += w;
	}
	buf_putc(b, '\n');
}

/* qp_body - the body in quoted-printable, LF line ends */
static void
qp_body(struct buf *b, const char *s, size_t len)
{
	const char *nl;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		if (nl == NULL) {
			qp_line(b, (const unsigned char *)s, len);
			return;
		}
		qp_line(b, (const unsigned char *)s, nl - s);
		len -= nl + 1 - s;
		s = nl + 1;
	}
}

/* headers_out - the header block and the blank line */
static void
headers_out(struct buf *b, const struct notice_facts *f, struct buf *subj)
{
	buf_printf(b, "From: %s\nTo: %s\n", f->from, f->to);
	if (subject_plain(subj->data ? subj->data : "", subj->len))
		buf_printf(b, "Subject: %s\n", subj->len ? subj->data : "");
	else
		subject_encoded(b, subj->data, subj->len);
	date_header(b, f->now);
	if (*f->message_id)
		buf_printf(b, "Message-ID: %s\n", f->message_id);
	buf_puts(b, "Auto-Submitted: auto-generated\n"
	    "X-Auto-Response-Suppress: All\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n");
}

/* facts_copy - the facts with every NULL string made empty */
static void
facts_copy(struct notice_facts *to, const struct notice_facts *from)
{
	const char **const s[] = {&to->account, &to->to, &to->from, &to->ip,
	    &to->rname, &to->door, &to->ref, &to->server, &to->message_id};
	size_t i;

	*to = *from;
	for (i = 0; i < sizeof(s) / sizeof(*s); i++)
		if (*s[i] == NULL)
			*s[i] = "";
}

/* notice_render - the whole message, for sendmail -t */
int
notice_render(const struct notice_template *t, const struct notice_facts *in,
    struct buf *out, char *err, size_t errlen)
{
	struct notice_facts facts, *f = &facts;
	struct values v;
	struct buf subj, body;
	const char *why;
	int rc = -1;

	facts_copy(f, in);
	why = facts_check(f);

	if (why != NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", why);
		return -1;
	}
	values_make(&v, f);
	buf_init(&subj);
	buf_init(&body);
	if (expand(&subj, t, &t->subject, &v, NOTICE_TEXT_MAX) < 0 ||
	    expand(&body, t, &t->body, &v, NOTICE_TEXT_MAX) < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "the message is longer than %u "
			    "bytes", (unsigned)NOTICE_TEXT_MAX);
	} else {
		cut(&subj, SUBJECT_MAX);
		headers_out(out, f, &subj);
		qp_body(out, body.data ? body.data : "", body.len);
		rc = 0;
	}
	buf_free(&subj);
	buf_free(&body);
	buf_free(&v.b);
	return rc;
}
