/*++
/* NAME
/*	test_daemon 1
/* SUMMARY
/*	unit tests: the daemons' signals and serving loop (lib/daemon.c)
/* DESCRIPTION
/*	daemon_serve() with a loop of the test's own that raises the
/*	signals a daemon gets: SIGHUP reloads between RELOADING=1 and
/*	READY=1, or does nothing without a reload; SIGUSR1 says "log
/*	reopened"; SIGTERM and SIGINT end the loop with STOPPING=1 and
/*	"stopping on signal N", a reload asked with them is not done, and
/*	one that came before the loop ends it before it runs. What
/*	systemd is told is read on a datagram socket of the abstract
/*	namespace ($NOTIFY_SOCKET), what is logged through msg_set_sink().
/*--*/
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "msg.h"
#include "unit.h"
#include "util.h"

static char dmn_log[4096];		/* what was logged, one line each */
static char dmn_told[4096];		/* what systemd was told, one line each */
static const int *dmn_script;		/* the signals, a round each; 0 ends */
static int dmn_rounds, dmn_reloads;

/* dmn_sink - keep what is logged */
static void
dmn_sink(int pri, const char *level, const char *text)
{
	size_t n = strlen(dmn_log);

	(void)pri;
	snprintf(dmn_log + n, sizeof(dmn_log) - n, "%s: %s\n",
	    level ? level : "info", text);
}

/* dmn_run - a round of the loop: its signals, then as ev_run() returns */
static void
dmn_run(volatile sig_atomic_t *wake)
{
	const int *sig = dmn_script;

	dmn_rounds++;
	for (; *sig; sig++)
		raise(*sig);
	dmn_script = sig + 1;
	CHECK(*wake);		/* ev_run() returns only then */
}

/* dmn_reload - count the reloads; systemd has been told RELOADING=1 */
static void
dmn_reload(void)
{
	dmn_reloads++;
}

/* dmn_socket - a notification socket, its name in $NOTIFY_SOCKET */
static int
dmn_socket(void)
{
	struct sockaddr_un sun;
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@authguard-test-daemon-%ld",
	    (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name + 1, strlen(name) - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name))) == 0);
	setenv("NOTIFY_SOCKET", name, 1);
	return fd;
}

/* dmn_told_all - what systemd was told, each datagram a line */
static void
dmn_told_all(int fd)
{
	char buf[256];
	size_t n;
	ssize_t r;

	dmn_told[0] = 0;
	while ((r = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[r] = 0;
		n = strlen(dmn_told);
		snprintf(dmn_told + n, sizeof(dmn_told) - n, "%s\n", buf);
	}
}

static const int dmn_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1,
    SIGPIPE};

/* dmn_serve - serve the script; the signal that stopped it */
static int
dmn_serve(const int *script, void (*reload)(void), const int *before)
{
	struct sigaction old[NELEM(dmn_signals)];
	size_t i;
	int fd, sig;

	for (i = 0; i < NELEM(old); i++)
		sigaction(dmn_signals[i], NULL, &old[i]);

	dmn_log[0] = 0;
	dmn_rounds = dmn_reloads = 0;
	dmn_script = script;
	fd = dmn_socket();
	msg_set_sink(dmn_sink);
	daemon_signals();
	for (; *before; before++)
		raise(*before);
	sig = daemon_serve(dmn_run, reload);
	msg_set_sink(NULL);
	dmn_told_all(fd);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
	for (i = 0; i < NELEM(old); i++)
		sigaction(dmn_signals[i], &old[i], NULL);	/* the runner's */
	return sig;
}

TEST(daemon_sighup_reloads_between_reloading_and_ready)
{
	static const int script[] = {SIGHUP, 0, SIGHUP, 0, SIGTERM, 0};
	static const int none[] = {0};

	CHECK(dmn_serve(script, dmn_reload, none) == SIGTERM);
	CHECK(dmn_rounds == 3);
	CHECK(dmn_reloads == 2);
	CHECK_STR(dmn_told, "RELOADING=1\nREADY=1\nRELOADING=1\nREADY=1\n"
	    "STOPPING=1\n");
	CHECK_STR(dmn_log, "info: stopping on signal 15\n");
}

TEST(daemon_sighup_without_reload_does_nothing)
{
	static const int script[] = {SIGHUP, 0, SIGINT, 0};
	static const int none[] = {0};

	CHECK(dmn_serve(script, NULL, none) == SIGINT);
	CHECK(dmn_rounds == 2);		/* SIGHUP woke it, did not stop it */
	CHECK_STR(dmn_told, "STOPPING=1\n");
	CHECK_STR(dmn_log, "info: stopping on signal 2\n");
}

TEST(daemon_sigusr1_reopens_the_log)
{
	static const int script[] = {SIGUSR1, 0, SIGUSR1, SIGTERM, 0};
	static const int none[] = {0};

	CHECK(dmn_serve(script, dmn_reload, none) == SIGTERM);
	CHECK(dmn_rounds == 2 && dmn_reloads == 0);
	CHECK_STR(dmn_told, "STOPPING=1\n");
	CHECK_STR(dmn_log, "info: log reopened\ninfo: log reopened\n"
	    "info: stopping on signal 15\n");
}

TEST(daemon_stop_with_sighup_does_not_reload)
{
	static const int script[] = {SIGHUP, SIGTERM, 0};
	static const int none[] = {0};

	CHECK(dmn_serve(script, dmn_reload, none) == SIGTERM);
	CHECK(dmn_rounds == 1 && dmn_reloads == 0);
	CHECK_STR(dmn_told, "STOPPING=1\n");
}

TEST(daemon_stop_before_the_loop_ends_it_unrun)
{
	static const int script[] = {0};
	static const int before[] = {SIGTERM, 0};

	CHECK(dmn_serve(script, dmn_reload, before) == SIGTERM);
	CHECK(dmn_rounds == 0);
	CHECK_STR(dmn_told, "STOPPING=1\n");
	CHECK_STR(dmn_log, "info: stopping on signal 15\n");
}
