/*++
/* NAME
/*	saslpeek 3
/* SUMMARY
/*	the account name that a relayed SASL mechanism carries in clear
/* SYNOPSIS
/*	#include "saslpeek.h"
/*
/*	void	saslpeek_start(sp, mech)
/*	struct saslpeek *sp;
/*	const char *mech;
/*
/*	enum saslpeek_status saslpeek_push(sp, initial, b64, len, id)
/*	struct saslpeek *sp;
/*	int	initial;
/*	const char *b64;
/*	size_t	len;
/*	struct saslpeek_id *id;
/* DESCRIPTION
/*	The gate relays mechanisms other than PLAIN and LOGIN to
/*	Dovecot as they are. Several of them name the account in
/*	clear in one of the client's responses; reading it there,
/*	before the response is forwarded, lets the account's limits
/*	apply before Dovecot sees a proof of the password.
/*
/*	saslpeek_start() begins an exchange for the mechanism name
/*	(case-insensitive). saslpeek_push() takes each response the
/*	client sends, in order: the AUTH command's initial response
/*	(initial non-zero; an absent one is not pushed) and then each
/*	response to a challenge (initial zero), base64 as sent. The
/*	step that carries the account is the one where Dovecot reads it:
/*
/*	CRAM-MD5	the response to the first challenge (RFC 2195):
/*			"user SP digest", the user up to the last space,
/*			the digest 32 hex digits. Dovecot ignores an
/*			initial response.
/*	DIGEST-MD5	the response to the first challenge (RFC 2831):
/*			username="..." among comma-separated directives,
/*			with realm="..." appended as user@realm (as Dovecot
/*			does) and authzid="..." kept apart. A directive
/*			given twice is malformed.
/*	SCRAM-*	the client-first message (RFC 5802), in a
/*			non-empty initial response or else the first
/*			response (to Dovecot's empty challenge):
/*			"gs2-header n=saslname,r=nonce...", =2C and =3D
/*			decoded, the gs2 header's a= as authzid.
/*	OAUTHBEARER	the same step (RFC 7628): the account only when
/*			the gs2 header names one (a=); else none.
/*	XOAUTH2	the same step: the user= field of the ^A-separated
/*			fields, when it lies within the first
/*			SASLPEEK_DECODED_MAX bytes; else none.
/*
/*	Other mechanisms (GSSAPI, EXTERNAL, ANONYMOUS, ...) carry no
/*	account in clear.
/*
/*	The result is SASLPEEK_FOUND (id holds the account and the
/*	authzid), SASLPEEK_NOT_THIS_STEP (this response carries none:
/*	a later one will, or sp->over when the carrying step has
/*	passed), SASLPEEK_MALFORMED (the response cannot be what the
/*	mechanism sends: sp->why says how), or SASLPEEK_NONE (the
/*	mechanism, or this exchange, carries no account in clear:
/*	sp->why says why). After FOUND, MALFORMED or NONE, later pushes
/*	give SASLPEEK_NOT_THIS_STEP.
/*
/*	Nothing is allocated: a response is decoded on the stack (at
/*	most SASLPEEK_DECODED_MAX bytes; longer is malformed, except
/*	for the OAuth mechanisms, of which only that much is read) and
/*	wiped there, as it may hold a digest or a proof. Names longer
/*	than SASLPEEK_NAME_MAX, or holding a NUL, are malformed.
/*--*/
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "saslpeek.h"
#include "util.h"

#define CRAM_DIGEST_LEN	32

/* A decoded response: bytes and length. */
struct peek_in {
	const unsigned char *p;
	size_t	n;
	int	whole;		/* 0: only a prefix was decoded */
};

