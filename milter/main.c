/*++
/* NAME
/*	authguard-milter 8
/* SUMMARY
/*	Authentication-Results and the session's AUTH story on submitted mail
/* SYNOPSIS
/*	authguard-milter [-f] [-t] [-v] [-c config_file]
/* DESCRIPTION
/*	A libmilter filter for Postfix (smtpd_milters) or Sendmail
/*	(INPUT_MAIL_FILTER). It reads the same configuration file as
/*	authguard-policyd (keys milter_*, authserv_id, and the shared
/*	require_tls_for_auth, tls_exempt_networks, client_detail,
/*	log_format, policy_log, control_listen, socket_*, user).
/*
/*	The configuration is read at start. SIGHUP, like SIGTERM, stops
/*	it (libmilter's own signal handling, which a filter cannot
/*	change): restart it to apply a change; Postfix applies
/*	milter_default_action meanwhile.
/*
/*	-c file	configuration (default /etc/authguard/authguard.conf)
/*	-f	stay in the foreground, log to stderr
/*	-t	check the configuration and exit
/*	-v	verbose logging
/*--*/
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "daemon.h"
#include "milter.h"
#include "msg.h"
#include "netaddr.h"
#include "util.h"

/* servid_valid - an authserv-id we can write without quoting */
static int
servid_valid(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\";()\\", *p))
			return 0;
	return p > s && p - s < 256;
}

/* authserv_id - the configured one, or this host's name */
static char *
authserv_id(const struct config *cfg)
{
	char host[256];

	if (*cfg->authserv_id)
		return xstrdup(cfg->authserv_id);
	if (gethostname(host, sizeof(host)) < 0)
		msg_fatal("gethostname: %s", strerror(errno));
	host[sizeof(host) - 1] = 0;
	return xstrdup(host);
}

/* conn_spec - milter_listen in libmilter's words */
static void
conn_spec(const struct sockspec *s, char *out, size_t len)
{
	int n;

	if (s->kind == SOCK_UNIX)
		n = snprintf(out, len, "unix:%s", s->path);
	else
		n = snprintf(out, len, "%s:%u@%s", strchr(s->host, ':') ?
		    "inet6" : "inet", s->port, s->host);
	if (n < 0 || (size_t)n >= len)
		msg_fatal("milter_listen: too long");
}

/* socket_perms - owner, group and mode of a unix milter socket */
static void
socket_perms(const struct config *cfg)
{
	const char *path = cfg->milter_listen.path;
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	if (cfg->milter_listen.kind != SOCK_UNIX)
		return;
	if (*cfg->socket_owner && (pw = getpwnam(cfg->socket_owner)) == NULL)
		msg_fatal("socket_owner = %s: no such user", cfg->socket_owner);
	if (*cfg->socket_group && (gr = getgrnam(cfg->socket_group)) == NULL)
		msg_fatal("socket_group = %s: no such group",
		    cfg->socket_group);
	if ((pw || gr) && chown(path, pw ? pw->pw_uid : (uid_t)-1,
	    gr ? gr->gr_gid : (gid_t)-1) < 0)
		msg_fatal("chown %s: %s", path, strerror(errno));
	if (chmod(path, cfg->socket_mode) < 0)
		msg_fatal("chmod %s: %s", path, strerror(errno));
}

/*
 * hold_signals - SIGHUP, SIGINT and SIGTERM wait, blocked, for the thread
 * smfi_main() starts to sigwait() for them: one that comes sooner (as
 * systemd's READY=1 is told) is a clean stop, not death by the signal.
 */
static void
hold_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((errno = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		msg_fatal("pthread_sigmask: %s", strerror(errno));
}

/* check - the problems -t reports; fatal ones end the program */
static void
check(const struct config *cfg, const char *servid)
{
	if (!servid_valid(servid))
		msg_fatal("authserv_id = %s: not a valid authserv-id (no "
		    "spaces, quotes, semicolons or parentheses)", servid);
	if (cfg->control_listen.kind != SOCK_UNIX)
		msg_warn("control_listen is not a unix socket: headers will "
		    "say details=unavailable");
}

int
main(int argc, char **argv)
{
	struct daemon_opts opts;
	struct config cfg;
	char spec[256], *servid;
	int rc;

	daemon_begin("authguard-milter", argc, argv, &opts, &cfg);
	servid = authserv_id(&cfg);
	check(&cfg, servid);
	conn_spec(&cfg.milter_listen, spec, sizeof(spec));
	if (!daemon_detach(&opts)) {
		free(servid);
		config_free(&cfg);
		return 0;
	}
	if (milter_register(&cfg, servid) < 0)
		msg_fatal("smfi_register failed");
	if (smfi_setconn(spec) != MI_SUCCESS)
		msg_fatal("milter_listen: libmilter refused %s", spec);
	umask(0177);		/* no one else gets in before socket_perms */
	if (smfi_opensocket(1) != MI_SUCCESS)
		msg_fatal("cannot listen on %s", spec);
	socket_perms(&cfg);
	daemon_drop_privileges(cfg.user);
	hold_signals();
	daemon_ready("milter_listen %s authserv_id %s", spec, servid);
	rc = smfi_main();
	msg_info("stopped");
	free(servid);
	config_free(&cfg);
	return rc == MI_SUCCESS ? 0 : 1;
}
