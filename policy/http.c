/*++
/* NAME
/*	http 3
/* SUMMARY
/*	HTTP/1.1 listeners through libmicrohttpd, on the event loop
/* SYNOPSIS
/*	#include "http.h"
/*
/*	struct http_server *http_start(int fd, const struct http_ops *ops)
/*
/*	void	http_stop(struct http_server *srv)
/*
/*	void	http_reply(struct http_req *req, unsigned status,
/*		const char *type, const char *body, size_t len)
/*
/*	int	http_add_header(struct http_req *req, const char *name,
/*		const char *value)
/* DESCRIPTION
/*	http_start() serves HTTP/1.1 on a socket that is already bound and
/*	listening (main binds it as root, with its owner and mode; a unix
/*	socket or TCP). libmicrohttpd parses the requests, keeps the
/*	connections alive between requests, reads pipelined requests in
/*	turn and closes idle connections; it runs no thread of its own: its
/*	epoll set is watched by the loop, which runs it when the set is
/*	readable and when the timeout it asks for is due.
/*
/*	Each request is matched against ops->routes, the first row whose
/*	path is its exact path, or "*" (any path): an unknown path gets
/*	404, a method the route does not list gets 405 with an Allow header,
/*	a body longer than the route's body_max gets 413 (its length
/*	announced) or the connection closed (a chunked body that grows past
/*	it). The whole body in, the route's handler gets the request once
/*	and answers with http_reply(), at once or from a later event: until
/*	then the connection is suspended and reads nothing more. Every
/*	answer carries "Cache-Control: no-store", and the listener's own
/*	headers (ops->headers: name, value, ..., NULL), ours (404, 405,
/*	413, 503) too. http_add_header() adds a header to the answer a
/*	handler is about to give (Set-Cookie, Location): a name or value
/*	with a control byte (CR, LF) is refused, never sent.
/*
/*	Each 404, 405 and 413 of ours, and each refusal of libmicrohttpd's
/*	own once it has the request line (431 for headers that do not fit
/*	in HTTP_CONN_MEMORY), is a warning with the listener's name, the
/*	method ("-" when libmicrohttpd refused it before we saw it), the
/*	target as sent (path and query, made printable, cut at
/*	HTTP_TARGET_MAX) and the client: the first at once, the others of
/*	the next 10 s counted, and their count logged when the 10 s end.
/*
/*	At most ops->conn_max connections are served at once; libmicrohttpd
/*	accepts while there are fewer. At the limit the listening socket is
/*	watched here: a client that waits there makes the oldest connection
/*	without a request in progress (one that has not sent a whole request
/*	yet, or that is idle between requests) be shut, and libmicrohttpd,
/*	once it has seen that end, accepts the client. A connection whose
/*	whole request is with its handler, waits for its answer or has its
/*	answer on the way is never closed for another; when every one has
/*	such a request, the client waits in the listen queue until one
/*	ends. So local clients that connect and send nothing cannot keep
/*	a real client out. The first such close is a warning, the others of
/*	the next minute are counted, and their count logged when it ends.
/*
/*	A new connection has ops->header_ms (by default ops->idle_ms, at
/*	most HTTP_HEADER_MS) from its connect to send a whole request, and
/*	a kept-alive connection ops->idle_ms from its last answer for the
/*	next (a client that trickles its headers cannot hold its place
/*	longer); a connection that stays silent ops->idle_ms (rounded up to
/*	whole seconds) while its answer is sent is closed by libmicrohttpd.
/*	Request headers that do not fit in HTTP_CONN_MEMORY get 431 (or 414
/*	for the request line) and the connection closed. These, and the 400
/*	of a malformed request, are libmicrohttpd's own answers: they carry
/*	none of ops->headers (libmicrohttpd 0.9.75 and 1.0 have no hook for
/*	them).
/*
/*	http_header_count() counts a header's values (a proxy that adds a
/*	header after the client's own is told by it). http_peer() is
/*	"unix" on a unix listener, the address on TCP, else "unknown".
/*
/*	A request's memory, made when libmicrohttpd has its request line,
/*	has one owner and one end: libmicrohttpd's completion callback
/*	frees it, once its answer is sent or its
/*	connection is gone. A waiting request's connection is suspended,
/*	so it cannot end before its answer; http_stop() gives each waiting
/*	request its abandon callback (after which its owner must forget
/*	it), answers it 503, and only then stops the daemon.
/*
/*	libmicrohttpd's own messages go to the log, as warnings, with the
/*	listener's name: at most 20 a minute, then how many were not.
/*--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "buf.h"
#include "event.h"
#include "http.h"
#include "hushwin.h"
#include "msg.h"
#include "netaddr.h"
#include "util.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result http_result;
#else
typedef int http_result;
#endif

#define HTTP_CONN_MEMORY	(32 * 1024)	/* headers and read buffer */
#define HTTP_STOP_RUNS		8	/* rounds to send the last 503s */
#define HTTP_LOG_MAX		20	/* libmicrohttpd's messages logged */
#define HTTP_LOG_WINDOW_MS	60000	/* in a minute at most */
#define HTTP_EVICT_WINDOW_MS	60000	/* connections closed: one warning */
#define HTTP_REFUSE_WINDOW_MS	10000	/* requests refused: one warning */
#define HTTP_TARGET_MAX		200	/* of a request's target, logged */