/* mech_of - which family a mechanism name belongs to */
static enum saslpeek_mech
mech_of(const char *name)
{
	if (name == NULL)
		return SASLPEEK_MECH_OTHER;
	if (strcasecmp(name, "CRAM-MD5") == 0)
		return SASLPEEK_MECH_CRAM_MD5;
	if (strcasecmp(name, "DIGEST-MD5") == 0)
		return SASLPEEK_MECH_DIGEST_MD5;
	if (strncasecmp(name, "SCRAM-", 6) == 0 && name[6])
		return SASLPEEK_MECH_SCRAM;
	if (strcasecmp(name, "OAUTHBEARER") == 0)
		return SASLPEEK_MECH_OAUTHBEARER;
	if (strcasecmp(name, "XOAUTH2") == 0)
		return SASLPEEK_MECH_XOAUTH2;
	return SASLPEEK_MECH_OTHER;
}

/* saslpeek_start - a new exchange */
void
saslpeek_start(struct saslpeek *sp, const char *mech)
{
	memset(sp, 0, sizeof(*sp));
	sp->mech = mech_of(mech);
}

/* saslpeek_status_str - a name for logs and tests */
const char *
saslpeek_status_str(enum saslpeek_status s)
{
	switch (s) {
	case SASLPEEK_FOUND:
		return "found";
	case SASLPEEK_NOT_THIS_STEP:
		return "not-this-step";
	case SASLPEEK_MALFORMED:
		return "malformed";
	case SASLPEEK_NONE:
		return "none";
	}
	return "?";
}

/* name_put - a plain name into a bounded field; -1: empty, NUL, too long */
static int
name_put(char *dst, const unsigned char *src, size_t n)
{
	if (n == 0 || n > SASLPEEK_NAME_MAX || memchr(src, 0, n) != NULL)
		return -1;
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

/* saslname_put - RFC 5802 saslname (=2C, =3D) into a field; -1 if bad */
static int
saslname_put(char *dst, const unsigned char *src, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (o == SASLPEEK_NAME_MAX || src[i] == 0 || src[i] == ',')
			return -1;
		if (src[i] != '=') {
			dst[o++] = (char)src[i];
			continue;
		}
		if (n - i >= 3 && src[i + 1] == '2' && src[i + 2] == 'C')
			dst[o++] = ',';
		else if (n - i >= 3 && src[i + 1] == '3' && src[i + 2] == 'D')
			dst[o++] = '=';
		else
			return -1;
		i += 2;
	}
	dst[o] = 0;
	return 0;
}

/* is_hex - a hex digit */
static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* peek_cram - RFC 2195 "user SP digest" */
static enum saslpeek_status
peek_cram(const struct peek_in *in, struct saslpeek_id *id, const char **why)
{
	size_t sp, i;

	for (sp = in->n; sp > 0 && in->p[sp - 1] != ' '; sp--)
		;
	if (sp == 0 || in->n - sp != CRAM_DIGEST_LEN) {
		*why = "CRAM-MD5 response without \"user digest\"";
		return SASLPEEK_MALFORMED;
	}
	for (i = sp; i < in->n; i++)
		if (!is_hex(in->p[i])) {
			*why = "CRAM-MD5 digest not hexadecimal";
			return SASLPEEK_MALFORMED;
		}
	if (name_put(id->user, in->p, sp - 1) < 0) {
		*why = "CRAM-MD5 user empty, too long or holding a NUL";
		return SASLPEEK_MALFORMED;
	}
	return SASLPEEK_FOUND;
}

/* A cursor over a DIGEST-MD5 response. */
struct dm_cur {
	const unsigned char *p;
	size_t	n, i;
};

/* dm_lws - skip linear white space */
static void
dm_lws(struct dm_cur *c)
{
	while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' ||
	    c->p[c->i] == '\r' || c->p[c->i] == '\n'))
		c->i++;
}

/* dm_tokchar - an RFC 2616 token character */
static int
dm_tokchar(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("()<>@,;:\\\"/[]?={}", ch) == NULL;
}

