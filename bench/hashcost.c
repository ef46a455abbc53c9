/*++
/* NAME
/*	hashcost 1
/* SUMMARY
/*	the cost of one SipHash-2-4 call: OpenSSL's EVP_MAC or keyedhash
/* SYNOPSIS
/*	hashcost [calls]
/* DESCRIPTION
/*	For names of 5, 16, 32 and 64 bytes (user names and address keys),
/*	the time of one call, in ns, of:
/* .IP keyedhash
/*	siphash24() of lib/keyedhash.c;
/* .IP evp_init
/*	OpenSSL 3's EVP_MAC "SIPHASH" (size 8), one context kept:
/*	EVP_MAC_init with the key, update, final;
/* .IP evp_reinit
/*	the same context initialised again without a key (the key set
/*	before stays), update, final: OpenSSL's cheapest way;
/* .IP evp_dup
/*	a keyed context duplicated per call, update, final, free.
/* .PP
/*	It first checks that OpenSSL and siphash24() agree on the
/*	SipHash paper's key and messages. Link with libauthguard.a and
/*	-lcrypto.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "keyedhash.h"

static unsigned char key[SIPHASH_KEY_LEN];
static EVP_MAC *mac;
static EVP_MAC_CTX *keyed, *again;	/* duplicated; started again */
static volatile uint64_t sink;

/* now_ns - monotonic */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* evp_params - output size 8: SipHash-2-4's 64 bits */
static void
evp_params(OSSL_PARAM *p, unsigned *size)
{
	*size = 8;
	p[0] = OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, size);
	p[1] = OSSL_PARAM_construct_end();
}

/* out64 - 8 output bytes as SipHash's little-endian number */
static uint64_t
out64(const unsigned char *o)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | o[i];
	return v;
}

/* evp_init - one call, the kept context keyed again */
static uint64_t
evp_init(EVP_MAC_CTX *c, const void *in, size_t len)
{
	OSSL_PARAM p[2];
	unsigned size;
	unsigned char o[8];
	size_t olen;

	evp_params(p, &size);
	if (!EVP_MAC_init(c, key, sizeof(key), p) ||
	    !EVP_MAC_update(c, in, len) || !EVP_MAC_final(c, o, &olen, 8))
		abort();
	return out64(o);
}

/* evp_reinit - one call, the kept context started again, same key */
static uint64_t
evp_reinit(const void *in, size_t len)
{
	unsigned char o[8];
	size_t olen;

	if (!EVP_MAC_init(again, NULL, 0, NULL) ||
	    !EVP_MAC_update(again, in, len) ||
	    !EVP_MAC_final(again, o, &olen, 8))
		abort();
	return out64(o);
}

/* evp_dup - one call, a copy of a keyed context */
static uint64_t
evp_dup(const void *in, size_t len)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(keyed);
	unsigned char o[8];
	size_t olen;

	if (c == NULL || !EVP_MAC_update(c, in, len) ||
	    !EVP_MAC_final(c, o, &olen, 8))
		abort();
	EVP_MAC_CTX_free(c);
	return out64(o);
}

/* agree - OpenSSL and siphash24 on the paper's vectors */
static int
agree(EVP_MAC_CTX *c)
{
	unsigned char in[64];
	int i;

	for (i = 0; i < 64; i++) {
		in[i] = (unsigned char)i;
		if (evp_init(c, in, (size_t)i) != siphash24(key, in, (size_t)i) ||
		    evp_dup(in, (size_t)i) != siphash24(key, in, (size_t)i) ||
		    evp_reinit(in, (size_t)i) != siphash24(key, in, (size_t)i))
			return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	static const size_t lens[] = {5, 16, 32, 64};
	long calls = argc > 1 ? atol(argv[1]) : 2000000, i;
	char names[256][65];
	EVP_MAC_CTX *c;
	OSSL_PARAM p[2];
	unsigned size;
	double t0, ks, ei, er, ed, best;
	size_t l, j;

	for (j = 0; j < sizeof(key); j++)
		key[j] = (unsigned char)j;
	if ((mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL ||
	    (c = EVP_MAC_CTX_new(mac)) == NULL ||
	    (keyed = EVP_MAC_CTX_new(mac)) == NULL ||
	    (again = EVP_MAC_CTX_new(mac)) == NULL) {
		fprintf(stderr, "hashcost: no SIPHASH in this OpenSSL\n");
		return 1;
	}
	evp_params(p, &size);
	if (!EVP_MAC_init(keyed, key, sizeof(key), p) ||
	    !EVP_MAC_init(again, key, sizeof(key), p))
		abort();
	if (!agree(c)) {
		fprintf(stderr, "hashcost: OpenSSL and siphash24 differ\n");
		return 1;
	}
	printf("# %s, %ld calls each; ns per call\n",
	    OpenSSL_version(OPENSSL_VERSION), calls);
	printf("%-6s %10s %10s %10s %10s %8s\n", "bytes", "keyedhash",
	    "evp_init", "evp_reinit", "evp_dup", "best/kh");
	for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (j = 0; j < 256; j++)
			for (i = 0; i < (long)lens[l]; i++)
				names[j][i] = (char)('a' + (j * 7 + (size_t)i * 13) % 26);
		t0 = now_ns();
		for (i = 0; i < calls; i++)
			sink += siphash24(key, names[i & 255], lens[l]);
		ks = (now_ns() - t0) / calls;
		t0 = now_ns();
		for (i = 0; i < calls / 10; i++)
			sink += evp_init(c, names[i & 255], lens[l]);
		ei = (now_ns() - t0) / (calls / 10);
		t0 = now_ns();
		for (i = 0; i < calls / 10; i++)
			sink += evp_dup(names[i & 255], lens[l]);
		ed = (now_ns() - t0) / (calls / 10);
		t0 = now_ns();
		for (i = 0; i < calls / 10; i++)
			sink += evp_reinit(names[i & 255], lens[l]);
		er = (now_ns() - t0) / (calls / 10);
		best = ei < ed ? ei : ed;
		best = er < best ? er : best;
		printf("%-6zu %10.1f %10.1f %10.1f %10.1f %7.1fx\n", lens[l], ks,
		    ei, er, ed, best / ks);
	}
	EVP_MAC_CTX_free(c);
	EVP_MAC_CTX_free(keyed);
	EVP_MAC_CTX_free(again);
	EVP_MAC_free(mac);
	return 0;
}
