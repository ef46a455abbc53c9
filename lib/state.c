/*++
/* NAME
/*	state 3
/* SUMMARY
/*	the state file: limits and recent attempts as versioned text
/* DESCRIPTION
/*	The first line is STATE_MAGIC (or STATE_MAGIC_V1, below); a
/*	file without it is not ours or from another version, and is
/*	not read. Then one record per
/*	line, fields separated by one space, text fields %-escaped:
/*
/*	E a|i KEY LOCKED_UNTIL LOCK_LEVEL LAST_LOCK	an account/address
/*	F T FP WHO					a failure of that entry
/*	M WHO T						a familiar address of it
/*	H REF T RESULT CAUSE TLS PID MECH IP USER [SERVER [PROTO]]
/*							a recent attempt
/*
/*	A recent attempt names the server that saw it (with a shared
/*	state) and the door it came through (proto 3: imap, pop3,
/*	sieve) when that is not SMTP; SERVER is then "%" when there is
/*	none. A record without PROTO is SMTP's: every record written
/*	before there were other doors, and every SMTP record now, which
/*	is byte for byte what it was. A reader that knows no PROTO skips
/*	the records of the other doors alone (as lines it cannot read)
/*	and keeps the rest of the file, so the version stays 2.
/*	FP is a password fingerprint (fingerprint 3); one wider than
/*	FINGERPRINT_BITS comes from a version that kept 32 bits, and is
/*	cut to the same first bits, so that it still matches. WHO is
/*	limits_hash() of the other side (limits 3), a keyed value.
/*
/*	Version 1 (STATE_MAGIC_V1) had the same lines, with an unkeyed
/*	WHO that no value computed now can equal: its familiar addresses
/*	are dropped (counted in old_familiar; they are learned again at
/*	the next successful login), and the WHO of its failures is read
/*	as 0, "not known", which counts towards no distinct total.
/*
/*	A line holding a user name of SASL_FIELD_MAX bytes, every byte of
/*	it escaped, stays below STATE_LINE_MAX, the longest line a reader
/*	must take.
/*
/*	state_write() writes what is still alive at "now"; the loader
/*	takes lines one at a time (a pure push API), skips and counts
/*	the ones it cannot read, and drops what has expired meanwhile.
/*--*/
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "fingerprint.h"
#include "proto.h"
#include "ref.h"
#include "state.h"
#include "util.h"

