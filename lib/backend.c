/*++
/* NAME
/*	backend 3
/* SUMMARY
/*	state_backend: embedded, or the address of a Redis server
/* DESCRIPTION
/*	backend_parse() reads the value of state_backend:
/*
/*	embedded
/*		state in this process, saved in state_dir (the default);
/*	redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
/*		Redis over TCP; HOST may be [IPv6]; PORT 6379, DB 0;
/*	rediss://...
/*		the same over TLS;
/*	unix:[[USER]:PASSWORD@]/PATH[?db=DB]
/*		Redis on a unix socket.
/*
/*	USER and PASSWORD may use %XX escapes. It is pure: no name is
/*	resolved and nothing is connected. backend_describe() gives the
/*	address without the password, for logs.
/*--*/
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "util.h"

/* unescape_to - [s, e) with %XX escapes into out; -1 if bad or too long */
static int
unescape_to(const char *s, const char *e, char *out, size_t len)
{
	size_t n = 0;
	int hi, lo;

	for (; s < e; s++) {
		if (n + 1 >= len)
			return -1;
		if (*s != '%') {
			out[n++] = *s;
			continue;
		}
		if (e - s < 3 || (hi = hex_digit(s[1])) < 0 ||
		    (lo = hex_digit(s[2])) < 0 || (hi | lo) == 0)
			return -1;
		out[n++] = (char)(hi * 16 + lo);
		s += 2;
	}
	out[n] = 0;
	return 0;
}

/* number - all digits, at most max */
static int
number(const char *s, const char *e, unsigned long max, unsigned *v)
{
	unsigned long n = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9' || (n = n * 10 + (unsigned)(*s - '0')) > max)
			return -1;
	}
	*v = (unsigned)n;
	return 0;
}

/* host_ok - a name or address: no spaces, slashes or control bytes */
static int
host_ok(const char *h)
{
	if (*h == 0)
		return 0;
	for (; *h; h++)
		if ((unsigned char)*h <= ' ' || *h == '/' || *h == '@' ||
		    *h == 0x7f)
			return 0;
	return 1;
}

/* parse_userinfo - USER:PASSWORD or :PASSWORD before '@' */
static int
parse_userinfo(const char *s, const char *at, struct backend *b,
    const char **err)
{
	const char *colon = memchr(s, ':', (size_t)(at - s));

	if (colon == NULL)
		return *err = "want redis://[[USER]:PASSWORD@]HOST: the "
		    "password follows a colon", -1;
	if (unescape_to(s, colon, b->user, sizeof(b->user)) < 0 ||
	    unescape_to(colon + 1, at, b->password, sizeof(b->password)) < 0)
		return *err = "bad or overlong user or password (use %XX for "
		    "reserved characters)", -1;
	return 0;
}

/* parse_hostport - HOST[:PORT] or [V6][:PORT] in [s, e) */
static int
parse_hostport(const char *s, const char *e, struct backend *b,
    const char **err)
{
	const char *hend, *colon;

	if (*s == '[') {
		if ((hend = memchr(s, ']', (size_t)(e - s))) == NULL)
			return *err = "unclosed [ in the host", -1;
		colon = hend + 1 < e ? hend + 1 : NULL;
		if (colon && *colon != ':')
			return *err = "junk after ]", -1;
		s++;
	} else {
		colon = memchr(s, ':', (size_t)(e - s));
		hend = colon ? colon : e;
	}
	if ((size_t)(hend - s) >= sizeof(b->host))
		return *err = "host name too long", -1;
	memcpy(b->host, s, (size_t)(hend - s));
	b->host[hend - s] = 0;
	if (!host_ok(b->host))
		return *err = "want a host name or address", -1;
	b->port = BACKEND_PORT;
	if (colon && (number(colon + 1, e, 65535, &b->port) < 0 || b->port == 0))
		return *err = "want a port from 1 to 65535", -1;
	return 0;
}

/* parse_redis - redis:// or rediss:// after the scheme */
static int
parse_redis(const char *s, struct backend *b, const char **err)
{
	const char *slash = strchr(s, '/'), *e = slash ? slash : s + strlen(s);
	const char *at = memchr(s, '@', (size_t)(e - s));

	if (at && parse_userinfo(s, at, b, err) < 0)
		return -1;
	if (parse_hostport(at ? at + 1 : s, e, b, err) < 0)
		return -1;
	if (slash && slash[1] && number(slash + 1, slash + strlen(slash),
	    BACKEND_DB_MAX, &b->db) < 0)
		return *err = "want a database number after the slash", -1;
	return 0;
}

/* parse_unix - unix:[[USER]:PASSWORD@]/PATH[?db=N] */
static int
parse_unix(const char *s, struct backend *b, const char **err)
{
	const char *at = strstr(s, "@/"), *q, *e;

	if (*s != '/' && at && parse_userinfo(s, at, b, err) < 0)
		return -1;
	if (*s != '/' && at)
		s = at + 1;
	q = strchr(s, '?');
	e = q ? q : s + strlen(s);
	if (*s != '/')
		return *err = "want unix:/absolute/path", -1;
	if ((size_t)(e - s) >= sizeof(b->path))
		return *err = "unix socket path too long", -1;
	memcpy(b->path, s, (size_t)(e - s));
	b->path[e - s] = 0;
	if (q && (strncmp(q, "?db=", 4) != 0 || number(q + 4, q + strlen(q),
	    BACKEND_DB_MAX, &b->db) < 0))
		return *err = "want unix:/PATH?db=N", -1;
	return 0;
}

/* backend_parse - the value of state_backend; -1 with *err */
int
backend_parse(const char *s, struct backend *b, const char **err)
{
	memset(b, 0, sizeof(*b));
	if (strcmp(s, "embedded") == 0)
		return 0;
	b->kind = BACKEND_REDIS;
	if (strncmp(s, "redis://", 8) == 0)
		return parse_redis(s + 8, b, err);
	if (strncmp(s, "rediss://", 9) == 0) {
		b->tls = 1;
		return parse_redis(s + 9, b, err);
	}
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(s + 5, b, err);
	return *err = "want embedded, redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] "
	    "or unix:[[USER]:PASSWORD@]/PATH[?db=N]", -1;
}

/* backend_describe - where, without the password; -1 if it does not fit */
int
backend_describe(const struct backend *b, char *out, unsigned long len)
{
	int n;

	if (b->kind == BACKEND_EMBEDDED)
		n = snprintf(out, len, "embedded");
	else if (b->path[0])
		n = snprintf(out, len, "unix:%s?db=%u", b->path, b->db);
	else
		n = snprintf(out, len, "%s://%s%s%s:%u/%u", b->tls ? "rediss" :
		    "redis", strchr(b->host, ':') ? "[" : "", b->host,
		    strchr(b->host, ':') ? "]" : "", b->port, b->db);
	return n < 0 || (unsigned long)n >= len ? -1 : 0;
}
