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

uint32_t fingerprint(const unsigned char *, size_t, const char *, const char *);

#endif
