/*++
/* NAME
/*	test_http 1
/* SUMMARY
/*	unit tests: HTTP listeners on the event loop, answers now and later
/* DESCRIPTION
/*	A real listener (TCP on 127.0.0.1, or a unix socket) and a client
/*	in the same process: the client writes, then turns the loop until
/*	what it waits for has come. Routes answer at once (/sync), from a
/*	timer (/async), or not until the test says so (/hold).
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../policy/event.h"
#include "../../policy/http.h"
#include "buf.h"
#include "msg.h"
#include "unit.h"
#include "util.h"

static struct http_req *t_pending;	/* /async, /hold */
static struct ev_timer t_later;
static int t_abandoned;
static struct http_req *t_parked[8];	/* /park */
static char t_log[8192];		/* warnings, one a line */

/* t_answer - /async's answer: what the request said */
static void
t_answer(struct ev_timer *t)
{
	struct http_req *req = t_pending;
	const char *q = http_query(req, "x"), *h = http_header(req, "x-t");
	char text[512];
	size_t len;
	const char *body = http_body(req, &len);

	snprintf(text, sizeof(text), "m=%s p=%s q=%s h=%s peer=%s body=%.*s",
	    http_method(req), http_path(req), q ? q : "-", h ? h : "-",
	    http_peer(req), (int)len, body);
	t_pending = NULL;
	http_reply(req, 201, "text/plain", text, strlen(text));
}

/* t_sync - answered at once */
static void
t_sync(struct http_req *req, void *arg)
{
	http_reply(req, 200, "text/plain", "sync\n", 5);
}

/* t_async - answered from a timer */
static void
t_async(struct http_req *req, void *arg)
{
	t_pending = req;
	ev_timer_start(&t_later, 20, t_answer);
}

/* t_gone - the server stopped before /hold was answered */
static void
t_gone(void *arg)
{
	(*(int *)arg)++;
	t_pending = NULL;
}

/* t_hold - answered when the test says */
static void
t_hold(struct http_req *req, void *arg)
{
	t_pending = req;
	http_on_abandon(req, t_gone, &t_abandoned);
}

/* t_release - answers the held request, then itself */
static void
t_release(struct http_req *req, void *arg)
{
	if (t_pending)
		http_reply(t_pending, 200, "text/plain", "released\n", 9);
	t_pending = NULL;
	http_reply(req, 200, "text/plain", "release\n", 8);
}

/* t_unpark - a parked request's server stopped: its place is free */
static void
t_unpark(void *arg)
{
	*(struct http_req **)arg = NULL;
}

/* t_park - held in the first free place, until the test answers it */
static void
t_park(struct http_req *req, void *arg)
{
	size_t i;

	for (i = 0; i < NELEM(t_parked); i++)
		if (t_parked[i] == NULL)
			break;
	if (i == NELEM(t_parked)) {
		http_reply(req, 500, "text/plain", "full\n", 5);
		return;
	}
	t_parked[i] = req;
	http_on_abandon(req, t_unpark, &t_parked[i]);
}

static const struct http_route t_routes[] = {
	{.path = "/release", .methods = "GET", .handle = t_release},
	{.path = "/sync", .methods = "GET HEAD", .handle = t_sync},
	{.path = "/async", .methods = "POST GET", .body_max = 16,
	.handle = t_async},
	{.path = "/hold", .methods = "POST", .body_max = 16, .handle = t_hold},
	{.path = "/park", .methods = "POST", .body_max = 16, .handle = t_park},
};

static const struct http_ops t_ops = {
	.listen_name = "test_listen",
	.routes = t_routes,
	.nroutes = NELEM(t_routes),
	.conn_max = 4,
	.idle_ms = 2000,
};

