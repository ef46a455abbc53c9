/*++
/* NAME
/*	doctor 3h
/* SUMMARY
/*	checks of Postfix and Dovecot settings against authguard's
/*--*/
#ifndef AUTHGUARD_DOCTOR_H
#define AUTHGUARD_DOCTOR_H

#include <stddef.h>

#include "buf.h"

struct kv {
	char	*name;
	char	*value;
};

struct kvlist {
	struct kv *v;
	size_t	 n, cap;
};

struct pf_service {
	char	*name;			/* 587, submission, 127.0.0.1:587 */
	char	*type;			/* inet, unix, ... */
	char	*command;		/* smtpd, ... */
};

struct dv_listener {		/* service auth { unix_listener NAME } */
	char	*name;			/* as written: relative to base_dir */
	int	 mode;			/* -1: not set (Dovecot's default) */
	char	*user;			/* NULL: not set */
	char	*group;
	char	*type;			/* 2.4: userdb, master, ...; NULL */
};

struct doctor_input {
	struct kvlist main;		/* postconf: effective main.cf values */
	struct kvlist overrides;	/* postconf -P: "service/type/name" */
	struct pf_service *svc;		/* postconf -M */
	size_t	 nsvc;
	struct kvlist dovecot;		/* doveconf -n, top level */
	int	 have_dovecot;
	int	 dovecot24;		/* Dovecot 2.4 or later */
	struct dv_listener *lst;	/* service auth's unix listeners */
	size_t	 nlst;
	/* authguard's own settings */
	const char *sasl_path;		/* sasl_listen, "" when inet */
	const char *policy_path;	/* policy_listen, "" when none */
	const char *milter_path;	/* milter_listen */
	const char *submission_ports;
	const char *submission_daemons;	/* milter_submission_daemons */
	int	 require_tls_for_auth;
	int	 tls_exempt;		/* tls_exempt_networks set */
	const char *userdb_path;	/* userdb_upstream, "" unless unix */
	const char *run_user;		/* "user"; "" when unknown */
	const char *run_group;		/* its primary group, "" when unknown */
};

struct finding {
	const char *id;
	char	*where;
	char	*problem;
	char	*fix;
};

struct doctor_report {
	struct finding *f;
	size_t	 n, cap;
};

void	 kvlist_parse(struct kvlist *, const char *, int);
const char *kvlist_get(const struct kvlist *, const char *);
void	 kvlist_free(struct kvlist *);
void	 doctor_parse_master(struct doctor_input *, const char *);
void	 doctor_parse_dovecot(struct doctor_input *, const char *);
void	 doctor_check(const struct doctor_input *, struct doctor_report *);
void	 doctor_input_free(struct doctor_input *);
void	 doctor_report_free(struct doctor_report *);

#endif
