/*++
/* NAME
/*	conn 3h
/* SUMMARY
/*	non-blocking line-oriented connections
/*--*/
#ifndef AUTHGUARD_CONN_H
#define AUTHGUARD_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "event.h"
#include "linereader.h"
#include "netaddr.h"

struct conn;

struct conn_ops {
	void	(*line)(struct conn *, char *, size_t);
	void	(*overlong)(struct conn *, char *, size_t);
	void	(*closed)(struct conn *, const char *);
	void	(*connected)(struct conn *);
};

struct conn {
	struct ev_io	 io;
	struct linereader lr;
	struct buf	 out;
	const struct conn_ops *ops;
	void		*ctx;
	int		 connecting;
	int		 dead;
	int		 finishing;	/* close once the output is written */
	struct ev_timer	 later;		/* delivers "closed" outside conn_send */
	const char	*why;
	const char	*name;		/* for diagnostics */
	size_t		 out_max;	/* more queued: the peer does not read */
	size_t		 out_off;	/* bytes of out already written */
};

/*
 * A client gets CONN_OUT_MAX. An outgoing connection carries the requests
 * of every client to one server (Dovecot), which reads slowly while busy;
 * each request there has its own deadline, so the cap only bounds memory.
 */
#define CONN_OUT_MAX		(1024 * 1024)
#define CONN_OUTGOING_OUT_MAX	(64 * 1024 * 1024)

void	conn_init(struct conn *, int, size_t, const struct conn_ops *, void *,
	    const char *);
int	conn_connect(struct conn *, const struct sockspec *, size_t,
	    const struct conn_ops *, void *, const char *, const char **);
void	conn_send(struct conn *, const char *, size_t);
void	conn_puts(struct conn *, const char *);
void	conn_close(struct conn *);
void	conn_finish(struct conn *);
void	conn_free(struct conn *);
int	listen_socket(const struct sockspec *, int, const char *,
	    const char *, unsigned);

/*
 * A listening socket; accept() hands each connection, its peer pid and
 * the listener to serve (server 3).
 */
struct listener {
	struct ev_io	 io;
	struct ev_timer	 pause;
	const char	*name;
	void		(*serve)(struct listener *, int, pid_t);
};

void	listener_serve(struct listener *, int, const char *,
	    void (*)(struct listener *, int, pid_t));
void	listener_stop(struct listener *);

#endif
