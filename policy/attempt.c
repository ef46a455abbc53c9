/*++
/* NAME
/*	attempt 3
/* SUMMARY
/*	one login attempt, through any door, and its log line
/* DESCRIPTION
/*	Every AUTH that reaches the gate, and every login another door
/*	(proto 3) asks about, becomes one attempt with a fresh
/*	reference, and ends in exactly one log line:
/*
/*	event=auth ref=.. result=pass|fail|abort cause=..
/*	proto=smtp|imap|pop3|sieve user=.. ip=.. mech=.. tls=yes|no
/*	smtpd_pid=.. ms=.. detail=.. hint=..
/*
/*	(cause and hint on failures only; abort is an exchange the
/*	client cancelled or left; smtpd_pid for SMTP only, the door
/*	that has an smtpd). Failures that signal trouble on the
/*	server's side or an attack are logged at warning level.
/*	Nothing here ever sees the password.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "attempt.h"
#include "history.h"
#include "metrics.h"
#include "notify.h"
#include "store.h"
#include "msg.h"
#include "util.h"

static unsigned long attempt_nlive;	/* begun, not yet freed */

/* attempt_init - a new attempt with a fresh ref */
void
attempt_init(struct attempt *a, const char *mech, const char *ip, int tls,
    pid_t pid, uint64_t now)
{
	memset(a, 0, sizeof(*a));
	ref_new(a->ref);
	a->result = ATTEMPT_FAIL;
	if (str_copy(a->mech, sizeof(a->mech), mech ? mech : "") < 0)
		str_copy(a->mech, sizeof(a->mech), "?");
	if (str_copy(a->ip, sizeof(a->ip), ip ? ip : "") < 0)
		str_copy(a->ip, sizeof(a->ip), "?");
	a->tls = tls;
	a->smtpd_pid = pid;
	a->started = now;
	attempt_nlive++;
}

/* attempt_live - attempts begun and not yet freed */
unsigned long
attempt_live(void)
{
	return attempt_nlive;
}

/* attempt_set_user - record the user name */
void
attempt_set_user(struct attempt *a, const char *user)
{
	free(a->user);
	a->user = user ? xstrdup(user) : NULL;
}

/* attempt_set_detail - record extra words */
void
attempt_set_detail(struct attempt *a, const char *detail)
{
	free(a->detail);
	a->detail = detail ? xstrdup(detail) : NULL;
}

/* attempt_result_name - pass/fail/abort */
static const char *
attempt_result_name(enum attempt_result r)
{
	return r == ATTEMPT_PASS ? "pass" : r == ATTEMPT_FAIL ? "fail" : "abort";
}

/* attempt_log - the one line for this attempt */
void
attempt_log(struct attempt *a, enum log_format fmt, uint64_t now)
{
	struct logline l;
	int failed = a->result == ATTEMPT_FAIL;

	if (a->logged++) {
		msg_warn("bug: a second log line for attempt ref=%s "
		    "suppressed", a->ref);
		return;
	}
	logline_begin(&l, fmt);
	logline_str(&l, "event", "auth");
	logline_str(&l, "ref", a->ref);
	logline_str(&l, "result", attempt_result_name(a->result));
	if (failed)
		logline_str(&l, "cause", cause_id(a->cause));
	logline_str(&l, "proto", proto_name(a->proto));
	logline_str(&l, "user", a->user ? a->user : "");
	logline_str(&l, "ip", a->ip);
	logline_str(&l, "mech", a->mech);
	logline_str(&l, "tls", a->tls ? "yes" : "no");
	if (a->proto == PROTO_SMTP)
		logline_uint(&l, "smtpd_pid", (unsigned long long)a->smtpd_pid);
	logline_uint(&l, "ms", now >= a->started ? now - a->started : 0);
	logline_str(&l, "detail", a->detail);
	if (failed)
		logline_str(&l, "hint", cause_info(a->cause)->hint);
	msg_event(failed && (a->cause == CAUSE_AUTH_SERVICE_UNAVAILABLE ||
	    a->cause == CAUSE_PASSWORD_GUESSING), logline_end(&l));
	logline_free(&l);
}

/* attempt_record - its line, its counters, its place in the history */
void
attempt_record(struct attempt *a, enum log_format fmt, uint64_t now)
{
	struct hist_rec h;

	attempt_log(a, fmt, now);
	metrics_attempt(a->proto, a->result, a->cause, now >= a->started ?
	    now - a->started : 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.ref, a->ref, sizeof(h.ref));
	h.result = (uint8_t)a->result;
	h.cause = (uint8_t)a->cause;
	h.tls = (uint8_t)a->tls;
	h.proto = (uint8_t)a->proto;
	h.t = store_now();
	h.smtpd_pid = (int32_t)a->smtpd_pid;
	str_copy(h.mech, sizeof(h.mech), a->mech);
	str_copy(h.ip, sizeof(h.ip), a->ip);
	store_history_add(&h, a->user);
	if (a->result != ATTEMPT_ABORT)
		notify_attempt(a->result == ATTEMPT_PASS, a->cause, a->user, a->ip,
		    a->proto, a->ref);
}

/* attempt_free - release; every attempt ends in exactly one line */
void
attempt_free(struct attempt *a)
{
	if (!a->logged)
		msg_warn("bug: attempt ref=%s ended without its log line",
		    a->ref);
	attempt_nlive--;
	free(a->user);
	free(a->detail);
	a->user = a->detail = NULL;
}