/* dm_value - a token or quoted-string, unquoted into out (NULL: skipped) */
static int
dm_value(struct dm_cur *c, char *out, size_t size)
{
	size_t o = 0;

	if (c->i < c->n && c->p[c->i] != '"') {
		for (; c->i < c->n && dm_tokchar(c->p[c->i]); c->i++, o++)
			if (out && o + 1 >= size)
				return -1;
			else if (out)
				out[o] = (char)c->p[c->i];
		if (out)
			out[o] = 0;
		return o ? 0 : -1;
	}
	for (c->i++; c->i < c->n && c->p[c->i] != '"'; c->i++, o++) {
		if (c->p[c->i] == '\\' && ++c->i == c->n)
			return -1;
		if (c->p[c->i] == 0 || (out && o + 1 >= size))
			return -1;
		if (out)
			out[o] = (char)c->p[c->i];
	}
	if (c->i == c->n)
		return -1;		/* no closing quote */
	c->i++;
	if (out)
		out[o] = 0;
	return 0;
}

/*
 * dm_user_realm - the account as Dovecot builds it: user@realm when the
 * user name has no '@' of its own, else the user name as it is (a realm
 * added to "a@b" would name another account than the one Dovecot checks)
 */
static int
dm_user_realm(struct saslpeek_id *id, const char *realm)
{
	size_t u = strlen(id->user), r = strlen(realm);

	if (r == 0 || strchr(id->user, '@') != NULL)
		return 0;
	if (u + 1 + r > SASLPEEK_NAME_MAX)
		return -1;
	id->user[u] = '@';
	memcpy(id->user + u + 1, realm, r + 1);
	return 0;
}

/* peek_digest - RFC 2831 digest-response: username, realm, authzid */
static enum saslpeek_status
peek_digest(const struct peek_in *in, struct saslpeek_id *id, const char **why)
{
	struct dm_cur c = {in->p, in->n, 0};
	char name[32], realm[SASLPEEK_NAME_MAX + 1];
	int seen_user = 0, seen_realm = 0, seen_authzid = 0, *seen;
	char *dst;
	size_t k;

	*why = "DIGEST-MD5 response malformed";
	realm[0] = 0;
	while (c.i < c.n) {
		dm_lws(&c);
		if (c.i < c.n && c.p[c.i] == ',') {	/* null elements */
			c.i++;
			continue;
		}
		if (c.i == c.n)
			break;
		for (k = 0; c.i < c.n && dm_tokchar(c.p[c.i]); c.i++)
			if (k + 1 < sizeof(name))
				name[k++] = (char)c.p[c.i];
		name[k] = 0;
		dm_lws(&c);
		if (k == 0 || c.i == c.n || c.p[c.i++] != '=')
			return SASLPEEK_MALFORMED;
		dm_lws(&c);
		seen = NULL;
		dst = NULL;
		if (strcasecmp(name, "username") == 0)
			seen = &seen_user, dst = id->user;
		else if (strcasecmp(name, "realm") == 0)
			seen = &seen_realm, dst = realm;
		else if (strcasecmp(name, "authzid") == 0)
			seen = &seen_authzid, dst = id->authzid;
		if (seen && (*seen)++) {
			*why = "DIGEST-MD5 directive given twice";
			return SASLPEEK_MALFORMED;
		}
		if (dm_value(&c, dst, SASLPEEK_NAME_MAX + 1) < 0)
			return SASLPEEK_MALFORMED;
		dm_lws(&c);
		if (c.i < c.n && c.p[c.i++] != ',')
			return SASLPEEK_MALFORMED;
	}
	if (!seen_user || id->user[0] == 0) {
		*why = "DIGEST-MD5 response without username";
		return SASLPEEK_MALFORMED;
	}
	if (dm_user_realm(id, realm) < 0) {
		*why = "DIGEST-MD5 user@realm too long";
		return SASLPEEK_MALFORMED;
	}
	return SASLPEEK_FOUND;
}

/* field_end - where a ','-terminated field that starts at i ends */
static size_t
field_end(const struct peek_in *in, size_t i)
{
	while (i < in->n && in->p[i] != ',')
		i++;
	return i;
}

