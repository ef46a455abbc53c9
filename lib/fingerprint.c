/*++
/* NAME
/*	fingerprint 3
/* SUMMARY
/*	keyed, truncated fingerprints of failed passwords
/* DESCRIPTION
/*	fingerprint() is HMAC-SHA256(secret, account NUL password),
/*	truncated to 32 bits (never 0, which means "none"). It tells
/*	whether the same wrong password comes again, and nothing else:
/*	without the secret (state_dir/secret, mode 0600) it cannot be
/*	tested against guesses, and 32 bits could not confirm a guess
/*	even with it. The account is part of the input, so the same
/*	password on two accounts does not give the same fingerprint.
/*--*/
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fingerprint.h"
#include "util.h"

/* fingerprint - 32 bits of HMAC-SHA256(key, account NUL password) */
uint32_t
fingerprint(const unsigned char *key, size_t keylen, const char *account,
    const char *pass)
{
	unsigned char msg[2 * 1024 + 2], mac[EVP_MAX_MD_SIZE];
	size_t alen = strlen(account), plen = strlen(pass);
	unsigned maclen = 0;
	uint32_t fp;

	if (alen > 1024)
		alen = 1024;
	if (plen > 1024)
		plen = 1024;
	memcpy(msg, account, alen);
	msg[alen] = 0;
	memcpy(msg + alen + 1, pass, plen);
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, alen + 1 + plen, mac,
	    &maclen) == NULL || maclen < 4)
		fp = 1;
	else
		fp = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
		    (uint32_t)mac[2] << 8 | mac[3];
	wipe(msg, sizeof(msg));
	wipe(mac, sizeof(mac));
	return fp ? fp : 1;
}
