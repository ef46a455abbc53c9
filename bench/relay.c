/*++
/* NAME
/*	relay 1
/* SUMMARY
/*	benchmark baseline: a byte relay between two unix sockets
/* SYNOPSIS
/*	relay LISTEN_PATH UPSTREAM_PATH
/* DESCRIPTION
/*	For each client, one connection to UPSTREAM_PATH; bytes are copied
/*	both ways as they come, parsing nothing: the floor for any proxy
/*	on the SASL path (one event loop, epoll, like authguard-policyd).
/*--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct end {
	int	 fd;
	struct end *peer;
};

static int
unix_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path) <
	    (int)sizeof(sun->sun_path) ? 0 : -1;
}

static void
watch(int ep, struct end *e)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = e};

	epoll_ctl(ep, EPOLL_CTL_ADD, e->fd, &ev);
}

static void
pair(int ep, int cfd, const char *up)
{
	struct sockaddr_un sun;
	struct end *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	int ufd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (unix_addr(&sun, up) < 0 || connect(ufd, (struct sockaddr *)&sun,
	    sizeof(sun)) < 0) {
		close(cfd);
		close(ufd);
		free(a);
		free(b);
		return;
	}
	a->fd = cfd;
	b->fd = ufd;
	a->peer = b;
	b->peer = a;
	watch(ep, a);
	watch(ep, b);
}

/* close_pair - both ends; kept allocated, as the other end's event may
 * still be in this epoll batch (a benchmark process, short-lived) */
static void
close_pair(struct end *e)
{
	struct end *p = e->peer;

	if (e->fd >= 0)
		close(e->fd);
	if (p->fd >= 0)
		close(p->fd);
	e->fd = p->fd = -1;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[64], ev;
	struct sockaddr_un sun;
	char buf[16384];
	int lfd, ep, n, i;
	ssize_t r;

	if (argc != 3 || unix_addr(&sun, argv[1]) < 0) {
		fprintf(stderr, "usage: relay LISTEN_PATH UPSTREAM_PATH\n");
		return 2;
	}
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 512) < 0) {
		perror(argv[1]);
		return 1;
	}
	chmod(argv[1], 0666);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		if ((n = epoll_wait(ep, evs, 64, -1)) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct end *e = evs[i].data.ptr;

			if (e == NULL) {
				int cfd = accept(lfd, NULL, NULL);

				if (cfd >= 0)
					pair(ep, cfd, argv[2]);
				continue;
			}
			if (e->fd < 0)
				continue;
			if ((r = read(e->fd, buf, sizeof(buf))) <= 0 ||
			    write(e->peer->fd, buf, (size_t)r) != r)
				close_pair(e);
		}
	}
}
