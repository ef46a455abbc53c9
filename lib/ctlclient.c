/*++
/* NAME
/*	ctlclient 3
/* SUMMARY
/*	asking authguard-policyd over its control socket
/* DESCRIPTION
/*	ctl_ask() connects to the control socket (a unix path), sends
/*	one request line and reads the answer until the daemon closes
/*	the connection. With timeout_ms >= 0 the whole exchange is
/*	bounded by it (the milter must never hold mail for long); -1
/*	waits as long as it takes (the CLI). Answers are capped at
/*	CTL_ANSWER_MAX bytes.
/*
/*	ctl_connect() opens a non-blocking connection to the control
/*	socket for a caller that waits on its own event loop: the socket,
/*	or -1 with the reason in err (a unix connect is complete or fails
/*	at once, but for a full listen queue: EAGAIN).
/*
/*	ctl_session_diag() is pure: the text answer of a "session"
/*	request (an "OK" line, then one line per attempt, oldest first,
/*	"  time=T ref=R result=fail cause=C proto=P user=..." as "why"
/*	prints them) into the session part of struct diag: the ref of
/*	the last successful AUTH and the failures before it (all
/*	failures when none succeeded), and their door: that of the
/*	success, else of the failures; SMTP for a line without proto=
/*	(from a daemon that knew no other door), none for a name not
/*	ours or when no attempt was listed. Only the leading
/*	time/ref/result/cause/proto fields are read, so whatever a user
/*	name contains cannot be taken for one of them.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlclient.h"
#include "proto.h"
#include "ref.h"
#include "util.h"

/* wait_fd - poll one fd until the deadline; 0 ready, -1 timed out */
static int
wait_fd(int fd, short events, int timeout_ms, uint64_t deadline)
{
	struct pollfd p = {fd, events, 0};
	uint64_t now;
	int ms, n;

	for (;;) {
		ms = -1;
		if (timeout_ms >= 0) {
			now = now_ms();
			ms = now >= deadline ? 0 : (int)(deadline - now);
		}
		n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0 || errno != EINTR)
			return -1;
	}
}

/* ctl_connect - a non-blocking connection to the unix socket */
int
ctl_connect(const char *path, char *err, size_t len)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
		snprintf(err, len, "socket path too long");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, len, "cannot reach authguard-policyd at %s: %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ctl_exchange - write the request, read to EOF */
static int
ctl_exchange(int fd, const char *req, int timeout_ms, uint64_t deadline,
    struct buf *answer, char *err, size_t len)
{
	size_t off = 0, n = strlen(req);
	char chunk[4096];
	ssize_t r;

