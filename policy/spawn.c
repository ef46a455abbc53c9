/*++
/* NAME
/*	spawn 3
/* SUMMARY
/*	child processes for the event loop: never waited for
/* SYNOPSIS
/*	#include "spawn.h"
/*
/*	struct spawn *spawn_start(argv, input, inlen, timeout_ms, done, arg,
/*	    err, errlen)
/*
/*	void	spawn_cancel(sp)
/*
/*	unsigned spawn_live(void)
/*
/*	void	spawn_shutdown(void)
/* DESCRIPTION
/*	spawn_start() runs argv[0] (an absolute path, no shell) with
/*	posix_spawn(): its stdin, stdout and stderr are pipes, every other
/*	descriptor of ours is close-on-exec, its environment is SPAWN_PATH
/*	alone, and its signals are at their defaults, none blocked. Its
/*	end is told by a pidfd the loop watches, and reaped with
/*	waitid(P_PIDFD): never waitpid(-1), so that another module's
/*	children stay its own.
/*
/*	The input is written to its stdin without blocking, as the pipe
/*	takes it, then stdin is closed; a child that does not read it, or
/*	closes it, loses the rest (EPIPE is not a signal in the daemon).
/*	Its stdout and stderr are read as they come: the first SPAWN_KEEP
/*	bytes of each are kept, the rest read and dropped, so that a
/*	flood cannot block the child or grow our memory. A child still
/*	running after timeout_ms gets SIGKILL and is reaped all the same.
/*
/*	done(arg, result) is called once, from the loop (the pidfd's
/*	event), when the child has ended: never from spawn_start(). The
/*	result is valid during the call only; the spawn is freed after
/*	the current batch of events (ev_defer_free). spawn_start() returns
/*	NULL with err set when no child could be started: done is not
/*	called then.
/*
/*	spawn_cancel() kills a child whose result nobody wants: done is
/*	not called, the child is reaped when the kernel tells its end.
/*	spawn_shutdown() kills and reaps every child, waiting for each
/*	(a killed child ends at once): at the daemon's exit.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "msg.h"
#include "spawn.h"
#include "util.h"

enum spawn_fd { SP_IN, SP_OUT, SP_ERR, SP_FDS };

struct spawn {
	struct ev_io	 io[SP_FDS];	/* our ends of the pipes */
	struct ev_io	 pidio;		/* the pidfd */
	struct ev_timer	 timer;
	pid_t		 pid;
	char		*input;
	size_t		 inlen, inoff;
	spawn_done_fn	 done;		/* NULL: cancelled */
	void		*arg;
	struct spawn_result r;
	struct spawn	*next;
};

static struct spawn *spawn_list;	/* every child not yet reaped */
static unsigned spawn_count;

/* spawn_unlink - off the list of live children */
static void
spawn_unlink(struct spawn *sp)
{
	struct spawn **pp;

	for (pp = &spawn_list; *pp; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			spawn_count--;
			return;
		}
}

/* close_io - stop watching one descriptor and close it */
static void
close_io(struct ev_io *io)
{
	int fd = io->fd;

	if (fd < 0)
		return;
	ev_io_stop(io);
	close(fd);
}

/* spawn_release - the memory of a reaped child */
static void
spawn_release(void *arg)
{
	struct spawn *sp = arg;

	free(sp->input);
	free(sp);
}

/* keep - what a pipe gave: the first SPAWN_KEEP bytes, the rest dropped */
static void
keep(char *dst, size_t *len, const char *src, size_t n)
{
	size_t room = SPAWN_KEEP - *len;

	if (n > room)
		n = room;
	memcpy(dst + *len, src, n);
	*len += n;
	dst[*len] = 0;
}

/* drain - read a pipe until it would block; closed at EOF or error */
static void
drain(struct spawn *sp, enum spawn_fd which)
{
	char chunk[4096];
	ssize_t n;
	int i;

	/* bounded: a child that writes as fast as we read waits for the loop */
	for (i = 0; i < 16 && sp->io[which].fd >= 0; i++) {
		n = read(sp->io[which].fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_io(&sp->io[which]);
			return;
		}
		if (which == SP_OUT)
			keep(sp->r.out, &sp->r.outlen, chunk, (size_t)n);
		else
			keep(sp->r.err, &sp->r.errlen, chunk, (size_t)n);
	}
}

