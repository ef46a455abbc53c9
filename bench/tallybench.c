/*++
/* NAME
/*	tallybench 1
/* SUMMARY
/*	authguard top and analyze over many distinct user names
/* SYNOPSIS
/*	tallybench [names]
/* DESCRIPTION
/*	Counts names (default 100000, "user" NUMBER "@example.com", each
/*	distinct) into a tally (lib/tally.c) as `authguard analyze` and
/*	`authguard top` do: each name once, then each again in another
/*	case (a second failure of the same user), then sorts and looks
/*	each up once more. Prints the time per row of each pass and checks
/*	that every name has one row with its two failures.
/*
/*	It uses only the tally's public interface, so that it builds
/*	against the library before and after a change to it.
/*--*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally.h"

/* now_s - monotonic seconds */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* name_of - name i, upper-cased when upper */
static void
name_of(unsigned i, int upper, char *out, size_t len)
{
	char *p;

	snprintf(out, len, "user%u@example.com", i);
	if (upper)
		for (p = out; *p; p++)
			*p = (char)toupper((unsigned char)*p);
}

/* pass - every name into the tally once; seconds */
static double
pass(struct tally *t, unsigned n, int upper)
{
	char name[64];
	double t0 = now_s();
	unsigned i;

	for (i = 0; i < n; i++) {
		name_of(i, upper, name, sizeof(name));
		tally_row(t, name)->fails++;
	}
	return now_s() - t0;
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	struct tally t;
	double ins, again, sort, after, t0;
	size_t i;
	int bad = 0;

	if (n == 0)
		return fprintf(stderr, "tallybench: 1 name or more\n"), 1;
	memset(&t, 0, sizeof(t));
	ins = pass(&t, n, 0);
	again = pass(&t, n, 1);
	t0 = now_s();
	tally_sort(&t);
	sort = now_s() - t0;
	after = pass(&t, n, 0);
	if (t.n != n)
		bad = 1;
	for (i = 0; i < t.n; i++)
		if (t.v[i].fails != 3)
			bad = 1;
	printf("tally, %u distinct names: new %.3f us/row, again (other "
	    "case) %.3f us/row, sort %.3f s, after sort %.3f us/row, total "
	    "%.3f s%s\n", n, ins * 1e6 / n, again * 1e6 / n, sort,
	    after * 1e6 / n, ins + again + sort + after, bad ? " WRONG" : "");
	tally_free(&t);
	return bad;
}
