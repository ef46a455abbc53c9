/*++
/* NAME
/*	policy 3
/* SUMMARY
/*	the Postfix policy service
/* DESCRIPTION
/*	Postfix's check_policy_service connects here (policy_listen),
/*	one connection per smtpd process, many requests per connection.
/*	Each complete request gets an answer and one event=policy log
/*	line with a ref: a refusal from submission_decide() as
/*	"530 5.7.0 <text> (ref=...)", otherwise DUNNO. A malformed
/*	request gets policy_default_action and a warning; the connection
/*	and everyone else go on.
/*
/*	The client_address is taken in its canonical form (netaddr_canon:
/*	::ffff:192.0.2.7 is 192.0.2.7) for the session it is matched
/*	against, the log line and the history, so that it reads as the
/*	gate, the limits and the control socket read it.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "cause.h"
#include "conn.h"
#include "event.h"
#include "history.h"
#include "logline.h"
#include "msg.h"
#include "metrics.h"
#include "netaddr.h"
#include "policy.h"
#include "policyproto.h"
#include "ref.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "submission.h"
#include "util.h"

#define POLICY_SESSION_IDLE	3600000	/* ms before a quiet session goes */

struct policy_conn {
	struct conn	 c;		/* first: conn callbacks cast back */
	pid_t		 pid;
	struct policy_req req;
	char		 client[NETADDR_CANON_MAX];	/* policy_client() */
};

static const struct config *pol_cfg;
static struct server pol_server;
static struct ev_timer pol_sweep;

/* policy_client - the request's client_address, canonical; NULL if absent */
static const char *
policy_client(struct policy_conn *pc)
{
	return netaddr_canon(policy_req_attr(&pc->req, PA_CLIENT_ADDRESS),
	    pc->client, sizeof(pc->client));
}

/* policy_log_value - an attribute as logged: the client address canonical */
static const char *
policy_log_value(struct policy_conn *pc, enum policy_attr a)
{
	return a == PA_CLIENT_ADDRESS ? policy_client(pc) :
	    policy_req_attr(&pc->req, a);
}

/* policy_log - the decision's one line */
static void
policy_log(struct policy_conn *pc, const char *ref, const char *action,
    enum cause cause, const struct session_view *sv, const char *error)
{
	struct logline l;
	int i;

	logline_begin(&l, pol_cfg->log_format);
	logline_str(&l, "event", "policy");
	logline_str(&l, "ref", ref);
	logline_str(&l, "action", action);
	if (cause != CAUSE_NONE)
		logline_str(&l, "cause", cause_id(cause));
	for (i = 0; i < PA_COUNT; i++)
		if (i != PA_POLICY_CONTEXT)
			logline_str(&l, policy_attr_name((enum policy_attr)i),
			    policy_log_value(pc, (enum policy_attr)i));
	logline_uint(&l, "smtpd_pid", (unsigned long long)pc->pid);
	if (sv && sv->auth_failed)
		logline_str(&l, "auth_ref", sv->ref);
	logline_str(&l, "detail", error);
	if (cause != CAUSE_NONE)
		logline_str(&l, "hint", cause_info(cause)->hint);
	msg_event(error != NULL, logline_end(&l));
	logline_free(&l);
}

/* policy_remember - a refusal goes into the history, for "why REF" */
static void
policy_remember(struct policy_conn *pc, const char *ref, enum cause cause)
{
	const char *tls = policy_req_attr(&pc->req, PA_ENCRYPTION_PROTOCOL);
	const char *ip = policy_client(pc);
	const char *state = policy_req_attr(&pc->req, PA_PROTOCOL_STATE);
	struct hist_rec h;

	memset(&h, 0, sizeof(h));
	str_copy(h.ref, sizeof(h.ref), ref);
	h.result = 3;		/* refused by the policy service */
	h.cause = (uint8_t)cause;
	h.tls = tls && *tls;
	h.t = store_now();
	h.smtpd_pid = (int32_t)pc->pid;
	if (str_copy(h.mech, sizeof(h.mech), state ? state : "") < 0)
		h.mech[0] = 0;
	if (str_copy(h.ip, sizeof(h.ip), ip ? ip : "") < 0)
		h.ip[0] = 0;
	store_history_add(&h, policy_req_attr(&pc->req, PA_SASL_USERNAME));
}

