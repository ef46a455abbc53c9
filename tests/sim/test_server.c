/*++
/* NAME
/*	test_server 1
/* SUMMARY
/*	the listener helper, on the daemon's event loop
/* DESCRIPTION
/*	server 3 with real unix sockets: each accepted connection gets
/*	the owner's object and its hooks, with the peer's pid; at the cap
/*	one more closes the oldest client not answered yet, else the
/*	oldest; server_close() is idempotent; server_stop() closes every
/*	connection, the newest first, and the memory goes after the
/*	owner's release hook.
/*--*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "event.h"
#include "netaddr.h"
#include "server.h"
#include "unit.h"

#define T_CONNS		8
#define T_BIG		(512 * 1024)	/* more than a unix socket holds */

struct t_conn {
	struct conn	 c;		/* first, as server 3 wants */
	int		 id;		/* order of acceptance, from 0 */
	pid_t		 pid;
};

static struct server t_srv;
static struct conn *t_conn[T_CONNS];
static pid_t t_pid[T_CONNS];
static int n_opened, n_closed, n_released;
static int t_close_order[T_CONNS];

/* t_line - "big": an answer the client does not read, then finish */
static void
t_line(struct conn *c, char *line, size_t len)
{
	char *big;

	if (len != 3 || memcmp(line, "big", 3) != 0)
		return;
	big = calloc(1, T_BIG);
	memset(big, 'x', T_BIG);
	conn_send(c, big, T_BIG);
	conn_finish(c);
	free(big);
}

/* t_overlong - not used */
static void
t_overlong(struct conn *c, char *prefix, size_t len)
{
}

/* t_closed - the peer went away */
static void
t_closed(struct conn *c, const char *why)
{
	server_close(&t_srv, c);
}

/* t_open - note the connection and its peer */
static void
t_open(struct conn *c, pid_t pid)
{
	struct t_conn *tc = (struct t_conn *)c;

	tc->id = n_opened++;
	tc->pid = pid;
	if (tc->id < T_CONNS) {
		t_conn[tc->id] = c;
		t_pid[tc->id] = pid;
	}
}

/* t_close - in the order of closing */
static void
t_close(struct conn *c)
{
	if (n_closed < T_CONNS)
		t_close_order[n_closed] = ((struct t_conn *)c)->id;
	n_closed++;
}

/* t_release - the memory goes */
static void
t_release(struct conn *c)
{
	n_released++;
}

static const struct conn_ops t_conn_ops = {
	.line = t_line,
	.overlong = t_overlong,
	.closed = t_closed,
};

static const struct server_ops t_ops = {
	.listen_name = "test_listen",
	.conn_name = "test client",
	.size = sizeof(struct t_conn),
	.line_max = 64,
	.conn_ops = &t_conn_ops,
	.open = t_open,
	.close = t_close,
	.release = t_release,
	.max = 2,
};

static char t_dir[64];
static struct sockspec t_spec;

/* t_begin - a listening socket in a fresh directory, served */
static void
t_begin(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as the daemon */
	snprintf(t_dir, sizeof(t_dir), "/tmp/authguard-srv.XXXXXX");
	if (mkdtemp(t_dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	memset(&t_spec, 0, sizeof(t_spec));
	t_spec.kind = SOCK_UNIX;
	snprintf(t_spec.path, sizeof(t_spec.path), "%s/s", t_dir);
	n_opened = n_closed = n_released = 0;
	ev_init();
	server_start(&t_srv, listen_socket(&t_spec, 16, "", NULL, 0600),
	    &t_ops);
}

/* t_pump - a few rounds of the loop */
static void
t_pump(void)
{
	int i;

	for (i = 0; i < 5; i++)
		ev_once(0);
}

/* t_connect - a client; its descriptor (non-blocking) */
static int
t_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memcpy(sun.sun_path, t_spec.path, strlen(t_spec.path) + 1);
	CHECK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	t_pump();
	return fd;
}

/* t_ended - the server closed this client's connection */
static int
t_ended(int fd)
{
	char b[4096];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		;
	return n == 0;
}

/* t_end - stop, free, remove the socket and its directory */
static void
t_end(int *fds, int n)
{
	int i;

	server_stop(&t_srv);
	ev_shutdown();
	for (i = 0; i < n; i++)
		close(fds[i]);
	unlink(t_spec.path);
	rmdir(t_dir);
}

/* Each connection is the owner's object, told its peer's pid. */
TEST(server_accepts_with_the_peer_pid)
{
	int fd[1];

	t_begin();
	fd[0] = t_connect();
	CHECK(server_count(&t_srv) == 1);
	CHECK(n_opened == 1);
	CHECK(t_pid[0] == getpid());
	CHECK_STR(t_conn[0]->name, "test client");
	CHECK(t_conn[0]->ctx == t_conn[0]);
	t_end(fd, 1);
	CHECK(n_closed == 1 && n_released == 1);
}

/* At the cap: the oldest not answered goes, else the oldest. */
TEST(server_cap_closes_the_oldest_not_answered)
{
	int fd[4];

	t_begin();
	fd[0] = t_connect();
	fd[1] = t_connect();
	fd[2] = t_connect();		/* one too many: 0 goes */
	CHECK(server_count(&t_srv) == 2);
	CHECK(n_closed == 1 && t_close_order[0] == 0);
	CHECK(t_ended(fd[0]));
	CHECK(!t_ended(fd[1]) && errno == EAGAIN);
	CHECK(write(fd[1], "big\n", 4) == 4);	/* 1 is answered, unread */
	t_pump();
	CHECK(t_conn[1]->finishing && !t_conn[1]->dead);
	fd[3] = t_connect();		/* 2 goes, not 1 */
	CHECK(n_closed == 2 && t_close_order[1] == 2);
	CHECK(t_ended(fd[2]));
	CHECK(server_count(&t_srv) == 2);
	t_end(fd, 4);
	CHECK(n_opened == 4 && n_closed == 4 && n_released == 4);
}

/* server_close() twice is once; server_stop() closes the newest first. */
TEST(server_close_once_and_stop_newest_first)
{
	int fd[3];

	t_begin();
	fd[0] = t_connect();
	fd[1] = t_connect();
	server_close(&t_srv, t_conn[0]);
	server_close(&t_srv, t_conn[0]);
	CHECK(n_closed == 1 && server_count(&t_srv) == 1);
	CHECK(n_released == 0);		/* after the current events */
	t_pump();
	CHECK(n_released == 1);
	fd[2] = t_connect();		/* id 2 */
	server_stop(&t_srv);
	CHECK(n_closed == 3 && t_close_order[1] == 2 && t_close_order[2] == 1);
	CHECK(server_count(&t_srv) == 0);
	server_stop(&t_srv);		/* stopped: nothing more */
	CHECK(n_closed == 3);
	t_end(fd, 3);
	CHECK(n_released == 3);
}
