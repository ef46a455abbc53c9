/*++
/* NAME
/*	keyedhash 3h
/* SUMMARY
/*	SipHash-2-4 with a random per-process key, for hash tables
/*--*/
#ifndef AUTHGUARD_KEYEDHASH_H
#define AUTHGUARD_KEYEDHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN	16

uint64_t siphash24(const unsigned char *, const void *, size_t);
void	 keyedhash_init(void);
uint64_t keyedhash(const void *, size_t);
uint64_t keyedhash_str(const char *);
uint64_t keyedhash_u32(uint32_t);

#endif
