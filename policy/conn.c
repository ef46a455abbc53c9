/*++
/* NAME
/*	conn 3
/* SUMMARY
/*	non-blocking line-oriented connections
/* DESCRIPTION
/*	A conn reads through a length-capped linereader and hands
/*	complete lines to ops->line, overlong ones (their first bytes)
/*	to ops->overlong, and reports the end of the peer (EOF or
/*	error) once through ops->closed. Output is written at once when
/*	the socket takes it, else queued (wiped when sent, as it may
/*	hold credentials); a peer that lets more than out_max pile up
/*	is disconnected. conn_close() is the owner's way out: it
/*	stops everything and calls no callback.
/*
/*	A callback may close the connection; the reader checks
/*	c->dead after each line. A write that fails inside conn_send()
/*	never calls back into the owner there: the owner is in the middle
/*	of its own work; ops->closed comes from the event loop instead.
/*
/*	listen_socket() creates a listening socket with the owner,
/*	group and mode from the configuration. listener_serve() accepts
/*	on it and hands each connection, with the peer's pid and the
/*	listener, to a callback (server 3 keeps the connections of each).
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "conn.h"
#include "msg.h"
#include "util.h"

#define CONN_READ_CHUNK	16384
#define CONN_READ_BUDGET (256 * 1024)	/* per wake-up, for fairness */

static void conn_event(struct ev_io *, unsigned);
static void conn_compact(struct conn *);

/* conn_setup - common part of accepted and outgoing connections */
static void
conn_setup(struct conn *c, int fd, size_t maxline, const struct conn_ops *ops,
    void *ctx, const char *name, unsigned want)
{
	lr_init(&c->lr, maxline);
	buf_init(&c->out);
	c->ops = ops;
	c->ctx = ctx;
	c->dead = 0;
	c->finishing = 0;
	c->out_max = CONN_OUT_MAX;
	c->out_off = 0;
	memset(&c->later, 0, sizeof(c->later));
	c->name = name;
	ev_io_start(&c->io, fd, want, conn_event);
}

/* conn_init - wrap an accepted, connected descriptor */
void
conn_init(struct conn *c, int fd, size_t maxline, const struct conn_ops *ops,
    void *ctx, const char *name)
{
	c->connecting = 0;
	conn_setup(c, fd, maxline, ops, ctx, name, EV_READ);
}

/* sockaddr_fill - sockspec to sockaddr */
static socklen_t
sockaddr_fill(const struct sockspec *ss, struct sockaddr_storage *sa)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)sa;
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (ss->kind == SOCK_UNIX) {
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, ss->path, strlen(ss->path) + 1);
		return sizeof(*sun);
	}
	if (inet_pton(AF_INET, ss->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)ss->port);
		return sizeof(*sin);
	}
	inet_pton(AF_INET6, ss->host, &sin6->sin6_addr);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)ss->port);
	return sizeof(*sin6);
}

/* conn_connect - start an outgoing connection; -1 if it failed at once */
int
conn_connect(struct conn *c, const struct sockspec *ss, size_t maxline,
    const struct conn_ops *ops, void *ctx, const char *name, const char **err)
{
	struct sockaddr_storage sa;
	socklen_t len = sockaddr_fill(ss, &sa);
	int fd;

	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = strerror(errno);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, len) < 0 &&
	    errno != EINPROGRESS) {
		*err = strerror(errno);
		close(fd);
		return -1;
	}
	c->connecting = 1;
	conn_setup(c, fd, maxline, ops, ctx, name, EV_WRITE);
	c->out_max = CONN_OUTGOING_OUT_MAX;
	return 0;
}

/* conn_closed_later - the deferred "closed", from the event loop */
static void
conn_closed_later(struct ev_timer *t)
{
	struct conn *c = (struct conn *)((char *)t - offsetof(struct conn, later));

	c->ops->closed(c, c->why);
}

/*
 * conn_fail - the connection is over, but the owner may be in the middle
 * of using it (conn_send is called from the owner's code): stop all I/O
 * now, tell the owner from the event loop. conn_close() cancels that.
 */
