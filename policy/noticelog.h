/*++
/* NAME
/*	noticelog 3h
/* SUMMARY
/*	the journal of notices: state_dir/notices
/*--*/
#ifndef AUTHGUARD_NOTICELOG_H
#define AUTHGUARD_NOTICELOG_H

#include <stddef.h>

#include "notify.h"

#define NOTICELOG_READ_MAX	(1 << 20)	/* the journal's tail read */

typedef void (*noticelog_fn)(void *, const struct notify_row *);

int	 noticelog_open(const char *);
void	 noticelog_append(const struct notify_row *, const char *);
void	 noticelog_read(const char *, size_t, noticelog_fn, void *);
int	 noticelog_parse(const char *, size_t, struct notify_row *);
void	 noticelog_keep(const struct notify_row *);
const struct notify_row *noticelog_row(size_t);
void	 noticelog_close(void);

#endif
