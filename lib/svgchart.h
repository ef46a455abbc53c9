/*++
/* NAME
/*	svgchart 3h
/* SUMMARY
/*	failures per cause per hour as an inline SVG stacked bar chart
/*--*/
#ifndef AUTHGUARD_SVGCHART_H
#define AUTHGUARD_SVGCHART_H

#include <stddef.h>

#include "buf.h"

#define SVGCHART_HOURS_MAX	48	/* bars drawn at most */

struct svgchart_cell {
	size_t		 hour;		/* index into the hours */
	const char	*cause;		/* cause id */
	unsigned long long count;
};

void	 svgchart_render(struct buf *, const char *, const char *,
	    const char *const *, size_t, const struct svgchart_cell *, size_t);
const char *svgchart_colour(const char *);

#endif
