/*++
/* NAME
/*	gate 3
/* SUMMARY
/*	the SASL gate: Dovecot's auth-client protocol towards Postfix
/* DESCRIPTION
/*	Postfix's smtpd (smtpd_sasl_type = dovecot) connects here as
/*	if this were Dovecot's auth-client socket. The gate answers the
/*	handshake itself with Dovecot's last mechanism list, so that
/*	smtpd starts even while Dovecot is down, and turns each AUTH
/*	into a request with a life of its own (request 3): PLAIN and
/*	LOGIN are decoded and checked there, other mechanisms relayed
/*	(relay 3), and requests wait at the failure limits in queues by
/*	account and address (park 3). This file is the smtpd side: the
/*	connections, their handshake, and the dispatch of their lines
/*	(AUTH, CONT, CANCEL) to their requests.
/*
/*	A request whose smtpd connection goes away while Dovecot is
/*	still deciding is kept until the outcome arrives, so that the
/*	outcome is logged.
/*
/*	Ending one request can end others of the same connection (its
/*	end lets waiting requests try again, and any of them may be
/*	refused, fail or find Dovecot down at once). Code that walks
/*	the requests of a connection therefore never keeps a pointer to
/*	the next one across a call that can end requests: it starts
/*	over from the head. A connection that must close because of a
/*	request (req_unavailable) is marked closing and stops reading
/*	and writing at once (gate_conn_close_later); its remaining
/*	requests end from the event loop, never inside the code that
/*	failed. The requests of a closing connection are never woken,
/*	and gate_conn_close() is idempotent.
/*--*/
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "attempt.h"
#include "authproto.h"
#include "buf.h"
#include "cause.h"
#include "conn.h"
#include "event.h"
#include "gate.h"
#include "metrics.h"
#include "msg.h"
#include "park.h"
#include "relay.h"
#include "request.h"
#include "server.h"
#include "upstream.h"
#include "util.h"

static struct server gate_server;
static unsigned gate_cuid;

static void gate_conn_close(struct gate_conn *, const char *);
static void gate_unparsable(struct gate_conn *, char *, size_t, const char *);

/* gate_connections - how many smtpd connections are open */
unsigned
gate_connections(void)
{
	return (unsigned)server_count(&gate_server);
}

/*
 * gate_limits_changed - the admin locked or unlocked an account or address
 * key (NULL both: anything may have changed): requests waiting for it are
 * decided now, not when an earlier attempt ends or they time out
 */
void
gate_limits_changed(const char *account, const char *addr)
{
	if (account == NULL && addr == NULL)
		park_wake_all();
	else
		park_wake(account, addr);
}

/* gate_find - the request with Postfix's id on this connection */
static struct gate_req *
gate_find(struct gate_conn *gc, unsigned cid)
{
	struct gate_req *r;

	LIST_FOREACH(r, &gc->reqs, conn_link)
		if (r->cid == cid)
			return r;
	return NULL;
}

/* gate_first_waiting - a request of gc waiting for the client, or NULL */
static struct gate_req *
gate_first_waiting(struct gate_conn *gc)
{
	struct gate_req *r;

	LIST_FOREACH(r, &gc->reqs, conn_link)
		if (r->state == RS_CLIENT)
			return r;
	return NULL;
}

/*
 * gate_abandon_waiting - a new AUTH ends exchanges left half-way (from the
 * head each time: an end can end other requests of gc)
 */
static void
gate_abandon_waiting(struct gate_conn *gc)
{
	struct gate_req *r;

	while ((r = gate_first_waiting(gc)) != NULL)
		req_abort(r, "client cancelled or started over");
}

