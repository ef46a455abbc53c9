/*++
/* NAME
/*	keyedhash 3
/* SUMMARY
/*	SipHash-2-4 with a random per-process key, for hash tables
/* SYNOPSIS
/*	#include "keyedhash.h"
/*
/*	uint64_t siphash24(key, in, len)
/*	const unsigned char key[SIPHASH_KEY_LEN];
/*
/*	void	keyedhash_init(void)
/*
/*	uint64_t keyedhash(in, len)
/*	uint64_t keyedhash_str(s)
/*	uint64_t keyedhash_u32(v)
/* DESCRIPTION
/*	Tables whose keys a peer chooses (user names, addresses, ids)
/*	pick their buckets with keyedhash(): SipHash-2-4 (Aumasson and
/*	Bernstein, 2012) under a key drawn from getrandom(2) once per
/*	process, so that a client cannot compute names that share a
/*	bucket and make one chain as long as the table.
/*
/*	siphash24() is the function itself, for any key; the unit tests
/*	hold it to the reference vectors of the SipHash paper.
/*
/*	keyedhash_init() draws the key; the table constructors call it,
/*	and keyedhash() does when nothing did. Not thread-safe before the
/*	first call: the daemon that uses it is single-threaded.
/*
/*	The hash is never a stable name for anything: it changes with
/*	each start, so nothing may store it or send it to another server.
/*
/*	OpenSSL 3 has SipHash too (EVP_MAC "SIPHASH"). A table's hash
/*	must not fail, allocate or share a mutable context, and OpenSSL's
/*	can do all three (a provider without SIPHASH, such as a FIPS-only
/*	configuration, fails the fetch); it is also 2 to 5 times slower
/*	for names of 5 to 64 bytes, at its cheapest (bench/hashcost.c,
/*	which checks that both agree). This one is a few dozen lines,
/*	held to the paper's vectors.
/*--*/
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "keyedhash.h"
#include "msg.h"

static unsigned char kh_key[SIPHASH_KEY_LEN];
static int kh_ready;

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* le64 - 8 bytes, little endian */
static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

/* siphash24 - SipHash-2-4 of in under a 16-byte key */
uint64_t
siphash24(const unsigned char *key, const void *in, size_t len)
{
	const unsigned char *p = in, *end = p + (len & ~(size_t)7);
	uint64_t k0 = le64(key), k1 = le64(key + 8), m, b;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t i;

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b = (uint64_t)len << 56;
	for (i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* keyedhash_init - draw this process's key, once */
void
keyedhash_init(void)
{
	if (kh_ready)
		return;
	if (getrandom(kh_key, sizeof(kh_key), 0) != (ssize_t)sizeof(kh_key))
		msg_fatal("getrandom: %s", strerror(errno));
	kh_ready = 1;
}

/* keyedhash - SipHash-2-4 under this process's key */
uint64_t
keyedhash(const void *in, size_t len)
{
	if (!kh_ready)
		keyedhash_init();
	return siphash24(kh_key, in, len);
}

/* keyedhash_str - of a string, without its NUL */
uint64_t
keyedhash_str(const char *s)
{
	return keyedhash(s, strlen(s));
}

/* keyedhash_u32 - of a number (its 4 bytes, little endian) */
uint64_t
keyedhash_u32(uint32_t v)
{
	unsigned char b[4];

	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
	return keyedhash(b, sizeof(b));
}
