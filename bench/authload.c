/*++
/* NAME
/*	authload 1
/* SUMMARY
/*	load generator speaking Dovecot's auth-client protocol, as smtpd does
/* SYNOPSIS
/*	authload SOCKET CONNECTIONS SECONDS USER PASSWORD [SPRAY [DEPTH [COUNT]]]
/* DESCRIPTION
/*	Opens CONNECTIONS unix-socket connections, each with smtpd's
/*	handshake (VERSION, CPID; then the server's lines up to DONE), and
/*	keeps one AUTH PLAIN in flight on each for SECONDS, with the
/*	parameters Postfix 3.7 sends (service=smtp, nologin, lip, rip,
/*	secured). Every answer must be OK (a wrong password counts as an
/*	error) unless SPRAY is given: then each AUTH uses a new user name
/*	(SPRAY-<n>@example.test) from a new address (10.x.y.z), and every
/*	answer must be FAIL. DEPTH (default 1) AUTHs are kept in flight
/*	on each connection, as the protocol allows (smtpd sends one): Dovecot
/*	answers failures in batches every half second, so a spray needs
/*	many in flight to go faster than that. With COUNT, it stops
/*	after COUNT attempts have been answered (SECONDS is then a limit).
/*	Prints: attempts, attempts/s, p50 and p99 latency in microseconds,
/*	errors.
/*--*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"

struct client {
	int	 fd;
	int	 ready;			/* handshake done */
	char	 in[8192];
	size_t	 inlen;
};

#define SENT_SLOTS	65536		/* > CONNECTIONS * DEPTH in flight */

static uint64_t *lat;
static size_t nlat, caplat;
static unsigned long long ndone, nerr, spray_n;
static const char *user, *pass, *spray;
static uint64_t *sent;			/* by id, shared by all connections */
static unsigned next_id, depth = 1;
static unsigned long long count;	/* 0: run for SECONDS */

static void
b64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = t[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = 0;
}

static int
send_auth(struct client *c)
{
	char name[300], raw[700], enc[1000], line[1200], rip[32];
	size_t ul, pl;
	int n;

	/* A spray comes from everywhere: one address per attempt, as a
	 * botnet's would (Dovecot also delays failures per address). */
	if (spray) {
		snprintf(name, sizeof(name), "%s-%llu@example.test", spray,
		    spray_n);
		snprintf(rip, sizeof(rip), "10.%llu.%llu.%llu",
		    (spray_n >> 16) & 255, (spray_n >> 8) & 255, spray_n & 255);
		spray_n++;
	} else {
		snprintf(name, sizeof(name), "%s", user);
		snprintf(rip, sizeof(rip), "127.0.0.1");
	}
	ul = strlen(name);
	pl = strlen(pass);
	raw[0] = 0;
	memcpy(raw + 1, name, ul);
	raw[1 + ul] = 0;
	memcpy(raw + 2 + ul, pass, pl);
	b64((unsigned char *)raw, ul + pl + 2, enc);
	n = snprintf(line, sizeof(line), "AUTH\t%u\tPLAIN\tservice=smtp\t"
	    "nologin\tlip=127.0.0.1\trip=%s\tsecured\tresp=%s\n",
	    ++next_id, rip, enc);
	sent[next_id % SENT_SLOTS] = now_us();
	return write(c->fd, line, (size_t)n) == n ? 0 : -1;
}

static void
record(uint64_t us)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 65536;
		lat = realloc(lat, caplat * sizeof(*lat));
		if (lat == NULL)
			exit(2);
	}
	lat[nlat++] = us;
}

/* on_line - one server line; how many AUTHs to send now */
static int
on_line(struct client *c, const char *line)
{
	if (!c->ready) {
		if (strcmp(line, "DONE") == 0) {
			c->ready = 1;
			return (int)depth;
		}
		return 0;
	}
	if (strncmp(line, "OK\t", 3) == 0 || strncmp(line, "FAIL\t", 5) == 0) {
		record(now_us() - sent[strtoul(strchr(line, '\t') + 1, NULL,
		    10) % SENT_SLOTS]);
		ndone++;
		if ((line[0] == 'O') != (spray == NULL))
			nerr++;
		return 1;
	}
	if (strncmp(line, "CONT\t", 5) == 0)
		nerr++;
	return 0;
}

static int
connect_one(const char *path)
{
	struct sockaddr_un sun;
	char hello[64];
	int fd, n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror(path);
		exit(2);
	}
	n = snprintf(hello, sizeof(hello), "VERSION\t1\t0\nCPID\t%d\n",
	    (int)getpid());
	if (write(fd, hello, (size_t)n) != n)
		exit(2);
	return fd;
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[64];
	struct client *cl;
	uint64_t start, end;
	int nconn, secs, ep, i, k, n;
	char *nl;

	if (argc < 6 || argc > 9 ||
	    (argc >= 8 && (atoi(argv[7]) < 1 || atoi(argv[7]) > 1024))) {
		fprintf(stderr, "usage: authload SOCKET CONNECTIONS SECONDS USER "
		    "PASSWORD [SPRAY [DEPTH 1-1024 [COUNT]]]\n");
		return 2;
	}
	nconn = atoi(argv[2]);
	secs = atoi(argv[3]);
	user = argv[4];
	pass = argv[5];
	spray = argc >= 7 ? argv[6] : NULL;
	if (argc >= 8)
		depth = (unsigned)atoi(argv[7]);
	if (argc == 9)
		count = strtoull(argv[8], NULL, 10);
	if (nconn < 1 || (unsigned)nconn * depth >= SENT_SLOTS ||
	    (sent = calloc(SENT_SLOTS, sizeof(*sent))) == NULL) {
		fprintf(stderr, "authload: CONNECTIONS * DEPTH must be "
		    "below %d\n", SENT_SLOTS);
		return 2;
	}
	cl = calloc((size_t)nconn, sizeof(*cl));
	ep = epoll_create1(0);
	for (i = 0; i < nconn; i++) {
		cl[i].fd = connect_one(argv[1]);
		ev.events = EPOLLIN;
		ev.data.ptr = &cl[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
	}
	start = now_us();
	end = start + (uint64_t)secs * 1000000;
	while (now_us() < end && (count == 0 || ndone < count)) {
		if ((n = epoll_wait(ep, evs, 64, 100)) < 0 && errno != EINTR)
			return 2;
		for (k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;
			ssize_t r = read(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen - 1);

			if (r <= 0) {
				fprintf(stderr, "authload: server closed\n");
				return 2;
			}
			c->inlen += (size_t)r;
			c->in[c->inlen] = 0;
			while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
				*nl = 0;
				for (i = on_line(c, c->in); i > 0 &&
				    now_us() < end && (count == 0 ||
				    next_id < count); i--)
					if (send_auth(c) < 0)
						return 2;
				c->inlen -= (size_t)(nl + 1 - c->in);
				memmove(c->in, nl + 1, c->inlen);
			}
		}
	}
	load_report(ndone, start, lat, nlat, nerr);
	return 0;
}
