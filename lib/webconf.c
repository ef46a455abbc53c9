/*++
/* NAME
/*	webconf 3
/* SUMMARY
/*	authguard-web.conf: the web front end's table of keys
/* SYNOPSIS
/*	#include "webconf.h"
/*
/*	int	webconf_parse(const char *text, size_t len, const char *name,
/*		struct webconf *c, char *err, size_t errlen)
/*
/*	int	webconf_load(const char *path, struct webconf *c, char *err,
/*		size_t errlen)
/*
/*	void	webconf_free(struct webconf *c)
/*
/*	int	webconf_listed(const char *list, const char *name)
/*
/*	int	webconf_host_listed(const char *list, const char *host)
/* DESCRIPTION
/*	The web front end's file has the syntax of authguard.conf and is
/*	read by the same code (conf_parse()), from its own table below.
/*
/*	Once the whole file is read: an inet: web_listen must be a
/*	loopback address (127.0.0.0/8 or ::1): TLS and sign-on are the
/*	reverse proxy's job, and the page must not be reached without
/*	it; user_header must be a header name (letters, digits, '-') or
/*	empty (no proxy names the user);
/*	control_timeout is at least 100ms; a unix web_listen may not be
/*	writable by others (web_socket_mode).
/*
/*	trusted_proxies is a list of networks (trusted_nets) and may
/*	hold the word "unix" (trust_unix): the peers of a unix
/*	web_listen are then believed too; without it they are not.
/*	proxy_secret, when set, is "Name: value" (blanks around the value
/*	dropped; neither part empty): secret_name and secret_value.
/*
/*	host_names is a space-separated list of host names (letters,
/*	digits, '-', '.'; an IPv6 address in brackets), without a port.
/*
/*	webconf_listed() tells whether a name is one of a space-separated
/*	list (viewers, admins): 1 or 0. webconf_host_listed() tells
/*	whether a Host header's value (a name, with an optional :port)
/*	names one of the list (host_names), compared without regard to
/*	case and to a final dot: 1 or 0.
/*--*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "webconf.h"
#include "util.h"

#define WP(name, def, type) {#name, def, type, offsetof(struct webconf, name), \
	0, 0, 0}
/* Fixed at start: the listener, the identity. */
#define WR(name, def, type) {#name, def, type, offsetof(struct webconf, name), \
	0, 0, 1}

static const struct config_param webconf_table[] = {
	WR(web_listen, "inet:127.0.0.1:8026", CT_SOCKET),
	WR(web_socket_owner, "", CT_STRING),
	WR(web_socket_group, "", CT_STRING),
	WR(web_socket_mode, "0660", CT_MODE),
	WP(control_socket, "/run/authguard/control", CT_FILE),
	WP(control_timeout, "5s", CT_DURATION),
	WP(trusted_proxies, "", CT_STRING),
	WP(proxy_secret, "", CT_STRING),
	WP(user_header, "X-Remote-User", CT_STRING),
	WP(htpasswd, "", CT_FILE),
	WP(viewers, "", CT_STRING),
	WP(admins, "", CT_STRING),
	WP(host_names, "", CT_STRING),
	WP(lock_time, "", CT_DURATION_OPT),
	WR(user, "authguard-web", CT_STRING),
	WP(log_format, "logfmt", CT_LOGFMT),
};

_Static_assert(NELEM(webconf_table) == WEBCONF_KEYS, "WEBCONF_KEYS");

static int webconf_check(const void *, const char **);

static const struct config_table webconf_file = {
	webconf_table, NELEM(webconf_table), sizeof(struct webconf),
	offsetof(struct webconf, text), webconf_check,
};

/* webconf_loopback - is a numeric address one of this host's loopback? */
static int
webconf_loopback(const char *host)
{
	struct netlist lo = {0};
	const char *err;
	int yes;

	if (netlist_parse("127.0.0.0/8 ::1/128", &lo, &err) < 0)
		return 0;
	yes = netlist_match_str(&lo, host);
	netlist_free(&lo);
	return yes;
}

/*
 * webconf_host_ok - one word of host_names: a name (letters, digits,
 * '-', '.') or an IPv6 address in brackets; no port
 */
static int
webconf_host_ok(const char *p, size_t n)
{
	if (n > 2 && p[0] == '[' && p[n - 1] == ']')
		return strspn(p + 1, "0123456789abcdefABCDEF:.") == n - 2;
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") >= n;
}

/* webconf_hosts_ok - every word of host_names */
static int
webconf_hosts_ok(const char *list)
{
	const char *p;
	size_t n;

	for (p = list + strspn(list, " \t"); *p; p += strspn(p, " \t")) {
		n = strcspn(p, " \t");
		if (!webconf_host_ok(p, n))
			return 0;
		p += n;
	}
	return 1;
}