/* join_params - the AUTH parameters to forward, without resp= */
static char *
join_params(const struct authline *al, int first)
{
	struct buf b;
	char *s;
	int i;

	buf_init(&b);
	for (i = first; i < al->argc; i++) {
		if (strncmp(al->argv[i], "resp=", 5) == 0)
			continue;
		buf_printf(&b, "%s%s", b.len ? "\t" : "", al->argv[i]);
	}
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* req_refuse_line - an AUTH line that cannot be served: FAIL it with a ref */
static void
req_refuse_line(struct gate_conn *gc, unsigned id, const struct authline *al,
    const char *why)
{
	char mech[32] = "?";
	struct gate_req *r;

	if (al->argc > 2 && authproto_valid_mech(al->argv[2]) &&
	    str_copy(mech, sizeof(mech), al->argv[2]) == 0)
		str_upper(mech);

	r = req_new(gc, id, mech, authline_param(al, 3, "rip"),
	    authline_param(al, 3, "secured") != NULL);
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* gate_auth - AUTH from Postfix */
static void
gate_auth(struct gate_conn *gc, struct authline *al)
{
	struct auth_request ar;
	struct gate_req *r;
	const char *err;
	unsigned id;

	gate_abandon_waiting(gc);
	if (gc->closing)
		return;
	if (authproto_parse_auth(al, &ar, &err) < 0) {
		if (al->argc < 2 || authline_id(al->argv[1], &id) < 0)
			msg_warn("%s: AUTH without a valid id ignored: %s",
			    gc->c.name, err);
		else if (gate_find(gc, id) == NULL)
			req_refuse_line(gc, id, al, err);
		return;
	}
	if (gate_find(gc, ar.id)) {
		msg_warn("%s: AUTH reuses id %u of a pending request; ignored",
		    gc->c.name, ar.id);
		return;
	}
	r = req_new(gc, ar.id, ar.mech, ar.rip, ar.secured);
	r->kind = strcmp(ar.mech, "PLAIN") == 0 ? RK_PLAIN :
	    strcmp(ar.mech, "LOGIN") == 0 ? RK_LOGIN : RK_RELAY;
	if (req_mech_refused(r) || req_tls_refused(r, &ar))
		return;
	r->params = join_params(al, ar.first_param);
	if (r->kind == RK_RELAY) {
		r->resp = ar.resp ? xstrdup(ar.resp) : NULL;
		req_relay_start(r);
	}
	else if (r->kind == RK_PLAIN && ar.resp)
		req_plain(r, ar.resp);
	else if (r->kind == RK_PLAIN)
		req_send_cont(r, "");
	else if (ar.resp)
		req_login(r, ar.resp);
	else
		req_send_cont(r, "VXNlcm5hbWU6");	/* "Username:" */
}

/* gate_cont - CONT from Postfix: the client's response */
static void
gate_cont(struct gate_conn *gc, struct authline *al)
{
	struct gate_req *r;
	unsigned id;
	char line[96];

	if (al->argc < 3 || authline_id(al->argv[1], &id) < 0) {
		msg_warn("%s: malformed CONT ignored", gc->c.name);
		return;
	}
	if ((r = gate_find(gc, id)) == NULL || r->state != RS_CLIENT) {
		msg_warn("%s: CONT for %s request %u", gc->c.name,
		    r ? "a busy" : "an unknown", id);
		if (r == NULL) {
			snprintf(line, sizeof(line), "FAIL\t%u\treason=unknown "
			    "authentication request\n", id);
			conn_puts(&gc->c, line);
		}
		return;
	}
	r->asked = ev_now();
	if (r->kind == RK_PLAIN)
		req_plain(r, al->argv[2]);
	else if (r->kind == RK_LOGIN)
		req_login(r, al->argv[2]);
	else
		req_relay_cont(r, al->argv[2]);
}

/* gate_cancel - CANCEL from a client: drop the request */
static void
gate_cancel(struct gate_conn *gc, struct authline *al)
{
	struct gate_req *r;
	unsigned id;

	if (al->argc < 2 || authline_id(al->argv[1], &id) < 0 ||
	    (r = gate_find(gc, id)) == NULL)
		return;
	if (r->state == RS_DELAYED)	/* refused already: no answer wanted */
		req_end(r);
	else
		req_abort(r, "cancelled by the client");
}

/* gate_line - one line from smtpd */
static void
gate_line(struct conn *c, char *line, size_t len)
{
	struct gate_conn *gc = (struct gate_conn *)c;
	struct authline al;
	unsigned long pid;
	unsigned major, minor;

	if (authline_split(line, len, &al) < 0) {
		gate_unparsable(gc, line, len, "NUL byte or too many fields");
		return;
	}
	if (strcmp(al.argv[0], "AUTH") == 0)
		gate_auth(gc, &al);
	else if (strcmp(al.argv[0], "CONT") == 0)
		gate_cont(gc, &al);
	else if (strcmp(al.argv[0], "CANCEL") == 0)
		gate_cancel(gc, &al);
	else if (strcmp(al.argv[0], "VERSION") == 0) {
		if (authproto_parse_version(&al, &major, &minor) < 0 ||
		    major != 1)
			gate_conn_close(gc, "unsupported protocol version");
	} else if (strcmp(al.argv[0], "CPID") == 0) {
		if (!gc->peercred && al.argc >= 2 &&
		    parse_uint(al.argv[1], 0x7fffffff, &pid) == 0)
			gc->pid = (pid_t)pid;
	} else
		msg_warn("%s: unknown command ignored: %.20s", c->name,
		    al.argv[0]);
}

/* gate_unparsable - a line too long or invalid: fail its request, if any */
static void
gate_unparsable(struct gate_conn *gc, char *line, size_t len, const char *why)
{
	struct authline al;
	struct gate_req *r;
	const char *cmd;
	unsigned id;

	msg_warn("%s: %s; line discarded", gc->c.name, why);
	if (authproto_overlong_id(line, &cmd, &id) < 0)
		return;
	if (strcmp(cmd, "AUTH") == 0) {
		gate_abandon_waiting(gc);
		if (gc->closing || gate_find(gc, id) != NULL)
			return;
		if (authline_split(line, strnlen(line, len), &al) < 0)
			al.argc = 0;
		req_refuse_line(gc, id, &al, why);
		return;
	}
	if (strcmp(cmd, "CONT") != 0 || (r = gate_find(gc, id)) == NULL ||
	    r->state != RS_CLIENT)
		return;
	attempt_set_detail(&r->at, why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/* gate_overlong - a line over 16 KiB */
static void
gate_overlong(struct conn *c, char *prefix, size_t len)
{
	gate_unparsable((struct gate_conn *)c, prefix, len,
	    "line longer than 16 KiB");
}

/*
 * gate_conn_close - end an smtpd connection and its requests; why NULL: on
 * purpose. Idempotent.
 */
static void
gate_conn_close(struct gate_conn *gc, const char *why)
{
	if (gc->closed)
		return;
	if (why)
		msg_warn("%s: closing: %s", gc->c.name, why);
	server_close(&gate_server, &gc->c);
}

/*
 * gate_close - the gate's part of closing a connection: its requests end
 * (an abort can end other requests of gc, so each round takes the head of
 * the list again)
 */
static void
gate_close(struct conn *c)
{
	struct gate_conn *gc = (struct gate_conn *)c;
	struct gate_req *r;

	gc->closed = gc->closing = 1;
	ev_timer_stop(&gc->close_later);
	conn_close(&gc->c);
	while ((r = LIST_FIRST(&gc->reqs)) != NULL) {
		if (r->state == RS_DELAYED)	/* decided: logged as it is */
			req_end(r);
		else if (r->state == RS_CLIENT || r->state == RS_PARKED)
			req_abort(r, "smtpd connection closed");
		else
			req_unlink(r);	/* keep it to log its outcome */
	}
}

/* gate_release - the name gate_open() gave */
static void
gate_release(struct conn *c)
{
	free((char *)c->name);
}

/* gate_conn_close_timer - the deferred end of a closing connection */
static void
gate_conn_close_timer(struct ev_timer *t)
{
	gate_conn_close((struct gate_conn *)((char *)t -
	    offsetof(struct gate_conn, close_later)), NULL);
}

/*
 * gate_conn_close_later - smtpd must see the connection end now (its 454),
 * but the caller is in the middle of a request: stop all I/O here, end the
 * other requests from the event loop
 */
static void
gate_conn_close_later(struct gate_conn *gc)
{
	if (gc->closing)
		return;
	gc->closing = 1;
	conn_close(&gc->c);
	ev_timer_start(&gc->close_later, 0, gate_conn_close_timer);
}

/* gate_closed - smtpd went away (normal at smtpd exit) */
static void
gate_closed(struct conn *c, const char *why)
{
	struct gate_conn *gc = (struct gate_conn *)c;

	if (msg_verbose)
		msg_info("%s: %s", c->name, why);
	gate_conn_close(gc, NULL);
}

static const struct conn_ops gate_ops = {
	.line = gate_line,
	.overlong = gate_overlong,
	.closed = gate_closed,
};

/* gate_hello - our half of the handshake, sent at once */
static void
gate_hello(struct gate_conn *gc)
{
	unsigned char rnd[16];
	struct buf b;
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	buf_init(&b);
	buf_puts(&b, "VERSION\t1\t2\n");
	buf_puts(&b, upstream_mechs());
	buf_printf(&b, "SPID\t%ld\nCUID\t%u\nCOOKIE\t", (long)getpid(),
	    ++gate_cuid);
	for (i = 0; i < sizeof(rnd); i++)
		buf_printf(&b, "%02x", rnd[i]);
	buf_puts(&b, "\nDONE\n");
	conn_send(&gc->c, b.data, b.len);
	buf_free(&b);
}

/* gate_open - a new smtpd connection */
static void
gate_open(struct conn *c, pid_t pid)
{
	struct gate_conn *gc = (struct gate_conn *)c;
	char name[48];

	gc->pid = pid;
	gc->peercred = pid > 0;
	snprintf(name, sizeof(name), "sasl client pid %ld", (long)gc->pid);
	c->name = xstrdup(name);
	LIST_INIT(&gc->reqs);
	gate_hello(gc);
}

static const struct server_ops gate_server_ops = {
	.listen_name = "sasl_listen",
	.conn_name = "sasl client",
	.size = sizeof(struct gate_conn),
	.line_max = AUTHPROTO_LINE_MAX,
	.conn_ops = &gate_ops,
	.open = gate_open,
	.close = gate_close,
	.release = gate_release,
};

/* gate_metrics - authguard_sasl_connections (registered by gate_init) */
static void
gate_metrics(struct buf *b)
{
	metrics_family(b, "authguard_sasl_connections", "gauge",
	    "Open connections from Postfix's smtpd processes.");
	buf_printf(b, "authguard_sasl_connections %zu\n",
	    server_count(&gate_server));
}

/* gate_init - wire the gate to its upstreams and to metrics */
void
gate_init(const struct config *cfg, struct accounts_map *accounts)
{
	metrics_source(METRICS_SASL, gate_metrics);
	req_init(cfg, accounts, gate_conn_close_later);
}

/* gate_listen - start accepting on the SASL socket */
void
gate_listen(int fd)
{
	server_start(&gate_server, fd, &gate_server_ops);
}

/* gate_shutdown - close the listener and every smtpd connection */
void
gate_shutdown(void)
{
	server_stop(&gate_server);
	req_shutdown();
}
