/*++
/* NAME
/*	daemon 3h
/* SUMMARY
/*	what both daemons do at start: no core dumps, drop privileges
/*--*/
#ifndef AUTHGUARD_DAEMON_H
#define AUTHGUARD_DAEMON_H

struct config;

struct daemon_opts {
	const char	*config_path;
	int		 foreground;	/* -f: log to stderr, no fork */
	int		 test;		/* -t: check the configuration */
};

#ifndef DAEMON_DEF_CONFIG
#define DAEMON_DEF_CONFIG	"/etc/authguard/authguard.conf"
#endif

void	daemon_begin(const char *, int, char **, struct daemon_opts *,
	    struct config *);
void	daemon_no_core_dumps(void);
void	daemon_drop_privileges(const char *);
void	daemon_notify(const char *);

#endif
