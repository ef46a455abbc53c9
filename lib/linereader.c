/*++
/* NAME
/*	linereader 3
/* SUMMARY
/*	length-capped line splitter with a push/next API
/* DESCRIPTION
/*	All network input goes through here. Bytes are pushed (or
/*	read straight into lr_space() and lr_commit()ed); lr_next()
/*	hands out one LF-terminated line at a time, NUL-terminated in
/*	place, without the LF. A line longer than the cap is reported
/*	once as LR_OVERLONG with its first max bytes, so that the caller
/*	can answer the request it belongs to; the rest of it is skipped
/*	and never buffered. Buffered memory is therefore bounded by the
/*	cap plus one read. A line stays valid until the next lr_next().
/*--*/
#include <string.h>

#include "linereader.h"

/* lr_init - empty reader with a line cap */
void
lr_init(struct linereader *lr, size_t max)
{
	buf_init(&lr->in);
	lr->max = max;
	lr->start = lr->consumed = 0;
	lr->skipping = 0;
}

/* lr_free - release, wiping */
void
lr_free(struct linereader *lr)
{
	buf_free(&lr->in);
}

/* lr_drop_consumed - forget what was handed out (moving nothing yet) */
static void
lr_drop_consumed(struct linereader *lr)
{
	lr->start += lr->consumed;
	lr->consumed = 0;
	if (lr->start == lr->in.len && lr->start > 0) {
		buf_reset(&lr->in);
		lr->start = 0;
	}
}

/* lr_compact - move unread bytes to the front, wiping what they leave */
static void
lr_compact(struct linereader *lr)
{
	if (lr->start == 0)
		return;
	buf_consume(&lr->in, lr->start);
	lr->start = 0;
}

/* lr_space - room for a read of up to len bytes */
char *
lr_space(struct linereader *lr, size_t len)
{
	lr_drop_consumed(lr);
	if (lr->in.len + len + 1 > lr->in.cap)
		lr_compact(lr);
	buf_reserve(&lr->in, len);
	return lr->in.data + lr->in.len;
}

/* lr_commit - account for bytes read into lr_space() */
void
lr_commit(struct linereader *lr, size_t len)
{
	lr->in.len += len;
	lr->in.data[lr->in.len] = 0;
}

/* lr_push - append input */
void
lr_push(struct linereader *lr, const char *p, size_t len)
{
	memcpy(lr_space(lr, len), p, len);
	lr_commit(lr, len);
}

/* lr_skip - discard input up to and including the next LF */
static int
lr_skip(struct linereader *lr)
{
	char *p = lr->in.data + lr->start;
	char *nl = memchr(p, '\n', lr->in.len - lr->start);

	if (nl == NULL) {
		buf_reset(&lr->in);
		lr->start = 0;
		return 0;
	}
	lr->start += (size_t)(nl - p) + 1;
	lr->skipping = 0;
	return 1;
}

/* lr_next - the next complete line, if any */
enum lr_result
lr_next(struct linereader *lr, char **line, size_t *len)
{
	char *p, *nl;
	size_t n, avail;

	lr_drop_consumed(lr);
	if (lr->skipping && !lr_skip(lr))
		return LR_NONE;
	if ((avail = lr->in.len - lr->start) == 0)
		return LR_NONE;
	p = lr->in.data + lr->start;
	nl = memchr(p, '\n', avail);
	n = nl ? (size_t)(nl - p) : avail;
	if (n > lr->max) {
		p[lr->max] = 0;
		*line = p;
		*len = lr->max;
		if (nl)
			lr->consumed = n + 1;
		else {
			lr->consumed = avail;
			lr->skipping = 1;
		}
		return LR_OVERLONG;
	}
	if (nl == NULL)
		return LR_NONE;
	*nl = 0;
	*line = p;
	*len = n;
	lr->consumed = n + 1;
	return LR_LINE;
}