/* policy_reply - "action=..." and the empty line, in one write */
static void
policy_reply(struct policy_conn *pc, const char *action)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "action=%s\n\n", action);
	conn_send(&pc->c, b.data, b.len);
	buf_free(&b);
}

/* policy_answer - reply to one complete request */
static void
policy_answer(struct policy_conn *pc)
{
	struct submission_cfg sc = {pol_cfg->submission_ports,
	    pol_cfg->require_tls_for_auth, &pol_cfg->tls_exempt_networks};
	enum cause cause = CAUSE_NONE;
	struct session_view sv;
	const char *text, *action = pol_cfg->policy_default_action;
	char ref[REF_LEN + 1], reply[512];

	ref_new(ref);
	memset(&sv, 0, sizeof(sv));
	if (pc->req.error == NULL) {
		session_lookup(pc->pid, policy_client(pc),
		    policy_req_attr(&pc->req, PA_CLIENT_PORT), ev_now(), &sv);
		cause = submission_decide(&pc->req, &sc, sv.auth_failed);
		action = "DUNNO";
	}
	if (cause != CAUSE_NONE) {
		text = cause_client_text(cause, pol_cfg->client_detail);
		snprintf(reply, sizeof(reply), "530 5.7.0 %s%s(ref=%s)",
		    text ? text : "", text ? " " : "", ref);
		action = reply;
	}
	metrics_policy(cause);
	if (cause != CAUSE_NONE || pc->req.error || pol_cfg->policy_log)
		policy_log(pc, ref, action, cause, &sv, pc->req.error);
	if (cause != CAUSE_NONE)
		policy_remember(pc, ref, cause);
	policy_reply(pc, action);
	policy_req_reset(&pc->req);
}

/* policy_line - one attribute line */
static void
policy_line(struct conn *c, char *line, size_t len)
{
	struct policy_conn *pc = (struct policy_conn *)c;

	if (policy_req_line(&pc->req, line, len) == POLICY_DONE)
		policy_answer(pc);
}

/* policy_overlong - an attribute over the cap: the request is malformed */
static void
policy_overlong(struct conn *c, char *prefix, size_t len)
{
	struct policy_conn *pc = (struct policy_conn *)c;

	if (pc->req.error == NULL)
		pc->req.error = "attribute line too long";
}

/* policy_closed - smtpd went away */
static void
policy_closed(struct conn *c, const char *why)
{
	server_close(&pol_server, c);
}

/* policy_open - a new smtpd connection */
static void
policy_open(struct conn *c, pid_t pid)
{
	struct policy_conn *pc = (struct policy_conn *)c;

	pc->pid = pid;
	policy_req_init(&pc->req);
}

/* policy_close - its session goes with the connection */
static void
policy_close(struct conn *c)
{
	session_forget(((struct policy_conn *)c)->pid);
}

/* policy_release - the request being read */
static void
policy_release(struct conn *c)
{
	policy_req_free(&((struct policy_conn *)c)->req);
}

static const struct conn_ops policy_ops = {
	.line = policy_line,
	.overlong = policy_overlong,
	.closed = policy_closed,
};

static const struct server_ops policy_server_ops = {
	.listen_name = "policy_listen",
	.conn_name = "policy client",
	.size = sizeof(struct policy_conn),
	.line_max = POLICY_LINE_MAX,
	.conn_ops = &policy_ops,
	.open = policy_open,
	.close = policy_close,
	.release = policy_release,
};

/* policy_sweep_tick - forget sessions gone quiet */
static void
policy_sweep_tick(struct ev_timer *t)
{
	session_sweep(ev_now(), POLICY_SESSION_IDLE);
	ev_timer_start(&pol_sweep, 60000, policy_sweep_tick);
}

/* policy_init - start the service on a listening socket */
void
policy_init(const struct config *cfg, int fd)
{
	pol_cfg = cfg;
	session_enabled = 1;
	server_start(&pol_server, fd, &policy_server_ops);
	ev_timer_start(&pol_sweep, 60000, policy_sweep_tick);
}

/* policy_shutdown - close everything */
void
policy_shutdown(void)
{
	if (pol_cfg == NULL)
		return;
	server_stop(&pol_server);
	ev_timer_stop(&pol_sweep);
	session_shutdown();
}
