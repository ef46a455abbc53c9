/*++
/* NAME
/*	submission 3h
/* SUMMARY
/*	the policy decision for MAIL and RCPT on submission listeners
/*--*/
#ifndef AUTHGUARD_SUBMISSION_H
#define AUTHGUARD_SUBMISSION_H

#include "cause.h"
#include "netaddr.h"
#include "policyproto.h"

struct submission_cfg {
	const char	*ports;		/* "587 465" */
	int		 require_tls_for_auth;
	const struct netlist *tls_exempt;
};

struct submission_view {
	const char	*user;		/* SASL user; NULL or "": none */
	const char	*tls;		/* TLS protocol; NULL or "": none */
	const char	*client;	/* client address */
	int		 submission;	/* came through a submission listener */
};

enum cause submission_check(const struct submission_view *,
	    const struct submission_cfg *, int);
int	 word_in(const char *, const char *);
int	 submission_listener(const struct policy_req *, const char *);
enum cause submission_decide(const struct policy_req *,
	    const struct submission_cfg *, int);

#endif
