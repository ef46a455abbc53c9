/*++
/* NAME
/*	policyproto 3h
/* SUMMARY
/*	Postfix policy delegation requests (SMTPD_POLICY_README)
/*--*/
#ifndef AUTHGUARD_POLICYPROTO_H
#define AUTHGUARD_POLICYPROTO_H

#include <stddef.h>

#include "buf.h"

#define POLICY_ATTR_MAX		128	/* attributes in one request */
#define POLICY_LINE_MAX		8192

/* The attributes the decisions use: found in O(1). */
enum policy_attr {
	PA_PROTOCOL_STATE, PA_SASL_USERNAME, PA_CLIENT_ADDRESS, PA_CLIENT_PORT,
	PA_SERVER_PORT, PA_ENCRYPTION_PROTOCOL, PA_POLICY_CONTEXT, PA_SENDER,
	PA_COUNT
};

#define POLICY_NONE	((size_t)-1)

struct policy_req {
	size_t	 known[PA_COUNT];	/* value offsets, POLICY_NONE */
	int	 n;
	size_t	 name[POLICY_ATTR_MAX];	/* offsets into text */
	size_t	 value[POLICY_ATTR_MAX];
	unsigned hash[POLICY_ATTR_MAX];	/* of the name, to skip strcmp */
	struct buf text;		/* "name\0value\0" for each attribute */
	const char *error;		/* first problem, NULL when well formed */
};

enum policy_push { POLICY_MORE, POLICY_DONE };

void	 policy_req_init(struct policy_req *);
void	 policy_req_reset(struct policy_req *);
void	 policy_req_free(struct policy_req *);
enum policy_push policy_req_line(struct policy_req *, const char *, size_t);
const char *policy_req_get(const struct policy_req *, const char *);
const char *policy_req_attr(const struct policy_req *, enum policy_attr);
const char *policy_attr_name(enum policy_attr);

#endif
