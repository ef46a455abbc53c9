/*++
/* NAME
/*	redis 3
/* SUMMARY
/*	hiredis's asynchronous API driven by the event loop
/* DESCRIPTION
/*	redis_attach() gives a redisAsyncContext the hooks hiredis asks
/*	of an event library (see hiredis/adapters/): it watches the
/*	connection's descriptor in our epoll loop for what hiredis wants
/*	to read or write, and hands readiness back to it. hiredis calls
/*	cleanup when it frees the context, possibly from inside one of
/*	our callbacks: the watcher is released after the loop's turn.
/*--*/
#include <stdlib.h>

#include "event.h"
#include "redis.h"
#include "util.h"

struct redis_ev {
	struct ev_io	 io;		/* first: the callback casts back */
	redisAsyncContext *ac;		/* NULL once hiredis let go */
	unsigned	 want;
	int		 started;
};

/* redis_ready - the descriptor can be read or written */
static void
redis_ready(struct ev_io *io, unsigned what)
{
	struct redis_ev *re = (struct redis_ev *)io;

	if ((what & EV_READ) && re->ac)
		redisAsyncHandleRead(re->ac);
	if ((what & EV_WRITE) && re->ac)
		redisAsyncHandleWrite(re->ac);
}

/* redis_want - watch for what hiredis wants now */
static void
redis_want(struct redis_ev *re, unsigned want)
{
	if (re->ac == NULL)
		return;
	re->want = want;
	if (!re->started) {
		ev_io_start(&re->io, re->ac->c.fd, want, redis_ready);
		re->started = 1;
	} else
		ev_io_want(&re->io, want);
}

/* redis_add_read - hiredis hook */
static void
redis_add_read(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want | EV_READ);
}

/* redis_del_read - hiredis hook */
static void
redis_del_read(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want & ~EV_READ);
}

/* redis_add_write - hiredis hook */
static void
redis_add_write(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want | EV_WRITE);
}

/* redis_del_write - hiredis hook */
static void
redis_del_write(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want & ~EV_WRITE);
}

/* redis_cleanup - hiredis frees the context (it closes the descriptor) */
static void
redis_cleanup(void *p)
{
	struct redis_ev *re = p;

	if (re->started)
		ev_io_stop(&re->io);
	re->ac = NULL;
	ev_defer_free(free, re);
}

/* redis_attach - drive a new context from the event loop */
void
redis_attach(redisAsyncContext *ac)
{
	struct redis_ev *re = xcalloc(1, sizeof(*re));

	re->ac = ac;
	re->io.fd = -1;
	ac->ev.data = re;
	ac->ev.addRead = redis_add_read;
	ac->ev.delRead = redis_del_read;
	ac->ev.addWrite = redis_add_write;
	ac->ev.delWrite = redis_del_write;
	ac->ev.cleanup = redis_cleanup;
}
