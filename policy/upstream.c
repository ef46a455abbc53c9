/*++
/* NAME
/*	upstream 3
/* SUMMARY
/*	client side of Dovecot's auth-client protocol
/* DESCRIPTION
/*	One connection to Dovecot's auth-client socket carries the
/*	requests of every Postfix connection; requests get ids of our
/*	own and the map from id to request lives here. The connection
/*	is opened at start, reopened with exponential backoff when it
/*	goes away (100 ms doubling to 10 s), and reopened at once when
/*	a request needs it. Requests submitted before Dovecot's
/*	handshake is DONE are queued; a handshake that does not finish
/*	within the upstream timeout counts as a failure.
/*
/*	The mechanism list of Dovecot's last handshake is what the gate
/*	offers Postfix; it is kept in state_dir/mechanisms so that a
/*	restart while Dovecot is down still offers the right list, and
/*	defaults to PLAIN and LOGIN when nothing is known. Requests
/*	made while a handshake runs wait for its DONE; one whose
/*	mechanism the new list lacks is not sent (Dovecot would drop the
/*	connection for it) but handed back through callbacks->refused.
/*
/*	When the connection is lost every request in flight is handed
/*	back through callbacks->lost: the caller answers for it. Those
/*	callbacks may submit new requests (an answer lets waiting
/*	attempts go ahead); while the lost requests are handed back,
/*	upstream_auth() refuses, so that no request is answered as lost
/*	and then sent to the next connection. A request forgotten with
/*	upstream_cancel() before the handshake is DONE leaves the
/*	queue too: an answered request is never sent afterwards.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "event.h"
#include "idmap.h"
#include "metrics.h"
#include "msg.h"
#include "upstream.h"
#include "util.h"

#define UP_BACKOFF_MIN	100
#define UP_BACKOFF_MAX	10000
#define UP_DEFAULT_MECHS "MECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"

enum up_state { UP_DOWN, UP_CONNECTING, UP_HANDSHAKE, UP_READY };

static struct {
	struct sockspec	 spec;
	char		*mechs_path;
	unsigned	 timeout;
	const struct upstream_callbacks *cb;
	enum up_state	 state;
	struct conn	*c;
	struct idmap	 reqs;
	unsigned	 next_id;
	unsigned	 backoff;
	struct ev_timer	 timer;		/* handshake deadline or reconnect */
	struct buf	 mechs;		/* offered to Postfix */
	struct buf	 new_mechs;	/* being received */
	struct buf	 queued;	/* lines waiting for DONE */
	int		 failing;	/* up_fail_all() runs */
} up;

static void up_connect(void);

/* up_state_name - for logs and the CLI */
const char *
upstream_state(void)
{
	static const char *const names[] = {"down", "connecting", "handshake",
	    "ready"};

	return names[up.state];
}

/* upstream_metrics - authguard_upstream_up{state} */
static void
upstream_metrics(struct buf *b)
{
	const char *state = upstream_state();

	metrics_family(b, "authguard_upstream_up", "gauge",
	    "1 when Dovecot's auth-client connection is ready.");
	buf_printf(b, "authguard_upstream_up{state=\"%s\"} %d\n", state,
	    strcmp(state, "ready") == 0);
}

/* up_enter - one place for state changes */
static void
up_enter(enum up_state s)
{
	if (s == UP_READY && up.state != UP_READY)
		msg_info("sasl_upstream: connected to Dovecot");
	up.state = s;
}

