/*++
/* NAME
/*	server 3
/* SUMMARY
/*	a listener and the connections it accepted
/* SYNOPSIS
/*	#include "server.h"
/*
/*	void	server_start(srv, fd, ops)
/*	struct server *srv;
/*	int	fd;
/*	const struct server_ops *ops;
/*
/*	void	server_close(srv, c)
/*	struct conn *c;
/*
/*	size_t	server_count(srv)
/*
/*	void	server_stop(srv)
/* DESCRIPTION
/*	The part that every listening service of the daemon shares (the
/*	SASL gate, the policy service, the control socket; HTTP is http 3).
/*	server_start() accepts on fd. Each connection gets an object of
/*	ops->size bytes, zeroed, that begins with its struct conn; the
/*	connection reads lines of up to ops->line_max bytes for
/*	ops->conn_ops, with ops->conn_name in diagnostics (the open hook
/*	may name it otherwise), and c->ctx is the object itself. Then
/*	ops->open, if any, gets the connection and the peer's pid
/*	(SO_PEERCRED on a unix socket, else 0).
/*
/*	server_close() ends a connection: ops->close, if any, does the
/*	owner's part (its timers, what it holds for the peer), then the
/*	connection is closed and leaves the list; the memory goes after
/*	the current batch of events, after ops->release, if any. It is
/*	idempotent, and calls no conn_ops callback: the owner's "closed"
/*	callback calls it.
/*
/*	With ops->max, one connection more than that closes the oldest
/*	that is not answered yet (that did not call conn_finish), else
/*	the oldest, and says so at most once a minute: a client that
/*	connects and waits cannot keep one that asks out.
/*
/*	server_count() is the number of open connections. server_stop()
/*	closes the listening socket and every connection, the newest
/*	first; it does nothing for a server never started.
/*--*/
#include <stddef.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "conn.h"
#include "event.h"
#include "hush.h"
#include "msg.h"
#include "server.h"
#include "util.h"

#define SERVER_WARN_MS	60000	/* between warnings about clients */

/* One connection: the list's link, then the owner's object. */
struct server_node {
	TAILQ_ENTRY(server_node) link;
	struct server	*srv;
	int		 listed;	/* not closed yet */
	max_align_t	 obj[];		/* struct conn first */
};

/* node_conn - the owner's object in a node */
static struct conn *
node_conn(struct server_node *n)
{
	return (struct conn *)n->obj;
}

/* conn_node - the node that holds an owner's object */
static struct server_node *
conn_node(struct conn *c)
{
	return (struct server_node *)((char *)c - offsetof(struct server_node,
	    obj));
}

/* server_free - deferred release */
static void
server_free(void *p)
{
	struct server_node *n = p;

	if (n->srv->ops->release)
		n->srv->ops->release(node_conn(n));
	conn_free(node_conn(n));
	free(n);
}

/* server_close - end one connection */
void
server_close(struct server *srv, struct conn *c)
{
	struct server_node *n = conn_node(c);

	if (!n->listed)
		return;
	n->listed = 0;
	if (srv->ops->close)
		srv->ops->close(c);
	conn_close(c);
	TAILQ_REMOVE(&srv->conns, n, link);
	srv->count--;
	ev_defer_free(server_free, n);
}

/* server_make_room - at the cap: close the oldest client not answered */
static void
server_make_room(struct server *srv)
{
	struct server_node *n;
	long quiet;

	if (srv->ops->max == 0 || srv->count < srv->ops->max)
		return;
	TAILQ_FOREACH(n, &srv->conns, link)
		if (!node_conn(n)->finishing)
			break;
	if (n == NULL)
		n = TAILQ_FIRST(&srv->conns);
	server_close(srv, node_conn(n));
	if ((quiet = hush_pass(&srv->closed, ev_now(), SERVER_WARN_MS)) >= 0)
		msg_warn("%s: more than %zu clients at once; closed the oldest "
		    "(%ld since the last warning)", srv->ops->listen_name,
		    srv->ops->max, quiet + 1);
}

/* server_accepted - a new connection */
static void
server_accepted(struct listener *l, int fd, pid_t pid)
{
	struct server *srv = (struct server *)l;
	const struct server_ops *ops = srv->ops;
	struct server_node *n;
	struct conn *c;

	server_make_room(srv);
	n = xcalloc(1, offsetof(struct server_node, obj) + ops->size);
	n->srv = srv;
	n->listed = 1;
	c = node_conn(n);
	conn_init(c, fd, ops->line_max, ops->conn_ops, c, ops->conn_name);
	TAILQ_INSERT_TAIL(&srv->conns, n, link);
	srv->count++;
	if (ops->open)
		ops->open(c, pid);
}

/* server_start - accept on fd */
void
server_start(struct server *srv, int fd, const struct server_ops *ops)
{
	srv->ops = ops;
	TAILQ_INIT(&srv->conns);
	srv->count = 0;
	srv->closed = (struct hush){0};
	listener_serve(&srv->listener, fd, ops->listen_name, server_accepted);
	srv->running = 1;
}

/* server_count - open connections */
size_t
server_count(const struct server *srv)
{
	return srv->count;
}

/* server_stop - close the listener and every connection, newest first */
void
server_stop(struct server *srv)
{
	if (!srv->running)
		return;
	listener_stop(&srv->listener);
	while (!TAILQ_EMPTY(&srv->conns))
		server_close(srv, node_conn(TAILQ_LAST(&srv->conns,
		    server_node_head)));
	srv->running = 0;
}
