/*++
/* NAME
/*	buf 3h
/* SUMMARY
/*	growable byte buffer that wipes what it lets go
/*--*/
#ifndef AUTHGUARD_BUF_H
#define AUTHGUARD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reserve(struct buf *, size_t);
void	 buf_append_slow(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_consume(struct buf *, size_t);
void	 buf_reset(struct buf *);
const char *buf_str(struct buf *);

/* buf_append - add bytes (inline when they fit) */
static inline void
buf_append(struct buf *b, const void *p, size_t len)
{
	if (b->len + len + 1 <= b->cap) {
		__builtin_memcpy(b->data + b->len, p, len);
		b->len += len;
		b->data[b->len] = 0;
	} else
		buf_append_slow(b, p, len);
}

/* buf_putc - add one byte */
static inline void
buf_putc(struct buf *b, char c)
{
	if (b->len + 2 <= b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = 0;
	} else
		buf_append_slow(b, &c, 1);
}

#endif