/* t_listen_tcp - a listening socket on 127.0.0.1, its port in *port */
static int
t_listen_tcp(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* t_connect_tcp - a client to 127.0.0.1:port, non-blocking */
static int
t_connect_tcp(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* t_send - the whole request */
static void
t_send(int fd, const char *s)
{
	CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
}

/*
 * t_until - turn the loop, reading fd into b, until needle has come n
 * times, or EOF, or ms passed. The count.
 */
static int
t_until(int fd, struct buf *b, const char *needle, int n, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	char chunk[4096];
	const char *p;
	ssize_t got;
	int count = 0;

	while (now_ms() < end) {
		(void)ev_once(5);
		while ((got = read(fd, chunk, sizeof(chunk))) > 0)
			buf_append(b, chunk, (size_t)got);
		count = 0;
		for (p = b->data; p && (p = strstr(p, needle)) != NULL;
		    p += strlen(needle))
			count++;
		if (count >= n || got == 0)
			break;
	}
	return count;
}

/* t_turn - turn the loop for ms */
static void
t_turn(int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end)
		(void)ev_once(5);
}

/*
 * Keep-alive and pipelining: two GETs answered at once and a POST answered
 * from a timer, written in one go on one connection, come back in order;
 * the asynchronous answer sees the method, path, query, header, body and
 * peer; every answer says Cache-Control: no-store.
 */
TEST(http_pipelined_sync_and_async_on_one_connection)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd;
	const char *p1, *p2, *p3;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n"
	    "POST /async?x=a%20b HTTP/1.1\r\nHost: t\r\nX-T: hdr\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	CHECK(t_until(fd, &b, "HTTP/1.1 ", 3, 3000) == 3);
	CHECK(t_until(fd, &b, "body=hello", 1, 1000) == 1);
	p1 = strstr(b.data, "HTTP/1.1 200");
	p2 = p1 ? strstr(p1 + 1, "HTTP/1.1 200") : NULL;
	p3 = p2 ? strstr(p2 + 1, "HTTP/1.1 201") : NULL;
	CHECK(p1 && p2 && p3);
	CHECK(strstr(b.data, "m=POST p=/async q=a b h=hdr peer=127.0.0.1 "
	    "body=hello") != NULL);
	CHECK(strstr(b.data, "Cache-Control: no-store") != NULL);
	CHECK(strstr(b.data, "Connection: close") == NULL);
	/* the connection is still open for a fourth */
	buf_reset(&b);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "sync\n", 1, 2000) == 1);
	/* two POSTs pipelined, each answered later: in order */
	buf_reset(&b);
	t_send(fd, "POST /async HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n"
	    "one" "POST /async HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n"
	    "two");
	CHECK(t_until(fd, &b, "HTTP/1.1 201", 2, 2000) == 2);
	CHECK(t_until(fd, &b, "body=two", 1, 500) == 1);
	p1 = strstr(b.data, "body=one");
	CHECK(p1 && strstr(p1, "body=two"));
	close(fd);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
}

/*
 * Refusals: an unknown path 404, a wrong method 405 with the route's
 * methods in Allow, an announced body over the cap 413 and the
 * connection closed; a chunked body that grows over the cap closes the
 * connection without an answer.
 */
TEST(http_refusals)
{
	static const struct {
		const char	*req;
		const char	*want;
	} cases[] = {
		{"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", "HTTP/1.1 404"},
		{"DELETE /async HTTP/1.1\r\nHost: t\r\n\r\n", "Allow: POST, GET"},
		{"POST /async HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n"
		"12345678901234567", "HTTP/1.1 413"},
	};
	struct http_server *srv;
	struct buf b;
	size_t i;
	int port, lfd, fd;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	for (i = 0; i < NELEM(cases); i++) {
		buf_reset(&b);
		CHECK((fd = t_connect_tcp(port)) >= 0);
		t_send(fd, cases[i].req);
		CHECK(t_until(fd, &b, cases[i].want, 1, 2000) == 1);
		close(fd);
	}
	buf_reset(&b);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "POST /async HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n10\r\n0123456789abcdef\r\n4\r\nmore\r\n0\r\n\r\n");
	(void)t_until(fd, &b, "HTTP/1.1", 1, 2000);
	CHECK(b.len == 0);		/* closed, nothing said */
	CHECK(t_pending == NULL);	/* the handler never saw it */
	close(fd);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
}

/*
 * A client that goes while its request waits: the late answer touches
 * nothing freed (ASan), and the listener serves on.
 */