static void
conn_fail(struct conn *c, const char *why)
{
	c->dead = 1;
	c->why = why;
	if (c->io.fd >= 0)
		ev_io_want(&c->io, 0);
	ev_timer_start(&c->later, 0, conn_closed_later);
}

/* conn_flush - write queued output */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out.len > c->out_off) {
		n = write(c->io.fd, c->out.data + c->out_off,
		    c->out.len - c->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_fail(c, n < 0 && errno == EPIPE ? "connection closed by "
			    "peer" : "write failed");
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_compact(c);
	if (c->out.len == 0 && c->finishing) {
		conn_fail(c, "finished");
		return;
	}
	ev_io_want(&c->io, c->out.len ? EV_READ | EV_WRITE : EV_READ);
}

/* conn_finish - close after the queued output is written */
void
conn_finish(struct conn *c)
{
	c->finishing = 1;
	if (!c->dead && !c->connecting)
		conn_flush(c);
}

/*
 * conn_compact - drop what was written (wiped: it may hold credentials).
 * A long queue drains by partial writes; moving the rest to the front
 * after each would cost the square of its length, so that waits until the
 * written part is at least half of it.
 */
static void
conn_compact(struct conn *c)
{
	if (c->out_off == c->out.len || (c->out_off >= 65536 &&
	    c->out_off * 2 >= c->out.len)) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
}

/* conn_send - queue bytes and try to write them */
void
conn_send(struct conn *c, const char *p, size_t len)
{
	if (c->dead)
		return;
	buf_append(&c->out, p, len);
	if (c->connecting)
		return;
	if (c->out.len - c->out_off > c->out_max) {
		conn_fail(c, "peer does not read its replies");
		return;
	}
	conn_flush(c);
}

/* conn_puts - queue a string */
void
conn_puts(struct conn *c, const char *s)
{
	conn_send(c, s, strlen(s));
}

/* conn_dispatch - hand out every complete line */
static void
conn_dispatch(struct conn *c)
{
	enum lr_result r;
	char *line;
	size_t len;

	while (!c->dead && (r = lr_next(&c->lr, &line, &len)) != LR_NONE) {
		if (r == LR_LINE)
			c->ops->line(c, line, len);
		else
			c->ops->overlong(c, line, len);
	}
}

/* conn_read - read what is there, within the budget */
static void
conn_read(struct conn *c)
{
	size_t budget = CONN_READ_BUDGET;
	ssize_t n;
	char *p;

	while (!c->dead && budget > 0) {
		p = lr_space(&c->lr, CONN_READ_CHUNK);
		n = read(c->io.fd, p, CONN_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_dispatch(c);
			if (!c->dead) {
				c->dead = 1;
				c->ops->closed(c, n < 0 ? strerror(errno) :
				    "connection closed by peer");
			}
			return;
		}
		lr_commit(&c->lr, (size_t)n);
		budget -= (size_t)n < budget ? (size_t)n : budget;
		conn_dispatch(c);
		if ((size_t)n < CONN_READ_CHUNK)
			return;		/* drained; epoll says when there is more */
	}
}

/* conn_connected - outgoing connect finished */
static void
conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		c->dead = 1;
		c->ops->closed(c, strerror(err));
		return;
	}
	c->connecting = 0;
	if (c->ops->connected)
		c->ops->connected(c);
	if (!c->dead)
		conn_flush(c);
}

/* conn_event - epoll callback */
static void
conn_event(struct ev_io *io, unsigned what)
{
	struct conn *c = (struct conn *)io;

	if (c->connecting) {
		conn_connected(c);
		return;
	}
	if (what & EV_WRITE)
		conn_flush(c);
	if (!c->dead && (what & EV_READ))
		conn_read(c);
}

/* conn_close - stop and close; memory stays until conn_free */
void
conn_close(struct conn *c)
{
	c->dead = 1;
	ev_timer_stop(&c->later);
	if (c->io.fd >= 0) {
		int fd = c->io.fd;

		ev_io_stop(&c->io);
		close(fd);
	}
}

/* conn_free - release buffers, wiping */
void
conn_free(struct conn *c)
{
	conn_close(c);
	lr_free(&c->lr);
	buf_free(&c->out);
}

