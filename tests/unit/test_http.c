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
#include "unit.h"
#include "util.h"

static struct http_req *t_pending;	/* /async, /hold */
static struct ev_timer t_later;
static int t_abandoned;

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

static const struct http_route t_routes[] = {
	{.path = "/release", .methods = "GET", .handle = t_release},
	{.path = "/sync", .methods = "GET HEAD", .handle = t_sync},
	{.path = "/async", .methods = "POST GET", .body_max = 16,
	.handle = t_async},
	{.path = "/hold", .methods = "POST", .body_max = 16, .handle = t_hold},
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

/*
 * At conn_max connections a further client waits in the listen queue,
 * the served ones go on, and it is served as soon as one of them closes.
 */
TEST(http_conn_max_waits_for_a_place)
{
	struct http_server *srv;
	struct buf b;
	int port, lfd, fd[5], i;

	ev_init();
	buf_init(&b);
	CHECK((lfd = t_listen_tcp(&port)) >= 0);
	srv = http_start(lfd, &t_ops);
	for (i = 0; i < 4; i++) {
		buf_reset(&b);
		CHECK((fd[i] = t_connect_tcp(port)) >= 0);
		t_send(fd[i], "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
		CHECK(t_until(fd[i], &b, "sync\n", 1, 2000) == 1);
	}
	buf_reset(&b);
	CHECK((fd[4] = t_connect_tcp(port)) >= 0);
	t_send(fd[4], "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd[4], &b, "sync\n", 1, 300) == 0);
	t_send(fd[0], "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(t_until(fd[0], &b, "sync\n", 1, 2000) == 1);
	buf_reset(&b);
	close(fd[1]);
	CHECK(t_until(fd[4], &b, "sync\n", 1, 500) == 1);
	for (i = 0; i < 5; i++)
		if (i != 1)
			close(fd[i]);
	http_stop(srv);
	ev_shutdown();
	buf_free(&b);
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