/* Where a request is; changed only by http_state_set(). */
enum http_state {
	HTTP_HEADERS,			/* request line in, headers coming */
	HTTP_READING,			/* headers in, the body coming */
	HTTP_WAITING,			/* its handler has it; suspended */
	HTTP_ANSWERED,			/* its answer waits to be queued */
	HTTP_SENT,			/* libmicrohttpd has the answer */
};

/* Where a connection is; changed only by http_conn_set(). */
enum http_conn_state {
	HTTP_CONN_IDLE,			/* no request in progress */
	HTTP_CONN_BUSY,			/* a whole request, until its answer */
	HTTP_CONN_EVICTED,		/* shut for a new client */
};

/*
 * One connection: a client has the header time from its connect, or
 * ops->idle_ms from its last answer, to send a whole request;
 * libmicrohttpd's own timeout counts from the last byte only, so a
 * client that trickles its headers would never be closed by it.
 */
struct http_conn {
	struct ev_timer	 deadline;	/* first */
	struct http_server *srv;
	int		 fd;
	enum http_conn_state state;
	TAILQ_ENTRY(http_conn) link;	/* in srv->conns, oldest first */
};

struct http_req {
	struct http_server *srv;
	struct http_conn *hc;		/* NULL: not known */
	struct MHD_Connection *conn;
	const struct http_route *route;
	const char	*method;	/* libmicrohttpd's, for the request */
	const char	*path;
	char		*target;	/* as sent, for messages; printable */
	struct buf	 body;
	struct buf	 headers;	/* http_add_header(): name NUL value NUL */
	enum http_state	 state;
	int		 suspended;
	struct MHD_Response *resp;	/* HTTP_ANSWERED */
	unsigned	 status;
	void		(*abandon)(void *);
	void		*abandon_arg;
	TAILQ_ENTRY(http_req) link;	/* in srv->waiting: HTTP_WAITING */
	char		 peer[NETADDR_CANON_MAX];
};

