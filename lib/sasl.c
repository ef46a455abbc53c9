/*++
/* NAME
/*	sasl 3
/* SUMMARY
/*	SASL PLAIN and LOGIN response decoding, password shapes
/* DESCRIPTION
/*	sasl_plain_decode() takes the base64 of a PLAIN response
/*	(RFC 4616: authzid NUL authcid NUL passwd) and splits it; a
/*	response without exactly two NULs, or with an empty user or
/*	password, is malformed. sasl_login_decode() takes one base64
/*	LOGIN step (user name or password). Decoded secrets live only
/*	in memory that the caller wipes with sasl_plain_wipe() or
/*	wipe_str().
/*
/*	sasl_app_password_spaced() recognises an app password typed as
/*	it is displayed, four groups of four letters separated by
/*	single spaces ("abcd efgh ijkl mnop"); sasl_app_password_shaped()
/*	the same without spaces (16 letters). sasl_mech_is_oauth() tells
/*	the OAuth mechanisms (OAUTHBEARER, XOAUTH2), in any case.
/*--*/
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "sasl.h"
#include "util.h"

/* sasl_decode_alloc - base64 into fresh memory with a terminator */
static enum sasl_error
sasl_decode_alloc(const char *b64, size_t len, char **out, size_t *outlen)
{
	size_t max = BASE64_DECODED_MAX(len);
	char *mem;

	if (len > 4 * SASL_FIELD_MAX)
		return SASL_TOO_LONG;
	mem = xmalloc(max + 1);
	if (base64_decode(b64, len, (unsigned char *)mem, outlen) < 0) {
		wipe_free(mem, max + 1);
		return SASL_BAD_BASE64;
	}
	mem[*outlen] = 0;
	*out = mem;
	return SASL_OK;
}

/* sasl_plain_decode - split b64(authzid NUL user NUL pass) */
enum sasl_error
sasl_plain_decode(const char *b64, size_t len, struct sasl_plain *sp)
{
	enum sasl_error err;
	char *mem, *nul1, *nul2;
	size_t n;

	memset(sp, 0, sizeof(*sp));
	if ((err = sasl_decode_alloc(b64, len, &mem, &n)) != SASL_OK)
		return err;
	sp->mem = mem;
	sp->memlen = n;
	if ((nul1 = memchr(mem, 0, n)) == NULL ||
	    (nul2 = memchr(nul1 + 1, 0, n - (size_t)(nul1 + 1 - mem))) == NULL ||
	    memchr(nul2 + 1, 0, n - (size_t)(nul2 + 1 - mem)) != NULL)
		err = SASL_NO_SEPARATORS;
	else if (nul2 == nul1 + 1)
		err = SASL_EMPTY_USER;
	else if (nul2 + 1 == mem + n)
		err = SASL_EMPTY_PASSWORD;
	else if ((size_t)(nul1 - mem) > SASL_FIELD_MAX ||
	    (size_t)(nul2 - nul1 - 1) > SASL_FIELD_MAX ||
	    (size_t)(mem + n - nul2 - 1) > SASL_FIELD_MAX)
		err = SASL_TOO_LONG;
	if (err != SASL_OK) {
		sasl_plain_wipe(sp);
		return err;
	}
	sp->authzid = mem;
	sp->user = nul1 + 1;
	sp->pass = nul2 + 1;
	return SASL_OK;
}

/* sasl_plain_wipe - clear and release a decoded response */
void
sasl_plain_wipe(struct sasl_plain *sp)
{
	if (sp->mem)
		wipe_free(sp->mem, sp->memlen + 1);
	memset(sp, 0, sizeof(*sp));
}

/* sasl_login_decode - one LOGIN step; is_pass selects the empty error */
enum sasl_error
sasl_login_decode(const char *b64, size_t len, int is_pass, char **out)
{
	enum sasl_error err;
	char *mem;
	size_t n;

	*out = NULL;
	if ((err = sasl_decode_alloc(b64, len, &mem, &n)) != SASL_OK)
		return err;
	if (n == 0)
		err = is_pass ? SASL_EMPTY_PASSWORD : SASL_EMPTY_USER;
	else if (memchr(mem, 0, n) != NULL)
		err = SASL_NUL_IN_VALUE;
	else if (n > SASL_FIELD_MAX)
		err = SASL_TOO_LONG;
	if (err != SASL_OK) {
		wipe_free(mem, n + 1);
		return err;
	}
	*out = mem;
	return SASL_OK;
}

/* sasl_plain_encode - append b64(authzid NUL user NUL pass) */
void
sasl_plain_encode(struct buf *b, const char *authzid, const char *user,
    const char *pass)
{
	struct buf raw;

	buf_init(&raw);
	buf_puts(&raw, authzid);
	buf_putc(&raw, 0);
	buf_puts(&raw, user);
	buf_putc(&raw, 0);
	buf_puts(&raw, pass);
	base64_encode(b, (unsigned char *)raw.data, raw.len);
	buf_free(&raw);
}

/* sasl_error_str - what was wrong, for the log */
const char *
sasl_error_str(enum sasl_error err)
{
	switch (err) {
	case SASL_OK:
		return "ok";
	case SASL_BAD_BASE64:
		return "invalid base64";
	case SASL_NO_SEPARATORS:
		return "PLAIN response without its two NUL separators";
	case SASL_EMPTY_USER:
		return "empty user name";
	case SASL_EMPTY_PASSWORD:
		return "empty password";
	case SASL_NUL_IN_VALUE:
		return "NUL byte in LOGIN value";
	case SASL_TOO_LONG:
		return "response too long";
	}
	return "unknown";
}

/* letters - whether s starts with n ASCII letters */
static int
letters(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]))
			return 0;
	return 1;
}

/* sasl_app_password_spaced - "abcd efgh ijkl mnop" */
int
sasl_app_password_spaced(const char *p)
{
	int g;

	if (strlen(p) != 19)
		return 0;
	for (g = 0; g < 4; g++) {
		if (!letters(p + g * 5, 4))
			return 0;
		if (g < 3 && p[g * 5 + 4] != ' ')
			return 0;
	}
	return 1;
}

/* sasl_app_password_shaped - sixteen letters */
int
sasl_app_password_shaped(const char *p)
{
	return strlen(p) == 16 && letters(p, 16);
}

/* sasl_mech_is_oauth - an OAuth mechanism (what oauth-only accounts may use) */
int
sasl_mech_is_oauth(const char *mech)
{
	return strcasecmp(mech, "OAUTHBEARER") == 0 ||
	    strcasecmp(mech, "XOAUTH2") == 0;
}
