/*++
/* NAME
/*	webconf 3h
/* SUMMARY
/*	authguard-web.conf: the web front end's table of keys
/*--*/
#ifndef AUTHGUARD_WEBCONF_H
#define AUTHGUARD_WEBCONF_H

#include <stddef.h>

#include "logline.h"
#include "netaddr.h"

#define WEBCONF_KEYS	16	/* rows of the table in webconf.c */

#define WEBCONF_SECRET_NAME_MAX 64	/* bytes of proxy_secret's name */

struct webconf {
	struct sockspec	 web_listen;
	char		*web_socket_owner;
	char		*web_socket_group;
	unsigned	 web_socket_mode;
	char		*control_socket;
	unsigned	 control_timeout;	/* ms */
	char		*trusted_proxies;	/* as written */
	struct netlist	 trusted_nets;		/* its networks */
	int		 trust_unix;		/* its word "unix" */
	char		*proxy_secret;		/* "Name: value" or "" */
	char		 secret_name[WEBCONF_SECRET_NAME_MAX + 1];
	const char	*secret_value;		/* in proxy_secret */
	char		*user_header;
	char		*htpasswd;		/* "": no basic auth */
	char		*viewers;		/* "": every user known */
	char		*admins;		/* "": nobody */
	char		*host_names;		/* "": any Host */
	unsigned	 lock_time;		/* ms; 0: policyd's */
	char		*user;
	enum log_format	 log_format;
	char		*text[WEBCONF_KEYS];	/* each value as written */
};

int	webconf_parse(const char *, size_t, const char *, struct webconf *,
	    char *, size_t);
int	webconf_load(const char *, struct webconf *, char *, size_t);
void	webconf_free(struct webconf *);
int	webconf_listed(const char *, const char *);
int	webconf_host_listed(const char *, const char *);

#endif