struct http_server {
	struct ev_io	 io;		/* first: libmicrohttpd's epoll set */
	struct ev_timer	 tick;		/* libmicrohttpd's timeout */
	struct ev_io	 listen;	/* the listening socket, ours */
	int		 lfd;
	int		 unix_listen;	/* lfd is a unix socket */
	int		 listening;	/* listen is watched */
	int		 stopping;	/* in http_stop() */
	struct MHD_Daemon *daemon;
	const struct http_ops *ops;
	TAILQ_HEAD(http_waiting, http_req) waiting;
	TAILQ_HEAD(http_conns, http_conn) conns;
	unsigned	 nlive;		/* connections not evicted */
	unsigned	 nbusy;		/* of which HTTP_CONN_BUSY */
	struct hushwin	 evicted;
	struct hushwin	 refused;
	int		 running;	/* in MHD_run(): no recursion */
	int		 kicked;	/* run again at once */
	uint64_t	 log_since;	/* libmicrohttpd's messages: this */
	unsigned	 log_count;	/* window's start, and their count */
};

/* Counting the values of one header. */
struct http_count {
	const char	*name;
	unsigned	 n;
};

static void http_tick(struct ev_timer *);
static void http_crowded(struct ev_io *, unsigned);

/* http_log - libmicrohttpd's messages, as ours */
static void
http_log(void *arg, const char *fmt, va_list ap)
{
	struct http_server *srv = arg;
	char text[512];
	size_t len;

	if (ev_now() - srv->log_since >= HTTP_LOG_WINDOW_MS) {
		if (srv->log_count > HTTP_LOG_MAX)
			msg_warn("%s: %u more messages of libmicrohttpd not "
			    "logged", srv->ops->listen_name,
			    srv->log_count - HTTP_LOG_MAX);
		srv->log_since = ev_now();
		srv->log_count = 0;
	}
	if (srv->log_count++ >= HTTP_LOG_MAX)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = 0;
	msg_warn("%s: %s", srv->ops->listen_name, msg_printable(text));
}

/* http_arm - after a run: the timer libmicrohttpd asks for, if any */
static void
http_arm(struct http_server *srv)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(srv->daemon, &ms) != MHD_YES) {
		ev_timer_stop(&srv->tick);
		return;
	}
	ev_timer_start(&srv->tick, ms > 60000 ? 60000 : (unsigned)ms,
	    http_tick);
}

/* http_conns - connections open now, for libmicrohttpd */
static unsigned
http_conns(struct http_server *srv)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(srv->daemon,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info ? info->num_connections : 0;
}

/*
 * http_run - one turn of libmicrohttpd, then its next timeout. At the
 * connection limit libmicrohttpd stops watching the listening socket,
 * and watches it again only at its next turn: when a turn frees a
 * place, another turn follows at once, so that a client waiting in the
 * listen queue is taken without waiting for an unrelated event.
 */
static void
http_run(struct http_server *srv)
{
	unsigned before;

	if (srv->running)
		return;
	srv->running = 1;
	srv->kicked = 0;
	before = http_conns(srv);
	MHD_run(srv->daemon);
	if (before >= srv->ops->conn_max && http_conns(srv) < before)
		MHD_run(srv->daemon);
	srv->running = 0;
	if (srv->kicked)		/* a resume during the turn */
		ev_timer_start(&srv->tick, 0, http_tick);
	else
		http_arm(srv);
}

/* http_tick - libmicrohttpd's timeout is due */
static void
http_tick(struct ev_timer *t)
{
	struct http_server *srv = (struct http_server *)((char *)t -
	    offsetof(struct http_server, tick));

	http_run(srv);
}

/* http_ready - libmicrohttpd's epoll set has events */
static void
http_ready(struct ev_io *io, unsigned what)
{
	http_run((struct http_server *)io);
}

/*
 * http_kick - run libmicrohttpd at the next turn of the loop: its epoll
 * set does not hold its own wake-up channel when it runs no thread, so
 * a resumed connection would wait for an unrelated event
 */
static void
http_kick(struct http_server *srv)
{
	srv->kicked = 1;
	ev_timer_start(&srv->tick, 0, http_tick);
}

