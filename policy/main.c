/*++
/* NAME
/*	authguard-policyd 8
/* SUMMARY
/*	SASL gate, policy service and control socket for Postfix
/* SYNOPSIS
/*	authguard-policyd [-f] [-t] [-v] [-c config_file]
/* DESCRIPTION
/*	One single-threaded event loop owning all state. Postfix's
/*	smtpd talks to it as to Dovecot's auth-client socket
/*	(smtpd_sasl_type = dovecot, smtpd_sasl_path); it forwards to
/*	Dovecot, records every AUTH attempt and gives each failure a
/*	cause and a reference.
/*
/*	A file it must read and cannot stops the start with an error:
/*	the configuration, a configured accounts_map that is missing,
/*	unreadable or not a cdb map, a state file that exists but cannot
/*	be read (its lockouts would be lost), a fingerprint key file that
/*	exists but cannot be read or has the wrong size. A state file
/*	that is not one of ours is set aside and the daemon starts empty.
/*
/*	SIGHUP reloads the configuration and the accounts map: open
/*	connections, lockouts and history stay; a file with an error, or
/*	an accounts_map that cannot be read, is refused, with the error
/*	logged, and the running configuration and map stay; keys that only
/*	a restart can change (sockets, user, state directory, fingerprint
/*	key, sizes fixed at start) keep their running values, with a
/*	warning. SIGUSR1 reconnects to syslog. SIGTERM and SIGINT stop it
/*	after a last save of the state.
/*
/*	The control socket (control_listen) is owner "user", mode 0600;
/*	with control_group, that group and mode 0660, for a program of
/*	that group (authguard-web) to ask it. An unknown group stops
/*	the start, and -t names it.
/*
/*	-c file	configuration (default /etc/authguard/authguard.conf)
/*	-f	stay in the foreground, log to stderr
/*	-t	check the configuration and the files it names, read as
/*		"user": every accounts_map entry (an unknown flag is an
/*		error), the fingerprint key, the state file, the TLS files;
/*		exit 1 naming each problem
/*	-v	verbose logging
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"
#include "config.h"
#include "event.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "door.h"
#include "enforce.h"
#include "gate.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "policy.h"
#include "notify.h"
#include "reload.h"
#include "shared.h"
#include "store.h"
#include "util.h"

static struct config cfg;		/* what every module points to */
static struct accounts_map accounts;
static const char *config_path;

/* reload - SIGHUP: a new configuration, or the running one kept */
static void
reload(void)
{
	(void)reload_config(config_path, &cfg, &accounts);
}

/* make_state_dir - create state_dir (mode 0700) if missing */
static void
make_state_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		msg_fatal("state_dir %s: %s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		msg_fatal("state_dir %s: not a directory", dir);
}

/* give_state_dir - the state files belong to the user we become */
static void
give_state_dir(const char *dir, uid_t uid, gid_t gid)
{
	static const char *const files[] = {"", "/state", "/secret",
	    "/mechanisms", "/state.bad", "/state.tmp"};
	char path[4096];
	size_t i;

	for (i = 0; i < NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, files[i]);
		if (lchown(path, uid, gid) < 0 && errno != ENOENT)
			msg_fatal("chown %s: %s", path, strerror(errno));
	}
}

/* drop_privileges - hand the state to "user", then become it */
static void
drop_privileges(const char *user, const char *state_dir)
{
	struct passwd *pw;

	if (*user && geteuid() == 0 && (pw = getpwnam(user)) != NULL)
		give_state_dir(state_dir, pw->pw_uid, pw->pw_gid);
	daemon_drop_privileges(user);
}

/*
 * check_readable - -t: what the daemon reads as "user" (as: how it was
 * read, for the messages): the accounts map entry by entry, the
 * fingerprint key, the TLS files. 0, or -1 (said).
 */
static int
check_readable(const struct config *c, const char *path, const char *as)
{
	char err[400];
	int rc = 0;

	if (*c->accounts_map && accounts_check(c->accounts_map) < 0)
		rc = -1;
	if (store_check(c, STORE_CHECK_KEY) < 0)
		rc = -1;
	if (shared_check(c, err, sizeof(err)) < 0) {
		msg_error("%s: state_backend: %s%s", path, err, as);
		rc = -1;
	}
	if (notify_check(c, err, sizeof(err)) < 0) {
		msg_error("%s: notify: %s%s", path, err, as);
		rc = -1;
	}
	if (rc < 0 && *as)
		msg_error("%s: check failed%s", path, as);
	return rc;
}

/*
 * check_postdrop - -t: with notify = yes, "user" must be in group postdrop
 * (NoNewPrivileges ignores postdrop's set-group-ID bit); a warning
 */
