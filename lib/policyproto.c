/*++
/* NAME
/*	policyproto 3
/* SUMMARY
/*	Postfix policy delegation requests (SMTPD_POLICY_README)
/* DESCRIPTION
/*	A request is "name=value" lines ended by an empty line. Lines
/*	are pushed one at a time (without the newline); POLICY_DONE says
/*	the request is complete. A malformed line (no '=', a bad name, a
/*	NUL byte, too many attributes) does not end the request: it is
/*	remembered in req->error, so that the caller answers it with the
/*	default action once it is complete, and the connection stays in
/*	step. Unknown attributes are kept and ignored; a repeated name
/*	keeps its last value.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "policyproto.h"
#include "util.h"

/* policy_req_init - empty request */
void
policy_req_init(struct policy_req *r)
{
	memset(r, 0, sizeof(*r));
}

/* policy_req_reset - forget the attributes, ready for the next request */
void
policy_req_reset(struct policy_req *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->name[i]);
		free(r->value[i]);
	}
	policy_req_init(r);
}

/* valid_name - attribute names are [a-z0-9_] */
static int
valid_name(const char *p, size_t len)
{
	return len > 0 && len < 64 &&
	    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_") >= len;
}

/* policy_req_line - one line of a request */
enum policy_push
policy_req_line(struct policy_req *r, const char *line, size_t len)
{
	const char *eq;
	size_t nlen;
	int i;

	if (len == 0)
		return POLICY_DONE;
	if (memchr(line, 0, len) != NULL) {
		r->error = r->error ? r->error : "NUL byte in attribute";
		return POLICY_MORE;
	}
	if ((eq = memchr(line, '=', len)) == NULL ||
	    !valid_name(line, nlen = (size_t)(eq - line))) {
		r->error = r->error ? r->error : "not a name=value line";
		return POLICY_MORE;
	}
	for (i = 0; i < r->n; i++)
		if (strlen(r->name[i]) == nlen && !memcmp(r->name[i], line, nlen)) {
			free(r->value[i]);
			r->value[i] = xstrndup(eq + 1, len - nlen - 1);
			return POLICY_MORE;
		}
	if (r->n == POLICY_ATTR_MAX) {
		r->error = r->error ? r->error : "too many attributes";
		return POLICY_MORE;
	}
	r->name[r->n] = xstrndup(line, nlen);
	r->value[r->n++] = xstrndup(eq + 1, len - nlen - 1);
	return POLICY_MORE;
}

/* policy_req_get - an attribute's value; NULL when absent */
const char *
policy_req_get(const struct policy_req *r, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}