/* http_deadline - no whole request in time: the connection is shut */
static void
http_deadline(struct ev_timer *t)
{
	struct http_conn *hc = (struct http_conn *)t;

	(void)shutdown(hc->fd, SHUT_RDWR);	/* libmicrohttpd sees the end */
	http_kick(hc->srv);
}

/* http_deadline_start - from now, a whole request in ms */
static void
http_deadline_start(struct http_conn *hc, unsigned ms)
{
	if (hc && ms && hc->state != HTTP_CONN_EVICTED)
		ev_timer_start(&hc->deadline, ms, http_deadline);
}

/* http_header_ms - a new connection's time for its first request */
static unsigned
http_header_ms(const struct http_ops *ops)
{
	if (ops->header_ms)
		return ops->header_ms;
	if (ops->idle_ms && ops->idle_ms < HTTP_HEADER_MS)
		return ops->idle_ms;
	return HTTP_HEADER_MS;
}

/*
 * http_listen_check - libmicrohttpd accepts under conn_max; at conn_max
 * the listening socket is watched here while some connection has no
 * request in progress, so that a waiting client can have its place
 */
static void
http_listen_check(struct http_server *srv)
{
	int watch = !srv->stopping && srv->nlive >= srv->ops->conn_max &&
	    srv->nbusy < srv->nlive;

	if (watch && !srv->listening)
		ev_io_start(&srv->listen, srv->lfd, EV_READ, http_crowded);
	else if (!watch && srv->listening)
		ev_io_stop(&srv->listen);
	srv->listening = watch;
}

/* http_conn_set - move a connection, and count it */
static void
http_conn_set(struct http_conn *hc, enum http_conn_state state)
{
	struct http_server *srv = hc->srv;

	if (hc->state == state || hc->state == HTTP_CONN_EVICTED)
		return;				/* evicted is for good */
	if (hc->state == HTTP_CONN_BUSY)
		srv->nbusy--;
	if (state == HTTP_CONN_BUSY)
		srv->nbusy++;
	if (state == HTTP_CONN_EVICTED)
		srv->nlive--;
	hc->state = state;
	http_listen_check(srv);
}

/* http_evict - the oldest connection without a request is shut */
static void
http_evict(struct http_server *srv)
{
	struct http_conn *hc;

	TAILQ_FOREACH(hc, &srv->conns, link)
		if (hc->state == HTTP_CONN_IDLE)
			break;
	if (hc == NULL)
		return;
	ev_timer_stop(&hc->deadline);
	(void)shutdown(hc->fd, SHUT_RDWR);	/* libmicrohttpd sees the end */
	http_conn_set(hc, HTTP_CONN_EVICTED);
	if (hushwin_speak(&srv->evicted))
		msg_warn("%s: conn_max %u connections: the oldest without a "
		    "request in progress closed for a new client",
		    srv->ops->listen_name, srv->ops->conn_max);
}

/*
 * http_crowded - a client waits at conn_max: the oldest connection
 * without a request is shut, and libmicrohttpd, once it has seen the
 * end, takes the client in its place
 */
static void
http_crowded(struct ev_io *io, unsigned what)
{
	struct http_server *srv = (struct http_server *)((char *)io -
	    offsetof(struct http_server, listen));

	http_evict(srv);
	http_kick(srv);
}

/* http_connection - a connection opens (its deadline) or closes */
static void
http_connection(void *arg, struct MHD_Connection *conn, void **cls,
    enum MHD_ConnectionNotificationCode what)
{
	struct http_server *srv = arg;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *hc = *cls;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL)
			return;
		hc = xcalloc(1, sizeof(*hc));
		hc->srv = srv;
		hc->fd = ci->connect_fd;
		hc->state = HTTP_CONN_IDLE;
		TAILQ_INSERT_TAIL(&srv->conns, hc, link);
		srv->nlive++;
		*cls = hc;
		http_deadline_start(hc, http_header_ms(srv->ops));
		http_listen_check(srv);
	} else if (hc) {
		http_conn_set(hc, HTTP_CONN_IDLE);
		if (hc->state != HTTP_CONN_EVICTED)
			srv->nlive--;
		TAILQ_REMOVE(&srv->conns, hc, link);
		ev_timer_stop(&hc->deadline);
		free(hc);
		*cls = NULL;
		http_listen_check(srv);
	}
}

