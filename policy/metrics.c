/*++
/* NAME
/*	metrics 3
/* SUMMARY
/*	counters, and their Prometheus exposition on metrics_listen
/* DESCRIPTION
/*	Each finished attempt is counted (metrics_attempt: its door,
/*	result, cause, milliseconds from its start to the answer; each
/*	door has its series from the start, a failure's cause with its
/*	first), the limits each
/*	lockout (metrics_lock), the policy service each decision
/*	(metrics_policy). The modules that own a gauge or a counter of
/*	their own (what is tracked, the upstream state, the connections,
/*	the shared state) register the function that writes its families
/*	with metrics_source(), in a slot that fixes its place in the
/*	exposition, and write their HELP and TYPE lines with
/*	metrics_family(); metrics calls no other module. metrics_render()
/*	writes it all in the Prometheus text format (version 0.0.4).
/*
/*	metrics_listen serves "GET /metrics" over HTTP/1.0: one request
/*	per connection, answered and closed. Anything else gets 404 or
/*	405. A request line or header over 1 KiB, or a request over 8 KiB
/*	in all, gets 431 and the connection is closed. A client has 10
/*	seconds from its connect to send its request and read the answer;
/*	then the connection is closed (408 if no request came). At most
/*	64 clients are served at once: one more closes the oldest that
/*	has not sent its whole request yet (a scraper sends it at once,
/*	so idle clients cannot keep it out), with a warning at most once
/*	a minute.
/*--*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "conn.h"
#include "event.h"
#include "metrics.h"
#include "server.h"
#include "util.h"

#define METRICS_RESULTS	3	/* enum attempt_result */
#define METRICS_LINE_MAX	1024	/* request line or header */
#define METRICS_REQUEST_MAX	8192	/* request line and headers */
#define METRICS_TIMEOUT_MS	10000	/* from connect to closed */
#define METRICS_CONNS_MAX	64

/* Gate latency buckets, seconds (from AUTH to Postfix's answer). */
static const double lat_le[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
    2.5, 5, 10};

/* One door's latency histogram. */
struct metrics_latency {
	unsigned long long bucket[NELEM(lat_le)];
	unsigned long long count;
	double		 sum;
};

static struct {
	unsigned long long attempts[PROTO_COUNT][METRICS_RESULTS][CAUSE_COUNT];
	unsigned long long lockouts[2];		/* address, account */
	unsigned long long policy[CAUSE_COUNT];	/* CAUSE_NONE: DUNNO */
	struct metrics_latency lat[PROTO_COUNT];
} m;

struct metrics_conn {
	struct conn	 c;
	int		 lines;
	size_t		 bytes;		/* of the request so far */
	int		 status;	/* 0 until the request line is read */
	int		 replied;
	struct ev_timer	 deadline;
};

static struct server met_server;

/* metrics_attempt - one attempt ended */
void
metrics_attempt(enum proto proto, unsigned result, enum cause cause,
    uint64_t ms)
{
	double secs = (double)ms / 1000;
	struct metrics_latency *lat;
	size_t i;

	if ((unsigned)proto >= PROTO_COUNT)
		return;
	if (result < METRICS_RESULTS && (unsigned)cause < CAUSE_COUNT)
		m.attempts[proto][result][cause]++;
	lat = &m.lat[proto];
	for (i = 0; i < NELEM(lat_le); i++)
		if (secs <= lat_le[i])
			lat->bucket[i]++;
	lat->count++;
	lat->sum += secs;
}

/* metrics_lock - a lockout started */
void
metrics_lock(int account)
{
	m.lockouts[account != 0]++;
}

/* metrics_policy - one policy decision */
void
metrics_policy(enum cause cause)
{
	if ((unsigned)cause < CAUSE_COUNT)
		m.policy[cause]++;
}

/* metrics_family - HELP and TYPE lines */
void
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * render_attempts - authguard_auth_attempts_total{proto,result,cause}:
 * pass and abort of every door always, a failure's cause once seen
 */
static void
render_attempts(struct buf *b)
{
	static const char *const results[] = {"pass", "fail", "abort"};
	int p, r, c;

	metrics_family(b, "authguard_auth_attempts_total", "counter",
	    "Login attempts by door (proto), result and cause.");
	for (p = 0; p < PROTO_COUNT; p++)
		for (r = 0; r < METRICS_RESULTS; r++)
			for (c = 0; c < CAUSE_COUNT; c++)
				if (m.attempts[p][r][c] || (r != 1 && c == 0))
					buf_printf(b, "authguard_auth_attempts_total"
					    "{proto=\"%s\",result=\"%s\",cause=\"%s\"} "
					    "%llu\n", proto_name((enum proto)p),
					    results[r], c ? cause_id((enum cause)c) :
					    "", m.attempts[p][r][c]);
}

/* render_latency - authguard_auth_duration_seconds{proto} histogram */
static void
render_latency(struct buf *b)
{
	const struct metrics_latency *lat;
	const char *name;
	int p;
	size_t i;

	metrics_family(b, "authguard_auth_duration_seconds", "histogram",
	    "Time from a login's start to authguard's answer, by door "
	    "(SMTP: from AUTH to the gate's answer).");
	for (p = 0; p < PROTO_COUNT; p++) {
		lat = &m.lat[p];
		name = proto_name((enum proto)p);
		for (i = 0; i < NELEM(lat_le); i++)
			buf_printf(b, "authguard_auth_duration_seconds_bucket"
			    "{proto=\"%s\",le=\"%g\"} %llu\n", name, lat_le[i],
			    lat->bucket[i]);
		buf_printf(b, "authguard_auth_duration_seconds_bucket{proto="
		    "\"%s\",le=\"+Inf\"} %llu\n"
		    "authguard_auth_duration_seconds_sum{proto=\"%s\"} %.6f\n"
		    "authguard_auth_duration_seconds_count{proto=\"%s\"} %llu\n",
		    name, lat->count, name, lat->sum, name, lat->count);
	}
}

