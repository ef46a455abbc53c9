/*++
/* NAME
/*	http 3h
/* SUMMARY
/*	HTTP/1.1 listeners through libmicrohttpd, on the event loop
/*--*/
#ifndef AUTHGUARD_HTTP_H
#define AUTHGUARD_HTTP_H

#include <stddef.h>

#define HTTP_HEADER_MS	10000	/* header_ms at most, idle_ms if shorter */

struct http_req;			/* one request, until its answer */
struct http_server;

/* What a listener serves: one row per path. */
struct http_route {
	const char	*path;		/* exact: "/metrics", "/"; "*": any */
	const char	*methods;	/* space-separated: "GET", "POST" */
	size_t		 body_max;	/* bytes; a longer body gets 413 */
	/*
	 * Called once the whole body is in. It answers with http_reply(),
	 * now or later (from another event); until then the request waits
	 * and its connection reads nothing more.
	 */
	void		(*handle)(struct http_req *, void *);
	void		*arg;
};

/* What a listener says about itself. */
struct http_ops {
	const char	*listen_name;	/* in messages: "auth_policy_listen" */
	const struct http_route *routes;
	size_t		 nroutes;
	unsigned	 conn_max;	/* connections at once */
	unsigned	 header_ms;	/* a first request in; 0: HTTP_HEADER_MS */
	unsigned	 idle_ms;	/* an idle keep-alive connection closes */
	/* On every answer, ours and the handlers': name, value, ...; NULL ends. */
	const char *const *headers;
};

struct http_server *http_start(int, const struct http_ops *);
void	http_stop(struct http_server *);

/* The request, valid until http_reply(). */
const char *http_method(const struct http_req *);
const char *http_path(const struct http_req *);
const char *http_query(const struct http_req *, const char *);
const char *http_header(const struct http_req *, const char *);
const char *http_body(const struct http_req *, size_t *);
unsigned http_header_count(const struct http_req *, const char *);
const char *http_peer(const struct http_req *);	/* address, "unix", "unknown" */

/*
 * The answer: status, content type, body (copied). The request is gone
 * after it. A request whose server stops before it is answered first
 * gets its abandon callback (set with http_on_abandon), then 503: after
 * the callback the request is gone too, and must not be answered.
 */
void	http_reply(struct http_req *, unsigned, const char *, const char *,
	    size_t);
void	http_on_abandon(struct http_req *, void (*)(void *), void *);

/*
 * One more header for the answer to come (before http_reply): copied;
 * -1 (and none added) when the name or value holds a control byte.
 */
int	http_add_header(struct http_req *, const char *, const char *);

#endif