/* up_load_mechs - last known list from state_dir */
static void
up_load_mechs(void)
{
	char text[4096];
	ssize_t n;
	int fd;

	buf_reset(&up.mechs);
	if (up.mechs_path && (fd = open(up.mechs_path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0 && text[n - 1] == '\n' && strncmp(text, "MECH\t", 5) == 0
		    && memchr(text, 0, (size_t)n) == NULL) {
			buf_append(&up.mechs, text, (size_t)n);
			return;
		}
	}
	buf_puts(&up.mechs, UP_DEFAULT_MECHS);
}

/* up_save_mechs - remember the list for the next start */
static void
up_save_mechs(void)
{
	char tmp[4200];
	int fd;

	if (up.mechs_path == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", up.mechs_path) >= (int)sizeof(tmp))
		return;
	fd = open_private(tmp);
	if (fd < 0 || write(fd, up.mechs.data, up.mechs.len) !=
	    (ssize_t)up.mechs.len || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, up.mechs_path) < 0) {
		msg_error("cannot save %s: %s", up.mechs_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
}

/*
 * up_fail_all - every request in flight gets no answer; what the callbacks
 * submit meanwhile is refused (see upstream_auth)
 */
static void
up_fail_all(const char *why)
{
	void *req;

	up.failing++;
	while ((req = idmap_pop(&up.reqs)) != NULL)
		up.cb->lost(req, why);
	up.failing--;
}

static void up_retry(struct ev_timer *);

/* up_schedule_retry - try again later, backing off */
static void
up_schedule_retry(void)
{
	ev_timer_start(&up.timer, up.backoff, up_retry);
	up.backoff = up.backoff * 2 > UP_BACKOFF_MAX ? UP_BACKOFF_MAX :
	    up.backoff * 2;
}

/* up_retry - reconnect timer */
static void
up_retry(struct ev_timer *t)
{
	if (up.state == UP_DOWN)
		up_connect();
	else if (up.state != UP_READY) {
		msg_warn("sasl_upstream: no handshake from Dovecot within %u ms",
		    up.timeout);
		conn_close(up.c);
		up.c->dead = 1;
		up.c->ops->closed(up.c, "handshake timeout");
	}
}

/* up_free_conn - deferred release */
static void
up_free_conn(void *p)
{
	conn_free(p);
	free(p);
}

/* up_closed - connection gone: fail requests, schedule a retry */
static void
up_closed(struct conn *c, const char *why)
{
	if (up.state == UP_READY)
		msg_warn("sasl_upstream: connection to Dovecot lost: %s", why);
	conn_close(c);
	ev_defer_free(up_free_conn, c);
	up.c = NULL;
	up_enter(UP_DOWN);
	buf_reset(&up.queued);
	up_fail_all(why);
	if (up.state == UP_DOWN)	/* a request may have reconnected */
		up_schedule_retry();
}

/* up_mech_line - a MECH line: kept for Postfix unless it needs channel binding */
static void
up_mech_line(struct authline *al)
{
	struct auth_mech m;
	int i;

	if (authproto_parse_mech(al, &m) < 0)
		return;
	if (m.flags & AUTH_MECH_CHANNEL_BINDING) {
		msg_info("sasl_upstream: mechanism %s needs TLS channel "
		    "binding, which Postfix cannot give: not offered", m.name);
		return;
	}
	buf_puts(&up.new_mechs, "MECH");
	for (i = 1; i < al->argc; i++)
		buf_printf(&up.new_mechs, "\t%s", al->argv[i]);
	buf_putc(&up.new_mechs, '\n');
}

/*
 * up_queued_unoffered - a queued line is an AUTH for a mechanism the new
 * list lacks: its id and mechanism
 */
static int
up_queued_unoffered(const char *p, const char *nl, unsigned *id,
    char *mech, size_t len)
{
	const char *m, *e;
	char num[16];

	if ((size_t)(nl - p) < 5 || strncmp(p, "AUTH\t", 5) != 0 ||
	    (m = memchr(p + 5, '\t', (size_t)(nl - p - 5))) == NULL ||
	    (size_t)(m - p - 5) >= sizeof(num))
		return 0;
	memcpy(num, p + 5, (size_t)(m - p - 5));
	num[m - p - 5] = 0;
	m++;
	e = m + strcspn(m, "\t\n");
	if (authline_id(num, id) < 0 || (size_t)(e - m) >= len)
		return 0;
	memcpy(mech, m, (size_t)(e - m));
	mech[e - m] = 0;
	return !upstream_offers(mech);
}

/*
 * up_drop_unoffered - the handshake brought a new list: AUTHs queued
 * meanwhile for a mechanism it lacks are taken out (Dovecot would drop
 * the connection for them), and their owners told once the rest is sent
 */
static void
up_drop_unoffered(void)
{
	struct buf keep, why;
	char *p, *end, *nl, mech[32];
	void **gone = NULL;
	size_t n = 0, i;
	unsigned id;

	if (up.queued.len == 0)
		return;
	p = up.queued.data;
	end = p + up.queued.len;
	buf_init(&keep);
	buf_init(&why);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end - 1;
		if (up_queued_unoffered(p, nl, &id, mech, sizeof(mech))) {
			gone = xrealloc(gone, (n + 1) * sizeof(*gone));
			gone[n++] = idmap_del(&up.reqs, id);
			buf_printf(&why, "%s%c", mech, 0);
		} else
			buf_append(&keep, p, (size_t)(nl - p + 1));
	}
	buf_free(&up.queued);		/* wiped: it held credentials */
	up.queued = keep;
	if (up.queued.len) {
		conn_send(up.c, up.queued.data, up.queued.len);
		buf_reset(&up.queued);
	}
	for (i = 0, p = why.data; i < n; p += strlen(p) + 1, i++)
		if (gone[i])
			up.cb->refused(gone[i], p);
	buf_free(&why);
	free(gone);
}

/* up_handshake_line - VERSION, MECH, ..., DONE */
static void
up_handshake_line(struct authline *al)
{
	unsigned major, minor;

	if (strcmp(al->argv[0], "VERSION") == 0 &&
	    (authproto_parse_version(al, &major, &minor) < 0 || major != 1)) {
		msg_error("sasl_upstream: unsupported protocol version %.20s",
		    al->argc >= 2 ? al->argv[1] : "(none)");
		up_closed(up.c, "unsupported protocol version");
	} else if (strcmp(al->argv[0], "MECH") == 0) {
		up_mech_line(al);
	} else if (strcmp(al->argv[0], "DONE") == 0) {
		ev_timer_stop(&up.timer);
		up.backoff = UP_BACKOFF_MIN;
		if (up.new_mechs.len && (up.new_mechs.len != up.mechs.len ||
		    memcmp(up.new_mechs.data, up.mechs.data, up.mechs.len))) {
			buf_reset(&up.mechs);
			buf_append(&up.mechs, up.new_mechs.data, up.new_mechs.len);
			up_save_mechs();
		}
		up_enter(UP_READY);
		up_drop_unoffered();
	}
}

/* up_reply_line - OK/FAIL/CONT for a request */
static void
up_reply_line(struct authline *al)
{
	struct auth_reply r;
	void *req;

	if (authproto_parse_reply(al, &r) < 0) {
		msg_warn("sasl_upstream: unexpected line from Dovecot: %.40s",
		    al->argv[0]);
		return;
	}
	if ((req = idmap_get(&up.reqs, r.id)) == NULL)
		return;		/* cancelled or timed out already */
	if (r.kind != AUTH_REPLY_CONT)
		idmap_del(&up.reqs, r.id);
	up.cb->reply(req, &r, al);
}

/* up_line - one line from Dovecot */
static void
up_line(struct conn *c, char *line, size_t len)
{
	struct authline al;

	if (authline_split(line, len, &al) < 0) {
		msg_warn("sasl_upstream: invalid line from Dovecot (NUL byte "
		    "or too many fields)");
		return;
	}
	if (up.state == UP_HANDSHAKE)
		up_handshake_line(&al);
	else
		up_reply_line(&al);
}

/* up_overlong - a line over the cap: fail its request */
static void
up_overlong(struct conn *c, char *prefix, size_t len)
{
	const char *cmd;
	unsigned id;
	void *req;

	msg_warn("sasl_upstream: line from Dovecot longer than %d bytes "
	    "discarded", AUTHPROTO_LINE_MAX);
	if (authproto_overlong_id(prefix, &cmd, &id) == 0 &&
	    (req = idmap_del(&up.reqs, id)) != NULL)
		up.cb->lost(req, "overlong reply from Dovecot");
}

/* up_connected - send our half of the handshake */
static void
up_connected(struct conn *c)
{
	char hello[64];

	snprintf(hello, sizeof(hello), "VERSION\t1\t2\nCPID\t%ld\n",
	    (long)getpid());
	up_enter(UP_HANDSHAKE);
	buf_reset(&up.new_mechs);
	conn_puts(c, hello);
}

static const struct conn_ops up_ops = {
	.line = up_line,
	.overlong = up_overlong,
	.closed = up_closed,
	.connected = up_connected,
};

/* up_connect - start a connection */
static void
up_connect(void)
{
	const char *err;

	up.c = xcalloc(1, sizeof(*up.c));
	up_enter(UP_CONNECTING);
	ev_timer_start(&up.timer, up.timeout, up_retry);
	if (conn_connect(up.c, &up.spec, AUTHPROTO_LINE_MAX, &up_ops, NULL,
	    "sasl_upstream", &err) < 0) {
		free(up.c);
		up.c = NULL;
		ev_timer_stop(&up.timer);
		if (up.backoff == UP_BACKOFF_MIN)
			msg_warn("sasl_upstream: cannot connect to %s: %s",
			    up.spec.kind == SOCK_UNIX ? up.spec.path : up.spec.host,
			    err);
		up_enter(UP_DOWN);
		up_fail_all(err);
		if (up.state == UP_DOWN)
			up_schedule_retry();
	}
}

/* upstream_init - remember where Dovecot is, and connect */
void
upstream_init(const struct sockspec *spec, const char *state_dir,
    unsigned timeout, const struct upstream_callbacks *cb)
{
	char path[4096];

	up.spec = *spec;
	up.timeout = timeout;
	up.cb = cb;
	up.backoff = UP_BACKOFF_MIN;
	up.next_id = 1;
	idmap_init(&up.reqs);
	metrics_source(METRICS_UPSTREAM, upstream_metrics);
	if (state_dir && snprintf(path, sizeof(path), "%s/mechanisms",
	    state_dir) < (int)sizeof(path))
		up.mechs_path = xstrdup(path);
	up_load_mechs();
	up_connect();
}

/* upstream_set_timeout - a reload changed upstream_timeout */
void
upstream_set_timeout(unsigned timeout)
{
	up.timeout = timeout;
}

/* upstream_mechs - MECH lines to offer Postfix */
const char *
upstream_mechs(void)
{
	return buf_str(&up.mechs);
}

/*
 * upstream_offers - is mech (any case) in the list offered to Postfix?
 * Dovecot takes a request for a mechanism it did not list as a protocol
 * error and drops the connection, with every request on it.
 */
int
upstream_offers(const char *mech)
{
	const char *p = buf_str(&up.mechs), *nl;
	size_t n = strlen(mech);

	for (; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, "MECH\t", 5) == 0 && (size_t)(nl - p) >= 5 + n &&
		    strncasecmp(p + 5, mech, n) == 0 &&
		    (p[5 + n] == '\t' || p[5 + n] == '\n'))
			return 1;
	}
	return 0;
}

