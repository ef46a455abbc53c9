/*++
/* NAME
/*	authguard-web 8
/* SUMMARY
/*	the helpdesk's pages: look up a ref, a user or an address; unlock
/* SYNOPSIS
/*	authguard-web [-f] [-t] [-v] [-c config_file]
/* DESCRIPTION
/*	A small daemon of its own, that never sees a password of the mail
/*	service: it answers HTTP on web_listen (a loopback address or a
/*	unix socket, behind the site's reverse proxy for TLS and sign-on)
/*	and asks authguard-policyd over its control socket.
/*
/*	It binds web_listen first (a unix socket under a temporary name,
/*	given its owner, group and mode, then renamed into place), reads
/*	the htpasswd file, then becomes "user" before it serves anyone.
/*	Started as that user (as the systemd unit does), it binds and
/*	reads as that user.
/*
/*	SIGTERM and SIGINT stop it: requests that wait for
/*	authguard-policyd get 503. SIGUSR1 reconnects to syslog. SIGHUP
/*	is ignored: the configuration and the htpasswd file are read at
/*	start (a restart takes a new one; the forms' tokens change).
/*
/*	-c file	configuration (default /etc/authguard/authguard-web.conf)
/*	-f	stay in the foreground, log to stderr
/*	-t	check the configuration and the htpasswd file, and exit
/*	-v	verbose logging
/*--*/
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "daemon.h"
#include "event.h"
#include "msg.h"
#include "netaddr.h"
#include "signon.h"
#include "util.h"
#include "web.h"
#include "webconf.h"

#ifndef WEB_DEF_CONFIG
#define WEB_DEF_CONFIG	"/etc/authguard/authguard-web.conf"
#endif

static struct webconf cfg;

/* warn_trust - settings that let more in than they seem to */
static void
warn_trust(const char *path)
{
	int inet = cfg.web_listen.kind == SOCK_INET;
	int trusts = inet ? cfg.trusted_nets.n > 0 : cfg.trust_unix;

	int header = *cfg.user_header != 0;

	if (trusts && header && *cfg.htpasswd)
		msg_warn("%s: htpasswd is set, and %s from trusted_proxies is "
		    "believed too: a request through them needs no password",
		    path, cfg.user_header);
	if (inet && trusts && header && *cfg.secret_name == 0)
		msg_warn("%s: web_listen is inet and trusts trusted_proxies "
		    "without proxy_secret: any local process may send %s and "
		    "be any user", path, cfg.user_header);
	else if (inet && trusts && *cfg.secret_name == 0)
		msg_warn("%s: web_listen is inet and trusts trusted_proxies "
		    "without proxy_secret: any local process may send "
		    "X-Forwarded-For and escape or aim the failed sign-ons' "
		    "counts", path);
	if (*cfg.htpasswd && !trusts)
		msg_warn("%s: htpasswd is set and no proxy is trusted: every "
		    "client comes from the same local address, so whoever "
		    "reaches web_listen can make a user wait with wrong "
		    "passwords; behind a proxy, name it in trusted_proxies "
		    "(user_header empty believes only its X-Forwarded-For)",
		    path);
}

/* load - the configuration and the htpasswd file, or the end */
static void
load(const char *path)
{
	char err[4096 + 256];
	struct passwd *pw = NULL;

	if (webconf_load(path, &cfg, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	if (geteuid() == 0 && *cfg.user == 0)
		msg_fatal("%s: started as root without \"user\": set user = "
		    "authguard-web", path);
	if (*cfg.user && (pw = getpwnam(cfg.user)) == NULL)
		msg_fatal("%s: user = %s: no such user", path, cfg.user);
	if (*cfg.user && geteuid() != 0 && geteuid() != pw->pw_uid)
		msg_fatal("%s: user = %s: started as uid %ld, which cannot "
		    "become that user", path, cfg.user, (long)geteuid());
	if (*cfg.htpasswd && signon_htpasswd_load(cfg.htpasswd, err,
	    sizeof(err)) < 0)
		msg_fatal("%s", err);
	if (*cfg.htpasswd && signon_htpasswd_mixed())
		msg_warn("%s: more than one hash scheme or cost: an unknown user "
		    "is checked against the slowest, so a user of a faster one "
		    "can be told from an unknown user by the time of the answer; "
		    "use one scheme", cfg.htpasswd);
	warn_trust(path);
}

int
main(int argc, char **argv)
{
	struct daemon_opts opts;
	int fd;

	daemon_options("authguard-web", WEB_DEF_CONFIG, argc, argv, &opts);
	load(opts.config_path);
	if (!daemon_detach(&opts)) {
		webconf_free(&cfg);
		return 0;
	}
	daemon_signals();
	msg_batch_stderr();
	ev_init();
	fd = listen_socket(&cfg.web_listen, 64, cfg.web_socket_owner,
	    cfg.web_socket_group, cfg.web_socket_mode);
	daemon_drop_privileges(cfg.user);
	web_init(&cfg, fd);
	if (cfg.web_listen.kind == SOCK_UNIX)
		daemon_ready("web_listen unix:%s", cfg.web_listen.path);
	else
		daemon_ready(strchr(cfg.web_listen.host, ':') ?
		    "web_listen inet:[%s]:%u" : "web_listen inet:%s:%u",
		    cfg.web_listen.host, cfg.web_listen.port);
	(void)daemon_serve(ev_run, NULL);	/* SIGHUP: nothing */
	web_shutdown();
	ev_shutdown();
	if (cfg.web_listen.kind == SOCK_UNIX)
		unlink(cfg.web_listen.path);
	webconf_free(&cfg);
	msg_flush();
	return 0;
}
