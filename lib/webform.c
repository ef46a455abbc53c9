/*++
/* NAME
/*	webform 3
/* SUMMARY
/*	what a browser sends: form bodies, cookies, basic authentication,
/*	and the htpasswd file's lines
/* SYNOPSIS
/*	#include "webform.h"
/*
/*	int	form_get(const char *body, size_t len, const char *name,
/*		char *out, size_t outlen)
/*
/*	int	cookie_get(const char *header, const char *name, char *out,
/*		size_t outlen)
/*
/*	int	basic_parse(const char *header, char *user, size_t ulen,
/*		char *pass, size_t plen)
/*
/*	int	htpasswd_line(const char *line, size_t len, char *user,
/*		size_t ulen, char *hash, size_t hlen, const char **err)
/*
/*	int	web_name_ok(const char *name)
/* DESCRIPTION
/*	All are pure: text in, fields out, nothing kept.
/*
/*	form_get() finds the field "name" of an
/*	application/x-www-form-urlencoded body ("a=1&b=x%20y", '+' for a
/*	space) and decodes its value into out: 1 found, 0 absent, -1 for
/*	a malformed body (a bad %-escape anywhere, a field named twice, a
/*	NUL or control byte decoded, a value that does not fit in out).
/*
/*	cookie_get() finds the cookie "name" of a Cookie header ("a=1;
/*	b=2", a value may be in double quotes): 1 found (copied to out), 0
/*	absent, -1 when it does not fit or the header holds a control
/*	byte.
/*
/*	basic_parse() reads an Authorization header "Basic BASE64" (the
/*	scheme in any case): user and password split at the first ':'. 0,
/*	or -1 for another scheme, bad base64, no ':', an empty user, a
/*	user that fails web_name_ok() or a part that does not fit. The
/*	decoded text is wiped before it returns; the caller wipes pass.
/*
/*	htpasswd_line() reads one line of a file of "NAME:HASH" lines:
/*	1 an entry, 0 a blank or '#' line, -1 with *err. The hashes
/*	accepted are those of crypt(3) in libxcrypt: yescrypt ($y$),
/*	bcrypt ($2b$, $2y$), sha512crypt ($6$) and sha256crypt ($5$);
/*	Apache's own $apr1$ (an MD5 that crypt(3) does not know) is
/*	refused with a message saying what to use instead.
/*
/*	web_name_ok() tells whether a user name may be used: 1 to
/*	WEB_NAME_MAX bytes, none a control byte, a TAB or ':'.
/*--*/
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "util.h"
#include "webform.h"

/* form_unescape - decode one value; -1 malformed or too long */
static int
form_unescape(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n || (hi = hex_digit(p[i + 1])) < 0 ||
			    (lo = hex_digit(p[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
			return -1;
		if (out)
			out[o] = (char)c;
		o++;
	}
	if (out)
		out[o] = 0;
	return 0;
}

/* form_get - one field of a urlencoded body */
int
form_get(const char *body, size_t len, const char *name, char *out,
    size_t outlen)
{
	const char *p = body, *end = body + len, *amp, *eq;
	size_t nlen = strlen(name), klen;
	char key[64];
	int found = 0;

	if (outlen == 0)
		return -1;
	for (; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;		/* "a=1&&b=2" */
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		klen = (size_t)(eq - p);
		if (form_unescape(p, klen, key, sizeof(key)) < 0)
			return -1;
		if (eq < amp && form_unescape(eq + 1, (size_t)(amp - eq - 1),
		    NULL, (size_t)-1) < 0)
			return -1;		/* every value well formed */
		if (strlen(key) != nlen || memcmp(key, name, nlen) != 0)
			continue;
		if (found++)
			return -1;		/* named twice */
		if (eq == amp)
			*out = 0;
		else if (form_unescape(eq + 1, (size_t)(amp - eq - 1), out,
		    outlen) < 0)
			return -1;
	}
	return found;
}

/* cookie_get - one cookie of a Cookie header */
int
cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), vlen;
	const char *p, *v, *end;

	for (p = header; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	for (p = header; *p; p = *end ? end + 1 : end) {
		p += strspn(p, " \t");
		end = p + strcspn(p, ";");
		if ((v = memchr(p, '=', (size_t)(end - p))) == NULL ||
		    (size_t)(v - p) != nlen || memcmp(p, name, nlen) != 0)
			continue;
		v++;
		vlen = (size_t)(end - v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
			v++, vlen -= 2;
		if (vlen >= outlen)
			return -1;
		memcpy(out, v, vlen);
		out[vlen] = 0;
		return 1;
	}
	return 0;
}

/* web_name_ok - a user name that may be shown, logged and sent on */
int
web_name_ok(const char *name)
{
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)name; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f || *p == ':')
			return 0;
	return n > 0 && n <= WEB_NAME_MAX;
}

