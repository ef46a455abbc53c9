/*++
/* NAME
/*	test_notice 1
/* SUMMARY
/*	unit tests: owner notices' templates and messages
/* DESCRIPTION
/*	The messages are read back here as a mail reader would: the
/*	header block line by line, the Subject's encoded-words and the
/*	quoted-printable body decoded, so that what the owner sees is
/*	what is checked.
/*--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "notice.h"
#include "unit.h"
#include "util.h"

#define FFFD	"\xef\xbf\xbd"
#define T_FIRST	1796216400u		/* 2026-12-02 13:00:00 UTC */
#define T_LAST	1796220187u		/* 2026-12-02 14:03:07 UTC */
#define T_UNTIL	1796225400u		/* 2026-12-02 15:30:00 UTC */

/* The headers a notice has, in order; Message-ID may be left out. */
static const char *const header_names[] = {
	"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
	"X-Auto-Response-Suppress", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding",
};

/* facts - the facts of an ordinary notice */
static struct notice_facts
facts(void)
{
	struct notice_facts f = {
		NOTICE_STALE_PASSWORD, "anna@example.org", "anna@example.org",
		"postmaster", "192.0.2.7", "phone.example.net", "IMAP",
		"6Z467MG6BS", "mail.example.org", "<n1a2b3@mail.example.org>",
		T_FIRST, T_LAST, 0, T_LAST, 5,
	};

	return f;
}

/* render - parse text and render it with f into b (initialised here) */
static int
render(const char *text, const struct notice_facts *f, struct buf *b)
{
	char err[256] = "";
	struct notice_template *t;
	int rc;

	buf_init(b);
	t = notice_template_parse(text, strlen(text), err, sizeof(err));
	if (t == NULL) {
		printf("# parse: %s\n", err);
		return -2;
	}
	rc = notice_render(t, f, b, err, sizeof(err));
	if (rc < 0)
		printf("# render: %s\n", err);
	notice_template_free(t);
	return rc;
}

/* body_of - where the body starts, after the blank line */
static const char *
body_of(const char *msg)
{
	const char *p = strstr(msg, "\n\n");

	return p ? p + 2 : msg + strlen(msg);
}

/* hexval - a hex digit's value, -1 for none */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* qp_decode - the body as text; 0, or -1 when it is not valid QP */
static int
qp_decode(const char *s, struct buf *out)
{
	buf_init(out);
	while (*s) {
		if (*s == '=' && s[1] == '\n')
			s += 2;
		else if (*s == '=') {
			if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
				return -1;
			buf_putc(out, (char)(hexval(s[1]) * 16 + hexval(s[2])));
			s += 3;
		} else
			buf_putc(out, *s++);
	}
	return 0;
}

/* header_value - a header's value, unfolded, into out; 0 if found */
static int
header_value(const char *msg, const char *name, struct buf *out)
{
	const char *p = msg, *end = body_of(msg), *e;
	size_t n = strlen(name);

	buf_init(out);
	for (; p < end; p = e + 1) {
		e = strchr(p, '\n');
		if (strncmp(p, name, n) != 0 || p[n] != ':' || p[n + 1] != ' ')
			continue;
		buf_append(out, p + n + 2, e - p - n - 2);
		while (e[1] == ' ') {		/* folded: the line end goes */
			p = e + 1;
			e = strchr(p, '\n');
			buf_append(out, p, e - p);
		}
		return 0;
	}
	return -1;
}

/* ew_decode - an unfolded Subject's encoded-words as text; -1 if bad */
static int
ew_decode(const char *s, struct buf *out)
{
	static const char open[] = "=?UTF-8?Q?";
	const char *e;

	buf_init(out);
	while (*s) {
		if (strncmp(s, open, sizeof(open) - 1) != 0)
			return -1;
		s += sizeof(open) - 1;
		if ((e = strstr(s, "?=")) == NULL)
			return -1;
		for (; s < e; s++) {
			if (*s == '_')
				buf_putc(out, ' ');
			else if (*s == '=') {
				if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
					return -1;
				buf_putc(out, (char)(hexval(s[1]) * 16 +
				    hexval(s[2])));
				s += 2;
			} else if (*s <= ' ' || *s == '?' || *s > '~')
				return -1;
			else
				buf_putc(out, *s);
		}
		s = e + 2;
		while (*s == ' ')		/* between two words: nothing */
			s++;
	}
	return 0;
}

