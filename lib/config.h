/*++
/* NAME
/*	config 3h
/* SUMMARY
/*	authguard.conf: one table of name, default and variable
/*--*/
#ifndef AUTHGUARD_CONFIG_H
#define AUTHGUARD_CONFIG_H

#include <stddef.h>

#include "backend.h"
#include "cause.h"
#include "authlimits.h"
#include "logline.h"
#include "netaddr.h"

#define REFUSAL_DELAY_DOVECOT	0xffffffffu	/* as Dovecot's failures take */
#define CONFIG_KEYS	65	/* rows of the table in config.c */

struct config {
	struct sockspec	sasl_listen;
	struct sockspec	sasl_upstream;
	struct sockspec	userdb_upstream;
	struct sockspec	policy_listen;
	struct sockspec	control_listen;
	char		*control_group;	/* "": the control socket is 0600 */
	struct sockspec	metrics_listen;
	char		*state_dir;
	char		*fingerprint_key;
	char		*accounts_map;
	int		 require_tls_for_auth;
	struct netlist	 tls_exempt_networks;
	enum client_detail client_detail;
	enum log_format	 log_format;
	unsigned	 upstream_timeout;	/* ms */
	unsigned	 refusal_delay;		/* ms, or REFUSAL_DELAY_DOVECOT */
	char		*socket_owner;
	char		*socket_group;
	unsigned	 socket_mode;
	struct limit	 account_fail_limit;
	struct limit	 ip_fail_limit;
	unsigned	 lockout_time;		/* ms */
	unsigned	 lockout_max;		/* ms */
	unsigned	 familiar_address_ttl;	/* ms */
	struct netlist	 limit_exempt_networks;
	unsigned	 max_tracked;
	unsigned	 ipv4_prefix;
	unsigned	 ipv6_prefix;
	unsigned	 guessing_threshold;
	unsigned	 history_size;
	char		*submission_ports;
	char		*policy_default_action;
	int		 policy_log;	/* 1: all decisions, 0: refusals */
	char		*user;
	struct sockspec	 milter_listen;
	char		*authserv_id;		/* "": the host name */
	int		 milter_auth_results;
	int		 milter_diag_header;
	int		 milter_header_user;
	char		*milter_submission_daemons;
	unsigned	 milter_control_timeout;	/* ms */
	struct backend	 state_backend;
	char		*redis_prefix;
	unsigned	 redis_timeout;		/* ms */
	unsigned	 shared_history_ttl;	/* ms */
	char		*redis_tls_ca;		/* "": the system's CAs */
	char		*redis_tls_cert;	/* "": no client certificate */
	char		*redis_tls_key;
	struct sockspec	 auth_policy_listen;	/* Dovecot's auth policy */
	char		*auth_policy_api_header; /* "Name: value"; "": none */
	char		*auth_policy_hash_nonce;	/* Dovecot's; "": not known */
	unsigned	 auth_policy_hash_truncate;	/* bits; 0: whole */
	unsigned	 auth_policy_max_wait;	/* ms an allow may wait */
	int		 notify;		/* owner notices on */
	unsigned	 notify_events;		/* bits (1u << enum notice_kind) */
	unsigned	 notify_stale_after;	/* ms */
	unsigned	 notify_repeat;
	unsigned	 notify_interval;	/* ms */
	unsigned	 notify_max_per_hour;
	char		*notify_sendmail;	/* split on spaces, no shell */
	char		*notify_from;
	char		*notify_contact_map;	/* "": none */
	char		*notify_templates;	/* a directory of KIND.txt */
	unsigned	 notify_max_children;
	char		*notify_hostname;	/* "": gethostname() */
	char		*text[CONFIG_KEYS];	/* each value as written */
};

#define CONFIG_ERR_MAX	256

/* A value's type: how a row's text is parsed into its slot. */
enum config_type {
	CT_SOCKET, CT_SOCKET_OPT, CT_STRING, CT_BOOL, CT_NETLIST, CT_DETAIL,
	CT_LOGFMT, CT_DURATION, CT_MODE, CT_LIMIT, CT_UINT, CT_POLICY_LOG,
	CT_BACKEND, CT_FILE, CT_REFUSAL_DELAY, CT_DURATION_OPT, CT_NOTICE_KINDS,
};

/* One key of a file: its name, default, type and slot. */
struct config_param {
	const char	*name;
	const char	*def;
	enum config_type type;
	size_t		 offset;
	unsigned long	 min, max;	/* CT_UINT */
	int		 restart;	/* a reload cannot change it */
};

/*
 * A file's keys: the rows, the size of the structure they fill, where
 * its array of texts as written is (one per row), and what is checked
 * once the whole file is read (NULL: nothing).
 */
struct config_table {
	const struct config_param *rows;
	size_t		 nrows;
	size_t		 size;
	size_t		 text;		/* offset of char *text[nrows] */
	int		(*check)(const void *, const char **);
};

int	conf_parse(const struct config_table *, const char *, size_t,
	    const char *, void *, char *, size_t);
int	conf_load(const struct config_table *, const char *, void *, char *,
	    size_t);
void	conf_free(const struct config_table *, void *);

int	config_parse(const char *, size_t, const char *, struct config *,
	    char *, size_t);
int	config_load(const char *, struct config *, char *, size_t);
void	config_free(struct config *);
int	config_keep_fixed(struct config *, const struct config *, char *,
	    size_t);
int	config_duration(const char *, unsigned *);
int	limit_parse(const char *, struct limit *);

#endif
