/*++
/* NAME
/*	noticelog 3
/* SUMMARY
/*	the journal of notices: state_dir/notices
/* SYNOPSIS
/*	#include "noticelog.h"
/*
/*	int	noticelog_open(state_dir, fn, arg)
/*
/*	void	noticelog_append(row, reason)
/*
/*	void	noticelog_read(text, len, fn, arg)
/*
/*	int	noticelog_parse(line, len, row)
/*
/*	void	noticelog_keep(row)
/*
/*	const struct notify_row *noticelog_row(k)
/* DESCRIPTION
/*	Every outcome of a notice is one logfmt line of the file
/*	state_dir/notices, appended (O_APPEND, mode 0600):
/*
/*	time=UNIX kind=.. user=.. to=.. ip=.. ref=.. message_id=..
/*	result=.. reason=..
/*
/*	escaped as the log escapes it (logline 3). It never holds a
/*	password or a fingerprint: what the notice told, and to whom.
/*
/*	noticelog_open() opens it and reads its last NOTICELOG_READ_MAX
/*	bytes, whole lines, into the rows "notices" shows (the newest
/*	NOTICELOG_ROWS_MAX, in memory), and hands each to fn (the limits
/*	are restored from all of them); a file larger than twice that, at
/*	start or after a line, is cut to its tail (written beside it,
/*	then renamed), so that it does not grow without end. noticelog_read() hands each
/*	parsed line of a text to fn; noticelog_parse() parses one line
/*	(unknown keys skipped, a line without time or kind refused).
/*	noticelog_keep() adds a row to those shown; noticelog_row(k) is
/*	the k-th newest, or NULL.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logline.h"
#include "msg.h"
#include "noticelog.h"
#include "util.h"

static int log_fd = -1;
static char log_path[4096];
static struct notify_row *rows;		/* a ring of NOTICELOG_ROWS_MAX */
static size_t rows_n, rows_next;

/* noticelog_keep - one more row shown; the oldest goes */
void
noticelog_keep(const struct notify_row *r)
{
	if (rows == NULL)
		rows = xcalloc(NOTICELOG_ROWS_MAX, sizeof(*rows));
	rows[rows_next] = *r;
	rows_next = (rows_next + 1) % NOTICELOG_ROWS_MAX;
	if (rows_n < NOTICELOG_ROWS_MAX)
		rows_n++;
}

/* noticelog_row - the k-th newest row, or NULL */
const struct notify_row *
noticelog_row(size_t k)
{
	if (k >= rows_n)
		return NULL;
	return &rows[(rows_next + NOTICELOG_ROWS_MAX - 1 - k) % NOTICELOG_ROWS_MAX];
}

/* unescape - one escape of a quoted value at *p; the byte */
static char
unescape(const char **p, const char *end)
{
	static const char from[] = "nrt\"\\", to[] = "\n\r\t\"\\";
	const char *s = *p, *at;
	int hi, lo;

	if (s < end && (at = strchr(from, *s)) != NULL && *s) {
		*p = s + 1;
		return to[at - from];
	}
	if (end - s >= 3 && *s == 'x' && (hi = hex_digit(s[1])) >= 0 &&
	    (lo = hex_digit(s[2])) >= 0) {
		*p = s + 3;
		return (char)(hi << 4 | lo);
	}
	*p = s < end ? s + 1 : s;	/* not ours: dropped */
	return '?';
}

/*
 * value - a value at p, bare or quoted, into out (cut to len - 1);
 * where it ends
 */
static const char *
value(const char *p, const char *end, char *out, size_t len)
{
	size_t n = 0;
	char c;

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; ) {
			c = *p == '\\' ? (p++, unescape(&p, end)) : *p++;
			if (n + 1 < len)
				out[n++] = c;
		}
		p += p < end;
	} else
		for (; p < end && *p != ' '; p++)
			if (n + 1 < len)
				out[n++] = *p;
	out[n] = 0;
	return p;
}

/* field_slot - where key's value goes in a row, and its size; NULL: none */
static char *
field_slot(struct notify_row *r, const char *key, size_t klen, size_t *size)
{
	static const struct {
		const char *name;
		size_t off, size;
	} f[] = {
#define F(x) {#x, offsetof(struct notify_row, x), sizeof(((struct notify_row *)0)->x)}
		F(kind), F(user), F(to), F(ip), F(ref), F(message_id), F(result),
#undef F
	};
	size_t i;

	for (i = 0; i < NELEM(f); i++)
		if (strlen(f[i].name) == klen && memcmp(f[i].name, key, klen) == 0)
			return *size = f[i].size, (char *)r + f[i].off;
	return NULL;
}

/* noticelog_parse - one journal line into a row; -1: not one */
int
noticelog_parse(const char *line, size_t len, struct notify_row *r)
{
	const char *p = line, *end = line + len, *eq;
	char scratch[LOGLINE_VALUE_MAX * 4 + 1], *slot;
	unsigned long t = 0;
	size_t size;

	memset(r, 0, sizeof(*r));
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end || (eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			break;
		if ((slot = field_slot(r, p, (size_t)(eq - p), &size)) == NULL) {
			slot = scratch;
			size = sizeof(scratch);
		}
		if ((size_t)(eq - p) == 4 && memcmp(p, "time", 4) == 0) {
			p = value(eq + 1, end, scratch, sizeof(scratch));
			if (parse_uint(scratch, 0xffffffffUL, &t) < 0)
				return -1;
			continue;
		}
		p = value(eq + 1, end, slot, size);
	}
	r->t = (uint32_t)t;
	return t && *r->kind ? 0 : -1;
}

