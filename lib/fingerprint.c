/*++
/* NAME
/*	fingerprint 3
/* SUMMARY
/*	keyed, truncated fingerprints of failed passwords
/* DESCRIPTION
/*	fingerprint() is HMAC-SHA256(key, account NUL password), cut to
/*	its first FINGERPRINT_BITS (20) bits, never 0 (which means
/*	"none"). It tells whether the same wrong password comes again,
/*	and nothing else. The account is part of the input, so the same
/*	password on two accounts does not give the same fingerprint.
/*
/*	Without the key, a fingerprint cannot be tested against guesses
/*	at all: the key, not the width, is what protects the failed
/*	passwords. The width is a measured choice between two errors:
/*
/*	False repeats. A new wrong password whose fingerprint equals
/*	one of the k already in its window is taken for a repeat: not
/*	counted, and called stale-password. For a window of N distinct
/*	wrong passwords, P = 1 - prod(k = 0 .. N-1) (1 - k / 2^b):
/*
/*	    bits   N = 10 (account)  N = 30 (address)  N = 255 (largest)
/*	    16     6.9e-4            6.6e-3            0.39
/*	    20     4.3e-5            4.1e-4            0.030
/*	    24     2.7e-6            2.6e-5            0.0019
/*	    32     1.0e-8            1.0e-7            7.5e-6
/*
/*	Offline confirmation. Someone holding the key and a fingerprint
/*	who tries a dictionary of D words finds (D - 1) / 2^b other words
/*	with the same fingerprint besides the right one; a hit confirms
/*	the guess when no other word matches, P = exp(-(D - 1) / 2^b):
/*
/*	    bits   D = 1e4   D = 1e6     D = 1e7     D = 1e9
/*	    16     0.86      2.4e-7      0           0
/*	    20     0.99      0.39        7.2e-5      0
/*	    24     1.00      0.94        0.55        1.3e-26
/*	    32     1.00      1.00        1.00        0.79
/*
/*	20 bits keeps false repeats under 1 in 2,000 full windows with
/*	the default limits (3% at the largest), and a dictionary of 10^7
/*	words or more leaves about 10 candidates per fingerprint or more,
/*	so a hit does not confirm a guess. Within the 10^6 most common
/*	passwords a hit is ambiguous (P 0.39); within the 10^5 most
/*	common it does confirm one: against those, only the key protects
/*	(it is kept apart from the state the fingerprints are saved in).
/*
/*	fingerprint_narrow() maps a fingerprint of the former width (32
/*	bits, the same HMAC's first 32) to this one, so that the failures
/*	in an older state file keep matching. fingerprint_check() is the
/*	value servers sharing Redis compare to find a different key: the
/*	first 32 bits of the HMAC of "authguard" NUL "key check", as
/*	before, so that a check value kept in Redis stays valid.
/*--*/
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fingerprint.h"
#include "util.h"

/* fingerprint_mac32 - the first 32 bits of HMAC-SHA256(key, a NUL p) */
static uint32_t
fingerprint_mac32(const unsigned char *key, size_t keylen, const char *account,
    const char *pass)
{
	unsigned char msg[2 * 1024 + 2], mac[EVP_MAX_MD_SIZE];
	size_t alen = strlen(account), plen = strlen(pass);
	unsigned maclen = 0;
	uint32_t v;

	if (alen > 1024)
		alen = 1024;
	if (plen > 1024)
		plen = 1024;
	memcpy(msg, account, alen);
	msg[alen] = 0;
	memcpy(msg + alen + 1, pass, plen);
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, alen + 1 + plen, mac,
	    &maclen) == NULL || maclen < 4)
		v = 1;
	else
		v = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
		    (uint32_t)mac[2] << 8 | mac[3];
	wipe(msg, sizeof(msg));
	wipe(mac, sizeof(mac));
	return v;
}

/* fingerprint_narrow - a 32-bit fingerprint cut to FINGERPRINT_BITS */
uint32_t
fingerprint_narrow(uint32_t v)
{
	v >>= 32 - FINGERPRINT_BITS;
	return v ? v : 1;
}

/* fingerprint - FINGERPRINT_BITS of HMAC-SHA256(key, account NUL password) */
uint32_t
fingerprint(const unsigned char *key, size_t keylen, const char *account,
    const char *pass)
{
	return fingerprint_narrow(fingerprint_mac32(key, keylen, account, pass));
}

/* fingerprint_check - the key's check value, for servers sharing Redis */
uint32_t
fingerprint_check(const unsigned char *key, size_t keylen)
{
	uint32_t v = fingerprint_mac32(key, keylen, "authguard", "key check");

	return v ? v : 1;
}
