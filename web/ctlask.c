/*++
/* NAME
/*	ctlask 3
/* SUMMARY
/*	asking authguard-policyd's control socket from the event loop
/* SYNOPSIS
/*	#include "ctlask.h"
/*
/*	struct ctlask *ctlask_start(const char *path, const char *line,
/*		unsigned timeout_ms, ctlask_done done, void *arg)
/*
/*	void	ctlask_cancel(struct ctlask *q)
/* DESCRIPTION
/*	ctlask_start() connects to the control socket (non-blocking, as
/*	ctl_connect() does), sends one request line and reads the answer
/*	until authguard-policyd closes the connection, without ever
/*	blocking the loop: other requests are served meanwhile. done is
/*	called once, from the loop, never from ctlask_start() itself: with
/*	the whole answer, or with the reason there is none (the socket
/*	cannot be reached, the answer is longer than CTL_ANSWER_MAX, no
/*	whole answer within timeout_ms of the start). After done the
/*	question is gone.
/*
/*	ctlask_cancel() forgets a question whose caller is gone: done is
/*	not called.
/*--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ctlask.h"
#include "ctlclient.h"
#include "event.h"
#include "util.h"

#define CTLASK_READS	16	/* chunks read in one turn of the loop */

/* Where a question is; changed only by ctlask_set(). */
enum ctlask_state {
	CTLASK_SENDING,			/* the request line goes out */
	CTLASK_READING,			/* the answer comes, until EOF */
	CTLASK_DONE,			/* done is called, or the caller gone */
};

struct ctlask {
	struct ev_io	 io;		/* first */
	struct ev_timer	 timer;
	struct ev_timer	 fail;		/* a failure, told from the loop */
	enum ctlask_state state;
	struct buf	 req;
	size_t		 sent;
	struct buf	 answer;
	char		 err[160];
	ctlask_done	 done;
	void		*arg;
};

/* ctlask_free - the question's memory, after the loop's turn */
static void
ctlask_free(void *arg)
{
	struct ctlask *q = arg;

	buf_free(&q->req);
	buf_free(&q->answer);
	free(q);
}

/* ctlask_set - move a question; at the end its socket and timers go */
static void
ctlask_set(struct ctlask *q, enum ctlask_state state)
{
	int fd = q->io.fd;

	q->state = state;
	if (state != CTLASK_DONE)
		return;
	if (fd >= 0) {
		ev_io_stop(&q->io);	/* forgets the fd */
		close(fd);
	}
	ev_timer_stop(&q->timer);
	ev_timer_stop(&q->fail);
	ev_defer_free(ctlask_free, q);
}

/* ctlask_end - tell the caller, once */
static void
ctlask_end(struct ctlask *q, int ok)
{
	ctlask_done done = q->done;

	if (q->state == CTLASK_DONE)
		return;
	ctlask_set(q, CTLASK_DONE);
	done(q->arg, ok, ok ? buf_str(&q->answer) : NULL, ok ? q->answer.len :
	    0, q->err);
}

/* ctlask_timeout - no whole answer in time */
static void
ctlask_timeout(struct ev_timer *t)
{
	struct ctlask *q = (struct ctlask *)((char *)t -
	    offsetof(struct ctlask, timer));

	snprintf(q->err, sizeof(q->err), "no answer within the "
	    "control_timeout");
	ctlask_end(q, 0);
}

/* ctlask_failed - a failure at the start, told from the loop */
static void
ctlask_failed(struct ev_timer *t)
{
	struct ctlask *q = (struct ctlask *)((char *)t -
	    offsetof(struct ctlask, fail));

	ctlask_end(q, 0);
}

/* ctlask_read - the answer, to EOF */
static void
ctlask_read(struct ctlask *q)
{
	char chunk[4096];
	ssize_t r;
	int i;

	for (i = 0; i < CTLASK_READS; i++) {	/* then others have a turn */
		if ((r = read(q->io.fd, chunk, sizeof(chunk))) == 0)
			return ctlask_end(q, 1);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			snprintf(q->err, sizeof(q->err), "read: %s",
			    strerror(errno));
			return ctlask_end(q, 0);
		}
		buf_append(&q->answer, chunk, (size_t)r);
		if (q->answer.len > CTL_ANSWER_MAX) {
			snprintf(q->err, sizeof(q->err), "answer longer than "
			    "%d bytes", CTL_ANSWER_MAX);
			return ctlask_end(q, 0);
		}
	}
}

/* ctlask_write - the request line, then the answer */
static void
ctlask_write(struct ctlask *q)
{
	ssize_t r;

	while (q->sent < q->req.len) {
		r = send(q->io.fd, q->req.data + q->sent, q->req.len - q->sent,
		    MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			snprintf(q->err, sizeof(q->err), "write: %s",
			    strerror(errno));
			return ctlask_end(q, 0);
		}
		q->sent += (size_t)r;
	}
	ctlask_set(q, CTLASK_READING);
	ev_io_want(&q->io, EV_READ);
}

/* ctlask_ready - the socket can be written or read */
static void
ctlask_ready(struct ev_io *io, unsigned what)
{
	struct ctlask *q = (struct ctlask *)io;

	if (q->state == CTLASK_SENDING)
		ctlask_write(q);
	else if (q->state == CTLASK_READING)
		ctlask_read(q);
}

/* ctlask_start - one question; done is called from the loop */
struct ctlask *
ctlask_start(const char *path, const char *line, unsigned timeout_ms,
    ctlask_done done, void *arg)
{
	struct ctlask *q = xcalloc(1, sizeof(*q));
	int fd;

	q->io.fd = -1;
	q->done = done;
	q->arg = arg;
	buf_init(&q->req);
	buf_init(&q->answer);
	buf_puts(&q->req, line);
	buf_putc(&q->req, '\n');
	ctlask_set(q, CTLASK_SENDING);
	if ((fd = ctl_connect(path, q->err, sizeof(q->err))) < 0) {
		ev_timer_start(&q->fail, 0, ctlask_failed);
		return q;
	}
	ev_io_start(&q->io, fd, EV_WRITE, ctlask_ready);
	ev_timer_start(&q->timer, timeout_ms, ctlask_timeout);
	return q;
}

/* ctlask_cancel - the caller is gone: done is not called */
void
ctlask_cancel(struct ctlask *q)
{
	if (q && q->state != CTLASK_DONE)
		ctlask_set(q, CTLASK_DONE);
}