/* http_conn_of - the connection's own record, or NULL */
static struct http_conn *
http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* http_state_set - move a request; a waiting one is listed */
static void
http_state_set(struct http_req *req, enum http_state state)
{
	if (req->state == HTTP_WAITING)
		TAILQ_REMOVE(&req->srv->waiting, req, link);
	req->state = state;
	if (state == HTTP_WAITING)
		TAILQ_INSERT_TAIL(&req->srv->waiting, req, link);
}

/* http_response - a response with its type and our headers */
static struct MHD_Response *
http_response(const struct http_ops *ops, const char *type, const char *body,
    size_t len)
{
	struct MHD_Response *resp;
	const char *const *h;

#if MHD_VERSION >= 0x00097701
	resp = MHD_create_response_from_buffer_copy(len, body);
#else
	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
#endif
	if (resp == NULL)
		msg_fatal("http: cannot create a response: out of memory");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	for (h = ops->headers; h && h[0] && h[1]; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
	return resp;
}

/* http_header_ok - no control byte in a header's name or value */
static int
http_header_ok(const char *s, int name)
{
	const unsigned char *p;

	if (*s == 0 && name)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (name && (*p == ':' ||
		    *p == ' ')))
			return 0;
	return 1;
}

/* http_add_header - one more header for the answer to come */
int
http_add_header(struct http_req *req, const char *name, const char *value)
{
	if (!http_header_ok(name, 1) || !http_header_ok(value, 0)) {
		msg_warn("%s: %s %s: a header with a control byte not sent",
		    req->srv->ops->listen_name, req->method, req->target);
		return -1;
	}
	buf_append(&req->headers, name, strlen(name) + 1);
	buf_append(&req->headers, value, strlen(value) + 1);
	return 0;
}

/* http_own_headers - the headers a handler added, onto its answer */
static void
http_own_headers(struct http_req *req, struct MHD_Response *resp)
{
	const char *p = req->headers.data, *end;
	size_t n;

	if (p == NULL)
		return;
	for (end = p + req->headers.len; p < end; ) {
		n = strlen(p) + 1;
		MHD_add_response_header(resp, p, p + n);
		p += n + strlen(p + n) + 1;
	}
}

/* http_send - queue a response now (from the access handler) */
static http_result
http_send(struct http_req *req, unsigned status, struct MHD_Response *resp)
{
	http_result rc;

	rc = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	http_state_set(req, HTTP_SENT);
	if (req->hc)
		http_conn_set(req->hc, HTTP_CONN_BUSY);
	return rc;
}

/*
 * http_refused_log - a request refused (by us or by libmicrohttpd): a
 * warning, at most one each HTTP_REFUSE_WINDOW_MS, then how many more
 */
static void
http_refused_log(struct http_req *req, unsigned status)
{
	const char *reason = MHD_get_reason_phrase_for(status);
	char method[32];

	if (!hushwin_speak(&req->srv->refused))
		return;
	snprintf(method, sizeof(method), "%s", req->method ? req->method : "-");
	msg_warn("%s: %s %s from %s: %u %s", req->srv->ops->listen_name,
	    msg_printable(method), req->target ? req->target : "-",
	    http_peer(req), status, reason && *reason ? reason : "refused");
}

