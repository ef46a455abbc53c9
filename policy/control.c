/*++
/* NAME
/*	control 3
/* SUMMARY
/*	the control socket: a request, its command's handler, the answer
/* DESCRIPTION
/*	The admin CLI and authguard-milter connect to control_listen,
/*	send one request line and read the answer until the server
/*	closes the connection:
/*
/*	request:  COMMAND TAB FORMAT TAB ARGUMENT	(FORMAT: text | json)
/*	answer:   "OK" LF body, or "ERR" SP message LF
/*
/*	Options may follow the argument as TAB-separated NAME=VALUE
/*	fields: since=SECONDS (why, top), by=user|address|cause|proto (top),
/*	for=SECONDS (lock), actor=NAME (lock, unlock: who acts, for the
/*	log; at most CTL_ACTOR_MAX bytes, no CR; a TAB or LF cannot be in
/*	a field). The uid of the peer (SO_PEERCRED) goes with the request
/*	to its handler, for the same log line.
/*
/*	The commands are those of CTL_COMMANDS() (ctlcmd 3h); each has
/*	its handler ctl_NAME() (ctl 3h), in ctl_why.c (why, session),
/*	ctl_top.c (top), ctl_overview.c (overview) and ctl_admin.c (lock,
/*	unlock, stats, metrics).
/*	ctl_handlers[] adds them to the table by the same list. A handler
/*	may answer later (why, asking the shared state first): the
/*	connection then waits, and is answered by control_reply(). Text
/*	output escapes whatever came from the network, as the log does.
/*
/*	The listener and its connections are a server (server 3).
/*	control_command() answers a request line at once, as a handler
/*	answers without a shared state.
/*
/*	Lengths: a request line may be CTL_REQUEST_MAX bytes, room for
/*	any command with an argument of SASL_FIELD_MAX bytes (the longest
/*	user name the gate accepts) and every option. A longer line, or a
/*	longer argument, is refused with an ERR that says so and a log
/*	line; nothing is cut short. An address argument is taken in its
/*	canonical form (netaddr_canon(): ::ffff:192.0.2.7 is 192.0.2.7),
/*	as the gate records and counts it.
/*
/*	An answer may be CTL_ANSWER_MAX bytes, what a client reads
/*	(ctlclient 3) and what a connection queues (CONN_OUT_MAX). The
/*	handlers keep theirs under it (why and session show the attempts
/*	that fit a byte budget, overview has one per table); should one
/*	still be longer, the client gets "ERR answer too long (N bytes)"
/*	instead of nothing, and the log a warning, at most one a
/*	minute, with how many more there were since.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "event.h"
#include "ctl.h"
#include "ctlclient.h"
#include "ctlcmd.h"
#include "hush.h"
#include "logline.h"
#include "msg.h"
#include "netaddr.h"
#include "server.h"
#include "util.h"

/* The handler of each command of CTL_COMMANDS(): ctl_NAME, by the same list. */
static const ctl_handler ctl_handlers[CTL_CMD_COUNT] = {
#define CTL_HANDLER_ROW(name, arg, opts, flags, help) [CTL_CMD_##name] = ctl_##name,
	CTL_COMMANDS(CTL_HANDLER_ROW)
#undef CTL_HANDLER_ROW
};

struct control_conn {
	struct conn	 c;
	struct ctl_pending *pending;	/* its handler is asking */
};

static const struct config *ctl_cfg;
static struct server ctl_server;

#define CONTROL_WARN_EVERY	60000	/* ms between "answer too long" lines */

/* an answer that fits is queued whole on a new connection */
_Static_assert(CTL_ANSWER_MAX <= CONN_OUT_MAX, "CONN_OUT_MAX below CTL_ANSWER_MAX");

static const char ctl_opts_err[] = "ERR options: since=SECONDS, "
    "by=user|address|cause|proto, for=SECONDS, actor=NAME\n";
static const char ctl_actor_err[] = "ERR actor: 1 to 128 bytes, no TAB, CR "
    "or LF\n";

/* actor_set - actor=NAME: 1 to CTL_ACTOR_MAX bytes, no CR (TAB, LF end the field) */
static int
actor_set(const char *v, struct ctl_opts *o)
{
	if (*v == 0 || strpbrk(v, "\t\r\n") ||
	    str_copy(o->actor, sizeof(o->actor), v) < 0)
		return -1;
	return 0;
}

