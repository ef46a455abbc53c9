/*++
/* NAME
/*	nologic 1
/* SUMMARY
/*	the baseline policy server: answers action=DUNNO to everything
/* SYNOPSIS
/*	nologic SOCKET
/* DESCRIPTION
/*	One epoll loop, like authguard-policyd, that reads requests up to
/*	their empty line and answers DUNNO without looking at them: the
/*	floor against which the policy service's cost is measured.
/*--*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct peer {
	int	 fd;
	char	 buf[8192];
	size_t	 len;
};

int
main(int argc, char **argv)
{
	static const char reply[] = "action=DUNNO\n\n";
	struct sockaddr_un sun;
	struct epoll_event ev, evs[256];
	int lfd, ep, n, i;

	if (argc != 2)
		return fprintf(stderr, "usage: nologic SOCKET\n"), 2;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 512) < 0)
		return perror("bind"), 1;
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct peer *p = evs[i].data.ptr;
			ssize_t r;
			char *end;

			if (p == NULL) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0)
					continue;
				p = calloc(1, sizeof(*p));
				p->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = p;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			r = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len - 1);
			if (r <= 0) {
				close(p->fd);
				free(p);
				continue;
			}
			p->len += (size_t)r;
			p->buf[p->len] = 0;
			while ((end = strstr(p->buf, "\n\n")) != NULL) {
				size_t used = (size_t)(end + 2 - p->buf);

				if (write(p->fd, reply, sizeof(reply) - 1) < 0)
					break;
				memmove(p->buf, p->buf + used, p->len - used + 1);
				p->len -= used;
			}
		}
	}
}