/* up_send - write a line now, or queue it until the handshake is done */
static void
up_send(struct buf *line)
{
	if (up.state == UP_READY)
		conn_send(up.c, line->data, line->len);
	else
		buf_append(&up.queued, line->data, line->len);
}

/* upstream_auth - forward an AUTH; returns our id, 0 if Dovecot is down */
unsigned
upstream_auth(void *req, const char *mech, const char *params,
    const char *resp, const char **err)
{
	struct buf line;
	unsigned id;

	if (up.failing) {	/* it would be failed too, or sent unanswered */
		*err = "connection to Dovecot lost";
		return 0;
	}
	if (up.state == UP_DOWN)
		up_connect();
	if (up.state == UP_DOWN) {
		*err = "Dovecot auth service not reachable";
		return 0;
	}
	if ((id = up.next_id++) == 0)
		id = up.next_id++;
	buf_init(&line);
	buf_printf(&line, "AUTH\t%u\t%s%s%s", id, mech, *params ? "\t" : "",
	    params);
	if (resp)
		buf_printf(&line, "\tresp=%s", resp);
	buf_putc(&line, '\n');
	up_send(&line);
	buf_free(&line);
	idmap_put(&up.reqs, id, req);
	return id;
}

/*
 * upstream_cont - forward a client's continuation (relayed mechanisms) on
 * the connection that knows its id; -1 and *err when that one is gone
 */
