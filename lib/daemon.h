/*++
/* NAME
/*	daemon 3h
/* SUMMARY
/*	what both daemons do at start: options, configuration, the
/*	background, privileges, systemd; the signals of their loop
/*--*/
#ifndef AUTHGUARD_DAEMON_H
#define AUTHGUARD_DAEMON_H

#include <signal.h>

struct config;

struct daemon_opts {
	const char	*name;		/* the program's, in the log */
	const char	*config_path;
	int		 foreground;	/* -f: log to stderr, no fork */
	int		 test;		/* -t: check the configuration */
};

#ifndef DAEMON_DEF_CONFIG
#define DAEMON_DEF_CONFIG	"/etc/authguard/authguard.conf"
#endif

void	daemon_options(const char *, const char *, int, char **,
	    struct daemon_opts *);
void	daemon_begin(const char *, int, char **, struct daemon_opts *,
	    struct config *);
int	daemon_detach(const struct daemon_opts *);
void	daemon_ready(const char *, ...) __attribute__((format(printf, 1, 2)));
void	daemon_no_core_dumps(void);
void	daemon_drop_privileges(const char *);
void	daemon_notify(const char *);
void	daemon_signals(void);
int	daemon_serve(void (*)(volatile sig_atomic_t *), void (*)(void));

#endif
