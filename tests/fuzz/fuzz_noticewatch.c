/*++
/* NAME
/*	fuzz_noticewatch 1
/* SUMMARY
/*	libFuzzer target: schedules of attempts, locks and admits
/* DESCRIPTION
/*	The input is a schedule: one byte for max_entries, two for the
/*	first rules, then steps of three bytes (what, and two arguments):
/*	a failed attempt (stale, app-password, guessing or another cause),
/*	a pass, a lock, an admit, a sweep, a rules change, or the virtual
/*	clock moving forward (up to 65,535 s) or back; at the start, sends
/*	restored from the journal. Accounts and addresses include an empty one and
/*	one longer than a due's field. After every step the target checks
/*	the invariants and aborts when one breaks: at most per_hour GOs in
/*	any 3,600 s; no two GOs of one (kind, account) closer than the
/*	smallest interval in force between them; size <= max_entries; a
/*	stale-password notice only after stale_after of one (account,
/*	address) episode; a due names the account and address it was
/*	given, and never one that cannot be told. Once the clock has gone
/*	back, the windows mean nothing more: only the bound on entries and
/*	the due's facts are checked, and the sanitizers watch.
/*--*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "notice.h"
#include "noticewatch.h"

#define FZ_ACCTS	6
#define FZ_IPS		4
#define FZ_TOLD		4		/* accounts that can be told */
#define FZ_GOS		4096
#define FZ_WINDOW	3600

static char fz_long_acct[257], fz_long_ip[65];
static const char *fz_acct[FZ_ACCTS] = {"ann", "bob@example.org", "cy", "d",
	"", fz_long_acct};
static const char *fz_ip[FZ_IPS] = {"192.0.2.1", "2001:db8::1", "",
	fz_long_ip};

struct fz_state {
	struct notice_watch *w;
	struct notice_rules r;
	size_t		 max;
	uint32_t	 now, latest;		/* latest: the latest now */
	int		 went_back;
	uint32_t	 go[FZ_GOS];		/* GOs of the last hour */
	size_t		 ngo;
	int		 seen[NOTICE_KINDS][FZ_ACCTS];
	uint32_t	 last_go[NOTICE_KINDS][FZ_ACCTS];
	uint32_t	 minint[NOTICE_KINDS][FZ_ACCTS];
	int		 chain_on[FZ_ACCTS][FZ_IPS];
	uint32_t	 chain_start[FZ_ACCTS][FZ_IPS];
	uint32_t	 chain_last[FZ_ACCTS][FZ_IPS];
};

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* fz_rules - rules from two bytes; the smallest interval is remembered */
static void
fz_rules(struct fz_state *s, unsigned a, unsigned b)
{
	static const uint32_t stale[] = {0, 1, 60, 3599, 3600, 3601, 86400, 7};
	static const uint32_t interval[] = {0, 1, 60, 3600, 86400, 100000, 5,
		900};
	static const unsigned per_hour[] = {0, 1, 2, 3, 5, 100, 7, 1000};
	int k, i;

	s->r.kinds = a & 15;
	s->r.stale_after = stale[(a >> 4) & 7];
	s->r.repeat = (a >> 7) | ((b & 3) << 1);
	s->r.interval = interval[(b >> 2) & 7];
	s->r.per_hour = per_hour[(b >> 5) & 7];
	for (k = 0; k < NOTICE_KINDS; k++)
		for (i = 0; i < FZ_ACCTS; i++)
			if (s->r.interval < s->minint[k][i])
				s->minint[k][i] = s->r.interval;
}

/* fz_go - a GO: the cap and the interval must hold */
static void
fz_go(struct fz_state *s, int k, int a)
{
	size_t i, n = 0;

	if (a >= FZ_TOLD)
		abort();			/* an account never told */
	if (s->went_back)
		return;
	for (i = 0; i < s->ngo; i++)
		if (s->now - s->go[i] < FZ_WINDOW)
			s->go[n++] = s->go[i];
	s->ngo = n;
	if (s->ngo < FZ_GOS)
		s->go[s->ngo++] = s->now;
	if (s->ngo > s->r.per_hour)
		abort();
	if (s->seen[k][a] && s->now - s->last_go[k][a] < s->minint[k][a])
		abort();
	s->seen[k][a] = 1;
	s->last_go[k][a] = s->now;
	s->minint[k][a] = s->r.interval;
}

/* fz_admit - admit, and check a GO */
static void
fz_admit(struct fz_state *s, int k, int a)
{
	enum notice_admit got = notice_watch_admit(s->w, &s->r, k, fz_acct[a],
	    s->now);

	if (got != NOTICE_GO && got != NOTICE_LIMITED_ACCOUNT &&
	    got != NOTICE_LIMITED_CAP)
		abort();
	if (got == NOTICE_GO)
		fz_go(s, k, a);
}

/* fz_due_ok - a due names what it was given, and is one that may be told */
static void
fz_due_ok(const struct fz_state *s, const struct notice_due *d, int a, int i)
{
	if (a >= FZ_TOLD || i == FZ_IPS - 1 ||
	    (unsigned)d->kind >= NOTICE_KINDS ||
	    (s->r.kinds & (1u << d->kind)) == 0 ||
	    strcmp(d->account, fz_acct[a]) != 0 ||
	    strcmp(d->ip, fz_ip[i]) != 0 ||
	    d->first > d->last || d->last > s->latest)
		abort();
}