/* subject_text - the Subject as the owner reads it */
static void
subject_text(const char *msg, struct buf *out)
{
	struct buf raw;

	CHECK(header_value(msg, "Subject", &raw) == 0);
	if (strncmp(buf_str(&raw), "=?", 2) == 0)
		CHECK(ew_decode(buf_str(&raw), out) == 0);
	else {
		buf_init(out);
		buf_puts(out, buf_str(&raw));
	}
	buf_free(&raw);
}

/* known_header - the line starts one of the expected headers */
static int
known_header(const char *line, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(header_names) / sizeof(*header_names); i++) {
		n = strlen(header_names[i]);
		if (len > n + 1 && memcmp(line, header_names[i], n) == 0 &&
		    line[n] == ':' && line[n + 1] == ' ')
			return (int)i + 1;
	}
	return 0;
}

/* check_shape - headers as expected, each once; lines within limits */
static void
check_shape(const char *msg)
{
	const char *p = msg, *e, *body = body_of(msg);
	int seen[16] = {0}, k;
	size_t i;

	CHECK(strchr(msg, '\r') == NULL);
	for (; p < body - 1; p = e + 1) {
		e = strchr(p, '\n');
		CHECK(e - p <= 78);
		if (*p == ' ' && p != msg)
			continue;		/* folded: only the Subject is */
		k = known_header(p, e - p);
		CHECK(k > 0);
		if (k > 0)
			seen[k]++;
	}
	for (i = 0; i < sizeof(header_names) / sizeof(*header_names); i++)
		CHECK(seen[i + 1] == 1 || (seen[i + 1] == 0 &&
		    strcmp(header_names[i], "Message-ID") == 0));
	for (p = body; *p; p = e + 1) {
		e = strchr(p, '\n');
		CHECK(e != NULL);
		if (e == NULL)
			break;
		CHECK(e - p <= 76);
		CHECK(e == p || (e[-1] != ' ' && e[-1] != '\t'));
	}
}

/* top_file - the text of a file below the source tree ($AUTHGUARD_TOP) */
static char *
top_file(const char *name)
{
	const char *top = getenv("AUTHGUARD_TOP");
	char path[4096], chunk[4096], *text;
	struct buf b;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", top && *top ? top : ".", name);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("# %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	text = xstrdup(buf_str(&b));
	buf_free(&b);
	return text;
}

TEST(notice_kind_names)
{
	int k;

	CHECK_STR(notice_kind_name(NOTICE_STALE_PASSWORD), "stale-password");
	CHECK_STR(notice_kind_name(NOTICE_APP_PASSWORD),
	    "app-password-required");
	CHECK_STR(notice_kind_name(NOTICE_LOCK), "lock");
	CHECK_STR(notice_kind_name(NOTICE_GUESSING), "password-guessing");
	CHECK(notice_kind_name(NOTICE_KINDS) == NULL);
	for (k = 0; k < NOTICE_KINDS; k++)
		CHECK(notice_kind_lookup(notice_kind_name(k)) == k);
	CHECK(notice_kind_lookup("Lock") == -1);
	CHECK(notice_kind_lookup("") == -1);
	CHECK(notice_kind_lookup("lock ") == -1);
	CHECK(notice_kind_lookup(NULL) == -1);
	CHECK(notice_template_default(NOTICE_KINDS) == NULL);
}

TEST(notice_defaults_render)
{
	static const char *const says[NOTICE_KINDS] = {
		"still uses your old\npassword: update the password in that app",
		"must use an app\npassword: create one",
		"opens again at\n2026-12-02 15:30:00 UTC",
		("Someone is trying many passwords against your account from "
		    "192.0.2.7"),
	};
	struct notice_facts f = facts();
	struct buf b, text, subj;
	int k;

	for (k = 0; k < NOTICE_KINDS; k++) {
		f.kind = k;
		f.until = k == NOTICE_LOCK ? T_UNTIL : 0;
		CHECK(render(notice_template_default(k), &f, &b) == 0);
		check_shape(buf_str(&b));
		CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
		if (strcasestr(buf_str(&text), says[k]) == NULL)
			printf("# %s: no \"%s\"\n", notice_kind_name(k), says[k]);
		CHECK(strcasestr(buf_str(&text), says[k]) != NULL);
		CHECK(strstr(buf_str(&text), "192.0.2.7 (phone.example.net)"));
		CHECK(strstr(buf_str(&text), "6Z467MG6BS"));
		CHECK(strstr(buf_str(&text), "over IMAP"));
		CHECK(strstr(buf_str(&text), "2026-12-02 13:00:00 UTC"));
		CHECK(strstr(buf_str(&text), "2026-12-02 14:03:07 UTC"));
		CHECK(strstr(buf_str(&text), "${") == NULL);
		CHECK(strcasestr(buf_str(&text), "fingerprint") == NULL);
		subject_text(buf_str(&b), &subj);
		CHECK(subj.len > 10);
		buf_free(&subj);
		buf_free(&text);
		buf_free(&b);
	}
}

