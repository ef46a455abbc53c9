/*++
/* NAME
/*	doorload 1
/* SUMMARY
/*	load generator for an auth policy server, as Dovecot's auth process asks it
/* SYNOPSIS
/*	doorload HOST:PORT CONNECTIONS SECONDS API_KEY
/* DESCRIPTION
/*	Opens CONNECTIONS HTTP/1.1 keep-alive connections and keeps one
/*	request in flight on each for SECONDS, as Dovecot's policy client
/*	does: for each login a POST /?command=allow, then its
/*	POST /?command=report (a success), with Dovecot 2.3's headers
/*	(X-API-Key: API_KEY) and bodies (default attributes); each login
/*	is a new account from a new address (10.x.y.z), so that no limit
/*	is reached. Every answer must be HTTP 200 with {"status":0}.
/*	Prints: requests, requests/s, p50 and p99 latency in
/*	microseconds, errors.
/*--*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"

struct client {
	int	 fd;
	char	 out[2048];
	size_t	 outlen;
	char	 in[4096];
	size_t	 inlen;
	uint64_t sent;
	unsigned login;			/* the login this request belongs to */
	int	 report;		/* 0: allow next, 1: report next */
};

static uint64_t *lat;
static size_t nlat, caplat;
static unsigned long long ndone, nerr;
static unsigned next_login;
static const char *api_key, *host;

/* make_request - the next request of c: an allow for a new login, or its report */
static void
make_request(struct client *c)
{
	char body[512];
	int blen;
	unsigned n;

	if (!c->report)
		c->login = next_login++;
	n = c->login;
	blen = snprintf(body, sizeof(body),
	    "{\"device_id\":\"\",\"login\":\"load%u@example.test\","
	    "\"protocol\":\"imap\",\"pwhash\":\"%04x\","
	    "\"remote\":\"10.%u.%u.%u\",\"session_id\":\"load%011u\"%s,"
	    "\"tls\":false}", n, n & 0xfff, n >> 16 & 255, n >> 8 & 255,
	    (n & 255) ? n & 255 : 1, n,
	    c->report ? ",\"success\":true,\"policy_reject\":false" : "");
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "POST /?command=%s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: dovecot/auth-policy-client\r\n"
	    "Content-Length: %d\r\nConnection: Keep-Alive\r\n"
	    "Content-Type: application/json\r\nX-API-Key: %s\r\n\r\n%s",
	    c->report ? "report" : "allow", host, blen, api_key, body);
	c->report = !c->report;
	c->sent = now_us();
}

/* answer_len - bytes of the whole answer at the start of in, 0: not yet */
static size_t
answer_len(const char *in, size_t len)
{
	const char *end = strstr(in, "\r\n\r\n"), *cl;
	size_t head;

	if (end == NULL)
		return 0;
	head = (size_t)(end - in) + 4;
	cl = strcasestr(in, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		return head;
	head += (size_t)strtoul(cl + 17, NULL, 10);
	return len >= head ? head : 0;
}

/* take_answer - one whole answer of c: check it, time it, send the next */
static int
take_answer(struct client *c, size_t alen)
{
	const char *body = strstr(c->in, "\r\n\r\n") + 4;

	if (strncmp(c->in, "HTTP/1.1 200 ", 13) != 0 ||
	    strstr(body, "\"status\":0") == NULL)
		nerr++;
	if (nlat < caplat)
		lat[nlat++] = now_us() - c->sent;
	ndone++;
	memmove(c->in, c->in + alen, c->inlen - alen);
	c->inlen -= alen;
	c->in[c->inlen] = 0;
	make_request(c);
	return write(c->fd, c->out, c->outlen) == (ssize_t)c->outlen ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[256];
	struct sockaddr_in sin;
	struct client *cl;
	unsigned conns, secs, i;
	uint64_t start, end;
	int ep, n, k, one = 1;
	char *colon;

	if (argc != 5 || (colon = strrchr(argv[1], ':')) == NULL)
		return fprintf(stderr, "usage: doorload HOST:PORT CONNECTIONS "
		    "SECONDS API_KEY\n"), 2;
	host = argv[1];
	conns = (unsigned)atoi(argv[2]);
	secs = (unsigned)atoi(argv[3]);
	api_key = argv[4];
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	*colon = 0;
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return fprintf(stderr, "doorload: bad address %s\n", argv[1]), 2;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	*colon = ':';
	cl = calloc(conns, sizeof(*cl));
	caplat = 1 << 22;
	lat = malloc(caplat * sizeof(*lat));
	ep = epoll_create1(0);
	if (cl == NULL || lat == NULL || ep < 0)
		return perror("doorload"), 1;
	for (i = 0; i < conns; i++) {
		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (cl[i].fd < 0 || connect(cl[i].fd, (struct sockaddr *)&sin,
		    sizeof(sin)) < 0)
			return perror("connect"), 1;
		setsockopt(cl[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		make_request(&cl[i]);
		if (write(cl[i].fd, cl[i].out, cl[i].outlen) !=
		    (ssize_t)cl[i].outlen)
			return perror("write"), 1;
		ev.events = EPOLLIN;
		ev.data.ptr = &cl[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
	}
	start = now_us();
	end = start + (uint64_t)secs * 1000000;
	while (now_us() < end) {
		n = epoll_wait(ep, evs, 256, 100);
		for (k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;
			ssize_t r = read(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen - 1);
			size_t alen;

			if (r <= 0)
				return fprintf(stderr, "doorload: connection "
				    "lost after %llu answers\n", ndone), 1;
			c->inlen += (size_t)r;
			c->in[c->inlen] = 0;
			if ((alen = answer_len(c->in, c->inlen)) == 0)
				continue;
			if (take_answer(c, alen) < 0)
				return perror("write"), 1;
		}
	}
	load_report(ndone, start, lat, nlat, nerr);
	return 0;
}
