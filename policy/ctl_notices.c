/*++
/* NAME
/*	ctl_notices 3
/* SUMMARY
/*	the control command notices: what the owners were told
/* DESCRIPTION
/*	notices (since=SECONDS: that recent) shows the outcomes of the
/*	notices to account owners (notify 3), newest first, at most
/*	CONTROL_NOTICES_MAX rows: time, kind, user, to, ip, ref,
/*	message_id and result, a line each in text, an array of objects
/*	in JSON. The rows are the journal's (state_dir/notices) as read
/*	at start, and every outcome since.
/*--*/
#include <stdint.h>

#include "buf.h"
#include "ctl.h"
#include "logline.h"
#include "notify.h"
#include "store.h"

#define CONTROL_NOTICES_MAX	200	/* rows shown */

/* notice_show - one row */
static void
notice_show(struct buf *b, enum log_format fmt, const struct notify_row *r)
{
	char when[32];
	int first = 1;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? "{" : "  ");
	ctl_kv(b, fmt, &first, "time", ctl_iso_time(r->t, when, sizeof(when)));
	ctl_kv(b, fmt, &first, "kind", r->kind);
	ctl_kv(b, fmt, &first, "user", r->user);
	ctl_kv(b, fmt, &first, "to", r->to);
	ctl_kv(b, fmt, &first, "ip", r->ip);
	ctl_kv(b, fmt, &first, "ref", r->ref);
	ctl_kv(b, fmt, &first, "message_id", r->message_id);
	ctl_kv(b, fmt, &first, "result", r->result);
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "}" : "\n");
}

/* ctl_notices - the recent notices, newest first */
int
ctl_notices(const struct ctl_req *q, struct buf *b)
{
	enum log_format fmt = q->fmt;
	const struct notify_row *r;
	uint32_t now = store_now();
	size_t k, shown = 0;

	buf_puts(b, fmt == LOG_FORMAT_JSON ? "OK\n[" : "OK\n");
	for (k = 0; shown < CONTROL_NOTICES_MAX && (r = notify_row(k)); k++) {
		if (q->o.since && r->t + q->o.since < now)
			break;
		if (fmt == LOG_FORMAT_JSON && shown)
			buf_putc(b, ',');
		notice_show(b, fmt, r);
		shown++;
	}
	if (fmt != LOG_FORMAT_JSON && shown == 0)
		buf_puts(b, q->cfg->notify ? "no notices\n" :
		    "no notices (notify = no)\n");
	buf_puts(b, fmt == LOG_FORMAT_JSON ? "]\n" : "");
	return 0;
}