/* basic_parse - "Basic BASE64" to user and password */
int
basic_parse(const char *header, char *user, size_t ulen, char *pass,
    size_t plen)
{
	unsigned char dec[BASE64_DECODED_MAX(512)];
	const char *b64, *colon;
	size_t len, n, ul;
	int rc = -1;

	if (strncasecmp(header, "Basic ", 6) != 0)
		return -1;
	b64 = header + 6;
	b64 += strspn(b64, " ");
	len = strcspn(b64, " ");
	if (b64[len + strspn(b64 + len, " ")] != 0 || len > 512 ||
	    base64_decode(b64, len, dec, &n) < 0)
		return -1;
	colon = memchr(dec, ':', n);
	if (colon != NULL && memchr(dec, 0, n) == NULL) {
		ul = (size_t)(colon - (const char *)dec);
		if (ul < ulen && n - ul - 1 < plen) {
			memcpy(user, dec, ul);
			user[ul] = 0;
			memcpy(pass, colon + 1, n - ul - 1);
			pass[n - ul - 1] = 0;
			rc = web_name_ok(user) ? 0 : -1;
		}
	}
	wipe(dec, sizeof(dec));
	if (rc < 0 && plen)
		wipe(pass, plen);
	return rc;
}

/* htpasswd_scheme - a hash crypt(3) takes; -1 with *err */
static int
htpasswd_scheme(const char *hash, const char **err)
{
	static const char *const ok[] = {"$y$", "$2b$", "$2y$", "$6$", "$5$"};
	size_t i;

	if (strncmp(hash, "$apr1$", 6) == 0)
		return *err = "$apr1$ (Apache MD5) is not a crypt(3) hash: "
		    "make the entry with htpasswd -B (bcrypt) or mkpasswd "
		    "(yescrypt)", -1;
	for (i = 0; i < NELEM(ok); i++)
		if (strncmp(hash, ok[i], strlen(ok[i])) == 0)
			return 0;
	return *err = "not a hash of yescrypt ($y$), bcrypt ($2b$, $2y$), "
	    "sha512crypt ($6$) or sha256crypt ($5$)", -1;
}

/* htpasswd_line - one "NAME:HASH" line */
int
htpasswd_line(const char *line, size_t len, char *user, size_t ulen,
    char *hash, size_t hlen, const char **err)
{
	const char *colon, *h;
	size_t n, i;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
	    line[len - 1] == '\t'))
		len--;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		 /* void */ ;
	if (i == len || line[i] == '#')
		return 0;
	if (memchr(line, 0, len) != NULL)
		return *err = "NUL byte", -1;
	if ((colon = memchr(line, ':', len)) == NULL)
		return *err = "want NAME:HASH", -1;
	n = (size_t)(colon - line);
	if (n == 0 || n >= ulen || n > WEB_NAME_MAX)
		return *err = "bad user name", -1;
	memcpy(user, line, n);
	user[n] = 0;
	if (!web_name_ok(user))
		return *err = "bad user name", -1;
	h = colon + 1;
	n = len - n - 1;
	if (n >= hlen)
		return *err = "hash too long", -1;
	memcpy(hash, h, n);
	hash[n] = 0;
	if (memchr(hash, ':', n) != NULL)
		*strchr(hash, ':') = 0;	/* "name:hash:comment" */
	if (strpbrk(hash, " \t") != NULL)
		return *err = "white space in the hash", -1;
	return htpasswd_scheme(hash, err) < 0 ? -1 : 1;
}