TEST(notice_defaults_are_conf_examples)
{
	char name[128], *text;
	int k;

	for (k = 0; k < NOTICE_KINDS; k++) {
		snprintf(name, sizeof(name), "conf-examples/notices/%s.txt",
		    notice_kind_name(k));
		text = top_file(name);
		CHECK(text != NULL);
		CHECK(text != NULL &&
		    strcmp(text, notice_template_default(k)) == 0);
		free(text);
	}
}

TEST(notice_every_placeholder)
{
	static const char tmpl[] =
	    "subject: ${kind} for ${account}\n"
	    "\n"
	    "account=${account}|to=${to}|from=${from}|ip=${ip}|\n"
	    "rname=${rname}|door=${door}|ref=${ref}|first=${first}|\n"
	    "last=${last}|count=${count}|until=${until}|server=${server}|\n"
	    "kind=${kind}|$$5 $${ip}\n";
	static const char want[] =
	    "account=anna@example.org|to=anna@example.org|from=postmaster|"
	    "ip=192.0.2.7|\nrname=phone.example.net|door=IMAP|ref=6Z467MG6BS|"
	    "first=2026-12-02 13:00:00 UTC|\nlast=2026-12-02 14:03:07 UTC|"
	    "count=5|until=2026-12-02 15:30:00 UTC|server=mail.example.org|\n"
	    "kind=lock|$5 ${ip}\n";
	struct notice_facts f = facts();
	struct buf b, text, subj;

	f.kind = NOTICE_LOCK;
	f.until = T_UNTIL;
	CHECK(render(tmpl, &f, &b) == 0);
	check_shape(buf_str(&b));
	CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
	CHECK_STR(buf_str(&text), want);
	subject_text(buf_str(&b), &subj);
	CHECK_STR(buf_str(&subj), "lock for anna@example.org");
	CHECK(strstr(buf_str(&b), "\nSubject: lock for anna@example.org\n"));
	buf_free(&subj);
	buf_free(&text);
	buf_free(&b);

	f.until = 0;
	f.rname = "";
	CHECK(render("Subject: x\n\n[${until}] [${rname}]\n", &f, &b) == 0);
	CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
	CHECK_STR(buf_str(&text), "[] [no reverse name]\n");
	buf_free(&text);
	buf_free(&b);
}

TEST(notice_headers)
{
	struct notice_facts f = facts();
	struct buf b;

	CHECK(render("Subject: Hello\r\n\r\nBody\r\n", &f, &b) == 0);
	CHECK_STR(buf_str(&b),
	    "From: postmaster\n"
	    "To: anna@example.org\n"
	    "Subject: Hello\n"
	    "Date: Wed, 02 Dec 2026 14:03:07 +0000\n"
	    "Message-ID: <n1a2b3@mail.example.org>\n"
	    "Auto-Submitted: auto-generated\n"
	    "X-Auto-Response-Suppress: All\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Body\n");
	buf_free(&b);
	f.message_id = "";
	f.from = "postmaster@example.org";
	CHECK(render("Subject: Hello\n\nBody", &f, &b) == 0);
	CHECK(strstr(buf_str(&b), "Message-ID") == NULL);
	CHECK(strncmp(buf_str(&b), "From: postmaster@example.org\n", 29) == 0);
	CHECK(strcmp(body_of(buf_str(&b)), "Body\n") == 0);
	check_shape(buf_str(&b));
	buf_free(&b);
}

