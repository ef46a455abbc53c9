/*++
/* NAME
/*	metrics 3
/* SUMMARY
/*	counters, and their Prometheus exposition on metrics_listen
/* DESCRIPTION
/*	Each finished attempt is counted (metrics_attempt: its door,
/*	result, cause, milliseconds from its start to the answer; each
/*	door has its series from the start, a failure's cause with its
/*	first), the limits each lockout (metrics_lock), the policy
/*	service each decision (metrics_policy). The modules that own a gauge or a counter of
/*	their own (what is tracked, the upstream state, the connections,
/*	the shared state) register the function that writes its families
/*	with metrics_source(), in a slot that fixes its place in the
/*	exposition, and write their HELP and TYPE lines with
/*	metrics_family(); metrics calls no other module. metrics_render()
/*	writes it all in the Prometheus text format (version 0.0.4).
/*
/*	metrics_listen serves "GET /metrics" over HTTP/1.1 (http 3):
/*	connections are kept alive between requests, and closed after 10
/*	seconds idle; at most 64 clients are served at once, the others
/*	wait in the listen queue. Another path gets 404, another method
/*	405, a request with a body 413.
/*--*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "util.h"

#define METRICS_RESULTS	3	/* enum attempt_result */
#define METRICS_IDLE_MS	10000	/* an idle connection closes */
#define METRICS_CONNS_MAX	64

/* Latency buckets, seconds (from an attempt's start to its answer). */
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

static struct http_server *met_http;

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

/* met_get - GET /metrics: the exposition */
static void
met_get(struct http_req *req, void *arg)
{
	struct buf body;

	buf_init(&body);
	metrics_render(&body);
	http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    body.data, body.len);
	buf_free(&body);
}

static const struct http_route met_routes[] = {
	{.path = "/metrics", .methods = "GET", .body_max = 0, .handle = met_get},
};

static const struct http_ops met_ops = {
	.listen_name = "metrics_listen",
	.routes = met_routes,
	.nroutes = NELEM(met_routes),
	.conn_max = METRICS_CONNS_MAX,
	.idle_ms = METRICS_IDLE_MS,
};

/* metrics_init - serve on a listening socket */
void
metrics_init(const struct config *cfg, int fd)
{
	met_http = http_start(fd, &met_ops);
}

/* metrics_shutdown - close everything */
void
metrics_shutdown(void)
{
	http_stop(met_http);
	met_http = NULL;
}
