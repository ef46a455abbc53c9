/*++
/* NAME
/*	test_keyedhash 1
/* SUMMARY
/*	unit tests: SipHash-2-4 reference vectors, short chains for
/*	names that collide under an unkeyed hash
/* DESCRIPTION
/*	The vectors are those of the SipHash paper (Aumasson and
/*	Bernstein, appendix A, and its reference code): key 00..0f,
/*	message 00..len-1 for len 0..63, the output as a little-endian
/*	64-bit number.
/*
/*	The chain tests build names whose FNV-1a hashes (the trackers'
/*	former bucket hash) agree in their low bits, so that they all
/*	fell in one bucket at every table size, and check that the
/*	trackers and the id map now spread them.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "config.h"
#include "htab.h"
#include "idmap.h"
#include "keyedhash.h"
#include "unit.h"

static const uint64_t sip_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL,
	0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
	0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
	0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL,
	0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL,
	0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
	0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
	0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL,
	0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL,
	0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
	0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
	0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL,
	0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL,
	0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
	0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
	0xf935451de4f21df2ULL, 0xa9538f0419755787ULL,
	0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL,
	0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
	0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
	0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL,
	0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL,
	0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

TEST(siphash_reference_vectors)
{
	unsigned char key[SIPHASH_KEY_LEN], in[64];
	int i, bad = 0;

	for (i = 0; i < SIPHASH_KEY_LEN; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < 64; i++) {
		in[i] = (unsigned char)i;
		if (siphash24(key, in, (size_t)i) != sip_vectors[i]) {
			printf("# siphash24 vector %d differs\n", i);
			bad++;
		}
	}
	CHECK(bad == 0);
}

TEST(keyedhash_is_keyed)
{
	unsigned char zero[SIPHASH_KEY_LEN];
	const char *name = "alice@example.org";

	memset(zero, 0, sizeof(zero));
	keyedhash_init();
	CHECK(keyedhash_str(name) == keyedhash_str(name));
	CHECK(keyedhash_str(name) == keyedhash(name, strlen(name)));
	/* a random key: not the all-zero one (chance 2^-64 of a false fail) */
	CHECK(keyedhash_str(name) != siphash24(zero, name, strlen(name)));
	CHECK(keyedhash_u32(1) != keyedhash_u32(2));
}

#define FNV_PRIME	16777619u
#define FNV_BASIS	2166136261u
#define ALNUM		"abcdefghijklmnopqrstuvwxyz0123456789"

/* fnv1a - FNV-1a of a string, the trackers' old bucket hash */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = FNV_BASIS;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return h;
}

/* fnv_block - FNV-1a state after 3 characters */
static uint32_t
fnv_block(uint32_t h, const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

/*
 * collide_blocks - for each of k steps, two 3-character blocks that take
 * the low k bits of FNV-1a's state to the same value: any choice of one
 * block per step gives the same low k bits (they depend on nothing above).
 */
static void
collide_blocks(unsigned k, char (*blk)[2][4])
{
	uint32_t mask = (1u << k) - 1, s = FNV_BASIS & mask, h;
	int32_t *seen = malloc(((size_t)mask + 1) * sizeof(*seen));
	unsigned step, x, n = (unsigned)strlen(ALNUM);
	char c[4];

	for (step = 0; step < k; step++) {
		memset(seen, 0xff, ((size_t)mask + 1) * sizeof(*seen));
		for (x = 0; x < n * n * n; x++) {
			c[0] = ALNUM[x % n];
			c[1] = ALNUM[x / n % n];
			c[2] = ALNUM[x / n / n];
			c[3] = 0;
			h = fnv_block(s, c) & mask;
			if (seen[h] < 0) {
				seen[h] = (int32_t)x;
				continue;
			}
			memcpy(blk[step][0], c, 4);
			blk[step][1][0] = ALNUM[seen[h] % n];
			blk[step][1][1] = ALNUM[seen[h] / n % n];
			blk[step][1][2] = ALNUM[seen[h] / n / n];
			blk[step][1][3] = 0;
			s = h;
			break;
		}
	}
	free(seen);
}

/* colliding_name - name number i of 2^k, 3k characters */
static void
colliding_name(unsigned k, char (*blk)[2][4], unsigned i, char *out)
{
	unsigned step;

	for (step = 0; step < k; step++)
		memcpy(out + 3 * step, blk[step][(i >> step) & 1], 3);
	out[3 * k] = 0;
}

#define COLLIDE_BITS	15
#define COLLIDE_NAMES	20000

TEST(keyedhash_tracker_chains_short)
{
	char blk[COLLIDE_BITS][2][4], name[3 * COLLIDE_BITS + 1];
	uint32_t low = 0, mask = (1u << COLLIDE_BITS) - 1;
	struct limits_config cfg;
	struct limits l;
	unsigned i, same = 0;

	collide_blocks(COLLIDE_BITS, blk);
	memset(&cfg, 0, sizeof(cfg));
	limit_parse("3/10m", &cfg.account);
	limit_parse("5/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 3;
	cfg.max_tracked = 2 * COLLIDE_NAMES;
	limits_init(&l, &cfg);
	for (i = 0; i < COLLIDE_NAMES; i++) {
		colliding_name(COLLIDE_BITS, blk, i, name);
		if (i == 0)
			low = fnv1a(name) & mask;
		same += (fnv1a(name) & mask) == low;
		limits_get(&l.acct, name, 1000);
	}
	/* the names do collide under FNV-1a, at the final table size too */
	CHECK(same == COLLIDE_NAMES);
	CHECK(l.acct.count == COLLIDE_NAMES);
	CHECK(l.acct.tab.nbucket <= mask + 1);
	/* n names in n buckets: the longest chain is a handful, not n */
	CHECK(htab_longest(&l.acct.tab) < 16);
	for (i = 0; i < COLLIDE_NAMES; i += 997) {
		colliding_name(COLLIDE_BITS, blk, i, name);
		CHECK(limits_find(&l.acct, name) != NULL);
	}
	limits_free(&l);
}

TEST(keyedhash_idmap_chains_short)
{
	struct idmap m;
	unsigned i, count = 1u << 14;

	/* ids equal in their low 18 bits: one bucket under id * 2654435761 */
	idmap_init(&m);
	for (i = 0; i < count; i++)
		idmap_put(&m, i << 18, &m);
	CHECK(htab_longest(&m.tab) < 16);
	CHECK(idmap_get(&m, 77u << 18) == &m);
	CHECK(idmap_del(&m, 77u << 18) == &m);
	CHECK(idmap_get(&m, 77u << 18) == NULL);
	idmap_free(&m);
}