TEST(notice_subject_encoded)
{
	static const char *const subjects[] = {
		"Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen: ${account}",
		"=?UTF-8?Q?not_mine?= plain words",
		"tab\there and ?_= marks",
		"A very long plain subject line that goes on and on and on past "
		    "the seventy-eight characters of one header line",
		"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xf0\x9f\x93\xa7\xf0\x9f\x93\xa7\xf0\x9f\x93\xa7 ${account}"
		    " ${account} ${account}",
	};
	struct notice_facts f = facts();
	struct buf b, subj, want, raw;
	char tmpl[512];
	const char *p, *e;
	size_t i;

	f.account = "J\xc3\xb6rg <j@example.org>";
	for (i = 0; i < sizeof(subjects) / sizeof(*subjects); i++) {
		snprintf(tmpl, sizeof(tmpl), "Subject: %s\n\nx\n", subjects[i]);
		CHECK(render(tmpl, &f, &b) == 0);
		check_shape(buf_str(&b));
		CHECK(header_value(buf_str(&b), "Subject", &raw) == 0);
		CHECK(strncmp(buf_str(&raw), "=?UTF-8?Q?", 10) == 0);
		for (p = buf_str(&raw); (p = strstr(p, "=?")) != NULL; p = e)
			CHECK((e = strstr(p, "?=")) != NULL && e + 2 - p <= 75);
		subject_text(buf_str(&b), &subj);
		buf_init(&want);
		for (p = subjects[i]; *p; p++)
			if (strncmp(p, "${account}", 10) == 0) {
				buf_puts(&want, f.account);
				p += 9;
			} else
				buf_putc(&want, *p);
		if (strcmp(buf_str(&subj), buf_str(&want)) != 0)
			printf("# subject %zu: \"%s\"\n", i, buf_str(&subj));
		CHECK_STR(buf_str(&subj), buf_str(&want));
		buf_free(&want);
		buf_free(&subj);
		buf_free(&raw);
		buf_free(&b);
	}
}

TEST(notice_hostile_values)
{
	static const char *const hostile[] = {
		"a\r\nBcc: x@evil\r\n",
		"a\nContent-Type: multipart/mixed; boundary=x\n\n--x\n",
		"<script>alert(1)</script>",
		"\xe2\x80\xae" "gro.elpmaxe@anna\xe2\x80\xac",
		"bad\xff\xfe utf8 \xc0\xaf \xed\xa0\x80",
		"nul\x01" "ctl\x1b[31m\x7f\xc2\x85" "c1\xe2\x80\xa8" "ls",
		"=?UTF-8?Q?=0ABcc:_x@evil?=",
	};
	static const char tmpl[] =
	    "Subject: ${account} ${ip} ${rname} ${door} ${ref}\n\n"
	    "${account}|${ip}|${rname}|${door}|${ref}\n";
	struct notice_facts f = facts();
	struct buf b, text, subj, raw;
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		f.account = f.ip = f.rname = f.door = f.ref = hostile[i];
		CHECK(render(tmpl, &f, &b) == 0);
		check_shape(buf_str(&b));
		CHECK(strstr(buf_str(&b), "\nBcc") == NULL);
		CHECK(strstr(buf_str(&b), "\n--x") == NULL);
		CHECK(header_value(buf_str(&b), "Content-Type", &raw) == 0);
		CHECK_STR(buf_str(&raw), "text/plain; charset=UTF-8");
		buf_free(&raw);
		CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
		CHECK(strchr(buf_str(&text), '\r') == NULL);
		CHECK(strchr(buf_str(&text), '\x1b') == NULL);
		CHECK(strstr(buf_str(&text), "\xe2\x80\xae") == NULL);
		CHECK(strstr(buf_str(&text), "\xe2\x80\xa8") == NULL);
		CHECK(strstr(buf_str(&text), "\xff") == NULL);
		CHECK(strstr(buf_str(&text), "\xc2\x85") == NULL);
		CHECK(strchr(buf_str(&text), '\n') ==
		    buf_str(&text) + text.len - 1);	/* one line */
		subject_text(buf_str(&b), &subj);
		CHECK(strchr(buf_str(&subj), '\n') == NULL);
		CHECK(strchr(buf_str(&subj), '\r') == NULL);
		buf_free(&subj);
		buf_free(&text);
		buf_free(&b);
	}
	f.account = "a\r\nBcc: x@evil\r\n";
	CHECK(render("Subject: s\n\n${account}\n", &f, &b) == 0);
	CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
	CHECK_STR(buf_str(&text), "a" FFFD FFFD "Bcc: x@evil" FFFD FFFD "\n");
	buf_free(&text);
	buf_free(&b);
	f.account = "<script>";
	CHECK(render("Subject: s\n\n${account}\n", &f, &b) == 0);
	CHECK_STR(body_of(buf_str(&b)), "<script>\n");
	buf_free(&b);
}