static void
check_postdrop(const struct config *c)
{
	struct passwd *pw;
	struct group *gr;
	char **m;

	if (!c->notify || (gr = getgrnam("postdrop")) == NULL)
		return;
	pw = *c->user ? getpwnam(c->user) : getpwuid(geteuid());
	if (pw == NULL || pw->pw_uid == 0 || pw->pw_gid == gr->gr_gid)
		return;			/* root writes the maildrop itself */
	for (m = gr->gr_mem; *m; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return;
	msg_warn("notify = yes: user %s is not in group postdrop: sendmail "
	    "cannot queue a notice under NoNewPrivileges (adduser %s postdrop)",
	    pw->pw_name, pw->pw_name);
}

/* check_files - -t: the files the daemon reads, read as the daemon reads them */
static void
check_files(const struct config *c, const char *path)
{
	struct passwd *pw;
	char as[300];
	int status, state;
	pid_t pid;

	/* the state: here, as the start hands state_dir to "user" first */
	state = store_check(c, STORE_CHECK_STATE);
	check_postdrop(c);
	if (*c->control_group && getgrnam(c->control_group) == NULL) {
		msg_error("control_group: unknown group %s", c->control_group);
		state = -1;
	}

	/*
	 * What only a try can tell: as "user" when root is to become another
	 * user, in a child that becomes it as the daemon does. Fatal when
	 * they do not do.
	 */
	if (geteuid() != 0 || *c->user == 0 ||
	    (pw = getpwnam(c->user)) == NULL || pw->pw_uid == 0) {
		if (check_readable(c, path, "") < 0 || state < 0)
			exit(1);
		return;
	}
	snprintf(as, sizeof(as), " (read as user \"%s\", as the daemon reads "
	    "it)", c->user);
	if ((pid = fork()) < 0)
		msg_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		daemon_drop_privileges(c->user);
		_exit(check_readable(c, path, as) < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			msg_fatal("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || state < 0)
		exit(1);		/* the child, or the state check, said why */
}

/* control_socket - control_listen: "user"'s, 0600; or control_group's too, 0660 */
static int
control_socket(const struct config *c)
{
	if (c->control_listen.kind == SOCK_NONE)
		return -1;
	if (*c->control_group == 0)
		return listen_socket(&c->control_listen, 64, c->user, NULL,
		    0600);
	return listen_socket(&c->control_listen, 64, c->user, c->control_group,
	    0660);
}

/* unlink_socket - a unix socket we created */
static void
unlink_socket(const struct sockspec *ss)
{
	if (ss->kind == SOCK_UNIX)
		unlink(ss->path);
}

/* who_am_i - the user the daemon runs as, for a message */
static const char *
who_am_i(void)
{
	static char name[64];
	struct passwd *pw = getpwuid(geteuid());

	if (pw)
		snprintf(name, sizeof(name), "user \"%s\"", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid %ld", (long)geteuid());
	return name;
}

/* start_refused - a file the daemon must read cannot be: no start */
static void
start_refused(const char *what)
{
	unlink_socket(&cfg.sasl_listen);	/* as far as "user" may */
	unlink_socket(&cfg.policy_listen);
	unlink_socket(&cfg.control_listen);
	unlink_socket(&cfg.metrics_listen);
	unlink_socket(&cfg.auth_policy_listen);
	msg_fatal("%s: not starting", what);
}

int
main(int argc, char **argv)
{
	struct daemon_opts opts;
	int fd, pfd, cfd, mfd, afd;

	daemon_begin("authguard-policyd", argc, argv, &opts, &cfg);
	config_path = opts.config_path;
	if (opts.test)
		check_files(&cfg, opts.config_path);
	if (!daemon_detach(&opts)) {
		config_free(&cfg);
		return 0;
	}
	daemon_signals();
	msg_batch_stderr();
	make_state_dir(cfg.state_dir);
	ev_init();
	/* Bind as root, then become "user" before reading state or peers. */
	if (*cfg.control_group && getgrnam(cfg.control_group) == NULL)
		msg_fatal("control_group: unknown group %s: not starting",
		    cfg.control_group);
	fd = listen_socket(&cfg.sasl_listen, 512, cfg.socket_owner,
	    cfg.socket_group, cfg.socket_mode);
	pfd = cfg.policy_listen.kind == SOCK_NONE ? -1 :
	    listen_socket(&cfg.policy_listen, 512, cfg.socket_owner,
	    cfg.socket_group, cfg.socket_mode);
	cfd = control_socket(&cfg);
	mfd = cfg.metrics_listen.kind == SOCK_NONE ? -1 :
	    listen_socket(&cfg.metrics_listen, 64, cfg.user, NULL, 0600);
	afd = cfg.auth_policy_listen.kind == SOCK_NONE ? -1 :
	    listen_socket(&cfg.auth_policy_listen, 512, cfg.socket_owner,
	    cfg.socket_group, cfg.socket_mode);
	drop_privileges(cfg.user, cfg.state_dir);
	if (accounts_open(&accounts, cfg.accounts_map) < 0) {
		msg_error("accounts_map %s: %s (the account flags cannot be "
		    "read; read as %s)", cfg.accounts_map, accounts.err,
		    who_am_i());
		start_refused("accounts_map");
	}
	if (store_init(&cfg) < 0)
		start_refused("the file named above cannot be used");
	shared_init(&cfg, &store_limits.cfg, store_secret,
	    sizeof(store_secret));
	enforce_init(&cfg);
	notify_init(&cfg);
	gate_init(&cfg, &accounts);
	gate_listen(fd);
	if (pfd >= 0)
		policy_init(&cfg, pfd);
	if (afd >= 0)
		authpolicy_init(&cfg, &accounts, afd);
	if (cfd >= 0)
		control_init(&cfg, cfd);
	if (mfd >= 0)
		metrics_init(&cfg, mfd);
	daemon_ready("sasl_listen %s", cfg.sasl_listen.kind == SOCK_UNIX ?
	    cfg.sasl_listen.path : cfg.sasl_listen.host);
	(void)daemon_serve(ev_run, reload);
	shared_shutdown();	/* waiting attempts decide locally */
	authpolicy_shutdown();
	gate_shutdown();
	policy_shutdown();
	control_shutdown();
	metrics_shutdown();
	notify_shutdown();
	ev_shutdown();
	store_shutdown();
	unlink_socket(&cfg.sasl_listen);
	unlink_socket(&cfg.policy_listen);
	unlink_socket(&cfg.control_listen);
	unlink_socket(&cfg.metrics_listen);
	unlink_socket(&cfg.auth_policy_listen);
	accounts_close(&accounts);
	config_free(&cfg);
	msg_flush();
	return 0;
}
