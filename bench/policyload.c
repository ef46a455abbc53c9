/*++
/* NAME
/*	policyload 1
/* SUMMARY
/*	load generator for a Postfix policy service
/* SYNOPSIS
/*	policyload SOCKET|HOST:PORT CONNECTIONS SECONDS ACCOUNTS
/* DESCRIPTION
/*	Opens CONNECTIONS unix-socket connections and keeps one request
/*	in flight on each, as Postfix's smtpd processes do, for SECONDS.
/*	Requests look like Postfix 3.7's (the usual two dozen
/*	attributes); nine in ten are authenticated RCPTs over TLS for
/*	one of ACCOUNTS users, one in ten unauthenticated RCPTs on a
/*	submission port. Prints: requests, requests/s, p50 and p99
/*	latency in microseconds, errors.
/*--*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"

struct client {
	int	 fd;
	char	 out[2048];
	size_t	 outlen, outoff;
	char	 in[1024];
	size_t	 inlen;
	uint64_t sent;
	unsigned seq;
};

static uint64_t *lat;
static size_t nlat, caplat, ndone;

static void
make_request(struct client *c, unsigned accounts)
{
	unsigned n = c->seq++, user = (unsigned)rand() % accounts;
	int authed = n % 10 != 0;

	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "protocol_name=ESMTP\nclient_address=10.%u.%u.%u\n"
	    "client_name=unknown\nclient_port=%u\nreverse_client_name=unknown\n"
	    "server_address=192.0.2.1\nserver_port=587\n"
	    "helo_name=client.example\nsender=user%u@example.com\n"
	    "recipient=rcpt%u@example.net\nrecipient_count=0\nqueue_id=\n"
	    "instance=%x.%x\nsize=0\netrn_domain=\nstress=\n"
	    "sasl_method=%s\nsasl_username=%s%u%s\nsasl_sender=\n"
	    "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
	    "ccert_pubkey_fingerprint=\nencryption_protocol=%s\n"
	    "encryption_cipher=%s\nencryption_keysize=%s\n"
	    "policy_context=submission\n\n",
	    user >> 16 & 255, user >> 8 & 255, user & 255, 40000 + n % 20000,
	    user, n, n, user, authed ? "PLAIN" : "", authed ? "user" : "",
	    authed ? user : 0, authed ? "@example.com" : "",
	    authed ? "TLSv1.3" : "", authed ? "TLS_AES_256_GCM_SHA384" : "",
	    authed ? "256" : "");
	if (!authed) {	/* no user: drop the "0" left in sasl_username */
		char *p = strstr(c->out, "sasl_username=0\n");

		if (p)
			memmove(p + 14, p + 15, strlen(p + 15) + 1), c->outlen--;
	}
	c->outoff = 0;
	c->sent = now_us();
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct epoll_event ev, evs[256];
	struct client *cl;
	unsigned conns, secs, accounts, i;
	uint64_t start, end, errors = 0;
	int ep, n, k;
	struct sockaddr_in sin;
	char *colon = NULL;

	if (argc != 5)
		return fprintf(stderr, "usage: policyload SOCKET CONNECTIONS "
		    "SECONDS ACCOUNTS\n"), 2;
	conns = (unsigned)atoi(argv[2]);
	secs = (unsigned)atoi(argv[3]);
	accounts = (unsigned)atoi(argv[4]);
	cl = calloc(conns, sizeof(*cl));
	caplat = 1 << 22;
	lat = malloc(caplat * sizeof(*lat));
	ep = epoll_create1(0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (argv[1][0] != '/' && (colon = strrchr(argv[1], ':')) != NULL) {
		*colon = 0;		/* HOST:PORT: TCP, as postfwd listens */
		inet_pton(AF_INET, argv[1], &sin.sin_addr);
		sin.sin_port = htons((unsigned short)atoi(colon + 1));
	}
	srand(42);
	for (i = 0; i < conns; i++) {
		cl[i].fd = socket(colon ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
		if (connect(cl[i].fd, colon ? (struct sockaddr *)&sin :
		    (struct sockaddr *)&sun, colon ? sizeof(sin) : sizeof(sun)) < 0)
			return perror("connect"), 1;
		make_request(&cl[i], accounts);
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

			if (r <= 0)
				return fprintf(stderr, "connection lost\n"), 1;
			c->inlen += (size_t)r;
			c->in[c->inlen] = 0;
			if (strstr(c->in, "\n\n") == NULL)
				continue;
			if (strncmp(c->in, "action=", 7) != 0)
				errors++;
			if (nlat < caplat)	/* the first caplat samples */
				lat[nlat++] = now_us() - c->sent;
			ndone++;
			c->inlen = 0;
			make_request(c, accounts);
			if (write(c->fd, c->out, c->outlen) != (ssize_t)c->outlen)
				return perror("write"), 1;
		}
	}
	load_report(ndone, start, lat, nlat, errors);
	return 0;
}
