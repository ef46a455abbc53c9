/*++
/* NAME
/*	hashcollide 1
/* SUMMARY
/*	names that share a bucket under FNV-1a, in the real tables
/* SYNOPSIS
/*	hashcollide [names]
/* DESCRIPTION
/*	Builds names (default 100000, of 51 characters [a-z0-9]) whose
/*	FNV-1a hashes agree in their low 17 bits: the trackers' bucket
/*	index at every table size up to 131072 buckets, before buckets
/*	were keyed. Low bits of FNV-1a depend on low bits only, so 17
/*	pairs of 3-character blocks that collide from the same state give
/*	2^17 names that all collide.
/*
/*	Inserts them into an account tracker (lib/limits.c, max_tracked
/*	above the count), then looks each up; then the same for the id
/*	map (lib/idmap.c) with the ids its former multiplicative hash put
/*	in one bucket (the low 18 bits zero: 16384 of them). Prints the
/*	time per insert and per lookup and the longest chain.
/*
/*	The chains are measured with htab_longest() (htab 3), the table
/*	both use.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authlimits.h"
#include "config.h"
#include "htab.h"
#include "idmap.h"

#define BITS	17
#define ALNUM	"abcdefghijklmnopqrstuvwxyz0123456789"

static char blk[BITS][2][4];

/* now_s - monotonic seconds */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* fnv1a - FNV-1a of a string, the trackers' old bucket hash */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* fnv_block - FNV-1a state after 3 characters */
static uint32_t
fnv_block(uint32_t h, const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* block_of - the 3 characters of candidate x */
static void
block_of(unsigned x, char *c)
{
	unsigned n = sizeof(ALNUM) - 1;

	c[0] = ALNUM[x % n];
	c[1] = ALNUM[x / n % n];
	c[2] = ALNUM[x / n / n];
	c[3] = 0;
}

/* collide_blocks - per step, two blocks that meet in the low BITS bits */
static void
collide_blocks(void)
{
	uint32_t mask = (1u << BITS) - 1, s = 2166136261u & mask, h;
	unsigned step, x, n = sizeof(ALNUM) - 1;
	int32_t *seen = malloc((mask + 1) * sizeof(*seen));
	char c[4];

	for (step = 0; step < BITS; step++) {
		memset(seen, 0xff, (mask + 1) * sizeof(*seen));
		for (x = 0; x < n * n * n; x++) {
			block_of(x, c);
			h = fnv_block(s, c) & mask;
			if (seen[h] < 0) {
				seen[h] = (int32_t)x;
				continue;
			}
			memcpy(blk[step][0], c, 4);
			block_of((unsigned)seen[h], blk[step][1]);
			s = h;
			break;
		}
		if (x == n * n * n) {
			fprintf(stderr, "hashcollide: no collision at step %u\n",
			    step);
			exit(1);
		}
	}
	free(seen);
}

/* name_of - colliding name i */
static void
name_of(unsigned i, char *out)
{
	unsigned step;

	for (step = 0; step < BITS; step++)
		memcpy(out + 3 * step, blk[step][(i >> step) & 1], 3);
	out[3 * BITS] = 0;
}

/* bench_tracker - insert and look up n names in an account tracker */
static void
bench_tracker(unsigned n)
{
	struct limits_config cfg;
	struct limits l;
	char name[3 * BITS + 1];
	double t0, ins, look;
	unsigned i, found = 0;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("3/10m", &cfg.account);
	limit_parse("5/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 3;
	cfg.max_tracked = 2 * (size_t)n;
	limits_init(&l, &cfg);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		name_of(i, name);
		limits_get(&l.acct, name, 1000);
	}
	ins = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		name_of(i, name);
		found += limits_find(&l.acct, name) != NULL;
	}
	look = now_s() - t0;
	printf("tracker  %7u names  %9.0f ns/insert  %9.0f ns/lookup  "
	    "longest chain %zu of %zu buckets (found %u)\n", n, ins / n * 1e9,
	    look / n * 1e9, htab_longest(&l.acct.tab), l.acct.tab.nbucket,
	    found);
	limits_free(&l);
}

/* bench_idmap - ids with the low 18 bits zero */
static void
bench_idmap(void)
{
	unsigned n = 1u << 14, i, found = 0;
	struct idmap m;
	double t0, ins, look;

	idmap_init(&m);
	t0 = now_s();
	for (i = 0; i < n; i++)
		idmap_put(&m, i << 18, &m);
	ins = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++)
		found += idmap_get(&m, i << 18) != NULL;
	look = now_s() - t0;
	printf("idmap    %7u ids    %9.0f ns/insert  %9.0f ns/lookup  "
	    "longest chain %zu of %zu buckets (found %u)\n", n, ins / n * 1e9,
	    look / n * 1e9, htab_longest(&m.tab), m.tab.nbucket, found);
	idmap_free(&m);
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	char a[3 * BITS + 1], b[3 * BITS + 1];

	if (n == 0 || n > 1u << BITS) {
		fprintf(stderr, "hashcollide: 1 to %u names\n", 1u << BITS);
		return 1;
	}
	collide_blocks();
	name_of(0, a);
	name_of(n - 1, b);
	printf("# FNV-1a low %d bits: %s %05x, %s %05x\n", BITS, a,
	    fnv1a(a) & ((1u << BITS) - 1), b, fnv1a(b) & ((1u << BITS) - 1));
	bench_tracker(n);
	bench_idmap();
	return 0;
}