/* state_escape_buf - %XX for anything but a safe set */
void
state_escape_buf(struct buf *b, const char *s)
{
	if (*s == 0) {
		buf_putc(b, '%');	/* an empty field */
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("@._+-/:", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* state_escape - the same, to a file */
void
state_escape(FILE *fp, const char *s)
{
	struct buf b;

	buf_init(&b);
	state_escape_buf(&b, s);
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}

/*
 * state_history_format - "H REF T RESULT CAUSE TLS PID MECH IP USER
 * [SERVER [PROTO]]", no newline: a state file line, and a record in Redis
 */
void
state_history_format(struct buf *b, const struct hist_rec *r)
{
	int other_door = r->proto != PROTO_SMTP;

	buf_printf(b, "H %s %" PRIu32 " %u %u %u %" PRId32 " ", r->ref, r->t,
	    r->result, r->cause, r->tls, r->smtpd_pid);
	state_escape_buf(b, r->mech);
	buf_putc(b, ' ');
	state_escape_buf(b, r->ip);
	buf_putc(b, ' ');
	state_escape_buf(b, r->user ? r->user : "");
	if (r->server[0] || other_door) {
		buf_putc(b, ' ');
		state_escape_buf(b, r->server);
	}
	if (other_door) {
		buf_putc(b, ' ');
		buf_puts(b, proto_name((enum proto)r->proto));
	}
}

/* state_unescape - in place; -1 on a bad or NUL escape */
int
state_unescape(char *s)
{
	char *d = s;
	int hi, lo;

	if (strcmp(s, "%") == 0) {
		*s = 0;
		return 0;
	}
	for (; *s; s++) {
		if (*s != '%') {
			*d++ = *s;
			continue;
		}
		if ((hi = hex_digit(s[1])) < 0 || (lo = hex_digit(s[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return -1;
		*d++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*d = 0;
	return 0;
}

/* write_tracker - live entries of one kind */
static void
write_tracker(FILE *fp, const struct tracker *tr, char kind, uint32_t now,
    unsigned ttl)
{
	const struct track *t;
	unsigned i, list;

	for (list = 0; list < LRU_LISTS; list++)
		for (t = tr->lru[list].lprev; t != &tr->lru[list]; t = t->lprev) {
			fprintf(fp, "E %c ", kind);
			state_escape(fp, t->key);
			fprintf(fp, " %" PRIu32 " %u %" PRIu32 "\n",
			    t->locked_until, t->lock_level, t->last_lock);
			for (i = 0; i < t->nfail; i++)
				if (t->fails[i].t + tr->lim.secs > now)
					fprintf(fp, "F %" PRIu32 " %" PRIu32 " %"
					    PRIu32 "\n", t->fails[i].t,
					    t->fails[i].fp, t->fails[i].who);
			for (i = 0; i < t->nfam; i++)
				if (t->fam[i].t + ttl > now)
					fprintf(fp, "M %" PRIu32 " %" PRIu32 "\n",
					    t->fam[i].who, t->fam[i].t);
		}
}

/* state_write - everything, oldest first; returns ferror */
int
state_write(FILE *fp, const struct limits *l, const struct history *h,
    uint32_t now)
{
	size_t i;

	fprintf(fp, "%s\n", STATE_MAGIC);
	write_tracker(fp, &l->acct, 'a', now, l->cfg.familiar_ttl);
	write_tracker(fp, &l->addr, 'i', now, l->cfg.familiar_ttl);
	struct buf b;

	buf_init(&b);
	for (i = h->n; i-- > 0;) {
		b.len = 0;
		state_history_format(&b, history_nth(h, i));
		buf_putc(&b, '\n');
		fwrite(b.data, 1, b.len, fp);
	}
	buf_free(&b);
	return ferror(fp) ? -1 : 0;
}

/* state_loader_init - ready to read lines */
void
state_loader_init(struct state_loader *ld, struct limits *l,
    struct history *h, uint32_t now)
{
	memset(ld, 0, sizeof(*ld));
	ld->limits = l;
	ld->history = h;
	ld->now = now;
}

/* num - a decimal field within bounds */
static int
num(const char *s, unsigned long max, unsigned long *v)
{
	return s ? parse_uint(s, max, v) : -1;
}

/* split - up to n space-separated fields, in place; returns the count */
static int
split(char *line, char **f, int n)
{
	int i = 0;
	char *save = NULL, *p;

	for (p = strtok_r(line, " ", &save); p && i < n;
	    p = strtok_r(NULL, " ", &save))
		f[i++] = p;
	return p ? -1 : i;
}

/* load_entry - E a|i KEY UNTIL LEVEL LAST */
static int
load_entry(struct state_loader *ld, char **f, int n)
{
	unsigned long until, level, last;

	ld->cur = NULL;
	if (n != 6 || (strcmp(f[1], "a") && strcmp(f[1], "i")) ||
	    state_unescape(f[2]) < 0 || *f[2] == 0 ||
	    num(f[3], 0xffffffffUL, &until) < 0 || num(f[4], 30, &level) < 0 ||
	    num(f[5], 0xffffffffUL, &last) < 0)
		return -1;
	ld->tr = *f[1] == 'a' ? &ld->limits->acct : &ld->limits->addr;
	ld->cur = limits_get(ld->tr, f[2], ld->now);
	if (until > ld->now || level > 0)
		limits_set_lock(ld->tr, ld->cur, (uint32_t)until,
		    (unsigned)level, (uint32_t)last, ld->now);
	return 0;
}

/* load_fail - F T FP WHO */
static int
load_fail(struct state_loader *ld, char **f, int n)
{
	unsigned long t, fp, who;

	if (n != 4 || ld->cur == NULL || num(f[1], 0xffffffffUL, &t) < 0 ||
	    num(f[2], 0xffffffffUL, &fp) < 0 || num(f[3], 0xffffffffUL, &who) < 0)
		return -1;
	if (fp > FINGERPRINT_MAX)	/* written with 32-bit fingerprints */
		fp = fingerprint_narrow((uint32_t)fp);
	if (ld->v1)			/* unkeyed: matches nothing now */
		who = 0;
	if (t + ld->tr->lim.secs > ld->now && t <= ld->now)
		limits_add_fail(ld->tr, ld->cur, (uint32_t)t, (uint32_t)fp,
		    (uint32_t)who);
	return 0;
}

/* load_familiar - M WHO T */
static int
load_familiar(struct state_loader *ld, char **f, int n)
{
	unsigned long who, t;

	if (n != 3 || ld->cur == NULL || ld->tr != &ld->limits->acct ||
	    num(f[1], 0xffffffffUL, &who) < 0 || num(f[2], 0xffffffffUL, &t) < 0)
		return -1;
	if (ld->v1 && t + ld->limits->cfg.familiar_ttl > ld->now)
		ld->old_familiar++;	/* unkeyed: could never match */
	else if (t + ld->limits->cfg.familiar_ttl > ld->now && who != 0)
		limits_add_familiar(ld->limits, ld->cur, (uint32_t)who,
		    (uint32_t)t);
	return 0;
}

/* history_proto - PROTO, one of our own names; absent: SMTP */
static int
history_proto(const char *s, enum proto *p)
{
	*p = PROTO_SMTP;
	return s == NULL || (proto_parse(s, p) == 0 &&
	    strcmp(s, proto_name(*p)) == 0) ? 0 : -1;
}

/*
 * history_fields - H REF T RESULT CAUSE TLS PID MECH IP USER
 * [SERVER [PROTO]]
 */
static int
history_fields(char **f, int n, struct hist_rec *rp)
{
	struct hist_rec r;
	unsigned long t, result, cause, tls, pid;
	enum proto proto;

	memset(&r, 0, sizeof(r));
	if (n < 10 || n > 12 || strcmp(f[0], "H") || !ref_valid(f[1]) ||
	    num(f[2], 0xffffffffUL, &t) < 0 ||
	    num(f[3], 3, &result) < 0 || num(f[4], CAUSE_COUNT - 1, &cause) < 0 ||
	    num(f[5], 1, &tls) < 0 || num(f[6], 0x7fffffff, &pid) < 0 ||
	    state_unescape(f[7]) < 0 || state_unescape(f[8]) < 0 ||
	    state_unescape(f[9]) < 0 || str_copy(r.mech, sizeof(r.mech), f[7]) < 0
	    || str_copy(r.ip, sizeof(r.ip), f[8]) < 0 || (n >= 11 &&
	    (state_unescape(f[10]) < 0 || str_copy(r.server, sizeof(r.server),
	    f[10]) < 0)) || history_proto(n == 12 ? f[11] : NULL, &proto) < 0)
		return -1;
	r.proto = (uint8_t)proto;
	memcpy(r.ref, f[1], sizeof(r.ref));
	r.t = (uint32_t)t;
	r.result = (uint8_t)result;
	r.cause = (uint8_t)cause;
	r.tls = (uint8_t)tls;
	r.smtpd_pid = (int32_t)pid;
	r.user = f[9];
	*rp = r;
	return 0;
}

/* load_history - one recent attempt */
static int
load_history(struct state_loader *ld, char **f, int n)
{
	struct hist_rec r;

	if (history_fields(f, n, &r) < 0)
		return -1;
	history_add(ld->history, &r, r.user);
	return 0;
}

/*
 * state_history_parse - a record made by state_history_format, in
 * place; r->user points into the line. -1 if it is not one.
 */
int
state_history_parse(char *line, struct hist_rec *r, char **user)
{
	char *f[12];
	int n = split(line, f, 12);

	if (n <= 0 || history_fields(f, n, r) < 0)
		return -1;
	*user = r->user;
	return 0;
}

/* state_load_line - one line; -1 when it is not understood */
int
state_load_line(struct state_loader *ld, char *line)
{
	char *f[12];
	int n, rc = -1;

	ld->lines++;
	if (!ld->header) {
		if (strcmp(line, STATE_MAGIC_V1) == 0)
			ld->v1 = 1;
		else if (strcmp(line, STATE_MAGIC) != 0)
			return -1;
		ld->header = 1;
		return 0;
	}
	if ((n = split(line, f, 12)) <= 0 || strlen(f[0]) != 1)
		rc = -1;
	else if (*f[0] == 'E')
		rc = load_entry(ld, f, n);
	else if (*f[0] == 'F')
		rc = load_fail(ld, f, n);
	else if (*f[0] == 'M')
		rc = load_familiar(ld, f, n);
	else if (*f[0] == 'H')
		rc = load_history(ld, f, n);
	if (rc < 0)
		ld->bad++;
	return rc;
}