TEST(http_late_answer_after_client_left)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd;

	ev_init();
	buf_init(&b);
	t_abandoned = 0;
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
	t_turn(100);
	CHECK(t_pending != NULL);
	close(fd);
	t_turn(100);
	CHECK(t_pending != NULL && t_abandoned == 0);
	if (t_pending)
		http_reply(t_pending, 200, "text/plain", "late\n", 5);
	t_pending = NULL;
	t_turn(100);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "sync\n", 1, 2000) == 1);
	close(fd);
	http_stop(srv);
	CHECK(t_abandoned == 0);
	ev_shutdown();
	buf_free(&b);
}

/*
 * A server that stops with a request waiting: its abandon callback runs
 * once, and the client gets 503.
 */
TEST(http_stop_abandons_and_answers_503)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd;

	ev_init();
	buf_init(&b);
	t_abandoned = 0;
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
	t_turn(100);
	CHECK(t_pending != NULL);
	http_stop(srv);
	CHECK(t_abandoned == 1 && t_pending == NULL);
	CHECK(t_until(fd, &b, "HTTP/1.1 503", 1, 1000) == 1);
	close(fd);
	ev_shutdown();
	buf_free(&b);
}

/* On a unix socket: served, and the peer is "unix". */
TEST(http_unix_socket_peer)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct http_server *srv;
	struct buf b;
	int lfd, fd;

	ev_init();
	buf_init(&b);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/test_http.%ld",
	    (long)getpid());
	unlink(sun.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(lfd, 4) == 0);
	srv = http_start(lfd, &t_ops);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	t_send(fd, "GET /async HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "peer=unix body=", 1, 2000) == 1);
	close(fd);
	http_stop(srv);
	unlink(sun.sun_path);
	ev_shutdown();
	buf_free(&b);
}

/* t_sink - warnings into t_log */
static void
t_sink(int pri, const char *level, const char *text)
{
	size_t n = strlen(t_log);

	if (level && strcmp(level, "warning") == 0)
		snprintf(t_log + n, sizeof(t_log) - n, "%s\n", text);
}

/* t_lines - how many lines of t_log hold needle */
static int
t_lines(const char *needle)
{
	const char *p, *nl;
	int n = 0;

	for (p = t_log; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if (memmem(p, (size_t)(nl - p), needle, strlen(needle)))
			n++;
	}
	return n;
}

/*
 * t_closed - turn the loop until the server closes fd (EOF or reset),
 * or ms passed; what came before is read and dropped
 */
static int
t_closed(int fd, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	char chunk[4096];
	ssize_t got;

	while (now_ms() < end) {
		(void)ev_once(5);
		while ((got = read(fd, chunk, sizeof(chunk))) > 0)
			;
		if (got == 0 || (got < 0 && errno != EAGAIN))
			return 1;
	}
	return 0;
}

/* t_parked_count - requests parked now */
static int
t_parked_count(void)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NELEM(t_parked); i++)
		n += t_parked[i] != NULL;
	return n;
}

/* t_get_sync - a new client served /sync: its socket */
static int
t_get_sync(int port, struct buf *b, int ms)
{
	int fd;

	buf_reset(b);
	if ((fd = t_connect_tcp(port)) < 0)
		return -1;
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, b, "sync\n", 1, ms) == 1);
	return fd;
}

/*
 * At conn_max connections, a new client is served and the oldest
 * connection without a request in progress is closed: one that sent
 * nothing, one idle after its answer, one with half its headers, in
 * their order. A request that waits for its answer keeps its
 * connection. One warning says so, and the count of the others comes
 * when the server stops.
 */