/* noticelog_read - each line of a text that parses, to fn */
void
noticelog_read(const char *text, size_t len, noticelog_fn fn, void *arg)
{
	const char *p = text, *end = text + len, *nl;
	struct notify_row r;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* a line cut short: not one */
		if (noticelog_parse(p, (size_t)(nl - p), &r) == 0)
			fn(arg, &r);
	}
}

/* tail - the file's last NOTICELOG_READ_MAX bytes, from a line's start */
static char *
tail(int fd, size_t *len)
{
	struct stat st;
	off_t from;
	char *text, *nl;
	ssize_t n;

	*len = 0;
	if (fstat(fd, &st) < 0)
		return NULL;
	from = st.st_size > NOTICELOG_READ_MAX ? st.st_size -
	    NOTICELOG_READ_MAX : 0;
	text = xmalloc(NOTICELOG_READ_MAX + 1);
	if ((n = pread(fd, text, NOTICELOG_READ_MAX, from)) < 0) {
		free(text);
		return NULL;
	}
	text[n] = 0;
	if (from > 0 && (nl = memchr(text, '\n', (size_t)n)) != NULL) {
		*len = (size_t)n - (size_t)(nl + 1 - text);
		memmove(text, nl + 1, *len);
	} else
		*len = (size_t)n;
	return text;
}

/* cut - a journal grown past twice the tail read becomes its tail */
static void
cut(const char *path, const char *text, size_t len, off_t size)
{
	char tmp[4096];
	int fd;

	if (size <= 2 * NOTICELOG_READ_MAX ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0)
		msg_warn("%s: cannot cut to its tail: %s", path, strerror(errno));
}

/* The caller's own look at each row read at open (the limits restored). */
static noticelog_fn open_fn;
static void *open_arg;

/* keep_row - noticelog_read's callback: a row to show, and the caller's */
static void
keep_row(void *arg, const struct notify_row *r)
{
	(void)arg;
	noticelog_keep(r);
	if (open_fn)
		open_fn(open_arg, r);
}

/* reopen - the journal for appending; -1: not kept */
static int
reopen(void)
{
	if (log_fd >= 0)
		close(log_fd);
	if ((log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		msg_warn("%s: %s: notices are sent, not kept", log_path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* read_tail - the file's tail: its rows shown (keep), or it cut when long */
static void
read_tail(int keep)
{
	struct stat st;
	char *text;
	size_t len;
	int fd;

	if ((fd = open(log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if ((text = tail(fd, &len)) != NULL) {
		if (keep)
			noticelog_read(text, len, keep_row, NULL);
		if (fstat(fd, &st) == 0)
			cut(log_path, text, len, st.st_size);
		free(text);
	}
	close(fd);
}

/*
 * noticelog_open - the journal; its tail read into the rows, each row read
 * also to fn (all of the tail, not only the rows shown); -1: none
 */
int
noticelog_open(const char *state_dir, noticelog_fn fn, void *arg)
{
	noticelog_close();
	if (snprintf(log_path, sizeof(log_path), "%s/notices", state_dir) >=
	    (int)sizeof(log_path))
		return -1;
	open_fn = fn;
	open_arg = arg;
	read_tail(1);
	open_fn = NULL;
	return reopen();
}

/* grown - a journal past twice the tail read is cut, as at start */
static void
grown(void)
{
	struct stat st;

	if (fstat(log_fd, &st) == 0 && st.st_size > 2 * NOTICELOG_READ_MAX) {
		read_tail(0);
		(void)reopen();
	}
}

/* noticelog_append - one outcome: the line, and the row shown */
void
noticelog_append(const struct notify_row *r, const char *reason)
{
	struct logline l;
	const char *line;
	struct buf b;

	noticelog_keep(r);
	if (log_fd < 0)
		return;
	logline_begin(&l, LOG_FORMAT_LOGFMT);
	logline_uint(&l, "time", r->t);
	logline_str(&l, "kind", r->kind);
	logline_str(&l, "user", r->user);
	logline_str(&l, "to", r->to);
	logline_str(&l, "ip", r->ip);
	logline_str(&l, "ref", r->ref);
	logline_str(&l, "message_id", r->message_id);
	logline_str(&l, "result", r->result);
	logline_str(&l, "reason", reason);
	line = logline_end(&l);
	buf_init(&b);
	buf_puts(&b, line);
	buf_putc(&b, '\n');
	if (write(log_fd, buf_str(&b), b.len) != (ssize_t)b.len)
		msg_warn("notices journal: %s", strerror(errno));
	buf_free(&b);
	logline_free(&l);
	grown();
}

/* noticelog_close - the journal closed, its rows forgotten */
void
noticelog_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(rows);
	rows = NULL;
	rows_n = rows_next = 0;
}
