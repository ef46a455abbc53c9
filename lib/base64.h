/*++
/* NAME
/*	base64 3h
/* SUMMARY
/*	strict RFC 4648 base64
/*--*/
#ifndef AUTHGUARD_BASE64_H
#define AUTHGUARD_BASE64_H

#include <stddef.h>

#include "buf.h"

#define BASE64_DECODED_MAX(n)	((n) / 4 * 3 + 3)

int	base64_decode(const char *, size_t, unsigned char *, size_t *);
void	base64_encode(struct buf *, const unsigned char *, size_t);

#endif