/* render_policy - authguard_policy_decisions_total{action,cause} */
static void
render_policy(struct buf *b)
{
	int c;

	metrics_family(b, "authguard_policy_decisions_total", "counter",
	    "Policy service decisions: dunno, or refused with a cause.");
	buf_printf(b, "authguard_policy_decisions_total{action=\"dunno\","
	    "cause=\"\"} %llu\n", m.policy[0]);
	for (c = 1; c < CAUSE_COUNT; c++)
		if (m.policy[c])
			buf_printf(b, "authguard_policy_decisions_total{action="
			    "\"refuse\",cause=\"%s\"} %llu\n",
			    cause_id((enum cause)c), m.policy[c]);
}

/* render_lockouts - authguard_lockouts_total{kind} */
static void
render_lockouts(struct buf *b)
{
	metrics_family(b, "authguard_lockouts_total", "counter",
	    "Lockouts started by the failure limits.");
	buf_printf(b, "authguard_lockouts_total{kind=\"account\"} %llu\n"
	    "authguard_lockouts_total{kind=\"address\"} %llu\n", m.lockouts[1],
	    m.lockouts[0]);
}

/* The families of each slot, as their owners registered them. */
static metrics_render_fn sources[METRICS_SLOTS];

/* metrics_source - an owner's families, in its slot; again: replaced */
void
metrics_source(enum metrics_slot slot, metrics_render_fn render)
{
	if ((unsigned)slot < METRICS_SLOTS)
		sources[slot] = render;
}

/* metrics_render - the whole exposition */
void
metrics_render(struct buf *b)
{
	size_t i;

	render_attempts(b);
	render_latency(b);
	render_policy(b);
	render_lockouts(b);
	for (i = 0; i < METRICS_SLOTS; i++)
		if (sources[i])
			sources[i](b);
}

/* met_reply - status line, headers, body; then close */
static void
met_reply(struct metrics_conn *mc, int status)
{
	static const char *const reason[] = {[200] = "OK", [404] = "Not Found",
	    [405] = "Method Not Allowed", [408] = "Request Timeout",
	    [431] = "Request Header Fields Too Large"};
	struct buf body, out;

	if (mc->replied++)
		return;
	buf_init(&body);
	buf_init(&out);
	if (status == 200)
		metrics_render(&body);
	else
		buf_printf(&body, "%d %s\n", status, reason[status]);
	buf_printf(&out, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    reason[status], status == 200 ? "text/plain; version=0.0.4; "
	    "charset=utf-8" : "text/plain", body.len);
	buf_append(&out, body.data, body.len);
	conn_send(&mc->c, out.data, out.len);
	conn_finish(&mc->c);
	buf_free(&body);
	buf_free(&out);
}

/* met_line - the request line decides; the headers are skipped */
static void
met_line(struct conn *c, char *line, size_t len)
{
	struct metrics_conn *mc = (struct metrics_conn *)c;

	mc->bytes += len + 1;
	if (len && line[len - 1] == '\r')
		len--;
	if (mc->bytes > METRICS_REQUEST_MAX) {
		met_reply(mc, 431);
		return;
	}
	if (mc->lines++ == 0) {
		if (len < 4 || memcmp(line, "GET ", 4) != 0)
			mc->status = 405;
		else if (len >= 13 && memcmp(line + 4, "/metrics", 8) == 0 &&
		    (line[12] == ' ' || line[12] == '?'))
			mc->status = 200;
		else
			mc->status = 404;
	}
	if (len == 0)
		met_reply(mc, mc->status);
}

/* met_overlong - a request line or header over the cap */
static void
met_overlong(struct conn *c, char *prefix, size_t len)
{
	met_reply((struct metrics_conn *)c, 431);
}

/* met_closed - done or gone */
static void
met_closed(struct conn *c, const char *why)
{
	server_close(&met_server, c);
}

/* met_close - the deadline goes with the connection */
static void
met_close(struct conn *c)
{
	ev_timer_stop(&((struct metrics_conn *)c)->deadline);
}

/* met_timeout - the client had its time: 408 if it sent nothing whole */
static void
met_timeout(struct ev_timer *t)
{
	struct metrics_conn *mc = (struct metrics_conn *)((char *)t -
	    offsetof(struct metrics_conn, deadline));

	if (!mc->replied)
		met_reply(mc, 408);
	if (!mc->c.dead)		/* the answer is not read: give up */
		met_closed(&mc->c, "timeout");
}

/* met_open - a scraper has its time */
static void
met_open(struct conn *c, pid_t pid)
{
	ev_timer_start(&((struct metrics_conn *)c)->deadline,
	    METRICS_TIMEOUT_MS, met_timeout);
}

static const struct conn_ops met_ops = {
	.line = met_line,
	.overlong = met_overlong,
	.closed = met_closed,
};

static const struct server_ops met_server_ops = {
	.listen_name = "metrics_listen",
	.conn_name = "metrics client",
	.size = sizeof(struct metrics_conn),
	.line_max = METRICS_LINE_MAX,
	.conn_ops = &met_ops,
	.open = met_open,
	.close = met_close,
	.max = METRICS_CONNS_MAX,
};

/* metrics_init - serve on a listening socket */
void
metrics_init(const struct config *cfg, int fd)
{
	server_start(&met_server, fd, &met_server_ops);
}

/* metrics_shutdown - close everything */
void
metrics_shutdown(void)
{
	server_stop(&met_server);
}
