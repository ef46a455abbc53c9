/*++
/* NAME
/*	server 3h
/* SUMMARY
/*	a listener and the connections it accepted
/*--*/
#ifndef AUTHGUARD_SERVER_H
#define AUTHGUARD_SERVER_H

#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "conn.h"
#include "hush.h"

/* What an owner says about its listener and its connections. */
struct server_ops {
	const char	*listen_name;	/* in messages: "control_listen" */
	const char	*conn_name;	/* each connection's, for diagnostics */
	size_t		 size;		/* the owner's connection: struct conn
					 * first, the rest zeroed */
	size_t		 line_max;
	const struct conn_ops *conn_ops;
	void		(*open)(struct conn *, pid_t);	/* accepted */
	void		(*close)(struct conn *);	/* before conn_close */
	void		(*release)(struct conn *);	/* before the memory goes */
	size_t		 max;		/* 0: no cap */
};

struct server_node;

struct server {
	struct listener	 listener;
	const struct server_ops *ops;
	TAILQ_HEAD(server_node_head, server_node) conns; /* oldest first */
	size_t		 count;
	int		 running;
	struct hush	 closed;	/* the warnings of the oldest closed */
};

void	server_start(struct server *, int, const struct server_ops *);
void	server_close(struct server *, struct conn *);
size_t	server_count(const struct server *);
void	server_stop(struct server *);

#endif