TEST(http_conn_max_closes_the_oldest_idle)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd[8], i;

	ev_init();
	buf_init(&b);
	t_log[0] = 0;
	msg_set_sink(t_sink);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	CHECK((fd[0] = t_connect_tcp(port)) >= 0);		/* silent */
	t_turn(50);
	fd[1] = t_get_sync(port, &b, 2000);			/* idle */
	CHECK((fd[2] = t_connect_tcp(port)) >= 0);		/* waits */
	t_send(fd[2], "POST /park HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 2\r\n\r\nhi");
	t_turn(50);
	CHECK(t_parked_count() == 1);
	CHECK((fd[3] = t_connect_tcp(port)) >= 0);		/* half */
	t_send(fd[3], "GET /sync HTTP/1.1\r\nHo");
	t_turn(50);
	fd[4] = t_get_sync(port, &b, 1000);
	CHECK(t_closed(fd[0], 500));
	CHECK(t_lines("test_listen: conn_max 4 connections: the oldest "
	    "without a request in progress closed for a new client") == 1);
	fd[5] = t_get_sync(port, &b, 1000);
	CHECK(t_closed(fd[1], 500));
	fd[6] = t_get_sync(port, &b, 1000);
	CHECK(t_closed(fd[3], 500));
	fd[7] = t_get_sync(port, &b, 1000);
	CHECK(t_closed(fd[4], 500));
	CHECK(!t_closed(fd[2], 100) && t_parked_count() == 1);
	CHECK(!t_closed(fd[5], 10) && !t_closed(fd[6], 10));
	CHECK(t_lines("closed for a new client") == 1);
	http_stop(srv);
	CHECK(t_parked_count() == 0);
	CHECK(t_lines("test_listen: connections closed for new clients: "
	    "3 more in the last 60 s") == 1);
	msg_set_sink(NULL);
	for (i = 0; i < 8; i++)
		close(fd[i]);
	ev_shutdown();
	buf_free(&b);
}

/*
 * At conn_max connections that all wait for their answers, a further
 * client waits in the listen queue; once one of them is answered (and
 * so idle), the client is served and that connection closed.
 */
TEST(http_conn_max_all_busy_waits)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd[5], i;

	ev_init();
	buf_init(&b);
	t_log[0] = 0;
	msg_set_sink(t_sink);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	for (i = 0; i < 4; i++) {
		CHECK((fd[i] = t_connect_tcp(port)) >= 0);
		t_send(fd[i], "POST /park HTTP/1.1\r\nHost: t\r\n"
		    "Content-Length: 2\r\n\r\nhi");
		t_turn(30);
	}
	CHECK(t_parked_count() == 4);
	CHECK((fd[4] = t_connect_tcp(port)) >= 0);
	t_send(fd[4], "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd[4], &b, "sync\n", 1, 300) == 0);
	for (i = 0; i < 4; i++)
		CHECK(!t_closed(fd[i], 10));
	if (t_parked[0])
		http_reply(t_parked[0], 200, "text/plain", "parked\n", 7);
	t_parked[0] = NULL;
	CHECK(t_until(fd[4], &b, "sync\n", 1, 500) == 1);
	CHECK(t_closed(fd[0], 500));
	http_stop(srv);
	CHECK(t_parked_count() == 0);
	buf_reset(&b);
	CHECK(t_until(fd[1], &b, "HTTP/1.1 503", 1, 500) == 1);
	msg_set_sink(NULL);
	for (i = 0; i < 5; i++)
		close(fd[i]);
	ev_shutdown();
	buf_free(&b);
}

static const struct http_ops t_header_ops = {
	.listen_name = "test_listen",
	.routes = t_routes,
	.nroutes = NELEM(t_routes),
	.conn_max = 4,
	.header_ms = 200,
	.idle_ms = 3000,
};

/*
 * A client that sends nothing is closed after header_ms; one that sent
 * its request has idle_ms after its answer for the next one. The idle
 * time is libmicrohttpd's, counted in whole seconds: it ends between
 * 2 and 4 s after the answer here, so the bounds leave that room, and
 * room for a loaded machine.
 */
TEST(http_header_deadline_then_idle_ms)
{
	struct http_server *srv;
	struct buf b;
	uint64_t t0;
	int port, lfd, fd, fd2;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_header_ops);
	t0 = now_ms();
	CHECK((fd = t_connect_tcp(port)) >= 0);
	fd2 = t_get_sync(port, &b, 1000);
	CHECK(t_closed(fd, 1500));
	CHECK(now_ms() - t0 >= 200 && now_ms() - t0 < 1500);
	CHECK(!t_closed(fd2, (int)(1800 - (now_ms() - t0))));
	CHECK(t_closed(fd2, 4000));
	CHECK(now_ms() - t0 >= 1800 && now_ms() - t0 < 5500);
	close(fd);
	close(fd2);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
}

static const struct http_route t_any_routes[] = {
	{.path = "/sync", .methods = "GET", .handle = t_sync},
	{.path = "*", .methods = "POST", .body_max = 16, .handle = t_async},
};