TEST(notice_long_value_cut)
{
	struct notice_facts f = facts();
	struct buf b, text;
	char acct[600];

	memset(acct, 'a', 255);
	strcpy(acct + 255, "\xc3\xa9tail");	/* a 2-byte char across 256 */
	memset(acct + 261, 'z', 300);
	acct[561] = 0;
	f.account = acct;
	CHECK(render("Subject: ${account}\n\n[${account}]\n", &f, &b) == 0);
	check_shape(buf_str(&b));
	CHECK(qp_decode(body_of(buf_str(&b)), &text) == 0);
	CHECK(text.len == 1 + 255 + 3 + 2);
	CHECK(strncmp(buf_str(&text) + 256, "\xe2\x80\xa6]\n", 5) == 0);
	buf_free(&text);
	buf_free(&b);
}

TEST(notice_qp_body)
{
	static const char tmpl[] =
	    "Subject: s\n\n"
	    "trailing space \n"
	    "trailing tab\t\n"
	    "a = sign, caf\xc3\xa9\n"
	    ".dot\n"
	    "From here\n"
	    "${account}${account}${account}\n"
	    "\n"
	    "end";
	struct notice_facts f = facts();
	struct buf b, text, want;
	const char *body;
	char acct[120];

	memset(acct, 'x', 40);
	memcpy(acct + 40, "\xc3\xa9\xc3\xa9 = \xe2\x82\xac", 10);
	memset(acct + 50, 'y', 40);
	acct[90] = 0;
	f.account = acct;
	CHECK(render(tmpl, &f, &b) == 0);
	check_shape(buf_str(&b));
	body = body_of(buf_str(&b));
	CHECK(strstr(body, "trailing space=20\n"));
	CHECK(strstr(body, "trailing tab=09\n"));
	CHECK(strstr(body, "a =3D sign, caf=C3=A9\n"));
	CHECK(strstr(body, "\n=2Edot\n"));
	CHECK(strstr(body, "\n=46rom here\n"));
	CHECK(strstr(body, "=\n"));		/* a soft break */
	CHECK(qp_decode(body, &text) == 0);
	buf_init(&want);
	buf_printf(&want, "trailing space \ntrailing tab\t\na = sign, "
	    "caf\xc3\xa9\n.dot\nFrom here\n%s%s%s\n\nend\n", acct, acct, acct);
	CHECK_STR(buf_str(&text), buf_str(&want));
	buf_free(&want);
	buf_free(&text);
	buf_free(&b);
}

TEST(notice_render_refuses)
{
	static const char *const bad_to[] = {
		"", "a@b, c@d", "a@b\nBcc: c@d", "<a@b>", "postmaster",
	};
	static const char *const bad_from[] = {
		"", "a b", "a@b\n", "x@y, z@w", "\"q\"@b", "a@",
	};
	static const char *const bad_id[] = {
		"n1", "<n1>", "<n1@x>\nBcc: y@z", "<a b@c>", "<@c>",
	};
	struct notice_facts f = facts();
	struct notice_template *t;
	char err[128];
	struct buf b;
	size_t i;

	t = notice_template_parse("Subject: s\n\nx\n", 14, err, sizeof(err));
	CHECK(t != NULL);
	buf_init(&b);
	buf_puts(&b, "kept");
	for (i = 0; i < sizeof(bad_to) / sizeof(*bad_to); i++) {
		f = facts();
		f.to = bad_to[i];
		err[0] = 0;
		CHECK(notice_render(t, &f, &b, err, sizeof(err)) == -1);
		CHECK(strstr(err, "address") != NULL);
	}
	for (i = 0; i < sizeof(bad_from) / sizeof(*bad_from); i++) {
		f = facts();
		f.from = bad_from[i];
		CHECK(notice_render(t, &f, &b, err, sizeof(err)) == -1);
		CHECK(strstr(err, "sender") != NULL);
	}
	for (i = 0; i < sizeof(bad_id) / sizeof(*bad_id); i++) {
		f = facts();
		f.message_id = bad_id[i];
		CHECK(notice_render(t, &f, &b, err, sizeof(err)) == -1);
		CHECK(strstr(err, "Message-ID") != NULL);
	}
	f = facts();
	f.kind = NOTICE_KINDS;
	CHECK(notice_render(t, &f, &b, err, sizeof(err)) == -1);
	CHECK_STR(buf_str(&b), "kept");
	buf_free(&b);
	notice_template_free(t);
}