/* webconf_check - what one line cannot tell */
static int
webconf_check(const void *arg, const char **err)
{
	const struct webconf *c = arg;

	if (c->web_listen.kind == SOCK_INET && !webconf_loopback(
	    c->web_listen.host))
		return *err = "web_listen: want a loopback address "
		    "(127.0.0.1, [::1]) or a unix socket: TLS and sign-on "
		    "are the reverse proxy's job", -1;
	if (strspn(c->user_header, "abcdefghijklmnop"
	    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
	    strlen(c->user_header))
		return *err = "user_header: want a header name (letters, "
		    "digits, '-'), or nothing", -1;
	if (c->control_timeout < 100)
		return *err = "control_timeout: want at least 100ms", -1;
	if (c->web_listen.kind == SOCK_UNIX && (c->web_socket_mode & 02))
		return *err = "web_socket_mode: others may not write to the "
		    "unix web_listen (every local user could send the user "
		    "header)", -1;
	if (!webconf_hosts_ok(c->host_names))
		return *err = "host_names: want host names (letters, digits, "
		    "'-', '.') or [IPv6] addresses, without a port", -1;
	return 0;
}

/* webconf_secret - proxy_secret: "" or "Name: value" */
static const char *
webconf_secret(struct webconf *c)
{
	const char *set = c->proxy_secret, *colon = strchr(set, ':'), *v;
	size_t n;

	if (*set == 0)
		return NULL;
	if (colon == NULL)
		return "proxy_secret: want \"Name: value\"";
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		 /* void */ ;
	n = (size_t)(colon - set);
	if (n == 0 || *v == 0)
		return "proxy_secret: want \"Name: value\", neither empty";
	if (n > WEBCONF_SECRET_NAME_MAX || strspn(set, "abcdefghijklmnop"
	    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return "proxy_secret: want a header name (letters, digits, "
		    "'-') before the colon";
	memcpy(c->secret_name, set, n);
	c->secret_name[n] = 0;
	c->secret_value = v;
	return NULL;
}

/* webconf_proxies - trusted_proxies: networks, and the word "unix" */
static const char *
webconf_proxies(struct webconf *c)
{
	struct buf nets;
	const char *p, *err = NULL;
	size_t n;

	buf_init(&nets);
	for (p = c->trusted_proxies + strspn(c->trusted_proxies, " \t,");
	    *p; p += strspn(p, " \t,")) {
		n = strcspn(p, " \t,");
		if (n == 4 && memcmp(p, "unix", 4) == 0)
			c->trust_unix = 1;
		else
			buf_printf(&nets, "%s%.*s", nets.len ? " " : "",
			    (int)n, p);
		p += n;
	}
	if (netlist_parse(buf_str(&nets), &c->trusted_nets, &err) < 0)
		netlist_free(&c->trusted_nets);
	else
		err = NULL;
	buf_free(&nets);
	return err;
}

/* webconf_derive - what the keys above give; -1 with the error */
static int
webconf_derive(struct webconf *c, const char *name, char *err,
    size_t errlen)
{
	const char *why;

	if ((why = webconf_secret(c)) == NULL && (why = webconf_proxies(c))
	    == NULL)
		return 0;
	snprintf(err, errlen, "%s: %s%s", name, why, strncmp(why,
	    "proxy_secret", 12) ? " (trusted_proxies)" : "");
	webconf_free(c);
	return -1;
}

/* webconf_parse - text to configuration */
int
webconf_parse(const char *text, size_t len, const char *name,
    struct webconf *c, char *err, size_t errlen)
{
	if (conf_parse(&webconf_file, text, len, name, c, err, errlen) < 0)
		return -1;
	return webconf_derive(c, name, err, errlen);
}

/* webconf_load - read and parse a file */
int
webconf_load(const char *path, struct webconf *c, char *err, size_t errlen)
{
	if (conf_load(&webconf_file, path, c, err, errlen) < 0)
		return -1;
	return webconf_derive(c, path, err, errlen);
}

/* webconf_free - release what the configuration holds */
void
webconf_free(struct webconf *c)
{
	netlist_free(&c->trusted_nets);
	conf_free(&webconf_file, c);
}

/* webconf_word - is name (len bytes) a word of the list? fold: any case */
static int
webconf_word(const char *list, const char *name, size_t len, int fold)
{
	const char *p = list;
	size_t n;

	if (len == 0)
		return 0;
	for (p += strspn(p, " \t"); *p; p += strspn(p, " \t")) {
		n = strcspn(p, " \t");
		if (n == len && (fold ? strncasecmp(p, name, n) :
		    memcmp(p, name, n)) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* webconf_listed - is name a word of the space-separated list? */
int
webconf_listed(const char *list, const char *name)
{
	return webconf_word(list, name, strlen(name), 0);
}

/*
 * webconf_host_listed - does a Host header's value, without its :port
 * (digits), name a word of the list, in any case?
 */
int
webconf_host_listed(const char *list, const char *host)
{
	const char *end;
	size_t n;

	if (host[0] == '[')
		n = (end = strchr(host, ']')) ? (size_t)(end - host) + 1 : 0;
	else
		n = strcspn(host, ":");
	if (host[n] == ':' && (host[n + 1] == 0 || strspn(host + n + 1,
	    "0123456789") != strlen(host + n + 1)))
		return 0;
	if (host[n] != ':' && host[n] != 0)
		return 0;
	if (n > 1 && host[0] != '[' && host[n - 1] == '.')
		n--;			/* the root's dot: the same name */
	return webconf_word(list, host, n, 1);
}