static const struct http_ops t_any_ops = {
	.listen_name = "any_listen",
	.routes = t_any_routes,
	.nroutes = NELEM(t_any_routes),
	.conn_max = 4,
	.idle_ms = 2000,
};

/*
 * A route of path "*" serves any path the rows before it do not name,
 * with its query; its methods still hold.
 */
TEST(http_route_of_any_path)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_any_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "POST /policy/x?command=allow&x=1 HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 2\r\n\r\nhi");
	CHECK(t_until(fd, &b, "m=POST p=/policy/x q=1 ", 1, 1000) == 1);
	t_send(fd, "POST /?x=2 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
	CHECK(t_until(fd, &b, "m=POST p=/ q=2 ", 1, 1000) == 1);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "sync\n", 1, 1000) == 1);
	t_send(fd, "GET /other HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "Allow: POST", 1, 1000) == 1);
	close(fd);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
}

/* t_refused - one request on its own connection: its answer comes */
static void
t_refused(int port, const char *req, const char *want)
{
	struct buf b;
	int fd;

	buf_init(&b);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, req);
	CHECK(t_until(fd, &b, want, 1, 2000) == 1);
	close(fd);
	buf_free(&b);
}

/*
 * Each 404, 405, 413 and 431 is a warning with the listener's name, the
 * method and the request's target, escaped: the first at once, the
 * others of the next 10 s counted, and their count said (here when the
 * server stops).
 */
TEST(http_refusals_logged)
{
	struct http_server *srv;
	struct buf big;
	int port, lfd;

	ev_init();
	buf_init(&big);
	t_log[0] = 0;
	msg_set_sink(t_sink);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	t_refused(port, "GET /nope%0A?q=1 HTTP/1.1\r\nHost: t\r\n\r\n",
	    "HTTP/1.1 404");
	t_turn(50);
	CHECK(t_lines("test_listen: GET /nope%0A?q=1 ") == 1);
	CHECK(t_lines("404") == 1);
	t_refused(port, "DELETE /async HTTP/1.1\r\nHost: t\r\n\r\n",
	    "HTTP/1.1 405");
	t_refused(port, "POST /async HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 17\r\n\r\n12345678901234567", "HTTP/1.1 413");
	t_turn(50);
	CHECK(t_lines("test_listen:") == 1);
	http_stop(srv);
	CHECK(t_lines("test_listen: requests refused: 2 more in the last "
	    "10 s") == 1);

	t_log[0] = 0;
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	buf_printf(&big, "GET /sync?big=1 HTTP/1.1\r\nHost: t\r\nX-Pad: ");
	while (big.len < 40000)
		buf_append(&big, "pppppppppppppppp", 16);
	buf_printf(&big, "\r\n\r\n");
	t_refused(port, buf_str(&big), "HTTP/1.1 431");
	t_turn(50);
	CHECK(t_lines("test_listen: - /sync?big=1") == 1);
	CHECK(t_lines("431") >= 1);
	http_stop(srv);
	msg_set_sink(NULL);
	ev_shutdown();
	buf_free(&big);
}

static const struct http_ops t_quick_ops = {
	.listen_name = "test_listen",
	.routes = t_routes,
	.nroutes = NELEM(t_routes),
	.conn_max = 4,
	.idle_ms = 300,
};

/*
 * A client that trickles its headers, a line every 50 ms, never silent
 * long enough for libmicrohttpd's own timeout: it is closed once idle_ms
 * have passed without a whole request. A client that sends its request
 * in time is served, and has idle_ms again after the answer.
 */
TEST(http_trickled_headers_closed_after_idle_ms)
{
	struct http_server *srv;
	struct buf b;
	uint64_t t0, took = 0;
	char chunk[256];
	int port, lfd, fd, ok, i;
	ssize_t got = -1;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_quick_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t0 = now_ms();
	t_send(fd, "GET /sync HTTP/1.1\r\n");
	for (i = 0; i < 60 && got != 0; i++) {
		t_turn(50);
		if (write(fd, "X-A: b\r\n", 8) < 0)
			break;		/* reset: closed */
		got = read(fd, chunk, sizeof(chunk));
	}
	took = now_ms() - t0;
	CHECK(took >= 300 && took < 1500);
	close(fd);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_turn(200);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	ok = t_until(fd, &b, "sync\n", 1, 1000);
	CHECK(ok == 1);
	t_turn(200);
	t_send(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "sync\n", 2, 1000) == 2);
	close(fd);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
}