/* opt_set - one "name=value" field of the table's options into o */
static int
opt_set(const struct ctl_opt *opt, const char *v, struct ctl_opts *o)
{
	unsigned long n;

	if (opt == NULL)
		return -1;
	if (opt->bit == CTL_OPT_BY)
		return str_copy(o->by, sizeof(o->by), v) < 0 ? -1 : 0;
	if (opt->bit == CTL_OPT_ACTOR)
		return actor_set(v, o);
	if (parse_uint(v, 0xffffffffUL, &n) < 0)
		return -1;
	if (opt->bit == CTL_OPT_SINCE)
		o->since = n;
	else {				/* CTL_OPT_FOR */
		o->for_secs = n;
		o->for_set = 1;
	}
	return 0;
}

/* ctl_opts_parse - "name=value" fields after the argument; the ERR text, or NULL */
static const char *
ctl_opts_parse(char *save, struct ctl_opts *o)
{
	char *f, *v;

	memset(o, 0, sizeof(*o));
	while ((f = strtok_r(NULL, "\t", &save)) != NULL) {
		if ((v = strchr(f, '=')) == NULL)
			return ctl_opts_err;
		*v++ = 0;
		if (opt_set(ctl_opt_field(f), v, o) < 0)
			return strcmp(f, "actor") == 0 ? ctl_actor_err :
			    ctl_opts_err;
	}
	return NULL;
}

/* log_refused_actor - an actor= the request may not name, logged */
static void
log_refused_actor(const char *cmd)
{
	struct buf l;

	buf_init(&l);
	escaped_value(&l, LOG_FORMAT_LOGFMT, cmd);
	msg_warn("control: %s refused: actor= of more than %d bytes, empty, "
	    "or with a CR", buf_str(&l), CTL_ACTOR_MAX);
	buf_free(&l);
}

/* too_long - refuse an argument no account can have, saying so, and log it */
static int
too_long(struct buf *b, const char *cmd, size_t len)
{
	struct buf l;

	buf_init(&l);
	escaped_value(&l, LOG_FORMAT_LOGFMT, cmd);
	msg_warn("control: %s refused: an argument of %zu bytes, longer than "
	    "the %d of the longest user name", buf_str(&l), len,
	    CONTROL_NAME_MAX);
	buf_free(&l);
	buf_printf(b, "ERR argument of %zu bytes: no user name is longer than "
	    "%d bytes\n", len, CONTROL_NAME_MAX);
	return -1;
}

/*
 * req_parse - split a request line (copied: free with req_free); -1
 * with the ERR answer in b
 */
