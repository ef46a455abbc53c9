/*++
/* NAME
/*	logline 3h
/* SUMMARY
/*	one event as a logfmt or JSON line, with escaping
/*--*/
#ifndef AUTHGUARD_LOGLINE_H
#define AUTHGUARD_LOGLINE_H

#include <stddef.h>

#include "buf.h"

enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

#define LOGLINE_VALUE_MAX	512	/* bytes of one value; the rest is cut */

struct logline {
	struct buf	b;
	enum log_format	fmt;
	int		fields;
};

void	 logline_begin(struct logline *, enum log_format);
void	 logline_str(struct logline *, const char *, const char *);
void	 logline_mem(struct logline *, const char *, const char *, size_t);
void	 logline_uint(struct logline *, const char *, unsigned long long);
const char *logline_end(struct logline *);
void	 logline_free(struct logline *);
size_t	 utf8_valid_prefix(const unsigned char *, size_t);
void	 escaped_value(struct buf *, enum log_format, const char *);

#endif
