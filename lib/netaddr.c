/*++
/* NAME
/*	netaddr 3
/* SUMMARY
/*	IP addresses, network lists, socket specifications
/* DESCRIPTION
/*	netlist_parse() reads "127.0.0.0/8, ::1, 192.0.2.7" (commas or
/*	white space between items; a bare address is a host). IPv4 is
/*	kept IPv4-mapped so that one comparison serves both families
/*	and a client seen as ::ffff:192.0.2.7 matches 192.0.2.0/24.
/*	sockspec_parse() reads "unix:/path" or "inet:host:port", the
/*	host numeric, IPv6 in brackets.
/*
/*	netaddr_canon() gives every address one text, so that it is
/*	counted, locked, logged and stored under one name whoever wrote
/*	it: an IPv4-mapped IPv6 address in any spelling (::ffff:a.b.c.d,
/*	::FFFF:a.b.c.d, 0:0:0:0:0:ffff:a.b.c.d, ::ffff:c000:24d) is its
/*	dotted IPv4; any other IPv6 address is inet_ntop()'s lower-case,
/*	compressed form. An IPv4-compatible address (::a.b.c.d, deprecated
/*	by RFC 4291) is not mapped and stays IPv6. A zone ("%eth0", RFC
/*	4007) is kept after a canonical IPv6 address; it must be 1 to
/*	NETADDR_ZONE_MAX letters, digits, '.', '_' or '-', or the text is
/*	no address. A mapped address loses its zone: IPv4 has none. The
/*	result is in out; when in is no address (an account name,
/*	"unknown"), or out is shorter than the result, in itself comes
/*	back unchanged. NETADDR_CANON_MAX bytes always suffice.
/*	netaddr_valid() says whether a text is an address in that sense,
/*	a zone allowed (ipaddr_parse() takes none: a socket's host has
/*	no zone here).
/*--*/
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "util.h"

/* ipaddr_parse - numeric IPv4 or IPv6 */
int
ipaddr_parse(const char *s, struct ipaddr *a)
{
	unsigned char v4[4];

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, v4) == 1) {
		a->b[10] = a->b[11] = 0xff;
		memcpy(a->b + 12, v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1)
		return 0;
	return -1;
}

/* ipaddr_is_v4 - IPv4-mapped? */
static int
ipaddr_is_v4(const struct ipaddr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff};

	return memcmp(a->b, mapped, 12) == 0;
}

/* zone_valid - a zone we keep: an interface name or index */
static int
zone_valid(const char *z)
{
	size_t n;

	for (n = 0; z[n]; n++)
		if (n == NETADDR_ZONE_MAX || !(isalnum((unsigned char)z[n]) ||
		    z[n] == '.' || z[n] == '_' || z[n] == '-'))
			return 0;
	return n > 0;
}

/* canon_text - address, zone: the text, or -1 when it is none */
static int
canon_text(const char *addr, const char *zone, char *text)
{
	struct ipaddr a;
	int v4;

	if (inet_pton(AF_INET, addr, a.b + 12) == 1)
		v4 = zone == NULL ? 1 : -1;	/* no zones on IPv4 text */
	else if (inet_pton(AF_INET6, addr, a.b) == 1)
		v4 = ipaddr_is_v4(&a);
	else
		v4 = -1;
	if (v4 < 0 || (zone && !zone_valid(zone)) ||
	    inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a.b + 12 : a.b, text,
	    INET6_ADDRSTRLEN) == NULL)
		return -1;
	if (zone && !v4)
		strcat(strcat(text, "%"), zone);
	return 0;
}

/* netaddr_canon - the one text form of an address; in unchanged if it is none */
const char *
netaddr_canon(const char *in, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN], text[NETADDR_CANON_MAX];
	const char *pct;
	size_t alen;

	if (in == NULL || out == NULL)
		return in;
	pct = strchr(in, '%');
	alen = pct ? (size_t)(pct - in) : strlen(in);
	if (alen >= sizeof(addr))
		return in;
	memcpy(addr, in, alen);
	addr[alen] = 0;
	if (canon_text(addr, pct ? pct + 1 : NULL, text) < 0 ||
	    strlen(text) >= len)
		return in;
	return strcpy(out, text);
}

