/*++
/* NAME
/*	event 3
/* SUMMARY
/*	single-threaded epoll loop with timers and deferred frees
/* DESCRIPTION
/*	One epoll set; each watched descriptor is a struct ev_io whose
/*	callback gets EV_READ/EV_WRITE (errors and hang-ups are
/*	reported as EV_READ, so that the reader sees the EOF or the
/*	error). Timers sit on one list sorted by expiry; nearly all
/*	timers in this program have one of a few fixed timeouts, so an
/*	insertion scanning from the tail is O(1) in practice.
/*
/*	Objects that embed an ev_io are released with ev_defer_free():
/*	the memory outlives the current batch of epoll events, so an
/*	event already fetched for a closed connection finds fd == -1
/*	and is dropped instead of touching freed memory.
/*--*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "event.h"
#include "msg.h"
#include "util.h"

static int ev_epfd = -1;
static struct ev_timer *ev_timers_head, *ev_timers_tail;
static uint64_t ev_clock;

struct ev_deferred {
	void	(*fn)(void *);
	void	*arg;
	struct ev_deferred *next;
};
static struct ev_deferred *ev_deferred;

/* ev_init - create the epoll set */
void
ev_init(void)
{
	if ((ev_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		msg_fatal("epoll_create1: %s", strerror(errno));
	ev_clock = now_ms();
}

/* ev_now - the loop's cached clock, in ms */
uint64_t
ev_now(void)
{
	return ev_clock;
}

/* ev_mask - epoll bits for a want set */
static uint32_t
ev_mask(unsigned want)
{
	return (want & EV_READ ? EPOLLIN : 0) | (want & EV_WRITE ? EPOLLOUT : 0);
}

/* ev_io_start - watch fd */
void
ev_io_start(struct ev_io *io, int fd, unsigned want,
    void (*cb)(struct ev_io *, unsigned))
{
	struct epoll_event ee = {.events = ev_mask(want), .data.ptr = io};

	io->fd = fd;
	io->want = want;
	io->cb = cb;
	if (epoll_ctl(ev_epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		msg_fatal("epoll_ctl add fd %d: %s", fd, strerror(errno));
}

/* ev_io_want - change the interest set */
void
ev_io_want(struct ev_io *io, unsigned want)
{
	struct epoll_event ee = {.events = ev_mask(want), .data.ptr = io};

	if (io->fd < 0 || io->want == want)
		return;
	io->want = want;
	if (epoll_ctl(ev_epfd, EPOLL_CTL_MOD, io->fd, &ee) < 0)
		msg_fatal("epoll_ctl mod fd %d: %s", io->fd, strerror(errno));
}

/* ev_io_stop - stop watching; the caller closes the descriptor */
void
ev_io_stop(struct ev_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(ev_epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
}

/* ev_timer_start - (re)arm a timer ms from now */
void
ev_timer_start(struct ev_timer *t, unsigned ms, void (*cb)(struct ev_timer *))
{
	struct ev_timer *after;

	ev_timer_stop(t);
	t->when = ev_clock + ms;
	t->cb = cb;
	for (after = ev_timers_tail; after && after->when > t->when;
	    after = after->prev)
		;
	t->prev = after;
	t->next = after ? after->next : ev_timers_head;
	if (t->next)
		t->next->prev = t;
	else
		ev_timers_tail = t;
	if (after)
		after->next = t;
	else
		ev_timers_head = t;
	t->armed = 1;
}

/* ev_timer_stop - disarm; harmless when not armed */
void
ev_timer_stop(struct ev_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		ev_timers_head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		ev_timers_tail = t->prev;
	t->prev = t->next = NULL;
	t->armed = 0;
}

/* ev_defer_free - release after the current batch of events */
void
ev_defer_free(void (*fn)(void *), void *arg)
{
	struct ev_deferred *d = xmalloc(sizeof(*d));

	d->fn = fn;
	d->arg = arg;
	d->next = ev_deferred;
	ev_deferred = d;
}

/* ev_run_deferred - run pending frees */
static void
ev_run_deferred(void)
{
	struct ev_deferred *d;

	while ((d = ev_deferred) != NULL) {
		ev_deferred = d->next;
		d->fn(d->arg);
		free(d);
	}
}

/* ev_run_timers - fire every expired timer */
static void
ev_run_timers(void)
{
	struct ev_timer *t;

	while ((t = ev_timers_head) != NULL && t->when <= ev_clock) {
		ev_timer_stop(t);
		t->cb(t);
	}
}

/* ev_wait_ms - epoll timeout until the next timer */
static int
ev_wait_ms(void)
{
	if (ev_timers_head == NULL)
		return 1000;
	if (ev_timers_head->when <= ev_clock)
		return 0;
	if (ev_timers_head->when - ev_clock > 1000)
		return 1000;
	return (int)(ev_timers_head->when - ev_clock);
}

/* ev_run - the loop; returns when *stop becomes non-zero */
void
ev_run(volatile sig_atomic_t *stop)
{
	struct epoll_event ev[64];
	struct ev_io *io;
	unsigned what;
	int n, i;

	while (!*stop) {
		n = epoll_wait(ev_epfd, ev, (int)NELEM(ev), ev_wait_ms());
		if (n < 0 && errno != EINTR)
			msg_fatal("epoll_wait: %s", strerror(errno));
		ev_clock = now_ms();
		for (i = 0; i < n; i++) {
			io = ev[i].data.ptr;
			if (io->fd < 0)
				continue;
			what = 0;
			if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				what |= io->want & EV_READ ? EV_READ : 0;
			if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				what |= io->want & EV_WRITE ? EV_WRITE : 0;
			if (what == 0)
				what = io->want;
			io->cb(io, what);
		}
		ev_run_deferred();
		ev_run_timers();
		ev_run_deferred();
		msg_flush();	/* one write for the batch's log lines */
	}
}

/* ev_shutdown - run what is left to free, close the epoll set */
void
ev_shutdown(void)
{
	ev_run_deferred();
	if (ev_epfd >= 0)
		close(ev_epfd);
	ev_epfd = -1;
}
