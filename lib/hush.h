/*++
/* NAME
/*	hush 3h
/* SUMMARY
/*	a warning at most once per interval, the others counted
/*--*/
#ifndef AUTHGUARD_HUSH_H
#define AUTHGUARD_HUSH_H

/* One kind of warning; all zero: none logged yet. */
struct hush {
	long long	 last;		/* ms of the last one logged */
	unsigned long	 quiet;		/* kept quiet since */
	int		 said;		/* one was logged: last holds */
};

long	hush_pass(struct hush *, long long, long long);

#endif
