/*++
/* NAME
/*	csrf 3
/* SUMMARY
/*	the forms' token: a keyed hash of the browser's cookie and the user
/* SYNOPSIS
/*	#include "csrf.h"
/*
/*	void	csrf_key_new(unsigned char *key, size_t len)
/*
/*	void	csrf_cookie_new(char out[CSRF_COOKIE_LEN + 1])
/*
/*	int	csrf_cookie_ok(const char *cookie)
/*
/*	void	csrf_token(const unsigned char *key, size_t len,
/*		const char *cookie, const char *user,
/*		char out[CSRF_TOKEN_LEN + 1])
/*
/*	int	csrf_check(const unsigned char *key, size_t len,
/*		const char *cookie, const char *user, const char *token)
/* DESCRIPTION
/*	A form that changes something carries a hidden token; the browser
/*	holds a random cookie (SameSite=Strict, HttpOnly). The token is
/*	the hex of HMAC-SHA256(key, cookie || 0 || user): a page of
/*	another site can neither read the cookie nor make the token, and
/*	a token made for one user does not serve another.
/*
/*	csrf_key_new() draws the key from getrandom(2) (once, at start:
/*	a restart makes old forms stale, and their next POST is refused).
/*	csrf_cookie_new() draws a new cookie, CSRF_COOKIE_LEN hex
/*	digits; csrf_cookie_ok() tells whether a cookie has that form.
/*	csrf_token() makes the token; csrf_check() compares a token sent
/*	with the right one in constant time (CRYPTO_memcmp): 1 right, 0
/*	wrong or missing (a NULL cookie or token, a cookie of the wrong
/*	form).
/*--*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "csrf.h"
#include "msg.h"
#include "util.h"

/* csrf_random - bytes from getrandom(2); fatal if it fails */
static void
csrf_random(unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = getrandom(p, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("getrandom: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

/* csrf_hex - bytes as lower-case hex */
static void
csrf_hex(const unsigned char *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = 0;
}

/* csrf_key_new - a new random key */
void
csrf_key_new(unsigned char *key, size_t len)
{
	csrf_random(key, len);
}

/* csrf_cookie_new - a new random cookie */
void
csrf_cookie_new(char *out)
{
	unsigned char r[CSRF_COOKIE_LEN / 2];

	csrf_random(r, sizeof(r));
	csrf_hex(r, sizeof(r), out);
}

/* csrf_cookie_ok - CSRF_COOKIE_LEN lower-case hex digits */
int
csrf_cookie_ok(const char *cookie)
{
	return cookie != NULL && strlen(cookie) == CSRF_COOKIE_LEN &&
	    strspn(cookie, "0123456789abcdef") == CSRF_COOKIE_LEN;
}

/* csrf_token - the hex HMAC-SHA256 of cookie, a zero byte and user */
void
csrf_token(const unsigned char *key, size_t len, const char *cookie,
    const char *user, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t clen = strlen(cookie), ulen = strlen(user);
	unsigned char *msg = xmalloc(clen + 1 + ulen);

	memcpy(msg, cookie, clen);
	msg[clen] = 0;
	memcpy(msg + clen + 1, user, ulen);
	if (HMAC(EVP_sha256(), key, (int)len, msg, clen + 1 + ulen, md,
	    &mdlen) == NULL || mdlen != CSRF_TOKEN_LEN / 2)
		msg_fatal("csrf: HMAC-SHA256 failed");
	free(msg);
	csrf_hex(md, mdlen, out);
}

/* csrf_check - is the token the one of this cookie and user? */
int
csrf_check(const unsigned char *key, size_t len, const char *cookie,
    const char *user, const char *token)
{
	char want[CSRF_TOKEN_LEN + 1];

	if (!csrf_cookie_ok(cookie) || token == NULL ||
	    strlen(token) != CSRF_TOKEN_LEN)
		return 0;
	csrf_token(key, len, cookie, user, want);
	return CRYPTO_memcmp(want, token, CSRF_TOKEN_LEN) == 0;
}
