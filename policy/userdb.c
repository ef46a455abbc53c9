/*++
/* NAME
/*	userdb 3
/* SUMMARY
/*	user lookups on Dovecot's auth-userdb socket
/* DESCRIPTION
/*	After Dovecot rejects a password without saying why, a USER
/*	lookup on the auth-userdb socket (auth-master protocol) tells an
/*	unknown user (NOTFOUND) from an existing one with a wrong
/*	password (USER). The connection is opened on demand and kept;
/*	when it is lost, pending lookups end as USERDB_FAIL, which the
/*	gate reports as bad-credentials. Lookups never delay an answer
/*	beyond the gate's own deadline: the gate cancels them. While
/*	the pending lookups of a lost connection are handed back, the
/*	callbacks may ask for new ones: those are refused, so that no
/*	lookup is both answered as failed and sent afterwards.
/*
/*	userdb_lookup() answers through the callback given to
/*	userdb_init() (the gate's); userdb_lookup_with() through its
/*	own (the auth policy door's), on the same connection. The
/*	gate's lookups name service=smtp, the door's the login's service
/*	(imap, pop3, sieve, smtp), so that a userdb that differs by
/*	service answers for the right one.
/*--*/
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "event.h"
#include "idmap.h"
#include "msg.h"
#include "userdb.h"
#include "util.h"

#define USERDB_LINE_MAX	1024	/* Dovecot's auth-master input, newline included */

/* A lookup in flight: who gets its answer. */
struct udb_pending {
	void		(*done)(void *, enum userdb_reply_kind);
	void		*arg;
};

static struct {
	struct sockspec	 spec;
	struct conn	*c;
	struct idmap	 reqs;
	unsigned	 next_id;
	void		(*done)(void *, enum userdb_reply_kind);
	int		 warned;
	int		 fail_warned;	/* on this connection */
	int		 failing;	/* udb_fail_all() runs */
} udb;

/* udb_free_conn - deferred release */
static void
udb_free_conn(void *p)
{
	conn_free(p);
	free(p);
}

/* udb_answer - a lookup's answer to whoever asked; the lookup is gone */
static void
udb_answer(struct udb_pending *p, enum userdb_reply_kind kind)
{
	struct udb_pending copy = *p;

	free(p);
	copy.done(copy.arg, kind);
}

/* udb_fail_all - every pending lookup fails; new ones are refused meanwhile */
static void
udb_fail_all(void)
{
	void *p;

	udb.failing++;
	while ((p = idmap_pop(&udb.reqs)) != NULL)
		udb_answer(p, USERDB_FAIL);
	udb.failing--;
}

/* udb_closed - fail pending lookups */
static void
udb_closed(struct conn *c, const char *why)
{
	msg_warn("userdb_upstream: connection lost: %s", why);
	conn_close(c);
	ev_defer_free(udb_free_conn, c);
	udb.c = NULL;
	udb_fail_all();
}

/* udb_user_name - the name of uid for dovecot.conf, never an invented one */
static const char *
udb_user_name(uid_t uid)
{
	static char name[256];
	struct passwd *pw;

	/* Dovecot's user = takes a name only: without one, say whose */
	if ((pw = getpwuid(uid)) != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "<the user with uid %lu>",
		    (unsigned long)uid);
	return name;
}

/* udb_warn_fail - once per connection: why Dovecot refuses lookups */
static void
udb_warn_fail(void)
{
	const char *name;
	struct stat st;
	uid_t uid = geteuid();

	if (udb.fail_warned)
		return;
	udb.fail_warned = 1;
	if (udb.spec.kind == SOCK_UNIX && stat(udb.spec.path, &st) == 0 &&
	    (st.st_mode & 0777) == 0666 && uid != 0 && uid != st.st_uid &&
	    getegid() != st.st_gid) {
		name = strrchr(udb.spec.path, '/');
		name = name ? name + 1 : udb.spec.path;
		msg_warn("userdb_upstream: Dovecot refused a user lookup: %s "
		    "has mode 0666, so Dovecot answers only for users whose "
		    "uid is authguard's (%lu) and every wrong password is "
		    "reported as bad-credentials; in dovecot.conf set service "
		    "auth { unix_listener %s { mode = 0660  user = %s } }",
		    udb.spec.path, (unsigned long)uid, name,
		    udb_user_name(uid));
	} else
		msg_warn("userdb_upstream: Dovecot could not look up a user "
		    "(FAIL; its log says why): wrong passwords are reported "
		    "as bad-credentials until it can");
}

