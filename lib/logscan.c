/*++
/* NAME
/*	logscan 3
/* SUMMARY
/*	Postfix and Dovecot log lines, joined into causes (authguard analyze)
/* DESCRIPTION
/*	logscan_line() is pure: one log line (syslog "Nov 27 03:24:53
/*	host prog[pid]: ...", journalctl -o short, an RFC 3339 time stamp,
/*	or Dovecot's own log_path format "Nov 27 03:24:53 auth: Info: ...")
/*	to an event:
/*
/*	Postfix: "warning: host[ip]: SASL PLAIN authentication failed:
/*		reason[, sasl_username=user]" (every SASL backend);
/*	Dovecot 2.3: "auth: [Info: ]driver(user,ip[,session]): message"
/*		(or "auth-worker(pid): ...");
/*	Dovecot 2.4: "auth(user,ip,sasl:mech)[<...>]: [Info: ]driver:
/*		message" (or "auth-worker(user,ip,...)...");
/*		with auth_verbose = yes: "unknown user" is unknown-user,
/*		"Password mismatch" bad-password, expired and disabled
/*		accounts theirs.
/*
/*	Postfix 3.10's reject lines carry sasl_method and sasl_username
/*	after a successful AUTH: they are no AUTH failure and are skipped.
/*
/*	logscan_join() gives every Postfix failure its cause: the first
/*	unused Dovecot failure of the same address and user logged at most
/*	window seconds before it (Dovecot answers, then smtpd logs; with
/*	auth_failure_delay and auth_penalty in between) or 2 s after.
/*	Without one (Cyrus SASL, auth_verbose off) the cause is
/*	bad-credentials: wrong user name or password, as Postfix knows it.
/*
/*	Addresses are taken in their canonical form (netaddr_canon), so
/*	that Dovecot's ::ffff:192.0.2.7 (a dual-stack listener) joins
/*	Postfix's 192.0.2.7 and counts as one address; mechanism names
/*	are upper case, as the client may have typed them in any case.
/*--*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logscan.h"
#include "netaddr.h"
#include "util.h"

/* num - n digits at p, -1 when not digits */
static long
num(const char *p, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* clock_secs - "HH:MM:SS" at p to seconds, -1 when malformed */
static long
clock_secs(const char *p)
{
	long h = num(p, 2), m = num(p + 3, 2), s = num(p + 6, 2);

	if (h < 0 || m < 0 || s < 0 || p[2] != ':' || p[5] != ':')
		return -1;
	return h * 3600 + m * 60 + s;
}

/* stamp - the time stamp at the start of a line; its length, 0 if none */
static size_t
stamp(const char *p, size_t n, long *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *mp;
	long d, c, mo, y;

	if (n >= 19 && p[4] == '-' && p[7] == '-' && p[10] == 'T') {
		if ((y = num(p, 4)) < 0 || (mo = num(p + 5, 2)) < 1 || mo > 12 ||
		    (d = num(p + 8, 2)) < 1 || (c = clock_secs(p + 11)) < 0)
			return 0;
		*t = ((mo - 1) * 31 + d - 1) * 86400 + c;
		return strcspn(p, " ");
	}
	if (n < 15 || p[3] != ' ' || p[6] != ' ' ||
	    (mp = strstr(months, (char[]){p[0], p[1], p[2], 0})) == NULL ||
	    (mp - months) % 3 != 0)
		return 0;
	d = num(p + 4 + (p[4] == ' '), p[4] == ' ' ? 1 : 2);
	if (d < 1 || (c = clock_secs(p + 7)) < 0)
		return 0;
	*t = ((mp - months) / 3 * 31 + d - 1) * 86400 + c;
	return 15;
}

/* copy_span - [p, end) into out, NUL-terminated; -1 when too long */
static int
copy_span(char *out, size_t len, const char *p, const char *end)
{
	if (end < p || (size_t)(end - p) >= len)
		return -1;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = 0;
	return 0;
}

/* postfix_fail - "warning: name[ip]: SASL MECH authentication failed: ..." */
static int
postfix_fail(const char *msg, struct log_event *ev)
{
	const char *lb, *rb, *sasl, *sp, *u, *end;

	if (strncmp(msg, "warning: ", 9) != 0 || (lb = strchr(msg, '[')) ==
	    NULL || (rb = strchr(lb, ']')) == NULL || strncmp(rb, "]: SASL ",
	    8) != 0)
		return 0;
	sasl = rb + 8;
	if ((sp = strchr(sasl, ' ')) == NULL ||
	    strncmp(sp, " authentication failed", 22) != 0 ||
	    copy_span(ev->ip, sizeof(ev->ip), lb + 1, rb) < 0 ||
	    copy_span(ev->mech, sizeof(ev->mech), sasl, sp) < 0)
		return 0;
	ev->user[0] = 0;
	if ((u = strstr(sp, ", sasl_username=")) != NULL) {
		u += 16;
		end = u + strcspn(u, "\r\n");
		if (copy_span(ev->user, sizeof(ev->user), u, end) < 0)
			ev->user[0] = 0;
	}
	ev->kind = LOG_POSTFIX_FAIL;
	return 1;
}

/* dovecot_cause - what a Dovecot auth message says */
static enum cause
dovecot_cause(const char *m)
{
	if (strcasestr(m, "unknown user") || strcasestr(m, "user not known"))
		return CAUSE_UNKNOWN_USER;
	if (strcasestr(m, "password mismatch"))
		return CAUSE_BAD_PASSWORD;
	if (strcasestr(m, "expired"))
		return CAUSE_PASSWORD_EXPIRED;
	if (strcasestr(m, "disabled"))
		return CAUSE_ACCOUNT_DISABLED;
	return CAUSE_NONE;
}

/* dovecot_event - the failure of "(user,ip[,...])" from lp to rp */
static int
dovecot_event(struct log_event *ev, const char *lp, const char *comma,
    const char *rp, const char *message)
{
	const char *ipend;

	if ((ipend = memchr(comma + 1, ',', (size_t)(rp - comma - 1))) == NULL)
		ipend = rp;
	if ((ev->cause = dovecot_cause(message)) == CAUSE_NONE ||
	    copy_span(ev->user, sizeof(ev->user), lp + 1, comma) < 0 ||
	    copy_span(ev->ip, sizeof(ev->ip), comma + 1, ipend) < 0)
		return 0;
	ev->kind = LOG_DOVECOT_FAIL;
	return 1;
}

/* dovecot_fail - "auth: [Info: ]driver(user,ip...): message" */
static int
dovecot_fail(const char *msg, struct log_event *ev)
{
	const char *p = strstr(msg, "auth: "), *w, *lp, *rp, *comma;

	if ((w = strstr(msg, "auth-worker(")) != NULL && (p == NULL || w < p) &&
	    (w = strstr(w, "): ")) != NULL)
		p = w + 3;		/* "auth-worker(123): Info: sql(...)" */
	else if (p != NULL)
		p += 6;
	else
		return 0;
	if (strncmp(p, "Info: ", 6) == 0)
		p += 6;
	if ((lp = strchr(p, '(')) == NULL || (rp = strstr(lp, "): ")) ==
	    NULL || (comma = memchr(lp, ',', (size_t)(rp - lp))) == NULL)
		return 0;
	for (; p < lp; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_", *p))
			return 0;
	return dovecot_event(ev, lp, comma, rp, rp + 3);
}

/* event_prefix - Dovecot 2.4's "auth(" or "auth-worker(" at a word start */
static const char *
event_prefix(const char *msg)
{
	static const char *const names[] = {"auth(", "auth-worker("};
	const char *p;
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		for (p = msg; (p = strstr(p, names[i])) != NULL; p++)
			if (p == msg || p[-1] == ' ')
				return p + strlen(names[i]) - 1;
	return NULL;
}

/* dovecot24_fail - "auth(user,ip,sasl:mech)[<..>]: [Info: ]driver: message" */
static int
dovecot24_fail(const char *msg, struct log_event *ev)
{
	const char *lp, *rp, *comma, *p;

	if ((lp = event_prefix(msg)) == NULL || (rp = strchr(lp, ')')) == NULL ||
	    (comma = memchr(lp, ',', (size_t)(rp - lp))) == NULL)
		return 0;
	for (p = rp + 1; *p == '<' && (p = strchr(p, '>')) != NULL; p++)
		;
	if (p == NULL || strncmp(p, ": ", 2) != 0)
		return 0;
	p += 2;
	if (strncmp(p, "Info: ", 6) == 0)
		p += 6;
	if (!isalnum((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || (*p && strchr("-_", *p)))
		p++;
	if (strncmp(p, ": ", 2) != 0)
		return 0;
	return dovecot_event(ev, lp, comma, rp, p + 2);
}

/* event_canon - the event's address and mechanism in their one form */
static void
event_canon(struct log_event *ev)
{
	char text[NETADDR_CANON_MAX];

	if (netaddr_canon(ev->ip, text, sizeof(text)) == text)
		str_copy(ev->ip, sizeof(ev->ip), text);
	str_upper(ev->mech);
}

/* logscan_line - one line to an event (LOG_NONE: nothing for us) */
enum log_kind
logscan_line(const char *line, size_t n, struct log_event *ev)
{
	char buf[2048];
	const char *msg;
	size_t s;

	memset(ev, 0, sizeof(*ev));
	if (n >= sizeof(buf))
		return LOG_NONE;
	memcpy(buf, line, n);
	buf[n] = 0;
	if ((s = stamp(buf, n, &ev->t)) == 0)
		return LOG_NONE;
	if ((strstr(buf + s, "postfix") && (msg = strstr(buf + s,
	    "]: warning: ")) != NULL && postfix_fail(msg + 3, ev)) ||
	    dovecot_fail(buf + s, ev) || dovecot24_fail(buf + s, ev)) {
		event_canon(ev);
		return ev->kind;
	}
	memset(ev, 0, sizeof(*ev));
	return LOG_NONE;
}

/* logscan_init - empty */
void
logscan_init(struct logscan *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->window = 20;
}

/* logscan_add - keep a line's event when it is one */
void
logscan_add(struct logscan *ls, const char *line, size_t n)
{
	struct log_event ev;

	if (logscan_line(line, n, &ev) == LOG_NONE)
		return;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 256;
		ls->ev = xrealloc(ls->ev, ls->cap * sizeof(*ls->ev));
	}
	ls->ev[ls->n++] = ev;
}

/* same_user - equal, or Dovecot saw the local part only */
static int
same_user(const char *postfix, const char *dovecot)
{
	size_t n = strcspn(postfix, "@");

	return strcasecmp(postfix, dovecot) == 0 || (strchr(dovecot, '@') ==
	    NULL && strlen(dovecot) == n && strncasecmp(postfix, dovecot, n) == 0);
}

/* find_dovecot - the Dovecot line explaining a Postfix failure */
static struct log_event *
find_dovecot(struct logscan *ls, const struct log_event *pf)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		struct log_event *d = &ls->ev[i];

		if (d->kind != LOG_DOVECOT_FAIL || d->used ||
		    d->t < pf->t - ls->window || d->t > pf->t + 2 ||
		    strcmp(d->ip, pf->ip) != 0 || (*pf->user &&
		    !same_user(pf->user, d->user)))
			continue;
		return d;
	}
	return NULL;
}

/* logscan_join - every Postfix failure with its cause; *out is the caller's */
size_t
logscan_join(struct logscan *ls, struct log_failure **out)
{
	struct log_event *d;
	size_t i, n = 0;

	*out = xcalloc(ls->n ? ls->n : 1, sizeof(**out));
	for (i = 0; i < ls->n; i++) {
		struct log_event *pf = &ls->ev[i];

		if (pf->kind != LOG_POSTFIX_FAIL)
			continue;
		(*out)[n].user = pf->user;
		(*out)[n].ip = pf->ip;
		(*out)[n].t = pf->t;
		(*out)[n].cause = CAUSE_BAD_CREDENTIALS;
		if ((d = find_dovecot(ls, pf)) != NULL) {
			d->used = 1;
			(*out)[n].cause = d->cause;
			if (!*pf->user)
				(*out)[n].user = d->user;
		}
		n++;
	}
	return n;
}

/* logscan_free - release */
void
logscan_free(struct logscan *ls)
{
	free(ls->ev);
	memset(ls, 0, sizeof(*ls));
}