static int
req_parse(const char *line, struct ctl_req *q, struct buf *b)
{
	char *fmt, *arg, *save = NULL;
	const char *err;

	memset(q, 0, sizeof(*q));
	q->peer_uid = CTL_PEER_UNKNOWN;
	q->copy = xstrdup(line);
	q->cmd = strtok_r(q->copy, "\t", &save);
	fmt = strtok_r(NULL, "\t", &save);
	arg = strtok_r(NULL, "\t", &save);
	if (q->cmd == NULL || fmt == NULL || arg == NULL || *arg == 0 ||
	    (strcmp(fmt, "text") && strcmp(fmt, "json")))
		return buf_puts(b, "ERR usage: COMMAND<TAB>text|json<TAB>"
		    "ARGUMENT[<TAB>NAME=VALUE...]\n"), -1;
	if (strlen(arg) > CONTROL_NAME_MAX)
		return too_long(b, q->cmd, strlen(arg));
	if ((err = ctl_opts_parse(save, &q->o)) != NULL) {
		if (err == ctl_actor_err)
			log_refused_actor(q->cmd);
		return buf_puts(b, err), -1;
	}
	q->fmt = strcmp(fmt, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_LOGFMT;
	q->cfg = ctl_cfg;
	q->arg = netaddr_canon(arg, q->canon, sizeof(q->canon));
	return 0;
}

/* req_free - release a parsed request */
static void
req_free(struct ctl_req *q)
{
	free(q->copy);
	q->copy = NULL;
}

/* req_run - a parsed request to its handler's answer, or CTL_LATER */
static int
req_run(const struct ctl_req *q, struct buf *b)
{
	int i = ctl_cmd_find(q->cmd);

	if (i < 0) {
		buf_puts(b, "ERR unknown command\n");
		return -1;
	}
	return ctl_handlers[i](q, b);
}

/* control_command - one request line to its answer */
int
control_command(const char *line, struct buf *b)
{
	struct ctl_req q;
	int rc = -1;

	if (req_parse(line, &q, b) == 0)
		rc = req_run(&q, b);
	req_free(&q);
	return rc;
}

/* warn_too_long - the warning for an answer too long, at most one a minute */
static void
warn_too_long(size_t len)
{
	static struct hush hush;
	long quiet = hush_pass(&hush, ev_now(), CONTROL_WARN_EVERY);

	if (quiet < 0)
		return;
	msg_warn("control: answer too long: %zu bytes, more than %d; the "
	    "client gets an ERR instead (%ld more since the last warning)",
	    len, CTL_ANSWER_MAX, quiet);
}

/* control_fit - an answer a client takes: b itself, or the ERR in its place */
void
control_fit(struct buf *b)
{
	size_t len = b->len;

	if (len <= CTL_ANSWER_MAX)
		return;
	warn_too_long(len);
	buf_reset(b);
	buf_printf(b, "ERR answer too long (%zu bytes)\n", len);
}

/* control_answer - send an answer that fits, and end */
static void
control_answer(struct conn *c, struct buf *b)
{
	control_fit(b);
	conn_send(c, b->data, b->len);
	conn_finish(c);
}

/* control_reply - a handler's later answer, and the end */
static void
control_reply(void *ctx, struct buf *b)
{
	struct control_conn *cc = ctx;

	control_answer(&cc->c, b);
}

/* peer_uid - the uid of the process at the other end, or CTL_PEER_UNKNOWN */
static long
peer_uid(const struct conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(c->io.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return CTL_PEER_UNKNOWN;
	return (long)cred.uid;
}

/* control_line - the request: answered now, or once its handler has asked */
static void
control_line(struct conn *c, char *line, size_t len)
{
	struct control_conn *cc = (struct control_conn *)c;
	struct ctl_later later = {&cc->pending, control_reply, cc};
	struct ctl_req q;
	struct buf b;
	int asked = 0;

	if (cc->pending)
		return;		/* one request per connection */
	buf_init(&b);
	memset(&q, 0, sizeof(q));
	if (memchr(line, 0, len))
		buf_puts(&b, "ERR NUL byte in request\n");
	else if (req_parse(line, &q, &b) == 0) {
		q.later = &later;
		q.peer_uid = peer_uid(c);
		asked = req_run(&q, &b) == CTL_LATER;	/* it answers */
	}
	req_free(&q);
	if (!asked)
		control_answer(c, &b);
	buf_free(&b);
}

/* control_overlong - refuse, saying how long a request may be, and log it */
static void
control_overlong(struct conn *c, char *prefix, size_t len)
{
	char text[96];

	msg_warn("control: request too long: more than %d bytes, refused",
	    CTL_REQUEST_MAX);
	snprintf(text, sizeof(text), "ERR request too long: more than %d "
	    "bytes\n", CTL_REQUEST_MAX);
	conn_puts(c, text);
	conn_finish(c);
}

/* control_closed - done or gone */
static void
control_closed(struct conn *c, const char *why)
{
	server_close(&ctl_server, c);
}

/* control_close - what its handler waits for goes with the connection */
static void
control_close(struct conn *c)
{
	struct control_conn *cc = (struct control_conn *)c;

	if (cc->pending)
		ctl_pending_cancel(cc->pending);
}

static const struct conn_ops control_ops = {
	.line = control_line,
	.overlong = control_overlong,
	.closed = control_closed,
};

static const struct server_ops control_server_ops = {
	.listen_name = "control_listen",
	.conn_name = "control client",
	.size = sizeof(struct control_conn),
	.line_max = CTL_REQUEST_MAX,
	.conn_ops = &control_ops,
	.close = control_close,
};

/* control_init - start accepting */
void
control_init(const struct config *cfg, int fd)
{
	ctl_cfg = cfg;
	server_start(&ctl_server, fd, &control_server_ops);
}

/* control_shutdown - close everything */
void
control_shutdown(void)
{
	server_stop(&ctl_server);
}
