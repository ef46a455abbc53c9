/*++
/* NAME
/*	ctl_admin 3
/* SUMMARY
/*	the control commands lock, unlock, stats and metrics
/* DESCRIPTION
/*	lock USER|ADDRESS locks now (for=SECONDS, else lockout_time);
/*	unlock USER|ADDRESS lifts a lock and clears the window; either
/*	way, attempts waiting at the limits for that key are decided at
/*	once (gate_limits_changed()), and the log says what the admin
/*	did: one line "event=admin action=lock|unlock target=KEY
/*	actor=NAME peer_uid=UID [until=ISO]" (actor= of the request, else
/*	"cli"; the peer's uid from the control connection). With a
/*	shared state, both act on it too (enforce 3). stats
/*	(any argument) counts what is tracked and evicted, the upstream
/*	state, the open SASL connections and the shared state's health;
/*	metrics gives the Prometheus exposition of metrics_listen.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "authlimits.h"
#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "enforce.h"
#include "gate.h"
#include "history.h"
#include "logline.h"
#include "metrics.h"
#include "msg.h"
#include "shared.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

#define ADMIN_ACTOR_DEFAULT	"cli"	/* a request that names no actor */

/* log_admin - "event=admin action=... target=... actor=... peer_uid=... [until=...]" */
static void
log_admin(const struct ctl_req *q, const char *action, const char *key,
    const char *until)
{
	struct logline l;

	logline_begin(&l, q->cfg->log_format);
	logline_str(&l, "event", "admin");
	logline_str(&l, "action", action);
	logline_str(&l, "target", key);
	logline_str(&l, "actor", q->o.actor[0] ? q->o.actor :
	    ADMIN_ACTOR_DEFAULT);
	if (q->peer_uid == CTL_PEER_UNKNOWN)
		logline_str(&l, "peer_uid", "unknown");
	else
		logline_uint(&l, "peer_uid", (unsigned long long)q->peer_uid);
	if (until)
		logline_str(&l, "until", until);
	msg_event(until != NULL, logline_end(&l));
	logline_free(&l);
}

/* admin_key - an account (lower-cased) or an address's key; -1 bad */
static int
admin_key(const struct config *cfg, const char *arg, char *key, size_t len,
    int *is_addr)
{
	*is_addr = ctl_is_address(arg);
	if (*is_addr)
		return limits_addr_key(arg, cfg->ipv4_prefix,
		    cfg->ipv6_prefix, key, len);
	if (str_copy(key, len, arg) < 0)
		return -1;
	str_lower(key);
	return 0;
}

/* ctl_lock - lock an account or address now, for --for or lockout_time */
int
ctl_lock(const struct ctl_req *q, struct buf *b)
{
	const struct ctl_opts *o = &q->o;
	enum log_format fmt = q->fmt;
	unsigned long secs = o->for_set ? o->for_secs :
	    q->cfg->lockout_time / 1000;
	uint32_t now = store_now();
	char key[CONTROL_NAME_MAX + 1], until[32];
	int is_addr, first = 1;

	if (admin_key(q->cfg, q->arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (secs == 0 || secs > 365UL * 86400)
		return buf_puts(b, "ERR for: 1s to 365d\n"), -1;
	enforce_lock(key, is_addr, now + (uint32_t)secs);
	ctl_iso_time(now + (uint32_t)secs, until, sizeof(until));
	log_admin(q, "lock", key, until);
	gate_limits_changed(is_addr ? NULL : key, is_addr ? key : NULL);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	ctl_kv(b, fmt, &first, "locked", key);
	ctl_kv(b, fmt, &first, "until", until);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "\n");
	return 0;
}

/* ctl_unlock - lift a lock on an account or address */
int
ctl_unlock(const struct ctl_req *q, struct buf *b)
{
	enum log_format fmt = q->fmt;
	char key[CONTROL_NAME_MAX + 1];
	int is_addr;

	if (admin_key(q->cfg, q->arg, key, sizeof(key), &is_addr) < 0)
		return buf_puts(b, "ERR bad account or address\n"), -1;
	if (!enforce_unlock(key) && !shared_enabled()) {
		buf_puts(b, "ERR nothing is tracked under ");
		escaped_value(b, LOG_FORMAT_LOGFMT, key);
		buf_putc(b, '\n');
		return -1;
	}
	log_admin(q, "unlock", key, NULL);
	gate_limits_changed(key, key);	/* either tracker may have held it */
	if (fmt == LOG_FORMAT_JSON) {
		buf_puts(b, "OK\n{\"unlocked\":");
		escaped_value(b, fmt, key);
		buf_puts(b, "}\n");
	} else {
		buf_puts(b, "OK\nunlocked ");
		escaped_value(b, fmt, key);
		buf_putc(b, '\n');
	}
	return 0;
}

/* stats_shared - the shared state's health, when there is one */
static void
stats_shared(struct buf *b, enum log_format fmt)
{
	struct shared_stats st;
	const char *f = fmt == LOG_FORMAT_JSON ? ",\"%s\":%llu" : " %s=%llu";

	if (!shared_enabled())
		return;
	shared_stats(&st);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? ",\"shared\":" : " shared=");
	escaped_value(b, fmt, st.state);
	buf_printf(b, f, "shared_timeouts", st.timeouts);
	buf_printf(b, f, "shared_errors", st.errors);
	buf_printf(b, f, "shared_outages", st.outages);
	buf_printf(b, f, "shared_local_decisions", st.local);
	buf_printf(b, f, "shared_kept", (unsigned long long)st.journal);
	buf_printf(b, f, "shared_merged", st.merged);
	buf_printf(b, f, "shared_dropped", st.dropped);
	buf_printf(b, f, "shared_key_mismatch", (unsigned long long)st.key_mismatch);
}

/* ctl_stats - what is tracked, in numbers */
int
ctl_stats(const struct ctl_req *q, struct buf *b)
{
	enum log_format fmt = q->fmt;
	struct {
		const char *key;
		unsigned long long v;
	} rows[] = {
		{"accounts_tracked", store_limits.acct.count},
		{"addresses_tracked", store_limits.addr.count},
		{"max_tracked", store_limits.acct.max},
		{"accounts_evicted", store_limits.acct.evicted},
		{"addresses_evicted", store_limits.addr.evicted},
		{"recent_attempts", store_history.n},
		{"sasl_connections", gate_connections()},
	};
	size_t i;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n{" : "OK\n");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "\"upstream\":" : "upstream=");
	escaped_value(b, fmt, upstream_state());
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "," : " ");
	for (i = 0; i < NELEM(rows); i++)
		buf_printf(b, fmt == LOG_FORMAT_JSON ? "%s\"%s\":%llu" : "%s%s=%llu",
		    i == 0 ? "" : fmt == LOG_FORMAT_JSON ? "," : " ", rows[i].key,
		    rows[i].v);
	stats_shared(b, fmt);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}\n" : "\n");
	return 0;
}


/* ctl_metrics - the Prometheus exposition, as metrics_listen serves it */
int
ctl_metrics(const struct ctl_req *q, struct buf *b)
{
	buf_puts(b, "OK\n");
	metrics_render(b);
	return 0;
}