/* peek_gs2 - RFC 5802 gs2-header; *pos: after it; -1 if malformed */
static int
peek_gs2(const struct peek_in *in, size_t *pos, struct saslpeek_id *id)
{
	size_t i = 0, e;

	if (in->n >= 2 && (in->p[0] == 'n' || in->p[0] == 'y') &&
	    in->p[1] == ',')
		i = 2;
	else if (in->n >= 3 && in->p[0] == 'p' && in->p[1] == '=') {
		for (i = 2; i < in->n && in->p[i] != ','; i++)
			if (!(in->p[i] == '.' || in->p[i] == '-' ||
			    (in->p[i] >= '0' && in->p[i] <= '9') ||
			    ((in->p[i] | 0x20) >= 'a' && (in->p[i] | 0x20) <= 'z')))
				return -1;
		if (i == 2 || i == in->n)
			return -1;
		i++;
	} else
		return -1;
	e = field_end(in, i);
	if (e == in->n)
		return -1;
	if (e > i && (e - i < 3 || in->p[i] != 'a' || in->p[i + 1] != '=' ||
	    saslname_put(id->authzid, in->p + i + 2, e - i - 2) < 0))
		return -1;
	*pos = e + 1;
	return 0;
}

/* peek_scram - RFC 5802 client-first-message */
static enum saslpeek_status
peek_scram(const struct peek_in *in, struct saslpeek_id *id, const char **why)
{
	size_t i, e;

	*why = "SCRAM client-first message malformed";
	if (peek_gs2(in, &i, id) < 0) {
		*why = "SCRAM gs2 header malformed";
		return SASLPEEK_MALFORMED;
	}
	e = field_end(in, i);
	if (e - i < 3 || in->p[i] != 'n' || in->p[i + 1] != '=' || e == in->n)
		return SASLPEEK_MALFORMED;	/* m= or no n= or no nonce */
	if (saslname_put(id->user, in->p + i + 2, e - i - 2) < 0) {
		*why = "SCRAM user name empty, too long or badly escaped";
		return SASLPEEK_MALFORMED;
	}
	i = e + 1;
	if (in->n - i < 3 || in->p[i] != 'r' || in->p[i + 1] != '=' ||
	    in->p[i + 2] == ',')
		return SASLPEEK_MALFORMED;	/* no nonce */
	if (memchr(in->p + i, 0, in->n - i) != NULL)
		return SASLPEEK_MALFORMED;
	return SASLPEEK_FOUND;
}

/* peek_oauthbearer - RFC 7628: the account only if the gs2 header has a= */
static enum saslpeek_status
peek_oauthbearer(const struct peek_in *in, struct saslpeek_id *id,
    const char **why)
{
	size_t i;

	if (peek_gs2(in, &i, id) < 0 || (i < in->n && in->p[i] != 0x01) ||
	    (i == in->n && in->whole)) {
		*why = "OAUTHBEARER gs2 header malformed";
		return SASLPEEK_MALFORMED;
	}
	if (id->authzid[0] == 0) {
		*why = "OAUTHBEARER without a=: the account is in the token";
		return SASLPEEK_NONE;
	}
	memcpy(id->user, id->authzid, sizeof(id->user));
	id->authzid[0] = 0;
	return SASLPEEK_FOUND;
}

/* peek_xoauth2 - the user= field among ^A-separated fields */
static enum saslpeek_status
peek_xoauth2(const struct peek_in *in, struct saslpeek_id *id,
    const char **why)
{
	size_t i = 0, e;
	int found = 0;

	while (i < in->n) {
		for (e = i; e < in->n && in->p[e] != 0x01; e++)
			;
		if (e == in->n && !in->whole)
			break;		/* cut: this field goes on */
		if (e - i >= 5 && memcmp(in->p + i, "user=", 5) == 0) {
			if (found++ || name_put(id->user, in->p + i + 5,
			    e - i - 5) < 0) {
				*why = "XOAUTH2 user= empty, too long or twice";
				id->user[0] = 0;
				return SASLPEEK_MALFORMED;
			}
		}
		i = e + 1;
	}
	if (found)
		return SASLPEEK_FOUND;
	if (!in->whole) {
		*why = "XOAUTH2 user= not within the first bytes";
		return SASLPEEK_NONE;
	}
	*why = "XOAUTH2 response without user=";
	return SASLPEEK_MALFORMED;
}

