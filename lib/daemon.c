/*++
/* NAME
/*	daemon 3
/* SUMMARY
/*	what both daemons do at start: options, configuration, the
/*	background, privileges, systemd; the signals of their loop
/* DESCRIPTION
/*	daemon_begin() reads the options both daemons take (-c file, -f,
/*	-t, -v), opens the log and loads the configuration; a bad option
/*	or configuration ends the program, and so does starting as root
/*	without "user" (staying root takes "user = root"), before any
/*	socket exists. It also raises the limit on
/*	open descriptors to the hard limit: every smtpd process holds a
/*	connection, and idle ones must not crowd out the next login.
/*
/*	daemon_options() is the first part of daemon_begin(), for a
/*	daemon of another configuration file (its default given): the
/*	options and the log; the caller loads its file itself.
/*
/*	daemon_detach() comes after the daemon's own checks of its
/*	configuration. With -t it says the configuration is ok and
/*	returns 0: the caller ends with exit code 0. Otherwise it goes
/*	into the background (unless -f), opens the log again for the new
/*	pid, keeps core dumps off (daemon_no_core_dumps) and returns 1:
/*	the caller binds its sockets, drops privileges and serves.
/*	daemon_ready() logs "started: " and what follows, once the
/*	sockets are served, and tells systemd READY=1.
/*
/*	daemon_no_core_dumps() keeps memory that held a password out of
/*	core files. daemon_drop_privileges() becomes the configured user
/*	(and its groups) once the sockets are bound, and says again that
/*	the process may not dump core (changing the uid resets that flag
/*	on Linux). It is fatal when the change cannot be made or could
/*	be undone.
/*
/*	daemon_notify() tells systemd (Type=notify) what the daemon is
/*	doing: "READY=1", "RELOADING=1", "STOPPING=1". It speaks the
/*	documented datagram protocol on $NOTIFY_SOCKET itself, so that
/*	the daemons need no systemd library; without that variable it
/*	does nothing.
/*
/*	daemon_signals() takes the signals of a daemon that serves from
/*	its own loop: SIGTERM and SIGINT stop it, SIGHUP asks for a
/*	reload, SIGUSR1 for a new connection to syslog; SIGPIPE is
/*	ignored (a dead peer is not fatal). A handler only notes what was
/*	asked and wakes the loop.
/*
/*	daemon_serve() runs the daemon's loop, run(wake), that returns
/*	once *wake is non-zero (ev_run() does), and does in order what the
/*	signals asked: SIGUSR1 reopens the log ("log reopened"); SIGHUP,
/*	unless a stop is asked too, calls reload() between "RELOADING=1"
/*	and "READY=1" to systemd, or, with reload NULL, does nothing.
/*	After SIGTERM or SIGINT it tells systemd "STOPPING=1", logs
/*	"stopping on signal N" and returns N; the caller shuts down.
/*	The loop is given, not called by name, so that lib/ needs no
/*	event loop.
/*--*/
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "msg.h"
#include "util.h"

static volatile sig_atomic_t daemon_stop_sig;	/* SIGTERM, SIGINT */
static volatile sig_atomic_t daemon_reload_asked, daemon_reopen_asked;
static volatile sig_atomic_t daemon_wake;	/* ends the daemon's loop */

/* daemon_usage - and exit 2 */
static void
daemon_usage(const char *name)
{
	fprintf(stderr, "usage: %s [-f] [-t] [-v] [-c config_file]\n", name);
	exit(2);
}

/* daemon_fd_limit - as many descriptors as the system lets us have */
static void
daemon_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		msg_warn("cannot raise the open files limit: %s",
		    strerror(errno));
}

/* daemon_options - options and log */
void
daemon_options(const char *name, const char *def_config, int argc,
    char **argv, struct daemon_opts *o)
{
	int ch;

	o->name = name;
	o->config_path = def_config;
	o->foreground = o->test = 0;
	while ((ch = getopt(argc, argv, "c:ftv")) != -1) {
		if (ch == 'c')
			o->config_path = optarg;
		else if (ch == 'f')
			o->foreground = 1;
		else if (ch == 't')
			o->test = 1;
		else if (ch == 'v')
			msg_verbose++;
		else
			daemon_usage(name);
	}
	if (optind != argc)
		daemon_usage(name);
	msg_open(name, o->foreground || o->test);
}

/* daemon_begin - options, log, configuration */
void
daemon_begin(const char *name, int argc, char **argv, struct daemon_opts *o,
    struct config *cfg)
{
	static char abs_path[PATH_MAX];
	char err[CONFIG_ERR_MAX + 4096];