int
upstream_cont(unsigned id, const char *data, const char **err)
{
	struct buf line;

	/*
	 * Only the connection that opened the request knows its id: once it
	 * is lost (or being failed), a continuation queued for the next one
	 * would carry a proof of the password nobody answers for.
	 */
	if (up.state != UP_READY || up.failing || idmap_get(&up.reqs, id) ==
	    NULL) {
		*err = "connection to Dovecot lost during the exchange";
		return -1;
	}
	buf_init(&line);
	buf_printf(&line, "CONT\t%u\t%s\n", id, data);
	conn_send(up.c, line.data, line.len);
	wipe(line.data, line.len);	/* it may carry a proof */
	buf_free(&line);
	return 0;
}

/* up_unqueue - drop a request's lines from the queue (wiped) */
static void
up_unqueue(unsigned id)
{
	const char *p, *end, *nl, *tab;
	struct buf keep;
	char tag[16];
	size_t n;

	n = (size_t)snprintf(tag, sizeof(tag), "\t%u\t", id);
	buf_init(&keep);
	for (p = up.queued.data, end = p + up.queued.len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end - 1;
		tab = memchr(p, '\t', (size_t)(nl - p));
		if (tab && (size_t)(nl - tab) >= n && memcmp(tab, tag, n) == 0)
			continue;
		buf_append(&keep, p, (size_t)(nl + 1 - p));
	}
	buf_free(&up.queued);
	up.queued = keep;
}

/*
 * upstream_cancel - forget a request; Dovecot is told when reachable, and
 * what still waits for the handshake is never sent
 */
void
upstream_cancel(unsigned id)
{
	char line[32];

	if (idmap_del(&up.reqs, id) == NULL)
		return;
	if (up.state != UP_READY && up.queued.len)
		up_unqueue(id);
	if (up.state == UP_READY) {
		snprintf(line, sizeof(line), "CANCEL\t%u\n", id);
		conn_puts(up.c, line);
	}
}

/* upstream_shutdown - requests in flight are lost; release everything */
void
upstream_shutdown(void)
{
	ev_timer_stop(&up.timer);
	up_fail_all("authguard-policyd is stopping");
	if (up.c) {
		conn_close(up.c);
		ev_defer_free(up_free_conn, up.c);
		up.c = NULL;
	}
	up_enter(UP_DOWN);
	idmap_free(&up.reqs);
	buf_free(&up.mechs);
	buf_free(&up.new_mechs);
	buf_free(&up.queued);
	free(up.mechs_path);
	up.mechs_path = NULL;
}