/* udb_line - USER/NOTFOUND/FAIL; the handshake lines are ignored */
static void
udb_line(struct conn *c, char *line, size_t len)
{
	enum userdb_reply_kind kind;
	struct authline al;
	unsigned id;
	void *req;

	if (authline_split(line, len, &al) < 0)
		return;
	if (strcmp(al.argv[0], "VERSION") == 0 ||
	    strcmp(al.argv[0], "SPID") == 0)
		return;
	if (authproto_parse_userdb(&al, &id, &kind) < 0) {
		msg_warn("userdb_upstream: unexpected line: %.40s", al.argv[0]);
		return;
	}
	if (kind == USERDB_FAIL)
		udb_warn_fail();
	if ((req = idmap_del(&udb.reqs, id)) != NULL)
		udb_answer(req, kind);
}

/* udb_overlong - skip; a USER reply with huge fields still means found */
static void
udb_overlong(struct conn *c, char *prefix, size_t len)
{
	const char *cmd;
	unsigned id;
	void *req;

	if (authproto_overlong_id(prefix, &cmd, &id) == 0 &&
	    (req = idmap_del(&udb.reqs, id)) != NULL)
		udb_answer(req, strcmp(cmd, "USER") == 0 ? USERDB_FOUND :
		    USERDB_FAIL);
}

static const struct conn_ops udb_ops = {
	.line = udb_line,
	.overlong = udb_overlong,
	.closed = udb_closed,
};

/* userdb_init - remember the socket; nothing to do when not configured */
void
userdb_init(const struct sockspec *spec,
    void (*done)(void *, enum userdb_reply_kind))
{
	udb.spec = *spec;
	udb.done = done;
	udb.next_id = 1;
	idmap_init(&udb.reqs);
}

/* userdb_enabled - is userdb_upstream set? */
int
userdb_enabled(void)
{
	return udb.spec.kind != SOCK_NONE;
}

/* udb_connect - open the connection and say hello */
static int
udb_connect(void)
{
	const char *err;

	udb.c = xcalloc(1, sizeof(*udb.c));
	if (conn_connect(udb.c, &udb.spec, AUTHPROTO_LINE_MAX, &udb_ops, NULL,
	    "userdb_upstream", &err) < 0) {
		if (!udb.warned++)
			msg_warn("userdb_upstream: cannot connect: %s", err);
		free(udb.c);
		udb.c = NULL;
		return -1;
	}
	udb.warned = 0;
	udb.fail_warned = 0;
	conn_puts(udb.c, "VERSION\t1\t0\n");
	return 0;
}

/* userdb_lookup - start a USER lookup for the gate; 0 when it cannot be made */
unsigned
userdb_lookup(void *req, const char *user)
{
	return userdb_lookup_with(udb.done, req, user, "smtp");
}

/*
 * userdb_lookup_with - start a USER lookup for a login of service (imap,
 * pop3, sieve, smtp) that done(arg, kind) answers; 0 when it cannot be made
 */
unsigned
userdb_lookup_with(void (*done)(void *, enum userdb_reply_kind), void *arg,
    const char *user, const char *service)
{
	struct udb_pending *p;
	struct buf line;
	unsigned id;

	if (!userdb_enabled() || udb.failing ||
	    (udb.c == NULL && udb_connect() < 0))
		return 0;
	if ((id = udb.next_id++) == 0)
		id = udb.next_id++;
	buf_init(&line);
	buf_printf(&line, "USER\t%u\t", id);
	authproto_escape(&line, user);
	buf_puts(&line, "\tservice=");
	authproto_escape(&line, service);
	buf_putc(&line, '\n');
	if (line.len > USERDB_LINE_MAX) {	/* it would drop the connection */
		msg_warn("userdb_upstream: a user name of %zu bytes is not looked "
		    "up: Dovecot's auth-userdb takes lines of %d bytes at most",
		    strlen(user), USERDB_LINE_MAX);
		buf_free(&line);
		return 0;
	}
	conn_send(udb.c, line.data, line.len);
	buf_free(&line);
	if (udb.c == NULL)
		return 0;
	p = xmalloc(sizeof(*p));
	p->done = done;
	p->arg = arg;
	idmap_put(&udb.reqs, id, p);
	return id;
}

/* userdb_cancel - forget a lookup whose answer is no longer wanted */
void
userdb_cancel(unsigned id)
{
	free(idmap_del(&udb.reqs, id));
}

/* userdb_shutdown - pending lookups fail; release everything */
void
userdb_shutdown(void)
{
	udb_fail_all();
	if (udb.c) {
		conn_close(udb.c);
		ev_defer_free(udb_free_conn, udb.c);
		udb.c = NULL;
	}
	idmap_free(&udb.reqs);
}
