/*++
/* NAME
/*	util 3
/* SUMMARY
/*	memory, string and secret-wiping helpers
/* DESCRIPTION
/*	Allocation wrappers abort through msg_fatal() when memory runs
/*	out, as a daemon that cannot allocate cannot keep its promises.
/*	wipe() clears memory that held a secret in a way the compiler
/*	cannot elide. str_copy() is strlcpy() with truncation reported
/*	as an error, never silent. open_private() creates a file only
/*	this user may read, replacing (never following) whatever was at
/*	that path, so that a left-over or planted file cannot give it
/*	other permissions or send the write elsewhere.
/*--*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "util.h"

/* xmalloc - allocate or die */
void *
xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", len);
	return p;
}

/* xcalloc - allocate zeroed memory or die */
void *
xcalloc(size_t n, size_t len)
{
	void *p = calloc(n ? n : 1, len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu x %zu bytes", n, len);
	return p;
}

/* xrealloc - resize or die */
void *
xrealloc(void *old, size_t len)
{
	void *p = realloc(old, len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", len);
	return p;
}

/* xstrdup - copy a string or die */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most len bytes and terminate */
char *
xstrndup(const char *s, size_t len)
{
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

/* wipe - clear memory that held a secret */
void
wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

/* wipe_free - clear, then free */
void
wipe_free(void *p, size_t len)
{
	wipe(p, len);
	free(p);
}

/* wipe_str - clear and free a NUL-terminated secret */
void
wipe_str(char *s)
{
	if (s != NULL)
		wipe_free(s, strlen(s));
}

/* str_copy - strlcpy that reports truncation as -1 */
int
str_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0)
		return -1;
	if (len >= size) {
		dst[0] = 0;
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

/* str_lower - lower-case ASCII in place */
void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* str_upper - ASCII upper case, in place */
void
str_upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* parse_uint - strict decimal, no sign, no junk, at most max */
int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == 0)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if ((unsigned long)(*s - '0') > max ||
		    v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

/* now_ms - monotonic milliseconds */
uint64_t
now_ms(void)
{
	return now_ns() / 1000000;
}

/* now_ns - monotonic nanoseconds */
uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* open_private - a new 0600 file for writing, or -1 */
int
open_private(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
}

/* hex_digit - value of one hex digit, or -1 */
int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