/* on_out - the child's stdout is readable */
static void
on_out(struct ev_io *io, unsigned what)
{
	drain((struct spawn *)((char *)io - offsetof(struct spawn, io[SP_OUT])),
	    SP_OUT);
}

/* on_err - the child's stderr is readable */
static void
on_err(struct ev_io *io, unsigned what)
{
	drain((struct spawn *)((char *)io - offsetof(struct spawn, io[SP_ERR])),
	    SP_ERR);
}

/* on_in - the child's stdin takes more */
static void
on_in(struct ev_io *io, unsigned what)
{
	struct spawn *sp = (struct spawn *)((char *)io -
	    offsetof(struct spawn, io[SP_IN]));
	ssize_t n;

	while (sp->inoff < sp->inlen) {
		n = write(io->fd, sp->input + sp->inoff, sp->inlen - sp->inoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break;		/* EPIPE: it closed its stdin */
		sp->inoff += (size_t)n;
	}
	close_io(io);
}

/* spawn_reap - the child's status, once it has ended; 0: not yet */
static int
spawn_reap(struct spawn *sp)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)sp->pidio.fd, &si, WEXITED | WNOHANG) < 0) {
		if (errno == EINTR)
			return 0;
		msg_warn("waitid pid %ld: %s", (long)sp->pid, strerror(errno));
		sp->r.exited = 0;
		sp->r.status = 0;
		return 1;
	}
	if (si.si_pid == 0)
		return 0;
	sp->r.exited = si.si_code == CLD_EXITED;
	sp->r.status = si.si_status;
	return 1;
}

/* spawn_finish - reaped: the pipes' rest, the callback, the free */
static void
spawn_finish(struct spawn *sp)
{
	enum spawn_fd i;

	drain(sp, SP_OUT);
	drain(sp, SP_ERR);
	for (i = 0; i < SP_FDS; i++)
		close_io(&sp->io[i]);
	close_io(&sp->pidio);
	ev_timer_stop(&sp->timer);
	spawn_unlink(sp);
	if (sp->done)
		sp->done(sp->arg, &sp->r);
	ev_defer_free(spawn_release, sp);
}

/* on_pid - the pidfd is readable: the child has ended */
static void
on_pid(struct ev_io *io, unsigned what)
{
	struct spawn *sp = (struct spawn *)((char *)io -
	    offsetof(struct spawn, pidio));

	if (spawn_reap(sp))
		spawn_finish(sp);
}

/* on_timeout - still running: kill it; the pidfd tells when it is gone */
static void
on_timeout(struct ev_timer *t)
{
	struct spawn *sp = (struct spawn *)((char *)t -
	    offsetof(struct spawn, timer));

	sp->r.timed_out = 1;
	if (pidfd_send_signal(sp->pidio.fd, SIGKILL, NULL, 0) < 0)
		msg_warn("kill pid %ld: %s", (long)sp->pid, strerror(errno));
}

/* child_setup - the child's descriptors and signals */
static int
child_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
    const int child[SP_FDS])
{
	sigset_t all, none;
	int i, rc = 0;

	sigfillset(&all);
	sigemptyset(&none);
	rc |= posix_spawn_file_actions_init(fa);
	for (i = 0; i < SP_FDS; i++)	/* dup2 clears close-on-exec */
		rc |= posix_spawn_file_actions_adddup2(fa, child[i], i);
	/* and every other descriptor goes, close-on-exec or not (hiredis) */
	rc |= posix_spawn_file_actions_addclosefrom_np(fa, SP_FDS);
	rc |= posix_spawnattr_init(at);
	rc |= posix_spawnattr_setsigdefault(at, &all);
	rc |= posix_spawnattr_setsigmask(at, &none);
	rc |= posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	return rc == 0 ? 0 : -1;
}

/*
 * make_pipes - three pipes, close-on-exec; ours non-blocking. Ours is
 * ends[i][0] (for stdin, the write end), the child's ends[i][1].
 */