/* socket_owner - chown/chmod a unix socket as configured */
static void
socket_owner(const char *path, const char *owner, const char *group,
    unsigned mode)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct passwd *pw;
	struct group *gr;

	if (owner && *owner) {
		if ((pw = getpwnam(owner)) == NULL)
			msg_fatal("socket_owner: unknown user %s", owner);
		uid = pw->pw_uid;
	}
	if (group && *group) {
		if ((gr = getgrnam(group)) == NULL)
			msg_fatal("socket_group: unknown group %s", group);
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0)
		msg_fatal("chown %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		msg_fatal("chmod %s: %s", path, strerror(errno));
}

/* bind_or_die - bind, with the address in the error */
static void
bind_or_die(int fd, const struct sockaddr_storage *sa, socklen_t len,
    const char *what)
{
	if (bind(fd, (const struct sockaddr *)sa, len) < 0)
		msg_fatal("bind %s: %s", what, strerror(errno));
}

/*
 * listen_socket - bound, listening, non-blocking socket. A unix socket is
 * made under a temporary name, given its owner and mode, made to listen,
 * and only then renamed into place: nobody can connect before the mode
 * is right, and whoever sees the name can connect at once.
 */
int
listen_socket(const struct sockspec *ss, int backlog, const char *owner,
    const char *group, unsigned mode)
{
	struct sockaddr_storage sa;
	struct sockaddr_un *sun = (struct sockaddr_un *)&sa;
	socklen_t len = sockaddr_fill(ss, &sa);
	char tmp[sizeof(sun->sun_path) + 8];
	int fd, on = 1;

	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		msg_fatal("socket: %s", strerror(errno));
	if (ss->kind != SOCK_UNIX) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		bind_or_die(fd, &sa, len, ss->host);
	} else {
		if (snprintf(tmp, sizeof(tmp), "%s.new", ss->path) >=
		    (int)sizeof(sun->sun_path))
			msg_fatal("socket path too long: %s", ss->path);
		memcpy(sun->sun_path, tmp, strlen(tmp) + 1);
		unlink(tmp);
		bind_or_die(fd, &sa, len, tmp);
		socket_owner(tmp, owner, group, mode);
	}
	if (listen(fd, backlog) < 0)
		msg_fatal("listen: %s", strerror(errno));
	if (ss->kind == SOCK_UNIX && rename(tmp, ss->path) < 0)
		msg_fatal("rename %s to %s: %s", tmp, ss->path, strerror(errno));
	return fd;
}

/* listener_resume - accept again after running out of descriptors */
static void
listener_resume(struct ev_timer *t)
{
	struct listener *l = (struct listener *)((char *)t -
	    offsetof(struct listener, pause));

	ev_io_want(&l->io, EV_READ);
}

/* listener_peer_pid - the connecting process (unix sockets), else 0 */
static pid_t
listener_peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    cred.pid > 0)
		return cred.pid;
	return 0;
}

/* listener_accept - every pending connection */
static void
listener_accept(struct ev_io *io, unsigned what)
{
	struct listener *l = (struct listener *)io;
	int fd;

	while ((fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		l->serve(l, fd, listener_peer_pid(fd));
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		msg_error("%s: accept: %s; pausing for 1s", l->name,
		    strerror(errno));
		ev_io_want(io, 0);
		ev_timer_start(&l->pause, 1000, listener_resume);
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		msg_warn("%s: accept: %s", l->name, strerror(errno));
}

/* listener_serve - accept on fd; serve gets each connection */
void
listener_serve(struct listener *l, int fd, const char *name,
    void (*serve)(struct listener *, int, pid_t))
{
	memset(&l->pause, 0, sizeof(l->pause));
	l->name = name;
	l->serve = serve;
	ev_io_start(&l->io, fd, EV_READ, listener_accept);
}

/* listener_stop - close the listening socket */
void
listener_stop(struct listener *l)
{
	int fd = l->io.fd;

	ev_timer_stop(&l->pause);
	if (fd >= 0) {
		ev_io_stop(&l->io);
		close(fd);
	}
}