/* http_refuse - an answer of our own: 404, 405, 413 */
static http_result
http_refuse(struct http_req *req, unsigned status)
{
	static const struct {
		unsigned	 status;
		const char	*text;
	} texts[] = {
		{404, "404 Not Found\n"},
		{405, "405 Method Not Allowed\n"},
		{413, "413 Content Too Large\n"},
	};
	struct MHD_Response *resp;
	const char *text = "error\n", *p;
	struct buf allow;
	size_t i, n;

	for (i = 0; i < NELEM(texts); i++)
		if (texts[i].status == status)
			text = texts[i].text;
	resp = http_response(req->srv->ops, "text/plain", text, strlen(text));
	if (status == 405) {		/* "GET POST" is "GET, POST" */
		buf_init(&allow);
		for (p = req->route->methods; *(p += strspn(p, " ")); p += n) {
			n = strcspn(p, " ");
			buf_printf(&allow, "%s%.*s", allow.len ? ", " : "",
			    (int)n, p);
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    buf_str(&allow));
		buf_free(&allow);
	}
	if (status == 413)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	http_refused_log(req, status);
	return http_send(req, status, resp);
}

/* http_route_find - the first route of a path ("*": any), or NULL */
static const struct http_route *
http_route_find(const struct http_ops *ops, const char *path)
{
	size_t i;

	for (i = 0; i < ops->nroutes; i++)
		if (strcmp(ops->routes[i].path, "*") == 0 ||
		    strcmp(ops->routes[i].path, path) == 0)
			return &ops->routes[i];
	return NULL;
}

/* http_method_ok - is the method in the route's list? */
static int
http_method_ok(const struct http_route *route, const char *method)
{
	const char *p = route->methods;
	size_t len = strlen(method);

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, method, n) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* http_announced_too_long - a Content-Length over the route's cap */
static int
http_announced_too_long(struct http_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl != NULL && strtoull(cl, NULL, 10) > req->route->body_max;
}

/* http_req_new - a request from its first line: its target, as sent */
static struct http_req *
http_req_new(struct http_server *srv, struct MHD_Connection *conn,
    const char *target)
{
	struct http_req *req = xcalloc(1, sizeof(*req));
	size_t len = strlen(target);

	req->srv = srv;
	req->hc = http_conn_of(conn);
	req->conn = conn;
	req->target = xmalloc(len > HTTP_TARGET_MAX ? HTTP_TARGET_MAX + 4 :
	    len + 1);
	if (len > HTTP_TARGET_MAX)
		snprintf(req->target, HTTP_TARGET_MAX + 4, "%.*s...",
		    HTTP_TARGET_MAX, target);
	else
		memcpy(req->target, target, len + 1);
	msg_printable(req->target);
	buf_init(&req->body);			/* state HTTP_HEADERS: zero */
	buf_init(&req->headers);
	return req;
}

/* http_uri - libmicrohttpd has a request line: the request begins */
static void *
http_uri(void *arg, const char *uri, struct MHD_Connection *conn)
{
	return http_req_new(arg, conn, uri);
}

/* http_begin - headers in: a request, or our refusal */
static http_result
http_begin(struct http_server *srv, struct MHD_Connection *conn,
    const char *url, const char *method, void **cls)
{
	struct http_req *req = *cls;

	if (req == NULL)
		req = *cls = http_req_new(srv, conn, url);
	req->method = method;
	req->path = url;
	http_state_set(req, HTTP_READING);
	if ((req->route = http_route_find(srv->ops, url)) == NULL)
		return http_refuse(req, 404);
	if (!http_method_ok(req->route, method))
		return http_refuse(req, 405);
	if (http_announced_too_long(req))
		return http_refuse(req, 413);
	return MHD_YES;
}

/* http_body_in - the whole body: the handler has it, now or later */
static http_result
http_body_in(struct http_req *req)
{
	const struct http_route *route = req->route;
	struct MHD_Response *resp;

	if (req->hc) {
		ev_timer_stop(&req->hc->deadline);	/* the request is whole */
		http_conn_set(req->hc, HTTP_CONN_BUSY);
	}
	http_state_set(req, HTTP_WAITING);
	route->handle(req, route->arg);
	if (req->state == HTTP_ANSWERED) {
		resp = req->resp;
		req->resp = NULL;
		return http_send(req, req->status, resp);
	}
	req->suspended = 1;
	MHD_suspend_connection(req->conn);
	return MHD_YES;
}