TEST(notice_addr_ok_cases)
{
	static const struct {
		const char *addr;
		int ok;
	} cases[] = {
		{"anna@example.org", 1},
		{"a@b", 1},
		{"first.last+tag@mail.example.org", 1},
		{"o'brien@example.ie", 1},
		{"x!#$%&'*+-/=?^_`{|}~@a-b.c0", 1},
		{"user@localhost", 1},
		{"a@b, c@d", 0},
		{"a@b,c@d", 0},
		{"a@b\nc", 0},
		{"a@b\r\nBcc: c@d", 0},
		{"\"q\"@b", 0},
		{"a@b>", 0},
		{"<a@b>", 0},
		{"a b@c", 0},
		{"@b", 0},
		{"a@", 0},
		{"a@b..c", 0},
		{"a@.b", 0},
		{"a@b.", 0},
		{"a..b@c", 0},
		{".a@c", 0},
		{"a.@c", 0},
		{"a@b@c", 0},
		{"a@-b.c", 0},
		{"a@b-.c", 0},
		{"a@b_c.d", 0},
		{"a@[192.0.2.1]", 0},
		{"j\xc3\xb6rg@example.org", 0},
		{"a@b\xc3\xa4.de", 0},
		{"a(c)@b", 0},
		{"a;b@c", 0},
		{"", 0},
		{NULL, 0},
	};
	char addr[300], label[70];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (notice_addr_ok(cases[i].addr) != cases[i].ok)
			printf("# addr \"%s\"\n", cases[i].addr);
		CHECK(notice_addr_ok(cases[i].addr) == cases[i].ok);
	}
	/* 64 + 1 + 189 = 254 bytes: the longest; one more is too long */
	memset(addr, 'l', 64);
	addr[64] = '@';
	memset(addr + 65, 'd', 189);
	for (i = 65 + 60; i < 254; i += 61)
		addr[i] = '.';
	addr[254] = 0;
	CHECK(strlen(addr) == 254 && notice_addr_ok(addr));
	addr[254] = 'd';
	addr[255] = 0;
	CHECK(!notice_addr_ok(addr));
	memset(addr, 'l', 65);			/* a local part of 65 bytes */
	strcpy(addr + 65, "@b");
	CHECK(!notice_addr_ok(addr));
	memset(label, 'x', 64);
	label[64] = 0;
	snprintf(addr, sizeof(addr), "a@%s.org", label);
	CHECK(!notice_addr_ok(addr));		/* a label of 64 bytes */
	label[63] = 0;
	snprintf(addr, sizeof(addr), "a@%s.org", label);
	CHECK(notice_addr_ok(addr));
}

TEST(notice_rname_ok_cases)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{"mail.example.org", 1},
		{"host-1.example", 1},
		{"localhost", 1},
		{"7.2.0.192.in-addr.example", 1},
		{"", 0},
		{"a..b", 0},
		{".a", 0},
		{"a.", 0},
		{"-a.b", 0},
		{"a-.b", 0},
		{"a_b.c", 0},
		{"a b", 0},
		{"a\nb", 0},
		{"x\xc3\xa4.de", 0},
		{"<script>", 0},
		{NULL, 0},
	};
	char name[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CHECK(notice_rname_ok(cases[i].name) == cases[i].ok);
	for (i = 0; i < 253; i++)
		name[i] = i % 50 == 49 ? '.' : 'h';
	name[253] = 0;
	CHECK(notice_rname_ok(name));
	name[253] = 'h';
	name[254] = 0;
	CHECK(!notice_rname_ok(name));
}

