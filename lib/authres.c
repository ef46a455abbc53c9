/*++
/* NAME
/*	authres 3
/* SUMMARY
/*	Authentication-Results (RFC 8601) and the X-Authguard header
/* DESCRIPTION
/*	Pure functions for the milter's headers.
/*
/*	authres_servid() reads the authserv-id that opens an incoming
/*	Authentication-Results value: comments and folding whitespace
/*	are skipped, a quoted-string is unquoted, so that
/*	"(x) \"mx.example\" ; ..." names mx.example just like
/*	"mx.example; ...". authres_ours() says whether a header names
/*	our authserv-id (case-insensitively): such a header did not come
/*	from us, since ours are added after the incoming ones are read.
/*
/*	hdr_value() appends one header value: as it is when every byte
/*	is a printable ASCII character outside "\"\\;() ", else as a
/*	quoted-string with '"' and '\\' escaped and every control or
/*	non-ASCII byte replaced by '?': nothing from the network can
/*	break a header line or start a new one.
/*
/*	authres_value() builds "<authserv-id>; auth=pass smtp.auth=<user>".
/*	diag_value() builds the X-Authguard value from struct diag, folded
/*	with LF TAB before 78 columns (libmilter turns LF into the MTA's
/*	line ending). Its fields, in this order:
/*
/*	ref=	this message's reference (the milter's log line has it)
/*	auth=	the SASL mechanism ({auth_type})
/*	user=	the SASL user ({auth_authen}), when headers may name users
/*	tls=	the TLS version ({tls_version}), or "none"
/*	cipher=	the cipher ({cipher}), when TLS was used
/*	auth-ref=	the ref authguard-policyd gave the successful AUTH
/*	proto=	the door of the session's AUTH attempts (smtp: the
/*		milter sees SMTP alone), as authguard-policyd said
/*	failed=	the failed AUTH attempts of the session before it, as
/*		cause/ref separated by commas, or "none"; at most
/*		DIAG_SHOWN are listed, then "+N"
/*	details=unavailable	instead of auth-ref and failed, when
/*		authguard-policyd did not answer
/*--*/
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "util.h"

#define AUTHRES_USER_MAX	256	/* longer names are not written */
#define DIAG_FOLD		78
#define DIAG_NAME_COLS		13	/* "X-Authguard: " */

/* skip_cfws - past whitespace and (nested (comments)) */
static const char *
skip_cfws(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (depth > 0 && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !strchr(" \t\r\n", *p))
			break;
	}
	return p;
}

/* authres_servid - the authserv-id of an A-R value; -1 when malformed */
int
authres_servid(const char *v, char *out, size_t len)
{
	const char *p = skip_cfws(v);
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 >= len)
				return -1;
			out[n++] = *p;
		}
		if (*p != '"')
			return -1;
	} else {
		for (; *p && !strchr(" \t\r\n;(\"", *p); p++) {
			if (n + 1 >= len)
				return -1;
			out[n++] = *p;
		}
	}
	out[n] = 0;
	return n > 0 ? 0 : -1;
}

/* authres_ours - does this A-R value name our authserv-id? */
int
authres_ours(const char *v, const char *servid)
{
	char id[256];

	return authres_servid(v, id, sizeof(id)) == 0 &&
	    strcasecmp(id, servid) == 0;
}

/* plain_byte - may appear in a value without quotes */
static int
plain_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"\\;()", c);
}

/* hdr_value - one value, quoted when it must be (see above) */
void
hdr_value(struct buf *b, const char *s)
{
	const unsigned char *p;
	int plain = *s != 0;

	for (p = (const unsigned char *)s; *p && plain; p++)
		plain = plain_byte(*p);
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p >= 0x20 && *p < 0x7f ? (char)*p : '?');
	}
	buf_putc(b, '"');
}

/* authres_value - "<servid>; auth=pass smtp.auth=<user>" */
void
authres_value(struct buf *b, const char *servid, const char *user)
{
	buf_puts(b, servid);
	buf_puts(b, "; auth=pass");
	if (user == NULL || *user == 0)
		return;
	if (strlen(user) > AUTHRES_USER_MAX) {
		buf_puts(b, " (user name too long to show)");
		return;
	}
	buf_puts(b, " smtp.auth=");
	hdr_value(b, user);
}

/* diag_field - "; key=value", folded when the line would get long */
struct diag_line {
	size_t	 start;			/* b->len before the first field */
	size_t	 col;			/* column of the end of b */
};

static void
diag_field(struct buf *b, struct diag_line *dl, const char *key,
    const char *val)
{
	struct buf v;

	buf_init(&v);
	buf_printf(&v, "%s=", key);
	hdr_value(&v, val);
	if (b->len > dl->start) {
		buf_putc(b, ';');
		if (dl->col + 2 + v.len > DIAG_FOLD) {
			buf_puts(b, "\n\t");
			dl->col = 8;
		} else {
			buf_putc(b, ' ');
			dl->col += 2;
		}
	}
	buf_append(b, v.data, v.len);
	dl->col += v.len;
	buf_free(&v);
}

/* diag_failed - "cause/ref,cause/ref,+N" or "none" */
static void
diag_failed(struct buf *f, const struct diag *d)
{
	size_t i;

	if (d->nfailed == 0) {
		buf_puts(f, "none");
		return;
	}
	for (i = 0; i < d->nfailed && i < DIAG_SHOWN; i++)
		buf_printf(f, "%s%s/%s", i ? "," : "", d->failed[i].cause,
		    d->failed[i].ref);
	if (d->nfailed > DIAG_SHOWN)
		buf_printf(f, ",+%zu", d->nfailed - DIAG_SHOWN);
}

/* diag_value - the X-Authguard header value */
void
diag_value(struct buf *b, const struct diag *d)
{
	struct diag_line dl = {b->len, DIAG_NAME_COLS};
	struct buf f;

	diag_field(b, &dl, "ref", d->ref);
	diag_field(b, &dl, "auth", d->mech ? d->mech : "unknown");
	if (d->user)
		diag_field(b, &dl, "user", d->user);
	diag_field(b, &dl, "tls", d->tls_version && *d->tls_version ?
	    d->tls_version : "none");
	if (d->cipher && *d->cipher)
		diag_field(b, &dl, "cipher", d->cipher);
	if (!d->details) {
		diag_field(b, &dl, "details", "unavailable");
		return;
	}
	if (*d->auth_ref)
		diag_field(b, &dl, "auth-ref", d->auth_ref);
	if (*d->proto)
		diag_field(b, &dl, "proto", d->proto);
	buf_init(&f);
	diag_failed(&f, d);
	diag_field(b, &dl, "failed", buf_str(&f));
	buf_free(&f);
}
