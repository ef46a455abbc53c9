/*++
/* NAME
/*	fingerprint 3h
/* SUMMARY
/*	keyed, truncated fingerprints of failed passwords
/*--*/
#ifndef AUTHGUARD_FINGERPRINT_H
#define AUTHGUARD_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define FINGERPRINT_KEY_LEN	32
#define FINGERPRINT_BITS	20
#define FINGERPRINT_MAX		((UINT32_C(1) << FINGERPRINT_BITS) - 1)

uint32_t fingerprint(const unsigned char *, size_t, const char *, const char *);
uint32_t fingerprint_narrow(uint32_t);
uint32_t fingerprint_check(const unsigned char *, size_t);

#endif