TEST(notice_parse_errors)
{
	static const struct {
		const char *text;
		size_t len;			/* 0: strlen */
		const char *err;
	} cases[] = {
		{"", 0, "line 1: the file ends"},
		{"Subject: x\n", 0, "line 1: the file ends"},
		{"Subject: x\nbody", 0, "line 2: only a Subject:"},
		{"From: me\n\nbody", 0, "line 1: only a Subject:"},
		{"Subject: x\nX-Other: y\n\nbody", 0, "line 2: only a Subject:"},
		{"Subject: x\nSUBJECT: y\n\nbody", 0, "line 2: a second Subject"},
		{"Subject: x\n  more\n\nbody", 0, "line 2: a header cannot"},
		{"\nbody", 0, "line 1: no Subject:"},
		{"Hello there\n\nbody", 0, "line 1: only a Subject:"},
		{"Subject: x\n\nok\n${nope}\n", 0,
		    "line 4: unknown placeholder ${nope}"},
		{"Subject: ${Account}\n\n", 0,
		    "line 1: unknown placeholder ${Account}"},
		{"Subject: x\n\n\n\nsee ${account\n}", 0,
		    "line 5: ${ is not closed"},
		{"Subject: x\n\nsee ${ip", 0, "line 3: ${ is not closed"},
		{"Subject: x\n\ncost: 5$\n", 0, "line 3: a lone $"},
		{"Subject: x\n\ncost: $5\n", 0, "line 3: a lone $"},
		{"Subject: x $\n\nx", 0, "line 1: a lone $"},
		{"Subject: x\n\nnul\0here\n", 17, "line 3: a NUL byte"},
		{"Subject: x\n\nok\nbad \xff\n", 0, "line 4: invalid UTF-8"},
		{"Subject: x\n\nbad \xc0\xaf\n", 0, "line 3: invalid UTF-8"},
		{"Subject: x\n\nbad \xed\xa0\x80\n", 0, "line 3: invalid UTF-8"},
		{"Subject: x\n\ncut \xe2\x82", 0, "line 3: invalid UTF-8"},
		{"Subject: x\n\nbell \a\n", 0, "line 3: a control character"},
		{"Subject: x\n\nbare \r CR\n", 0, "line 3: a control character"},
		{"Subject: x\x1b\n\nx", 0, "line 1: a control character"},
	};
	char err[256];
	size_t i, len;
	char *big;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		err[0] = 0;
		CHECK(notice_template_parse(cases[i].text, len, err,
		    sizeof(err)) == NULL);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			printf("# case %zu: \"%s\"\n", i, err);
		CHECK(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0);
	}
	big = xmalloc(NOTICE_TEXT_MAX + 2);
	memset(big, 'x', NOTICE_TEXT_MAX + 1);
	memcpy(big, "Subject: x\n\n", 12);
	CHECK(notice_template_parse(big, NOTICE_TEXT_MAX + 1, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "longer than") != NULL);
	notice_template_free(notice_template_parse(big, NOTICE_TEXT_MAX, err,
	    sizeof(err)));
	free(big);
	notice_template_free(NULL);
}

TEST(notice_parse_accepts)
{
	static const char *const good[] = {
		"Subject: x\n\n",
		"subject:x\n\nbody without a line end",
		"SUBJECT:\t${kind}\r\n\r\n$$${count}$$\r\n",
		("Subject: \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n\n"
		    "\xe2\x80\x8f rtl mark and tab\tok\n"),
	};
	struct notice_facts f = facts();
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		CHECK(render(good[i], &f, &b) == 0);
		check_shape(buf_str(&b));
		buf_free(&b);
	}
	CHECK(render(good[2], &f, &b) == 0);
	CHECK(strstr(buf_str(&b), "\nSubject: stale-password\n"));
	CHECK_STR(body_of(buf_str(&b)), "$5$\n");
	buf_free(&b);
}

TEST(notice_body_too_long)
{
	struct notice_facts f = facts();
	struct buf tmpl, b;
	char acct[300];
	size_t i;

	memset(acct, 'a', 256);
	acct[256] = 0;
	f.account = acct;
	buf_init(&tmpl);
	buf_puts(&tmpl, "Subject: s\n\n");
	for (i = 0; i < 300; i++)
		buf_puts(&tmpl, "${account}\n");
	CHECK(render(buf_str(&tmpl), &f, &b) == -1);
	CHECK(b.len == 0);
	buf_free(&b);
	buf_free(&tmpl);
}