	daemon_options(name, DAEMON_DEF_CONFIG, argc, argv, o);
	if (config_load(o->config_path, cfg, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	/* A reload rereads it after daemon() went to "/": keep it absolute. */
	if (realpath(o->config_path, abs_path) != NULL)
		o->config_path = abs_path;
	if (geteuid() == 0 && *cfg->user == 0 && !o->test)
		msg_fatal("started as root without \"user\": set user = "
		    "authguard (or user = root to stay root)");
	daemon_fd_limit();
}

/* daemon_detach - -t: "configuration ok" and 0; else the background, and 1 */
int
daemon_detach(const struct daemon_opts *o)
{
	if (o->test) {
		printf("%s: configuration ok\n", o->config_path);
		return 0;
	}
	if (!o->foreground && daemon(0, 0) < 0)
		msg_fatal("daemon: %s", strerror(errno));
	msg_open(o->name, o->foreground);	/* the pid changed */
	daemon_no_core_dumps();
	return 1;
}

/* daemon_ready - serving: "started: ..." in the log, READY=1 to systemd */
void
daemon_ready(const char *fmt, ...)
{
	va_list ap, again;
	char *text;
	int len;

	va_start(ap, fmt);
	va_copy(again, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	text = xmalloc(len > 0 ? (size_t)len + 1 : 1);
	vsnprintf(text, len > 0 ? (size_t)len + 1 : 1, fmt, again);
	va_end(again);
	msg_info("started: %s", text);	/* whole, however long */
	free(text);
	daemon_notify("READY=1");
}

/* daemon_no_core_dumps - passwords live in this process's memory */
void
daemon_no_core_dumps(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* daemon_drop_privileges - become "user" once the sockets are bound */
void
daemon_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (*user == 0)
		return;			/* not root: daemon_begin() saw to it */
	if ((pw = getpwnam(user)) == NULL)
		msg_fatal("user = %s: no such user", user);
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			msg_fatal("user = %s: only root can become that user",
			    user);
		return;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		msg_fatal("cannot become %s: %s", user, strerror(errno));
	if (pw->pw_uid != 0 && setuid(0) == 0)
		msg_fatal("privileges could be regained after dropping them");
	daemon_no_core_dumps();
	if (pw->pw_uid == 0)
		msg_warn("user = %s: running with every privilege", user);
}

/* daemon_notify - one state line to systemd's notification socket */
void
daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t r;
	size_t n;
	int fd;

	if (path == NULL || (*path != '/' && *path != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (*path == '@')
		sun.sun_path[0] = 0;	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	/*
	 * As sd_notify(): a manager that is not listening is no fault of
	 * ours. A signal while the manager's queue is full (SIGTERM as
	 * READY=1 waits) does not lose the line.
	 */
	while ((r = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len)) < 0 && errno == EINTR)
		;
	if (r < 0 && msg_verbose)
		msg_info("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	close(fd);
}

/* daemon_on_signal - note what was asked; daemon_serve() does it */
static void
daemon_on_signal(int sig)
{
	if (sig == SIGHUP)
		daemon_reload_asked = 1;
	else if (sig == SIGUSR1)
		daemon_reopen_asked = 1;
	else
		daemon_stop_sig = sig;
	daemon_wake = 1;
}

/* daemon_signals - termination ends the loop; a dead peer is not fatal */
void
daemon_signals(void)
{
	struct sigaction sa;

	daemon_stop_sig = daemon_reload_asked = daemon_reopen_asked = 0;
	daemon_wake = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* daemon_asked - what the signals asked for while the loop ran */
static void
daemon_asked(void (*reload)(void))
{
	if (daemon_reopen_asked) {
		daemon_reopen_asked = 0;
		msg_reopen();
		msg_info("log reopened");
	}
	if (daemon_reload_asked && !daemon_stop_sig) {
		daemon_reload_asked = 0;
		if (reload != NULL) {
			daemon_notify("RELOADING=1");
			reload();
			daemon_notify("READY=1");
		}
	}
}

/* daemon_serve - the loop, until a signal asks to stop; that signal */
int
daemon_serve(void (*run)(volatile sig_atomic_t *), void (*reload)(void))
{
	while (!daemon_stop_sig) {
		run(&daemon_wake);
		daemon_wake = 0;
		daemon_asked(reload);
	}
	daemon_notify("STOPPING=1");
	msg_info("stopping on signal %d", (int)daemon_stop_sig);
	return daemon_stop_sig;
}