/* peek_decoded - the mechanism's parser over a decoded response */
static enum saslpeek_status
peek_decoded(enum saslpeek_mech mech, const struct peek_in *in,
    struct saslpeek_id *id, const char **why)
{
	switch (mech) {
	case SASLPEEK_MECH_CRAM_MD5:
		return peek_cram(in, id, why);
	case SASLPEEK_MECH_DIGEST_MD5:
		return peek_digest(in, id, why);
	case SASLPEEK_MECH_SCRAM:
		return peek_scram(in, id, why);
	case SASLPEEK_MECH_OAUTHBEARER:
		return peek_oauthbearer(in, id, why);
	case SASLPEEK_MECH_XOAUTH2:
		return peek_xoauth2(in, id, why);
	case SASLPEEK_MECH_OTHER:
		break;
	}
	*why = "the mechanism carries no account in clear";
	return SASLPEEK_NONE;
}

/* peek_response - decode on the stack, parse, wipe */
static enum saslpeek_status
peek_response(struct saslpeek *sp, const char *b64, size_t len,
    struct saslpeek_id *id)
{
	unsigned char dec[SASLPEEK_DECODED_MAX + 3];
	struct peek_in in = {dec, 0, 1};
	enum saslpeek_status s;

	if (len > SASLPEEK_B64_MAX) {
		if (sp->mech != SASLPEEK_MECH_OAUTHBEARER &&
		    sp->mech != SASLPEEK_MECH_XOAUTH2) {
			sp->why = "response too long";
			return SASLPEEK_MALFORMED;
		}
		len = SASLPEEK_B64_MAX;		/* a multiple of 4 */
		in.whole = 0;
	}
	if (base64_decode(b64, len, dec, &in.n) < 0) {
		sp->why = "bad base64";
		s = SASLPEEK_MALFORMED;
	} else
		s = peek_decoded(sp->mech, &in, id, &sp->why);
	wipe(dec, sizeof(dec));
	if (s != SASLPEEK_FOUND)
		id->user[0] = id->authzid[0] = 0;
	return s;
}

/* carrying_step - does this response carry the account? */
static int
carrying_step(struct saslpeek *sp, int initial, size_t len)
{
	if (initial) {
		if (len == 0)		/* Dovecot: as if none, an empty challenge
					 * follows */
			return 0;
		sp->initial = 1;
		return sp->mech != SASLPEEK_MECH_CRAM_MD5 &&
		    sp->mech != SASLPEEK_MECH_DIGEST_MD5;
	}
	sp->conts++;
	if (sp->mech == SASLPEEK_MECH_CRAM_MD5 ||
	    sp->mech == SASLPEEK_MECH_DIGEST_MD5)
		return sp->conts == 1;	/* Dovecot ignores an initial response */
	return sp->conts == 1 && !sp->initial;
}

/* saslpeek_push - the next client response of the exchange */
enum saslpeek_status
saslpeek_push(struct saslpeek *sp, int initial, const char *b64, size_t len,
    struct saslpeek_id *id)
{
	enum saslpeek_status s;

	id->user[0] = id->authzid[0] = 0;
	if (sp->over)
		return SASLPEEK_NOT_THIS_STEP;
	if (sp->mech == SASLPEEK_MECH_OTHER) {
		sp->over = 1;
		sp->why = "the mechanism carries no account in clear";
		return SASLPEEK_NONE;
	}
	if (!carrying_step(sp, initial, len)) {
		if (sp->conts > 0)	/* the carrying step has passed */
			sp->over = 1;
		return SASLPEEK_NOT_THIS_STEP;
	}
	s = peek_response(sp, b64, len, id);
	sp->over = 1;
	return s;
}
