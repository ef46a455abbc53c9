/*++
/* NAME
/*	event 3h
/* SUMMARY
/*	single-threaded epoll loop with timers and deferred frees
/*--*/
#ifndef AUTHGUARD_EVENT_H
#define AUTHGUARD_EVENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define EV_READ		1u
#define EV_WRITE	2u

struct ev_io {
	int	 fd;
	unsigned want;
	void	(*cb)(struct ev_io *, unsigned);
};

struct ev_timer {
	uint64_t when;
	uint64_t seq;			/* arming order: ties fire first-armed */
	void	(*cb)(struct ev_timer *);
	size_t	 slot;			/* heap index + 1; 0 when not armed */
};

void	 ev_init(void);
void	 ev_io_start(struct ev_io *, int, unsigned, void (*)(struct ev_io *,
	    unsigned));
void	 ev_io_want(struct ev_io *, unsigned);
void	 ev_io_stop(struct ev_io *);
void	 ev_timer_start(struct ev_timer *, unsigned,
	    void (*)(struct ev_timer *));
void	 ev_timer_stop(struct ev_timer *);
void	 ev_defer_free(void (*)(void *), void *);
uint64_t ev_now(void);
void	 ev_run(volatile sig_atomic_t *);
int	 ev_once(int);
int64_t	 ev_next_timer(void);
void	 ev_clock_virtual(uint64_t, uint32_t);
void	 ev_advance(uint64_t);
uint32_t ev_wall(void);
void	 ev_shutdown(void);

#endif