/* http_access - libmicrohttpd's access handler: each step of a request */
static http_result
http_access(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **cls)
{
	struct http_server *srv = arg;
	struct http_req *req = *cls;
	struct MHD_Response *resp;

	if (req == NULL || req->state == HTTP_HEADERS)
		return http_begin(srv, conn, url, method, cls);
	switch (req->state) {
	case HTTP_READING:
		if (*data_size == 0)
			return http_body_in(req);
		if (req->body.len + *data_size > req->route->body_max) {
			if (hushwin_speak(&srv->refused))
				msg_warn("%s: %s %s from %s: body over %zu "
				    "bytes; connection closed",
				    srv->ops->listen_name, req->method,
				    req->target, http_peer(req),
				    req->route->body_max);
			return MHD_NO;
		}
		buf_append(&req->body, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	case HTTP_ANSWERED:
		resp = req->resp;
		req->resp = NULL;
		return http_send(req, req->status, resp);
	case HTTP_HEADERS:		/* begun above */
	case HTTP_WAITING:
	case HTTP_SENT:
		break;
	}
	*data_size = 0;
	return MHD_YES;
}

/* http_completed - the one end of a request's memory */
static void
http_completed(void *arg, struct MHD_Connection *conn, void **cls,
    enum MHD_RequestTerminationCode how)
{
	struct http_req *req = *cls;
	const union MHD_ConnectionInfo *ci;

	if (req == NULL)
		return;
	*cls = NULL;
	if (req->state == HTTP_HEADERS && (ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_HTTP_STATUS)) != NULL &&
	    ci->http_status >= 400)		/* libmicrohttpd's refusal */
		http_refused_log(req, ci->http_status);
	if (req->state == HTTP_WAITING && req->abandon)
		req->abandon(req->abandon_arg);
	http_state_set(req, HTTP_SENT);
	if (req->resp)
		MHD_destroy_response(req->resp);
	if (req->hc)
		http_conn_set(req->hc, HTTP_CONN_IDLE);
	if (how == MHD_REQUEST_TERMINATED_COMPLETED_OK && req->hc)
		http_deadline_start(req->hc, req->srv->ops->idle_ms);
	buf_free(&req->body);
	buf_free(&req->headers);
	free(req->target);
	free(req);
}

/* http_fd_unix - is a socket of the unix family? */
static int
http_fd_unix(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

/* http_start - serve HTTP on a listening socket */
struct http_server *
http_start(int fd, const struct http_ops *ops)
{
	struct http_server *srv;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG;

	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES)
		msg_fatal("%s: this libmicrohttpd is built without epoll, "
		    "which the daemon's loop needs", ops->listen_name);
	srv = xcalloc(1, sizeof(*srv));
	srv->ops = ops;
	srv->io.fd = -1;
	srv->lfd = fd;
	srv->unix_listen = http_fd_unix(fd);
	TAILQ_INIT(&srv->waiting);
	TAILQ_INIT(&srv->conns);
	hushwin_init(&srv->evicted, ops->listen_name,
	    "connections closed for new clients", HTTP_EVICT_WINDOW_MS);
	hushwin_init(&srv->refused, ops->listen_name, "requests refused",
	    HTTP_REFUSE_WINDOW_MS);
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, (MHD_LogCallback)http_log, srv,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)ops->conn_max,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((ops->idle_ms + 999) /
	    1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, (MHD_RequestCompletedCallback)
	    http_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, (MHD_NotifyConnectionCallback)
	    http_connection, srv,
	    MHD_OPTION_URI_LOG_CALLBACK, (void *(*)(void *, const char *,
	    struct MHD_Connection *))http_uri, srv,
	    MHD_OPTION_END);
	if (srv->daemon == NULL)
		msg_fatal("%s: libmicrohttpd does not start on it",
		    ops->listen_name);
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL)
		msg_fatal("%s: libmicrohttpd gives no epoll set",
		    ops->listen_name);
	ev_io_start(&srv->io, info->epoll_fd, EV_READ, http_ready);
	http_listen_check(srv);
	http_run(srv);
	return srv;
}

