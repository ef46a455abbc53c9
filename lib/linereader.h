/*++
/* NAME
/*	linereader 3h
/* SUMMARY
/*	length-capped line splitter with a push/next API
/*--*/
#ifndef AUTHGUARD_LINEREADER_H
#define AUTHGUARD_LINEREADER_H

#include <stddef.h>

#include "buf.h"

enum lr_result {
	LR_NONE,		/* need more input */
	LR_LINE,		/* a complete line */
	LR_OVERLONG,		/* a line over the cap: its first bytes */
};

struct linereader {
	struct buf	in;
	size_t		max;		/* longest line accepted */
	size_t		start;		/* first byte not handed out yet */
	size_t		consumed;	/* bytes handed out, dropped at next */
	int		skipping;	/* discarding an overlong line */
};

void	 lr_init(struct linereader *, size_t);
void	 lr_free(struct linereader *);
char	*lr_space(struct linereader *, size_t);
void	 lr_commit(struct linereader *, size_t);
void	 lr_push(struct linereader *, const char *, size_t);
enum lr_result lr_next(struct linereader *, char **, size_t *);

#endif
