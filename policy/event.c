/*++
/* NAME
/*	event 3
/* SUMMARY
/*	single-threaded epoll loop with timers and deferred frees
/* DESCRIPTION
/*	One epoll set; each watched descriptor is a struct ev_io whose
/*	callback gets EV_READ/EV_WRITE (errors and hang-ups are
/*	reported as EV_READ, so that the reader sees the EOF or the
/*	error). Timers sit in a binary min-heap keyed by expiry and arming
/*	order, so that arming and disarming cost O(log n) however the
/*	timeouts mix (thousands of requests in flight, each with its own
/*	deadline) and timers due at the same millisecond fire in the order
/*	they were armed.
/*
/*	Objects that embed an ev_io are released with ev_defer_free():
/*	the memory outlives the current batch of epoll events, so an
/*	event already fetched for a closed connection finds fd == -1
/*	and is dropped instead of touching freed memory.
/*
/*	ev_clock_virtual() hands the clock to a caller that moves it with
/*	ev_advance() and turns the loop with ev_once(): the deterministic
/*	simulation runs the daemon's real code that way. ev_wall() is the
/*	wall clock the failure windows use, moved with it.
/*--*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "msg.h"
#include "util.h"

static int ev_epfd = -1;
static struct ev_timer **ev_heap;	/* ev_heap[0] fires first */
static size_t ev_nheap, ev_heapcap;
static uint64_t ev_clock, ev_seq;
static int ev_virtual;			/* the simulation drives the clock */
static int64_t ev_wall_offset;		/* virtual: ms added to the real epoch */

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
	if (!ev_virtual)
		ev_clock = now_ms();
}

/*
 * ev_clock_virtual - from now on the clock moves only by ev_advance(); it
 * reads start_ms, and the wall clock wall_s seconds
 */
void
ev_clock_virtual(uint64_t start_ms, uint32_t wall_s)
{
	ev_virtual = 1;
	ev_clock = start_ms;
	ev_wall_offset = (int64_t)wall_s * 1000 - (int64_t)start_ms;
}

/* ev_advance - move the virtual clock forward */
void
ev_advance(uint64_t ms)
{
	ev_clock += ms;
}

/* ev_wall - wall clock seconds; virtual: the epoch when it started, moved */
uint32_t
ev_wall(void)
{
	if (!ev_virtual)
		return (uint32_t)time(NULL);
	return (uint32_t)(((int64_t)ev_clock + ev_wall_offset) / 1000);
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

/* heap_before - does a fire before b? */
static int
heap_before(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* heap_set - place a timer at slot i */
static void
heap_set(size_t i, struct ev_timer *t)
{
	ev_heap[i] = t;
	t->slot = i + 1;
}

/* heap_up - move the timer at slot i towards the root */
static void
heap_up(size_t i)
{
	struct ev_timer *t = ev_heap[i];

	for (; i > 0 && heap_before(t, ev_heap[(i - 1) / 2]); i = (i - 1) / 2)
		heap_set(i, ev_heap[(i - 1) / 2]);
	heap_set(i, t);
}

/* heap_down - move the timer at slot i towards the leaves */
static void
heap_down(size_t i)
{
	struct ev_timer *t = ev_heap[i];
	size_t c;

	while ((c = 2 * i + 1) < ev_nheap) {
		if (c + 1 < ev_nheap && heap_before(ev_heap[c + 1], ev_heap[c]))
			c++;
		if (!heap_before(ev_heap[c], t))
			break;
		heap_set(i, ev_heap[c]);
		i = c;
	}
	heap_set(i, t);
}

/* ev_timer_start - (re)arm a timer ms from now */
void
ev_timer_start(struct ev_timer *t, unsigned ms, void (*cb)(struct ev_timer *))
{
	ev_timer_stop(t);
	t->when = ev_clock + ms;
	t->seq = ev_seq++;
	t->cb = cb;
	if (ev_nheap == ev_heapcap) {
		ev_heapcap = ev_heapcap ? ev_heapcap * 2 : 64;
		ev_heap = xrealloc(ev_heap, ev_heapcap * sizeof(*ev_heap));
	}
	heap_set(ev_nheap++, t);
	heap_up(ev_nheap - 1);
}

/* ev_timer_stop - disarm; harmless when not armed */
void
ev_timer_stop(struct ev_timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (i == --ev_nheap)
		return;
	heap_set(i, ev_heap[ev_nheap]);
	if (i > 0 && heap_before(ev_heap[i], ev_heap[(i - 1) / 2]))
		heap_up(i);
	else
		heap_down(i);
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

	while (ev_nheap > 0 && (t = ev_heap[0])->when <= ev_clock) {
		ev_timer_stop(t);
		t->cb(t);
	}
}

/* ev_wait_ms - epoll timeout until the next timer */
static int
ev_wait_ms(void)
{
	if (ev_nheap == 0)
		return 1000;
	if (ev_heap[0]->when <= ev_clock)
		return 0;
	if (ev_heap[0]->when - ev_clock > 1000)
		return 1000;
	return (int)(ev_heap[0]->when - ev_clock);
}

/* ev_once - one round: wait up to wait_ms for events, handle them, timers */
int
ev_once(int wait_ms)
{
	struct epoll_event ev[64];
	struct ev_io *io;
	unsigned what;
	int n, i;

	n = epoll_wait(ev_epfd, ev, (int)NELEM(ev), wait_ms);
	if (n < 0 && errno != EINTR)
		msg_fatal("epoll_wait: %s", strerror(errno));
	if (!ev_virtual)
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
	return n > 0 ? n : 0;
}

/* ev_next_timer - ms until the next timer fires; -1: none armed */
int64_t
ev_next_timer(void)
{
	if (ev_nheap == 0)
		return -1;
	return ev_heap[0]->when <= ev_clock ? 0 :
	    (int64_t)(ev_heap[0]->when - ev_clock);
}

/* ev_run - the loop; returns when *stop becomes non-zero */
void
ev_run(volatile sig_atomic_t *stop)
{
	while (!*stop)
		(void)ev_once(ev_wait_ms());
}

/* ev_shutdown - run what is left to free, close the epoll set */
void
ev_shutdown(void)
{
	ev_run_deferred();
	while (ev_nheap > 0)	/* a later ev_timer_stop() finds it disarmed */
		ev_heap[--ev_nheap]->slot = 0;
	free(ev_heap);
	ev_heap = NULL;
	ev_nheap = ev_heapcap = 0;
	if (ev_epfd >= 0)
		close(ev_epfd);
	ev_epfd = -1;
}