/*
 * A held request answered from another request's handler (while
 * libmicrohttpd runs): its answer goes out at once, not at the next
 * unrelated event.
 */
TEST(http_answer_from_another_handler)
{
	struct http_server *srv;
	struct buf b, c;
	uint64_t t0;
	int port, lfd, fd, fd2;

	ev_init();
	buf_init(&b);
	buf_init(&c);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
	t_turn(100);
	CHECK(t_pending != NULL);
	CHECK((fd2 = t_connect_tcp(port)) >= 0);
	t0 = now_ms();
	t_send(fd2, "GET /release HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd2, &c, "release\n", 1, 1000) == 1);
	CHECK(t_until(fd, &b, "released\n", 1, 1000) == 1);
	CHECK(now_ms() - t0 < 500);
	close(fd);
	close(fd2);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
	buf_free(&c);
}

/* t_headers_route - an answer with headers of its own, one refused */
static void
t_headers_route(struct http_req *req, void *arg)
{
	int *refused = arg;

	CHECK(http_add_header(req, "Set-Cookie", "c=1; HttpOnly") == 0);
	CHECK(http_add_header(req, "Location", "why?q=a") == 0);
	*refused = http_add_header(req, "X-Bad", "a\r\nInjected: 1") == -1 &&
	    http_add_header(req, "Bad Name", "x") == -1 &&
	    http_add_header(req, "", "x") == -1;
	http_reply(req, 303, "text/plain", "", 0);
}

/*
 * A listener's own headers on every answer (its handlers', its 404 and
 * 405); a handler's headers on its answer only; a header with CR LF or
 * a bad name refused, never sent.
 */
TEST(http_listener_and_answer_headers)
{
	static const char *const headers[] = {"X-Frame-Options", "DENY",
	    "Content-Security-Policy", "default-src 'none'", NULL};
	static int refused;
	static const struct http_route routes[] = {
		{.path = "/h", .methods = "GET", .handle = t_headers_route,
		.arg = &refused},
		{.path = "/sync", .methods = "GET", .handle = t_sync},
	};
	static const struct http_ops ops = {
		.listen_name = "test_listen", .routes = routes,
		.nroutes = NELEM(routes), .conn_max = 4, .idle_ms = 2000,
		.headers = headers,
	};
	static const char *const reqs[] = {"GET /h", "GET /sync", "GET /nope",
	    "POST /sync"};
	struct http_server *srv;
	struct buf b, r;
	int port, lfd, fd;
	size_t i;

	ev_init();
	buf_init(&b);
	buf_init(&r);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &ops);
	for (i = 0; i < NELEM(reqs); i++) {
		buf_reset(&b);
		buf_reset(&r);
		buf_printf(&r, "%s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
		    "\r\n", reqs[i]);
		CHECK((fd = t_connect_tcp(port)) >= 0);
		t_send(fd, buf_str(&r));
		CHECK(t_until(fd, &b, "\r\n\r\n", 1, 2000) == 1);
		CHECK(strstr(b.data, "X-Frame-Options: DENY\r\n") != NULL);
		CHECK(strstr(b.data, "Content-Security-Policy: default-src "
		    "'none'\r\n") != NULL);
		CHECK(strstr(b.data, "Cache-Control: no-store\r\n") != NULL);
		CHECK((strstr(b.data, "Set-Cookie: c=1; HttpOnly\r\n") != NULL) ==
		    (i == 0));
		close(fd);
	}
	CHECK(refused == 1);
	buf_reset(&b);
	CHECK((fd = t_connect_tcp(port)) >= 0);
	t_send(fd, "GET /h HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd, &b, "\r\n\r\n", 1, 2000) == 1);
	CHECK(strncmp(b.data, "HTTP/1.1 303", 12) == 0);
	CHECK(strstr(b.data, "Location: why?q=a\r\n") != NULL);
	CHECK(strstr(b.data, "Injected") == NULL && strstr(b.data, "X-Bad") ==
	    NULL);
	close(fd);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
	buf_free(&r);
}
