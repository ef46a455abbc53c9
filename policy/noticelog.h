/*++
/* NAME
/*	noticelog 3h
/* SUMMARY
/*	the journal of notices: state_dir/notices
/*--*/
#ifndef AUTHGUARD_NOTICELOG_H
#define AUTHGUARD_NOTICELOG_H

#include <stddef.h>
#include <stdint.h>

#include "notice.h"
#include "ref.h"

#define NOTICELOG_READ_MAX	(1 << 20)	/* the journal's tail read */
#define NOTICELOG_ROWS_MAX	1000	/* rows held for "notices" */

/* One outcome, as the journal keeps it and "notices" shows it. */
struct notify_row {
	uint32_t	 t;
	char		 kind[24];
	char		 user[256];
	char		 to[NOTICE_ADDR_MAX + 1];
	char		 ip[64];
	char		 ref[REF_LEN + 1];
	char		 message_id[320];
	char		 result[12];
};

typedef void (*noticelog_fn)(void *, const struct notify_row *);

int	 noticelog_open(const char *, noticelog_fn, void *);
void	 noticelog_append(const struct notify_row *, const char *);
void	 noticelog_read(const char *, size_t, noticelog_fn, void *);
int	 noticelog_parse(const char *, size_t, struct notify_row *);
void	 noticelog_keep(const struct notify_row *);
const struct notify_row *noticelog_row(size_t);
void	 noticelog_close(void);

#endif
