/*++
/* NAME
/*	submission 3
/* SUMMARY
/*	the policy decision for MAIL and RCPT on submission listeners
/* DESCRIPTION
/*	submission_check() is pure: what is known of a MAIL or RCPT
/*	(struct submission_view), the settings and whether an AUTH of the
/*	session failed in, a cause out (CAUSE_NONE: accept). The policy
/*	service fills the view from a request (submission_decide()), the
/*	milter from its macros. On a submission listener (policy_context=submission, or
/*	server_port in submission_ports), MAIL or RCPT without
/*	sasl_username is refused with the reason the client has for
/*	not being authenticated: its AUTH failed earlier in this session
/*	(auth-failed-then-sent), it never started TLS (no-auth-no-tls),
/*	or it had TLS and never tried (no-auth-attempted). A session
/*	authenticated without TLS, where TLS is required, is refused as
/*	cleartext-auth on any listener.
/*--*/
#include <string.h>

#include "netaddr.h"
#include "submission.h"

/* word_in - is w one of the space/comma separated words of list? */
int
word_in(const char *w, const char *list)
{
	size_t n = strlen(w);
	const char *p = list;

	if (n == 0)
		return 0;
	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || strchr(" ,\t", p[-1])) &&
		    (p[n] == 0 || strchr(" ,\t", p[n])))
			return 1;
		p += n;
	}
	return 0;
}

/* submission_listener - did the request come through a submission port? */
int
submission_listener(const struct policy_req *r, const char *ports)
{
	const char *ctx = policy_req_attr(r, PA_POLICY_CONTEXT);
	const char *port = policy_req_attr(r, PA_SERVER_PORT);

	if (ctx && strcmp(ctx, "submission") == 0)
		return 1;
	return port && ports && word_in(port, ports);
}

/* empty - absent or "" */
static int
empty(const char *s)
{
	return s == NULL || *s == 0;
}

/* submission_check - the decision for one MAIL or RCPT, from any front */
enum cause
submission_check(const struct submission_view *v,
    const struct submission_cfg *cfg, int auth_failed)
{
	if (!empty(v->user)) {
		if (empty(v->tls) && cfg->require_tls_for_auth &&
		    !(cfg->tls_exempt && netlist_match_str(cfg->tls_exempt,
		    v->client ? v->client : "")))
			return CAUSE_CLEARTEXT_AUTH;
		return CAUSE_NONE;
	}
	if (!v->submission)
		return CAUSE_NONE;
	if (auth_failed)
		return CAUSE_AUTH_FAILED_THEN_SENT;
	return empty(v->tls) ? CAUSE_NO_AUTH_NO_TLS : CAUSE_NO_AUTH_ATTEMPTED;
}

/* submission_decide - a policy request: the cause to refuse with */
enum cause
submission_decide(const struct policy_req *r, const struct submission_cfg *cfg,
    int auth_failed)
{
	const char *state = policy_req_attr(r, PA_PROTOCOL_STATE);
	struct submission_view v;

	if (state == NULL || (strcmp(state, "MAIL") && strcmp(state, "RCPT")))
		return CAUSE_NONE;
	v.user = policy_req_attr(r, PA_SASL_USERNAME);
	v.tls = policy_req_attr(r, PA_ENCRYPTION_PROTOCOL);
	v.client = policy_req_attr(r, PA_CLIENT_ADDRESS);
	v.submission = submission_listener(r, cfg->ports);
	return submission_check(&v, cfg, auth_failed);
}