	while (off < n) {
		if (wait_fd(fd, POLLOUT, timeout_ms, deadline) < 0)
			return snprintf(err, len, "timed out"), -1;
		/* MSG_NOSIGNAL: a daemon gone away is an error, not SIGPIPE */
		if ((r = send(fd, req + off, n - off, MSG_NOSIGNAL)) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			return snprintf(err, len, "write: %s", strerror(errno)), -1;
		off += r > 0 ? (size_t)r : 0;
	}
	for (;;) {
		if (wait_fd(fd, POLLIN, timeout_ms, deadline) < 0)
			return snprintf(err, len, "timed out"), -1;
		if ((r = read(fd, chunk, sizeof(chunk))) == 0)
			return 0;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return snprintf(err, len, "read: %s", strerror(errno)), -1;
		if (r > 0)
			buf_append(answer, chunk, (size_t)r);
		if (answer->len > CTL_ANSWER_MAX)
			return snprintf(err, len, "answer too long"), -1;
	}
}

/* ctl_ask - one request, the whole answer; -1 with err set */
int
ctl_ask(const char *path, const char *req, int timeout_ms, struct buf *answer,
    char *err, size_t len)
{
	uint64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd, rc;

	if ((fd = ctl_connect(path, err, len)) < 0)
		return -1;
	rc = ctl_exchange(fd, req, timeout_ms, deadline, answer, err, len);
	close(fd);
	return rc;
}

struct ctl_fields {
	char	 ref[REF_LEN + 1];
	char	 result[16];
	char	 cause[32];
	char	 proto[32];		/* "": none given */
};

/* field - copy "key=value" at p into the slot for key; 0 not ours */
static int
field(const char *p, size_t n, struct ctl_fields *f)
{
	static const char *const keys[] = {"time", "ref", "result", "cause",
	    "proto"};
	const char *eq = memchr(p, '=', n);
	size_t k, klen, vlen;
	char *slot[] = {NULL, f->ref, f->result, f->cause, f->proto};
	size_t size[] = {0, sizeof(f->ref), sizeof(f->result),
	    sizeof(f->cause), sizeof(f->proto)};

	if (eq == NULL)
		return 0;
	klen = (size_t)(eq - p);
	vlen = n - klen - 1;
	for (k = 0; k < NELEM(keys); k++)
		if (strlen(keys[k]) == klen && memcmp(keys[k], p, klen) == 0)
			break;
	if (k == NELEM(keys))
		return 0;
	if (slot[k] && vlen < size[k]) {
		memcpy(slot[k], eq + 1, vlen);
		slot[k][vlen] = 0;
	}
	return 1;
}

/* attempt_line - the leading fields of one attempt line */
static void
attempt_line(const char *p, const char *end, struct ctl_fields *f)
{
	const char *sp;

	memset(f, 0, sizeof(*f));
	while (p < end && *p == ' ')
		p++;
	while (p < end) {
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
			sp = end;
		if (!field(p, (size_t)(sp - p), f))
			return;
		p = sp + 1;
	}
}

/* session_proto - the door of an attempt line into the diag */
static void
session_proto(struct diag *d, const char *name)
{
	enum proto p;

	if (*name == 0)			/* a daemon that knew SMTP alone */
		name = proto_name(PROTO_SMTP);
	if (proto_parse(name, &p) == 0 && strcmp(name, proto_name(p)) == 0)
		str_copy(d->proto, sizeof(d->proto), name);
	else
		d->proto[0] = 0;
}

/* session_add - one attempt into the diag; *upto: failures before a pass */
static void
session_add(struct diag *d, const struct ctl_fields *f, size_t *upto)
{
	if (!ref_valid(f->ref))
		return;
	if (strcmp(f->result, "pass") == 0) {
		memcpy(d->auth_ref, f->ref, sizeof(d->auth_ref));
		*upto = d->nfailed;
		session_proto(d, f->proto);
	} else if (strcmp(f->result, "fail") == 0 && *f->cause &&
	    strspn(f->cause, "abcdefghijklmnopqrstuvwxyz-") ==
	    strlen(f->cause)) {
		if (d->nfailed < DIAG_SHOWN) {
			memcpy(d->failed[d->nfailed].ref, f->ref, REF_LEN + 1);
			memcpy(d->failed[d->nfailed].cause, f->cause,
			    sizeof(f->cause));
		}
		d->nfailed++;
		if (!*d->auth_ref)
			session_proto(d, f->proto);
	}
}

/* ctl_session_diag - a "session" answer into d; -1 unless it is OK */
int
ctl_session_diag(const char *text, size_t len, struct diag *d)
{
	const char *p = text, *end = text + len, *nl;
	struct ctl_fields f;
	size_t upto = 0;

	d->auth_ref[0] = 0;
	d->proto[0] = 0;
	d->nfailed = 0;
	if (len < 3 || memcmp(text, "OK\n", 3) != 0)
		return -1;
	for (p += 3; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		attempt_line(p, nl, &f);
		session_add(d, &f, &upto);
	}
	if (*d->auth_ref)	/* a failure after the success is not its story */
		d->nfailed = upto;
	d->details = 1;
	return 0;
}
