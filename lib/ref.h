/*++
/* NAME
/*	ref 3h
/* SUMMARY
/*	random references that tie a reply, a log line and the CLI
/*--*/
#ifndef AUTHGUARD_REF_H
#define AUTHGUARD_REF_H

#include <stddef.h>

#define REF_LEN	10

int	ref_from_bytes(const unsigned char *, size_t, char *);
void	ref_new(char *);
int	ref_valid(const char *);

#endif
