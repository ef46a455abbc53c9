/*++
/* NAME
/*	msg 3
/* SUMMARY
/*	diagnostics to syslog (facility mail) or stderr
/* DESCRIPTION
/*	msg_info/msg_warn/msg_error report; msg_fatal reports and
/*	exits 1; msg_panic reports a broken invariant and aborts.
/*	msg_event() writes one pre-formatted event line (logfmt or
/*	JSON, already escaped) at info or warning level, without a
/*	level prefix so that the line stays machine-readable.
/*
/*	With stderr output every line carries an RFC 3339 UTC time
/*	stamp; syslog adds its own. Free-text messages may quote a peer's
/*	bytes: msg_printable() replaces control characters with '?' (as
/*	Postfix's printable() does), so that no message spans two lines
/*	or carries terminal escapes.
/*--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

int msg_verbose;

static const char *msg_name = "authguard";
static long msg_pid;		/* getpid() is a system call: asked once */
static int msg_stderr = 1;
static int msg_batch;		/* stderr fully buffered, flushed by msg_flush */
static void (*msg_sink)(int, const char *, const char *);

/* msg_open - choose the destination */
void
msg_open(const char *name, int to_stderr)
{
	msg_name = name;
	msg_stderr = to_stderr;
	msg_pid = (long)getpid();
	if (!to_stderr)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* msg_reopen - a new connection to syslog (after its restart) */
void
msg_reopen(void)
{
	if (msg_stderr)
		return;		/* stderr belongs to whoever started us */
	closelog();
	openlog(msg_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* msg_batch_stderr - buffer stderr; the event loop calls msg_flush() */
void
msg_batch_stderr(void)
{
	static char buf[1 << 16];

	if (msg_stderr && setvbuf(stderr, buf, _IOFBF, sizeof(buf)) == 0)
		msg_batch = 1;
}

/* msg_flush - write out buffered lines */
void
msg_flush(void)
{
	if (msg_batch)
		fflush(stderr);
}

/* msg_stamp - "2026-11-26T15:42:01", formatted once a second */
static const char *
msg_stamp(time_t sec)
{
	static __thread char stamp[32];	/* the milter logs from threads */
	static __thread time_t last = -1;
	struct tm tm;

	if (sec != last) {
		gmtime_r(&sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	return stamp;
}

/* msg_set_sink - every line goes to fn instead (a test reads them) */
void
msg_set_sink(void (*fn)(int, const char *, const char *))
{
	msg_sink = fn;
}

/* msg_emit - write one line at a syslog priority */
static void
msg_emit(int pri, const char *level, const char *text)
{
	struct timeval tv;

	if (msg_sink) {
		msg_sink(pri, level, text);
		return;
	}
	if (!msg_stderr) {
		if (level)
			syslog(pri, "%s: %s", level, text);
		else
			syslog(pri, "%s", text);
		return;
	}
	gettimeofday(&tv, NULL);
	if (msg_pid == 0)
		msg_pid = (long)getpid();
	fprintf(stderr, "%s.%03ldZ %s[%ld]: %s%s%s\n", msg_stamp(tv.tv_sec),
	    (long)(tv.tv_usec / 1000), msg_name, msg_pid,
	    level ? level : "", level ? ": " : "", text);
	if (pri <= LOG_CRIT)
		msg_flush();
}

/* msg_printable - control characters become '?', in place */
char *
msg_printable(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* msg_vemit - format, then emit */
static void
msg_vemit(int pri, const char *level, const char *fmt, va_list ap)
{
	char text[2048];

	vsnprintf(text, sizeof(text), fmt, ap);
	msg_emit(pri, level, msg_printable(text));
}

/* msg_info - informational */
void
msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* msg_warn - something is wrong, service continues */
void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vemit(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

/* msg_error - an operation failed, service continues */
void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vemit(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}

/* msg_fatal - cannot continue */
void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vemit(LOG_CRIT, "fatal", fmt, ap);
	va_end(ap);
	msg_flush();
	exit(1);
}

/* msg_panic - internal invariant broken */
void
msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vemit(LOG_CRIT, "panic", fmt, ap);
	va_end(ap);
	msg_flush();
	abort();
}

/* msg_event - one machine-readable event line (stderr shows the level) */
void
msg_event(int warning, const char *line)
{
	msg_emit(warning ? LOG_WARNING : LOG_INFO,
	    warning && msg_stderr ? "warning" : NULL, line);
}