/* fz_attempt - a failed attempt; what is due is admitted */
static void
fz_attempt(struct fz_state *s, unsigned x, unsigned y)
{
	static const enum cause causes[] = {CAUSE_STALE_PASSWORD,
		CAUSE_APP_PASSWORD_REQUIRED, CAUSE_PASSWORD_GUESSING,
		CAUSE_BAD_PASSWORD};
	enum cause c = causes[x & 3];
	int a = (int)(y % FZ_ACCTS), i = (int)((x >> 2) % FZ_IPS);
	struct notice_due d;

	if (c == CAUSE_STALE_PASSWORD) {
		if (!s->chain_on[a][i] ||
		    s->now - s->chain_last[a][i] > s->r.stale_after)
			s->chain_start[a][i] = s->now;
		s->chain_on[a][i] = 1;
		s->chain_last[a][i] = s->now;
	}
	if (!notice_watch_attempt(s->w, &s->r, 0, c, fz_acct[a], fz_ip[i],
	    "REF0123456", s->now, &d))
		return;
	fz_due_ok(s, &d, a, i);
	if (d.kind == NOTICE_STALE_PASSWORD && !s->went_back &&
	    (!s->chain_on[a][i] || d.first < s->chain_start[a][i] ||
	    s->now - s->chain_start[a][i] < s->r.stale_after))
		abort();
	if (x & 0x80)
		fz_admit(s, d.kind, a);
}

/* fz_step - one step of three bytes */
static void
fz_step(struct fz_state *s, unsigned op, unsigned x, unsigned y)
{
	struct notice_due d;
	int a = (int)(y % FZ_ACCTS), i = (int)(x % FZ_IPS);

	switch (op % 8) {
	case 0:
	case 1:
		fz_attempt(s, x, y);
		break;
	case 2:
		if (notice_watch_attempt(s->w, &s->r, 1, CAUSE_NONE, fz_acct[a],
		    fz_ip[i], "", s->now, &d) != 0)
			abort();
		s->chain_on[a][i] = 0;
		break;
	case 3:
		if (notice_watch_lock(s->w, &s->r, fz_acct[a], fz_ip[i],
		    "REF0123456", x & 0x10, s->now + 900, s->now, &d)) {
			fz_due_ok(s, &d, a, i);
			if ((x & 0x10) || d.kind != NOTICE_LOCK)
				abort();
			if (x & 0x80)
				fz_admit(s, NOTICE_LOCK, a);
		}
		break;
	case 4:
		fz_admit(s, (int)(x % NOTICE_KINDS), a);
		break;
	case 5:
		notice_watch_sweep(s->w, &s->r, s->now);
		break;
	case 6:
		fz_rules(s, x, y);
		break;
	default:
		if ((op & 0xc0) == 0x40) {
			s->now -= y * 60u;
			s->went_back = 1;
		} else
			s->now += (op & 0x80) ? x | y << 8 : x;
		if (s->now > s->latest)
			s->latest = s->now;
		break;
	}
	if (notice_watch_size(s->w) > s->max)
		abort();
}

/* fz_restore - a send from the journal, at start */
static void
fz_restore(struct fz_state *s, unsigned x, unsigned y)
{
	int k = (int)(x % NOTICE_KINDS), a = (int)(y % FZ_ACCTS);
	uint32_t t = s->now - (x >> 2) * 60;

	notice_watch_restore(s->w, k, fz_acct[a], t);
	if (a < FZ_TOLD && (!s->seen[k][a] || t >= s->last_go[k][a])) {
		s->seen[k][a] = 1;
		s->last_go[k][a] = t;
		s->minint[k][a] = s->r.interval;
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	static const unsigned char key[16] = "fuzz-noticewatch";
	static struct fz_state s;
	size_t p, restores;
	int k, a;

	if (len < 3)
		return 0;
	memset(fz_long_acct, 'x', sizeof(fz_long_acct) - 1);
	memset(fz_long_ip, '1', sizeof(fz_long_ip) - 1);
	memset(&s, 0, sizeof(s));
	for (k = 0; k < NOTICE_KINDS; k++)
		for (a = 0; a < FZ_ACCTS; a++)
			s.minint[k][a] = UINT32_MAX;
	s.max = 1 + data[0] % 16;
	s.now = s.latest = 1700000000u;
	s.w = notice_watch_new(key, sizeof(key), s.max);
	fz_rules(&s, data[1], data[2]);
	/* steps whose first byte is 0xff, at the start: restores */
	for (p = 3, restores = 0; p + 3 <= len && data[p] == 0xff &&
	    restores < s.max; p += 3, restores++)
		fz_restore(&s, data[p + 1], data[p + 2]);
	for (; p + 3 <= len; p += 3)
		fz_step(&s, data[p], data[p + 1], data[p + 2]);
	notice_watch_free(s.w);
	return 0;
}