static int
make_pipes(int ours[SP_FDS], int child[SP_FDS])
{
	int p[2], i;

	for (i = 0; i < SP_FDS; i++)
		ours[i] = child[i] = -1;
	for (i = 0; i < SP_FDS; i++) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		ours[i] = i == SP_IN ? p[1] : p[0];
		child[i] = i == SP_IN ? p[0] : p[1];
		if (fcntl(ours[i], F_SETFL, O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

/* close_all - close what is open of a set */
static void
close_all(int fds[SP_FDS])
{
	int i;

	for (i = 0; i < SP_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* spawn_exec - posix_spawn with the pipes; the pid, or -1 with errno */
static pid_t
spawn_exec(char *const *argv, const int child[SP_FDS])
{
	static char path_env[] = SPAWN_PATH;
	char *envp[] = {path_env, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid = -1;
	int rc;

	if (child_setup(&fa, &at, child) < 0)
		return errno = ENOMEM, -1;
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc == 0 ? pid : (errno = rc, -1);
}

/* spawn_watch - the loop watches the child's pipes, its end and its time */
static void
spawn_watch(struct spawn *sp, const int ours[SP_FDS], int pidfd,
    unsigned timeout_ms)
{
	ev_io_start(&sp->pidio, pidfd, EV_READ, on_pid);
	ev_io_start(&sp->io[SP_OUT], ours[SP_OUT], EV_READ, on_out);
	ev_io_start(&sp->io[SP_ERR], ours[SP_ERR], EV_READ, on_err);
	ev_io_start(&sp->io[SP_IN], ours[SP_IN], EV_WRITE, on_in);
	ev_timer_start(&sp->timer, timeout_ms, on_timeout);
}

/* spawn_start - a child; done(arg, result) from the loop when it ends */
struct spawn *
spawn_start(char *const *argv, const char *input, size_t inlen,
    unsigned timeout_ms, spawn_done_fn done, void *arg, char *err,
    size_t errlen)
{
	int ours[SP_FDS], child[SP_FDS], pidfd = -1;
	struct spawn *sp;
	pid_t pid = -1;

	if (argv[0] == NULL || argv[0][0] != '/')
		return snprintf(err, errlen, "not an absolute path: %s",
		    argv[0] ? argv[0] : "(none)"), NULL;
	if (make_pipes(ours, child) < 0 || (pid = spawn_exec(argv, child)) < 0 ||
	    (pidfd = pidfd_open(pid, 0)) < 0) {
		snprintf(err, errlen, "%s: %s", argv[0], strerror(errno));
		if (pid > 0) {		/* no pidfd: the child must not linger */
			kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
		}
		close_all(ours);
		close_all(child);
		return NULL;
	}
	close_all(child);
	sp = xcalloc(1, sizeof(*sp));
	sp->pid = pid;
	if (inlen) {
		sp->input = xmalloc(inlen);
		memcpy(sp->input, input, inlen);
	}
	sp->inlen = inlen;
	sp->done = done;
	sp->arg = arg;
	spawn_watch(sp, ours, pidfd, timeout_ms);
	sp->next = spawn_list;
	spawn_list = sp;
	spawn_count++;
	return sp;
}

/* spawn_cancel - kill it; no callback; reaped when it is gone */
void
spawn_cancel(struct spawn *sp)
{
	sp->done = NULL;
	(void)pidfd_send_signal(sp->pidio.fd, SIGKILL, NULL, 0);
}

/* spawn_live - children not yet reaped */
unsigned
spawn_live(void)
{
	return spawn_count;
}

/* spawn_shutdown - kill and reap every child; no callbacks */
void
spawn_shutdown(void)
{
	struct spawn *sp;
	siginfo_t si;

	while ((sp = spawn_list) != NULL) {
		sp->done = NULL;
		(void)pidfd_send_signal(sp->pidio.fd, SIGKILL, NULL, 0);
		while (waitid(P_PIDFD, (id_t)sp->pidio.fd, &si, WEXITED) < 0 &&
		    errno == EINTR)
			 /* void */ ;
		spawn_finish(sp);
	}
}
