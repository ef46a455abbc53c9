/*++
/* NAME
/*	policyproto 3h
/* SUMMARY
/*	Postfix policy delegation requests (SMTPD_POLICY_README)
/*--*/
#ifndef AUTHGUARD_POLICYPROTO_H
#define AUTHGUARD_POLICYPROTO_H

#include <stddef.h>

#define POLICY_ATTR_MAX		128	/* attributes in one request */
#define POLICY_LINE_MAX		8192

struct policy_req {
	int	 n;
	char	*name[POLICY_ATTR_MAX];
	char	*value[POLICY_ATTR_MAX];
	const char *error;		/* first problem, NULL when well formed */
};

enum policy_push { POLICY_MORE, POLICY_DONE };

void	 policy_req_init(struct policy_req *);
void	 policy_req_reset(struct policy_req *);
enum policy_push policy_req_line(struct policy_req *, const char *, size_t);
const char *policy_req_get(const struct policy_req *, const char *);

#endif