/* netaddr_valid - an address for netaddr_canon (a zone allowed)? */
int
netaddr_valid(const char *s)
{
	char out[NETADDR_CANON_MAX];

	return s != NULL && netaddr_canon(s, out, sizeof(out)) == out;
}

/* netmask_parse - one "addr[/prefix]" */
static int
netmask_parse(char *item, struct netmask *m)
{
	char *slash = strchr(item, '/');
	unsigned long prefix;
	unsigned max;

	if (slash)
		*slash++ = 0;
	if (ipaddr_parse(item, &m->addr) < 0)
		return -1;
	max = ipaddr_is_v4(&m->addr) ? 32 : 128;
	if (slash == NULL)
		prefix = max;
	else if (parse_uint(slash, max, &prefix) < 0)
		return -1;
	m->prefix = (unsigned)prefix + (128 - max);
	return 0;
}

/* netlist_parse - comma/space separated networks */
int
netlist_parse(const char *s, struct netlist *nl, const char **err)
{
	char *copy = xstrdup(s), *item, *save = NULL;
	int rc = 0;

	nl->v = NULL;
	nl->n = 0;
	for (item = strtok_r(copy, ", \t", &save); item;
	    item = strtok_r(NULL, ", \t", &save)) {
		nl->v = xrealloc(nl->v, (nl->n + 1) * sizeof(*nl->v));
		if (netmask_parse(item, &nl->v[nl->n]) < 0) {
			*err = "invalid network (want address or address/prefix)";
			rc = -1;
			break;
		}
		nl->n++;
	}
	free(copy);
	if (rc < 0)
		netlist_free(nl);
	return rc;
}

/* prefix_equal - first bits of two addresses agree */
static int
prefix_equal(const struct ipaddr *a, const struct ipaddr *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a->b, b->b, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a->b[bytes] & mask) == (b->b[bytes] & mask);
}

/* netlist_match - address in any listed network? */
int
netlist_match(const struct netlist *nl, const struct ipaddr *a)
{
	size_t i;

	for (i = 0; i < nl->n; i++)
		if (prefix_equal(&nl->v[i].addr, a, nl->v[i].prefix))
			return 1;
	return 0;
}

/* netlist_match_str - same, for an address in text; bad text: no match */
int
netlist_match_str(const struct netlist *nl, const char *s)
{
	struct ipaddr a;

	if (s == NULL || ipaddr_parse(s, &a) < 0)
		return 0;
	return netlist_match(nl, &a);
}

/* netlist_free - release */
void
netlist_free(struct netlist *nl)
{
	free(nl->v);
	nl->v = NULL;
	nl->n = 0;
}

/* sockspec_parse_inet - "host:port" or "[v6]:port" */
static int
sockspec_parse_inet(const char *s, struct sockspec *ss, const char **err)
{
	const char *colon, *host = s;
	size_t hlen;
	unsigned long port;
	struct ipaddr a;

	if (*s == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return *err = "inet socket wants [ipv6]:port", -1;
		host = s + 1;
		hlen = (size_t)(colon - host);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return *err = "inet socket wants host:port", -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(ss->host))
		return *err = "invalid host", -1;
	memcpy(ss->host, host, hlen);
	ss->host[hlen] = 0;
	if (strcmp(ss->host, "localhost") == 0)
		strcpy(ss->host, "127.0.0.1");
	if (ipaddr_parse(ss->host, &a) < 0)
		return *err = "host must be a numeric address", -1;
	if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
		return *err = "invalid port", -1;
	ss->port = (unsigned)port;
	ss->kind = SOCK_INET;
	return 0;
}

/* sockspec_parse - "unix:/path" or "inet:host:port" */
int
sockspec_parse(const char *s, struct sockspec *ss, const char **err)
{
	memset(ss, 0, sizeof(*ss));
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/')
			return *err = "unix socket path must be absolute", -1;
		if (str_copy(ss->path, sizeof(ss->path), s + 5) < 0)
			return *err = "unix socket path too long", -1;
		ss->kind = SOCK_UNIX;
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0)
		return sockspec_parse_inet(s + 5, ss, err);
	*err = "socket must be unix:/path or inet:host:port";
	return -1;
}
