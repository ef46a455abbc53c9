/*++
/* NAME
/*	ctl_show 3
/* SUMMARY
/*	what the control commands show alike
/* DESCRIPTION
/*	ctl_kv() appends " key=value" in text, "key":value in JSON,
/*	escaped as the log escapes it (whatever came from the network).
/*	ctl_show_attempt() shows one recorded attempt, a line in text,
/*	an object in JSON, as why and session show it: its fields in the
/*	order of its log line (attempt 3), from time, ref, result, cause
/*	and proto (which the milter reads) to smtpd_pid (SMTP only) and
/*	the server that saw it;
/*	ctl_iso_time() writes 2026-11-26T15:42:01Z.
/*
/*	ctl_recent() says whether a record is within the since= window;
/*	ctl_is_address() whether an argument is an IP address, in any
/*	spelling, with or without a zone.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "attempt.h"
#include "buf.h"
#include "cause.h"
#include "ctl.h"
#include "history.h"
#include "logline.h"
#include "netaddr.h"
#include "proto.h"
#include "store.h"
#include "util.h"

/* ctl_iso_time - 2026-11-26T15:42:01Z */
const char *
ctl_iso_time(uint32_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* result_name - what a history record says happened */
static const char *
result_name(unsigned r)
{
	static const char *const names[] = {"pass", "fail", "abort", "refused"};

	return r < NELEM(names) ? names[r] : "?";
}

/* ctl_kv - " key=value" in text, "key":value in JSON */
void
ctl_kv(struct buf *b, enum log_format fmt, int *first, const char *key,
    const char *val)
{
	if (fmt == LOG_FORMAT_JSON)
		buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	else
		buf_printf(b, "%s%s=", *first ? "" : " ", key);
	escaped_value(b, fmt, val);
	*first = 0;
}

/* ctl_show_attempt - one attempt */
void
ctl_show_attempt(struct buf *b, enum log_format fmt, const struct hist_rec *r)
{
	char when[32], pid[16];
	int first = 1;

	if (fmt == LOG_FORMAT_JSON)
		buf_putc(b, '{');
	else
		buf_puts(b, "  ");
	ctl_kv(b, fmt, &first, "time", ctl_iso_time(r->t, when, sizeof(when)));
	ctl_kv(b, fmt, &first, "ref", r->ref);
	ctl_kv(b, fmt, &first, "result", result_name(r->result));
	if (r->result != ATTEMPT_PASS && r->result != ATTEMPT_ABORT)
		ctl_kv(b, fmt, &first, "cause", cause_id((enum cause)r->cause));
	ctl_kv(b, fmt, &first, "proto", proto_name((enum proto)r->proto));
	ctl_kv(b, fmt, &first, "user", r->user ? r->user : "");
	ctl_kv(b, fmt, &first, "ip", r->ip);
	ctl_kv(b, fmt, &first, "mech", r->mech);
	ctl_kv(b, fmt, &first, "tls", r->tls ? "yes" : "no");
	if (r->proto == PROTO_SMTP) {
		snprintf(pid, sizeof(pid), "%ld", (long)r->smtpd_pid);
		ctl_kv(b, fmt, &first, "smtpd_pid", pid);
	}
	if (r->server[0])
		ctl_kv(b, fmt, &first, "server", r->server);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* ctl_recent - is a record within the --since window? */
int
ctl_recent(const struct hist_rec *r, const struct ctl_opts *o)
{
	uint32_t now = store_now();

	return o->since == 0 || r->t + o->since >= now;
}

/* ctl_is_address - an IP address, in any spelling, with or without a zone */
int
ctl_is_address(const char *arg)
{
	char canon[NETADDR_CANON_MAX];

	return netaddr_canon(arg, canon, sizeof(canon)) == canon;
}