/* http_stop - abandon and answer what waits, close everything */
void
http_stop(struct http_server *srv)
{
	struct http_req *req;
	int i;

	if (srv == NULL)
		return;
	srv->stopping = 1;
	http_listen_check(srv);
	while ((req = TAILQ_FIRST(&srv->waiting)) != NULL) {
		if (req->abandon)
			req->abandon(req->abandon_arg);
		req->abandon = NULL;
		if (req->state == HTTP_WAITING)
			http_reply(req, 503, "text/plain",
			    "503 Service Unavailable\n", 24);
	}
	for (i = 0; i < HTTP_STOP_RUNS; i++)
		MHD_run(srv->daemon);
	ev_io_stop(&srv->io);
	ev_timer_stop(&srv->tick);
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	hushwin_stop(&srv->evicted);
	hushwin_stop(&srv->refused);
	ev_defer_free(free, srv);
}

/* http_method - GET, POST, ... */
const char *
http_method(const struct http_req *req)
{
	return req->method;
}

/* http_path - the path, without the query */
const char *
http_path(const struct http_req *req)
{
	return req->path;
}

/* http_query - a query argument, decoded; NULL when absent */
const char *
http_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

/* http_header - a request header (any case); NULL when absent */
const char *
http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* http_count_one - one header of the request: count those of a name */
static enum MHD_Result
http_count_one(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_count *c = arg;

	if (key && strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

/* http_header_count - how many times a header is in the request */
unsigned
http_header_count(const struct http_req *req, const char *name)
{
	struct http_count c = {name, 0};

	(void)MHD_get_connection_values(req->conn, MHD_HEADER_KIND,
	    http_count_one, &c);
	return c.n;
}

/* http_body - the body, NUL-terminated, and its length */
const char *
http_body(const struct http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

/*
 * http_peer - the client's address; "unix" on a unix listener; else
 * "unknown" (a family that is neither)
 */
const char *
http_peer(const struct http_req *req)
{
	struct http_req *r = (struct http_req *)req;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char text[INET6_ADDRSTRLEN];

	if (r->peer[0])
		return r->peer;
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	snprintf(r->peer, sizeof(r->peer), "%s", r->srv->unix_listen ?
	    "unix" : "unknown");
	if (r->srv->unix_listen)
		return r->peer;
	if (sa && sa->sa_family == AF_INET && inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof(text)))
		snprintf(r->peer, sizeof(r->peer), "%s", text);
	else if (sa && sa->sa_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof(text)))
		netaddr_canon(text, r->peer, sizeof(r->peer));
	return r->peer;
}

/* http_reply - the answer; the request is gone after it */
void
http_reply(struct http_req *req, unsigned status, const char *type,
    const char *body, size_t len)
{
	if (req->state != HTTP_WAITING)
		msg_panic("http_reply: %s %s answered twice", req->method,
		    req->path);
	req->resp = http_response(req->srv->ops, type, body, len);
	http_own_headers(req, req->resp);
	req->status = status;
	http_state_set(req, HTTP_ANSWERED);
	if (req->suspended) {
		req->suspended = 0;
		MHD_resume_connection(req->conn);
		http_kick(req->srv);
	}
}

/* http_on_abandon - what to call if the server stops first */
void
http_on_abandon(struct http_req *req, void (*fn)(void *), void *arg)
{
	req->abandon = fn;
	req->abandon_arg = arg;
}
