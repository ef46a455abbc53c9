/*++
/* NAME
/*	ref 3
/* SUMMARY
/*	random references that tie a reply, a log line and the CLI
/* DESCRIPTION
/*	A reference is REF_LEN characters of [0-9A-Z] (about 51 bits),
/*	drawn from getrandom(2) with rejection sampling so that every
/*	character is equally likely. It carries no information: it
/*	cannot be guessed from another, nor tell anything of the user.
/*	ref_from_bytes() is the pure part: it turns random bytes into
/*	a reference and returns the bytes it used, or -1 if more are
/*	needed.
/*--*/
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "msg.h"
#include "ref.h"

static const char ref_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* ref_from_bytes - map random bytes to a reference, unbiased */
int
ref_from_bytes(const unsigned char *rnd, size_t n, char *out)
{
	size_t used = 0, have = 0;

	while (have < REF_LEN) {
		if (used == n)
			return -1;
		if (rnd[used] < 252)	/* 252 = 7 * 36 */
			out[have++] = ref_alphabet[rnd[used] % 36];
		used++;
	}
	out[REF_LEN] = 0;
	return (int)used;
}

/* ref_new - a fresh random reference (random bytes drawn in batches) */
void
ref_new(char *out)
{
	static __thread unsigned char pool[4096];	/* one per milter thread */
	static __thread size_t used = sizeof(pool);
	int n;

	for (;;) {
		if (used + 2 * REF_LEN > sizeof(pool)) {
			if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
				msg_fatal("getrandom: cannot read random bytes");
			used = 0;
		}
		n = ref_from_bytes(pool + used, 2 * REF_LEN, out);
		used += 2 * REF_LEN;
		if (n > 0)
			return;
	}
}

/* ref_valid - syntax check of a reference given by a user */
int
ref_valid(const char *s)
{
	return strlen(s) == REF_LEN && strspn(s, ref_alphabet) == REF_LEN;
}
