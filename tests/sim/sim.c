/*++
/* NAME
/*	sim 1
/* SUMMARY
/*	deterministic simulation of authguard-policyd
/* SYNOPSIS
/*	#include "sim.h"
/* DESCRIPTION
/*	Runs the daemon's real code (the event loop, gate, enforce,
/*	upstream, userdb, control, store, session, attempt) on a virtual
/*	clock, with every peer played by this process: up to four smtpd
/*	connections, Dovecot's auth-client socket, its auth-userdb socket
/*	and the admin's control client. The peers reach the daemon
/*	through unix sockets in a private directory; the daemon's loop
/*	turns only when this program turns it (ev_once with no wait), and
/*	its clock moves only by ev_advance(), so a schedule always runs
/*	the same way.
/*
/*	The input is a schedule: three bytes per step (an operation and
/*	two arguments). Operations open and close smtpd connections, send
/*	AUTH, CONT, CANCEL and hostile lines, have Dovecot answer OK,
/*	FAIL (with or without a code), CONT, or hang up, have auth-userdb
/*	answer or stall, lock and unlock accounts and addresses, and move
/*	time. After the schedule, time runs on until every deadline has
/*	passed, every connection is closed, and the daemon is shut down.
/*
/*	Invariants, checked after every step (a broken one aborts):
/*	- every AUTH is answered exactly once when it is the server's
/*	  turn, or its connection is closed;
/*	- every request ends in exactly one attempt line (attempt 3
/*	  reports a missing or second line; none may be reported);
/*	- no credentials reach Dovecot for an account or address that
/*	  was locked when the client sent them (an exempt network is
/*	  held to no lock, a familiar address not to the account's),
/*	  for a request refused for want of TLS, or for a request
/*	  whose smtpd had its answer in an earlier step (Dovecot's
/*	  handshake after a reconnection comes one step later, so a
/*	  request queued for it is seen);
/*	- Dovecot never gets a client's response (CONT) for a request
/*	  it answered, that was cancelled, or that belonged to a lost
/*	  connection;
/*	- when the schedule has ended, no attempt is left alive and no
/*	  smtpd connection is open; ASan and UBSan stay clean, leaks
/*	  included.
/*
/*	SIM_TRACE=1 in the environment prints each step and every line
/*	the peers exchange.
/*
/*	fuzz_sim.c feeds schedules to sim_step(); the sim-tests suite
/*	(test_*.c here) calls the operations one by one and looks at
/*	what each peer saw (sim.h).
/*--*/
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "accounts.h"
#include "attempt.h"
#include "authlimits.h"
#include "authproto.h"
#include "base64.h"
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "enforce.h"
#include "event.h"
#include "fingerprint.h"
#include "gate.h"
#include "msg.h"
#include "netaddr.h"
#include "session.h"
#include "shared.h"
#include "store.h"
#include "util.h"
#include "sim.h"

#define SIM_DOVE_MAX	64		/* Dovecot's requests in flight */
#define SIM_UDB_MAX	64
#define SIM_START_MS	1000000000ULL	/* the virtual clock's start */
#define SIM_WALL_S	1767225600U	/* and the wall clock's: 2026-01-01 */

const char *const sim_users[] = {"v", "W", "u@example.org", NULL};
const char *const sim_addrs[] = {"192.0.2.1", "198.51.100.7", "2001:db8::5",
    "203.0.113.9"};

/* One peer's socket and what it has not yet read as a line. */
struct peer {
	int		 fd;
	struct buf	 in;
};

/* Whose turn it is in an AUTH exchange, as smtpd sees it. */
enum turn { T_NONE, T_SERVER, T_CLIENT, T_DONE };

struct sim_req {
	int		 conn;		/* smtpd connection index */
	unsigned	 id;		/* smtpd's id */
	int		 mech;		/* 0 PLAIN, 1 LOGIN, 2 CRAM-MD5 */
	int		 user;		/* sim_users index */
	int		 addr;
	int		 secured;
	int		 step;		/* client responses sent */
	enum turn	 turn;
	int		 answered_step;	/* -1 until answered or closed */
	int		 cred_step;	/* when the credentials were sent */
	int		 locked_at_cred; /* the account or address was */
	int		 forwarded;	/* Dovecot saw it */
	char		 reply[512];	/* smtpd's last line for it */
};

struct sim_conn {
	struct peer	 p;
	int		 open;
	unsigned	 nextid;
	char		 mechs[256];	/* MECH names of the daemon's hello */
};

struct dove_req {
	unsigned	 id;		/* the gate's id towards Dovecot */
	int		 req;		/* sim_req index, -1: unknown */
	char		 user[300];
	int		 live;
	int		 challenged;	/* Dovecot sent CONT: the client's turn */
};

struct udb_req {
	unsigned	 id;
	char		 user[300];
	int		 live;
};

static struct {
	char		 dir[64];
	char		 conf[128];
	int		 trace;
	/* per schedule */
	struct config	 cfg;
	struct accounts_map accounts;
	int		 step;
	struct sim_conn	 conn[SIM_CONNS];
	struct sim_req	 req[SIM_REQS];
	int		 nreq;
	int		 dove_lfd, udb_lfd;
	struct peer	 dove, udb, ctl;
	int		 dove_hello_due;	/* accepted; handshake next step */
	int		 dove_mute;		/* Dovecot never finishes its hello */
	const char	*dove_hello_text;	/* a handshake of the test's own */
	const char	*password;		/* every request's, or NULL */
	unsigned	 dove_connects;		/* connections Dovecot accepted */
	unsigned	 dove_cancels;		/* CANCEL lines Dovecot got */
	unsigned	 udb_connects;		/* connections auth-userdb accepted */
	unsigned	 udb_lookups;		/* USER lines auth-userdb got */
	struct buf	 ctl_answer;		/* the control socket's answer */
	int		 dove_refuse;		/* Dovecot is down */
	struct dove_req	 dreq[SIM_DOVE_MAX];
	struct udb_req	 ureq[SIM_UDB_MAX];
	int		 locked_acct[4], locked_addr[4];	/* at step start */
	unsigned	 dove_creds[4];	/* credentials Dovecot got, per user */
	char		 log[SIM_LOG_KEEP][512];	/* the daemon's last lines */
	unsigned	 nlog;
} sim;

static void sim_cleanup(void);

/* sim_fail - an invariant broke: say which and where, then abort */
static void __attribute__((format(printf, 1, 2), noreturn))
sim_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sim: step %d: invariant broken: ", sim.step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	sim_cleanup();
	abort();
}

/* sim_trace - with SIM_TRACE set */
static void __attribute__((format(printf, 1, 2)))
sim_trace(const char *fmt, ...)
{
	va_list ap;

	if (!sim.trace)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "sim[%d] ", sim.step);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* sim_log - the daemon's log lines: a reported bug breaks an invariant */
static void
sim_log(int pri, const char *level, const char *text)
{
	if (sim.trace)
		fprintf(stderr, "log[%d] %s%s%s\n", sim.step, level ? level : "",
		    level ? ": " : "", text);
	snprintf(sim.log[sim.nlog++ % SIM_LOG_KEEP], sizeof(sim.log[0]),
	    "%s%s%s", level ? level : "", level ? ": " : "", text);
	if (strncmp(text, "bug: ", 5) == 0 || pri <= LOG_CRIT)
		sim_fail("the daemon said: %s", text);
}

/* peer_connect - a client socket to a path in the private directory */
static int
peer_connect(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", sim.dir, name);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		msg_fatal("sim: connect %s: %s", sun.sun_path, strerror(errno));
	return fd;
}

/* peer_listen - a listening socket for a peer the daemon connects to */
static int
peer_listen(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", sim.dir, name);
	unlink(sun.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 16) < 0)
		msg_fatal("sim: listen %s: %s", sun.sun_path, strerror(errno));
	return fd;
}

/* peer_send - write all of a line (the daemon reads between steps) */
static void
peer_send(struct peer *p, const char *who, const char *data, size_t len)
{
	ssize_t n;
	size_t off = 0;

	if (p->fd < 0)
		return;
	if (sim.trace)
		fprintf(stderr, "sim[%d] %s <- %.*s", sim.step, who,
		    (int)(len > 200 ? 200 : len), data);
	while (off < len) {
		n = write(p->fd, data + off, len - off);
		if (n < 0 && errno == EAGAIN) {
			(void)ev_once(0);	/* the daemon reads */
			continue;
		}
		if (n < 0)
			return;		/* it closed: the reader sees it */
		off += (size_t)n;
	}
}

/* peer_puts - a string */
static void
peer_puts(struct peer *p, const char *who, const char *s)
{
	peer_send(p, who, s, strlen(s));
}

/* peer_close - close our end */
static void
peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	buf_reset(&p->in);
}

/* peer_read - what arrived; 1 when the daemon closed its end */
static int
peer_read(struct peer *p)
{
	char tmp[65536];
	ssize_t n;

	if (p->fd < 0)
		return 0;
	while ((n = read(p->fd, tmp, sizeof(tmp))) > 0)
		buf_append(&p->in, tmp, (size_t)n);
	return n == 0 || (n < 0 && errno != EAGAIN);
}

/* peer_line - the next whole line, in place; NULL when none */
static char *
peer_line(struct peer *p, size_t *off)
{
	char *s, *nl;

	if (*off >= p->in.len)
		return NULL;
	s = p->in.data + *off;
	if ((nl = memchr(s, '\n', p->in.len - *off)) == NULL)
		return NULL;
	*nl = 0;
	*off += (size_t)(nl - s) + 1;
	return s;
}

/* peer_consume - drop what was read as lines */
static void
peer_consume(struct peer *p, size_t off)
{
	buf_consume(&p->in, off);
}

/* key_locked - is the account or address key locked now? */
static int
key_locked(struct tracker *t, const char *key)
{
	struct track *tr = limits_find(t, key);

	return tr && limits_is_locked(tr, store_now());
}

/* acct_key - the account key enforce uses */
static void
acct_key(int user, char *key, size_t len)
{
	str_copy(key, len, sim_users[user]);
	str_lower(key);
}

/* addr_key - the address key enforce uses */
static void
addr_key(int addr, char *key, size_t len)
{
	if (limits_addr_key(sim_addrs[addr], sim.cfg.ipv4_prefix,
	    sim.cfg.ipv6_prefix, key, len) < 0)
		*key = 0;
}

/* snapshot_locks - which accounts and addresses are locked at step start */
static void
snapshot_locks(void)
{
	char key[300];
	int i;

	for (i = 0; sim_users[i]; i++) {
		acct_key(i, key, sizeof(key));
		sim.locked_acct[i] = key_locked(&store_limits.acct, key);
	}
	for (i = 0; i < 4; i++) {
		addr_key(i, key, sizeof(key));
		sim.locked_addr[i] = *key && key_locked(&store_limits.addr, key);
	}
}

/*
 * lock_applies - is a lock, as snapshot_locks() saw them, one this user's
 * attempt from this address is held to? An exempt network is held to
 * none, and a familiar address (one the account logged in from) not to
 * the account's lock: the daemon lets those through, by design.
 */
static int
lock_applies(int user, int addr)
{
	char akey[300], ikey[300];

	if (netlist_match_str(&sim.cfg.limit_exempt_networks, sim_addrs[addr]))
		return 0;
	if (sim.locked_addr[addr])
		return 1;
	if (!sim.locked_acct[user])
		return 0;
	acct_key(user, akey, sizeof(akey));
	addr_key(addr, ikey, sizeof(ikey));
	return !*ikey || !limits_familiar(&store_limits, akey, ikey, store_now());
}

/* req_answered - smtpd has its answer, or lost its connection */
static void
req_answered(struct sim_req *q)
{
	q->turn = T_DONE;
	q->answered_step = sim.step;
}

/* conn_find_req - the open request with smtpd's id on a connection */
static struct sim_req *
conn_find_req(int c, unsigned id)
{
	int i;

	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].conn == c && sim.req[i].id == id &&
		    sim.req[i].turn != T_DONE)
			return &sim.req[i];
	return NULL;
}

/* smtpd_gone - the daemon closed an smtpd connection */
static void
smtpd_gone(int c)
{
	int i;

	sim_trace("smtpd %d: closed by the daemon", c);
	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].conn == c && sim.req[i].turn != T_DONE)
			req_answered(&sim.req[i]);
	peer_close(&sim.conn[c].p);
	sim.conn[c].open = 0;
}

/* smtpd_line - a line from the daemon to smtpd */
static void
smtpd_line(int c, char *line)
{
	struct authline al;
	struct sim_req *q;
	unsigned id;
	int i;

	sim_trace("smtpd %d -> %s", c, line);
	if (authline_split(line, strlen(line), &al) < 0 || al.argc < 2)
		return;
	if (strcmp(al.argv[0], "MECH") == 0) {	/* the handshake's list */
		snprintf(sim.conn[c].mechs + strlen(sim.conn[c].mechs),
		    sizeof(sim.conn[c].mechs) - strlen(sim.conn[c].mechs),
		    "%s%s", *sim.conn[c].mechs ? " " : "", al.argv[1]);
		return;
	}
	if (authline_id(al.argv[1], &id) < 0)
		return;		/* the handshake */
	if (strcmp(al.argv[0], "OK") != 0 && strcmp(al.argv[0], "FAIL") != 0 &&
	    strcmp(al.argv[0], "CONT") != 0)
		return;
	if ((q = conn_find_req(c, id)) == NULL) {
		if (strcmp(al.argv[0], "FAIL") == 0 && al.argc >= 3 &&
		    strstr(al.argv[2], "unknown authentication request"))
			return;	/* the answer to a stray CONT */
		sim_fail("smtpd %d: %s for id %u, which expects no answer",
		    c, al.argv[0], id);
	}
	if (q->turn != T_SERVER)
		sim_fail("smtpd %d: %s for id %u while it is the client's turn",
		    c, al.argv[0], id);
	snprintf(q->reply, sizeof(q->reply), "%s", al.argv[0]);
	for (i = 2; i < al.argc; i++)
		snprintf(q->reply + strlen(q->reply), sizeof(q->reply) -
		    strlen(q->reply), "\t%s", al.argv[i]);
	if (strcmp(al.argv[0], "CONT") == 0)
		q->turn = T_CLIENT;
	else
		req_answered(q);
}

/* smtpd_read - lines from each smtpd connection */
static int
smtpd_read(void)
{
	struct sim_conn *sc;
	size_t off;
	char *line;
	int c, eof, any = 0;

	for (c = 0; c < SIM_CONNS; c++) {
		sc = &sim.conn[c];
		if (!sc->open)
			continue;
		eof = peer_read(&sc->p);
		off = 0;
		while ((line = peer_line(&sc->p, &off)) != NULL) {
			smtpd_line(c, line);
			any = 1;
		}
		peer_consume(&sc->p, off);
		if (eof) {
			smtpd_gone(c);
			any = 1;
		}
	}
	return any;
}

/* dove_hello_text - what Dovecot's half of the handshake says */
static const char *
dove_hello_text(void)
{
	if (sim.dove_hello_text)
		return sim.dove_hello_text;
	if (sim.dove_mute)
		return "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n";
	return "VERSION\t1\t2\n"
	    "MECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
	    "MECH\tCRAM-MD5\tdictionary\tactive\n"
	    "SPID\t4242\nCUID\t1\nCOOKIE\t0123456789abcdef0123456789abcdef\n"
	    "DONE\n";
}

/* dove_hello - Dovecot's half of the handshake */
static void
dove_hello(void)
{
	peer_puts(&sim.dove, "dovecot", dove_hello_text());
}

/* dove_offers - did the handshake list mech (any case, as Dovecot finds it)? */
static int
dove_offers(const char *mech)
{
	const char *p = dove_hello_text();
	size_t n = strlen(mech);

	while ((p = strstr(p, "MECH\t")) != NULL) {
		p += 5;
		if (strncasecmp(p, mech, n) == 0 && (p[n] == '\t' || p[n] == '\n'))
			return 1;
	}
	return 0;
}

/* dove_forget - Dovecot's connection went away with its requests */
static void
dove_forget(void)
{
	int i;

	peer_close(&sim.dove);
	for (i = 0; i < SIM_DOVE_MAX; i++)
		sim.dreq[i].live = 0;
}

/* cred_check - credentials reached Dovecot: were they allowed to? */
static void
cred_check(int qi, const char *user)
{
	struct sim_req *q;

	if (qi < 0)
		sim_fail("Dovecot got a request no smtpd sent (user %s)", user);
	q = &sim.req[qi];
	if (q->answered_step >= 0 && q->answered_step < sim.step)
		sim_fail("request %d (smtpd %d id %u) reached Dovecot in step %d, "
		    "after its answer in step %d", qi, q->conn, q->id, sim.step,
		    q->answered_step);
	if (!q->secured)
		sim_fail("request %d reached Dovecot without TLS", qi);
	if (q->cred_step > 0)
		sim.dove_creds[q->user]++;
	if (q->locked_at_cred) {
		snapshot_locks();
		if (lock_applies(q->user, q->addr))
			sim_fail("request %d: credentials for a locked account "
			    "or address reached Dovecot", qi);
	}
}

/* session_req - the sim_req index the AUTH carries in session= */
static int
session_req(const struct authline *al)
{
	const char *s = authline_param(al, 3, "session");
	unsigned long v;

	if (s == NULL || *s != 'T' || parse_uint(s + 1, SIM_REQS - 1, &v) < 0)
		return -1;
	return (int)v;
}

/* plain_user - the user name of a PLAIN initial response */
static void
plain_user(const char *b64, char *user, size_t len)
{
	unsigned char raw[1200];
	size_t n = sizeof(raw) - 1;
	const char *u;

	*user = 0;
	if (base64_decode(b64, strlen(b64), raw, &n) < 0)
		return;
	raw[n] = 0;
	u = memchr(raw, 0, n);
	if (u)
		str_copy(user, len, u + 1);
	wipe(raw, sizeof(raw));
}

/*
 * dove_auth - an AUTH line from the gate; -1: a mechanism Dovecot did not
 * list, which it takes as a protocol error ("BUG: Authentication client
 * requested unsupported authentication mechanism") and drops the connection
 */
static int
dove_auth(struct authline *al)
{
	struct dove_req *d = NULL;
	const char *resp = authline_param(al, 3, "resp");
	unsigned id;
	int i;

	if (al->argc < 3 || authline_id(al->argv[1], &id) < 0)
		sim_fail("Dovecot got a malformed AUTH");
	if (!dove_offers(al->argv[2]))
		return -1;
	for (i = 0; i < SIM_DOVE_MAX && d == NULL; i++)
		if (!sim.dreq[i].live)
			d = &sim.dreq[i];
	if (d == NULL)
		sim_fail("more than %d requests in flight at Dovecot",
		    SIM_DOVE_MAX);
	memset(d, 0, sizeof(*d));
	d->live = 1;
	d->id = id;
	d->req = session_req(al);
	if (resp && strcmp(al->argv[2], "PLAIN") == 0)
		plain_user(resp, d->user, sizeof(d->user));
	if (resp || strcmp(al->argv[2], "PLAIN") == 0)
		cred_check(d->req, d->user);
	if (d->req >= 0)
		sim.req[d->req].forwarded = 1;
	return 0;
}

/* dove_cont - a CONT line from the gate (a relayed response) */
static void
dove_cont(struct authline *al)
{
	unsigned char raw[1200];
	size_t n = sizeof(raw) - 1;
	unsigned id;
	char *sp;
	int i;

	if (al->argc < 3 || authline_id(al->argv[1], &id) < 0)
		sim_fail("Dovecot got a malformed CONT");
	for (i = 0; i < SIM_DOVE_MAX; i++)
		if (sim.dreq[i].live && sim.dreq[i].id == id)
			break;
	if (i == SIM_DOVE_MAX)	/* answered, cancelled, or on a lost connection */
		sim_fail("Dovecot got a CONT for request %u, which it no longer has",
		    id);
	sim.dreq[i].challenged = 0;
	if (base64_decode(al->argv[2], strlen(al->argv[2]), raw, &n) == 0) {
		raw[n] = 0;
		if ((sp = strrchr((char *)raw, ' ')) != NULL) {
			*sp = 0;
			str_copy(sim.dreq[i].user, sizeof(sim.dreq[i].user),
			    (char *)raw);
		}
	}
	cred_check(sim.dreq[i].req, sim.dreq[i].user);
}

/* dove_cancel - the gate gives a request up */
static void
dove_cancel(struct authline *al)
{
	unsigned id;
	int i;

	if (al->argc < 2 || authline_id(al->argv[1], &id) < 0)
		sim_fail("Dovecot got a malformed CANCEL");
	sim.dove_cancels++;
	for (i = 0; i < SIM_DOVE_MAX; i++)
		if (sim.dreq[i].live && sim.dreq[i].id == id)
			sim.dreq[i].live = 0;
}

/* dove_read - lines from the gate to Dovecot */
static int
dove_read(void)
{
	struct authline al;
	size_t off = 0;
	char *line;
	int eof, any = 0;

	if (sim.dove.fd < 0)
		return 0;
	eof = peer_read(&sim.dove);
	while ((line = peer_line(&sim.dove, &off)) != NULL) {
		any = 1;
		sim_trace("dovecot -> %.200s", line);
		if (authline_split(line, strlen(line), &al) < 0)
			sim_fail("the gate sent Dovecot an unparsable line");
		if (strcmp(al.argv[0], "AUTH") == 0 && dove_auth(&al) < 0) {
			sim_trace("dovecot: unsupported mechanism %s: hangs up",
			    al.argv[2]);
			eof = 1;
			break;
		} else if (strcmp(al.argv[0], "CONT") == 0)
			dove_cont(&al);
		else if (strcmp(al.argv[0], "CANCEL") == 0)
			dove_cancel(&al);
	}
	peer_consume(&sim.dove, off);
	if (eof) {
		dove_forget();
		any = 1;
	}
	return any;
}

/* udb_read - USER lookups from the daemon */
static int
udb_read(void)
{
	struct authline al;
	size_t off = 0;
	char *line;
	unsigned id;
	int i, eof, any = 0;

	if (sim.udb.fd < 0)
		return 0;
	eof = peer_read(&sim.udb);
	while ((line = peer_line(&sim.udb, &off)) != NULL) {
		any = 1;
		sim_trace("userdb -> %.200s", line);
		if (authline_split(line, strlen(line), &al) < 0 || al.argc < 3 ||
		    strcmp(al.argv[0], "USER") != 0 ||
		    authline_id(al.argv[1], &id) < 0)
			continue;
		for (i = 0; i < SIM_UDB_MAX && sim.ureq[i].live; i++)
			;
		if (i == SIM_UDB_MAX)
			sim_fail("more than %d user lookups in flight",
			    SIM_UDB_MAX);
		sim.ureq[i].live = 1;
		sim.udb_lookups++;
		sim.ureq[i].id = id;
		str_copy(sim.ureq[i].user, sizeof(sim.ureq[i].user), al.argv[2]);
	}
	peer_consume(&sim.udb, off);
	if (eof) {
		peer_close(&sim.udb);
		memset(sim.ureq, 0, sizeof(sim.ureq));
		any = 1;
	}
	return any;
}

/* ctl_check_json - an "OK" answer with a JSON body must parse */
static void
ctl_check_json(void)
{
	const char *a = buf_str(&sim.ctl_answer);
	json_error_t err;
	json_t *j;

	if (strncmp(a, "OK\n{", 4) != 0)
		return;
	if ((j = json_loads(a + 3, 0, &err)) == NULL)
		sim_fail("control answer is not JSON (%s): %s", err.text, a);
	json_decref(j);
}

/* ctl_read - the control answer, until the daemon closes */
static int
ctl_read(void)
{
	int eof;

	if (sim.ctl.fd < 0)
		return 0;
	eof = peer_read(&sim.ctl);
	if (sim.ctl.in.len) {
		sim_trace("control -> %.*s", (int)sim.ctl.in.len,
		    sim.ctl.in.data);
		buf_append(&sim.ctl_answer, sim.ctl.in.data, sim.ctl.in.len);
	}
	buf_reset(&sim.ctl.in);
	if (eof) {
		peer_close(&sim.ctl);
		ctl_check_json();
	}
	return eof;
}

/* accept_peers - the daemon connects to Dovecot and auth-userdb */
static int
accept_peers(void)
{
	int fd, any = 0;

	if ((fd = accept4(sim.dove_lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		sim.dove_connects++;
		if (sim.dove.fd >= 0 && !sim.dove_refuse) {
			/* the daemon holds one connection: the old one is
			 * closed, its end maybe not yet seen (a copy of it in
			 * a forked child): what it sent first, then it goes */
			(void)dove_read();
			if (sim.dove.fd >= 0)
				dove_forget();
		}
		if (sim.dove_refuse)
			close(fd);
		else {
			sim.dove.fd = fd;
			sim.dove_hello_due = 1;
			sim_trace("dovecot: accepted");
		}
		any = 1;
	}
	if ((fd = accept4(sim.udb_lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (sim.udb.fd >= 0)
			close(fd);
		else {
			sim.udb_connects++;
			sim.udb.fd = fd;
			peer_puts(&sim.udb, "userdb", "VERSION\t1\t0\n"
			    "SPID\t4243\n");
		}
		any = 1;
	}
	return any;
}

/*
 * writer_gone - wait until the state writer the daemon forked (if any) has
 * ended, leaving it for the daemon to collect: until then it holds copies
 * of every socket of this process, peers' ends included, and an end closed
 * here or there would be seen only when it exits, at a time of its own.
 * 1 when there was one.
 */
static int
writer_gone(void)
{
	pid_t pid = store_writer();
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0;
}

/* peers_ready - has any peer something to read or accept? (one poll) */
static int
peers_ready(void)
{
	struct pollfd pfd[SIM_CONNS + 5];
	int fds[SIM_CONNS + 5], n = 0, i;

	fds[n++] = sim.dove_lfd;
	fds[n++] = sim.udb_lfd;
	fds[n++] = sim.dove.fd;
	fds[n++] = sim.udb.fd;
	fds[n++] = sim.ctl.fd;
	for (i = 0; i < SIM_CONNS; i++)
		fds[n++] = sim.conn[i].open ? sim.conn[i].p.fd : -1;
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return poll(pfd, (nfds_t)n, 0) > 0;
}

/* pump - turn the loop and serve the peers until nothing moves */
static void
pump(void)
{
	int rounds, moved, waited = 0;

	for (rounds = 0; rounds < 10000; rounds++) {
		moved = ev_once(0) > 0;
		if (peers_ready()) {
			moved |= accept_peers();
			moved |= smtpd_read();
			moved |= dove_read();
			moved |= udb_read();
			moved |= ctl_read();
		}
		if (!moved && ev_next_timer() != 0 && (waited++ || !writer_gone()))
			return;
	}
	sim_fail("the daemon does not settle (a busy loop)");
}

/* advance - move the clock, firing each timer at its time */
static void
advance(uint64_t ms)
{
	int64_t next;

	while (ms > 0) {
		next = ev_next_timer();
		if (next < 0 || (uint64_t)next > ms)
			next = (int64_t)ms;
		ev_advance((uint64_t)next);
		ms -= (uint64_t)next;
		pump();
	}
}

/* b64 - base64 of a byte string */
static void
b64(struct buf *out, const char *s, size_t len)
{
	buf_reset(out);
	base64_encode(out, (const unsigned char *)s, len);
}

/* req_password - a password unique to the request */
static void
req_password(int qi, char *pw, size_t len)
{
	if (sim.password)
		snprintf(pw, len, "%s", sim.password);
	else
		snprintf(pw, len, "pw%d", qi);
}

/* note_credentials - the client sends credentials now */
static void
note_credentials(struct sim_req *q)
{
	q->cred_step = sim.step;
	q->locked_at_cred = lock_applies(q->user, q->addr);
}

/* plain_resp - \0user\0password, base64 */
static void
plain_resp(int qi, struct buf *out)
{
	char raw[600], pw[64];
	int n;

	req_password(qi, pw, sizeof(pw));
	n = snprintf(raw, sizeof(raw), "%c%s%c%s", 0, sim_users[sim.req[qi].user],
	    0, pw);
	b64(out, raw, (size_t)n);
}

static const char *const sim_mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5"};

/* op_open - a new smtpd connection and its handshake */
static void
op_open(void)
{
	char hello[64];
	int c;

	for (c = 0; c < SIM_CONNS && sim.conn[c].open; c++)
		;
	if (c == SIM_CONNS)
		return;
	sim.conn[c].p.fd = peer_connect("auth");
	sim.conn[c].open = 1;
	sim.conn[c].mechs[0] = 0;
	snprintf(hello, sizeof(hello), "VERSION\t1\t1\nCPID\t%d\n", 7000 + c);
	peer_puts(&sim.conn[c].p, "smtpd", hello);
}

/* op_close - smtpd goes away */
static void
op_close(int c)
{
	int i;

	if (!sim.conn[c].open)
		return;
	peer_close(&sim.conn[c].p);
	sim.conn[c].open = 0;
	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].conn == c && sim.req[i].turn != T_DONE)
			req_answered(&sim.req[i]);
}

/* abandon_client_turn - any AUTH line ends exchanges left half-way */
static void
abandon_client_turn(int c)
{
	int i;

	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].conn == c && sim.req[i].turn == T_CLIENT)
			req_answered(&sim.req[i]);
}

/* new_req - a request smtpd sends; NULL when the schedule has enough */
static struct sim_req *
new_req(int c)
{
	struct sim_req *q;

	if (sim.nreq == SIM_REQS)
		return NULL;
	q = &sim.req[sim.nreq++];
	memset(q, 0, sizeof(*q));
	q->conn = c;
	q->id = ++sim.conn[c].nextid;
	q->answered_step = -1;
	q->turn = T_SERVER;
	q->secured = 1;
	return q;
}

/* op_auth - AUTH: b picks the mechanism, initial response, TLS, user, address */
static void
op_auth(int c, unsigned a, unsigned b)
{
	struct sim_req *q;
	struct buf line, resp;
	char mech[16];
	int qi;

	if (!sim.conn[c].open || (q = new_req(c)) == NULL)
		return;
	qi = (int)(q - sim.req);
	abandon_client_turn(c);
	q->mech = (int)((b & 3) % 3);
	q->user = (int)(((b >> 2) & 3) % 3);
	q->addr = (int)((b >> 4) & 3);
	q->secured = (a & 1) == 0;
	snprintf(mech, sizeof(mech), "%s", a & 2 ? "NTLM" : sim_mechs[q->mech]);
	if (a & 2)		/* not offered by Dovecot: refused, no exchange */
		q->mech = -1;
	if (b & 0x80)		/* case-blind (RFC 4954), as a client types it */
		str_lower(mech);
	buf_init(&line);
	buf_init(&resp);
	buf_printf(&line, "AUTH\t%u\t%s\tservice=smtp\tnologin\tlip=192.0.2.200"
	    "\trip=%s\t%ssession=T%d", q->id, mech,
	    sim_addrs[q->addr], q->secured ? "secured\t" : "", qi);
	if (b & 0x40 && q->mech == 0) {
		plain_resp(qi, &resp);
		buf_printf(&line, "\tresp=%s", resp.data);
		note_credentials(q);
		q->step = 1;
	} else if (b & 0x40 && q->mech == 1) {
		b64(&resp, sim_users[q->user], strlen(sim_users[q->user]));
		buf_printf(&line, "\tresp=%s", resp.data);
		q->step = 1;
	}
	buf_putc(&line, '\n');
	peer_send(&sim.conn[c].p, "smtpd", line.data, line.len);
	buf_free(&line);
	buf_free(&resp);
}

/* pick_client_turn - the k-th request of a connection waiting for the client */
static struct sim_req *
pick_client_turn(int c, unsigned k)
{
	struct sim_req *cand[SIM_REQS];
	int i, n = 0;

	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].conn == c && sim.req[i].turn == T_CLIENT)
			cand[n++] = &sim.req[i];
	return n ? cand[k % (unsigned)n] : NULL;
}

/* op_cont - the client's next response (b & 0x80: garbage) */
static void
op_cont(int c, unsigned b)
{
	struct sim_req *q = pick_client_turn(c, b & 0x7f);
	struct buf line, resp;
	char pw[64], raw[400];
	int qi, n;

	if (!sim.conn[c].open || q == NULL)
		return;
	qi = (int)(q - sim.req);
	buf_init(&line);
	buf_init(&resp);
	req_password(qi, pw, sizeof(pw));
	if (b & 0x80)
		buf_puts(&resp, "!!not-base64!!");
	else if (q->mech == 0)
		plain_resp(qi, &resp);
	else if (q->mech == 1 && q->step == 0)
		b64(&resp, sim_users[q->user], strlen(sim_users[q->user]));
	else if (q->mech == 1)
		b64(&resp, pw, strlen(pw));
	else {
		n = snprintf(raw, sizeof(raw), "%s %032x", sim_users[q->user],
		    (unsigned)qi);
		b64(&resp, raw, (size_t)n);
	}
	if (!(b & 0x80) && (q->mech != 1 || q->step == 1))
		note_credentials(q);
	q->step++;
	q->turn = T_SERVER;
	buf_printf(&line, "CONT\t%u\t%s\n", q->id, resp.data);
	peer_send(&sim.conn[c].p, "smtpd", line.data, line.len);
	buf_free(&line);
	buf_free(&resp);
}

/* op_cancel - the client gives up on a request */
static void
op_cancel(int c, unsigned b)
{
	struct sim_req *q = pick_client_turn(c, b);
	char line[64];

	if (!sim.conn[c].open || q == NULL)
		return;
	snprintf(line, sizeof(line), "CANCEL\t%u\n", q->id);
	req_answered(q);	/* no answer follows */
	peer_puts(&sim.conn[c].p, "smtpd", line);
}

/* op_hostile - a line real smtpd would not send */
static void
op_hostile(int c, unsigned b)
{
	static const char *const lines[] = {
		"AUTH\tx\tPLAIN\tservice=smtp\n",	/* no id: ignored */
		"CONT\t999999\tAAAA\n",
		"FROB\t1\n",
		"CPID\tnot-a-pid\n",
		"CONT\n",
		"CANCEL\t424242\n",
	};
	struct sim_req *q;
	char *big, line[64];
	int n;

	if (!sim.conn[c].open)
		return;
	if (b % 8 == 0 || b % 8 == 7)
		abandon_client_turn(c);
	if (b % 8 < 6)
		peer_puts(&sim.conn[c].p, "smtpd", lines[b % 8]);
	else if (b % 8 == 6) {
		big = xmalloc(20002);
		memset(big, 'A', 20000);
		big[20000] = '\n';
		big[20001] = 0;
		peer_send(&sim.conn[c].p, "smtpd", big, 20001);
		free(big);
	} else if ((q = new_req(c)) != NULL) {
		/* a NUL byte: refused with a FAIL for its id */
		q->mech = -1;
		n = snprintf(line, sizeof(line), "AUTH\t%u\tPL", q->id);
		memcpy(line + n, "\0AIN\tservice=smtp\n", 18);
		peer_send(&sim.conn[c].p, "smtpd", line, (size_t)n + 18);
	}
}

/* dove_pick - the k-th request Dovecot owes an answer (as real Dovecot,
 * never one whose client has yet to answer a challenge) */
static struct dove_req *
dove_pick(unsigned k)
{
	struct dove_req *cand[SIM_DOVE_MAX];
	int i, n = 0;

	for (i = 0; i < SIM_DOVE_MAX; i++)
		if (sim.dreq[i].live && !sim.dreq[i].challenged)
			cand[n++] = &sim.dreq[i];
	return n ? cand[k % (unsigned)n] : NULL;
}

/* op_dovecot - Dovecot answers a request: b picks how */
static void
op_dovecot(unsigned a, unsigned b)
{
	struct dove_req *d = dove_pick(a);
	const char *user;
	char line[700];

	if (sim.dove.fd < 0 || d == NULL)
		return;
	user = *d->user ? d->user : "v";
	switch (b % 7) {
	case 0:
		snprintf(line, sizeof(line), "OK\t%u\tuser=%s\n", d->id, user);
		break;
	case 1:
		snprintf(line, sizeof(line), "FAIL\t%u\n", d->id);
		break;
	case 2:
		snprintf(line, sizeof(line), "FAIL\t%u\tuser=%s\n", d->id, user);
		break;
	case 3:
		snprintf(line, sizeof(line), "FAIL\t%u\tcode=temp_fail\n", d->id);
		break;
	case 4:
		snprintf(line, sizeof(line), "FAIL\t%u\tcode=user_disabled\t"
		    "user=%s\n", d->id, user);
		break;
	case 5:
		snprintf(line, sizeof(line), "CONT\t%u\tPDEyMzQ1QGxhYj4=\n",
		    d->id);
		d->challenged = 1;
		peer_puts(&sim.dove, "dovecot", line);
		return;
	default:
		snprintf(line, sizeof(line), "FAIL\t%u\treason=Password "
		    "mismatch\tuser=%s\n", d->id, user);
		break;
	}
	d->live = 0;
	peer_puts(&sim.dove, "dovecot", line);
}

/* op_userdb - auth-userdb answers a lookup */
static void
op_userdb(unsigned a, unsigned b)
{
	struct udb_req *cand[SIM_UDB_MAX];
	char line[700];
	int i, n = 0;

	for (i = 0; i < SIM_UDB_MAX; i++)
		if (sim.ureq[i].live)
			cand[n++] = &sim.ureq[i];
	if (n == 0 || sim.udb.fd < 0)
		return;
	i = (int)(a % (unsigned)n);
	if (b % 3 == 0)
		snprintf(line, sizeof(line), "USER\t%u\t%s\tuid=8\n", cand[i]->id,
		    cand[i]->user);
	else
		snprintf(line, sizeof(line), "%s\t%u\n", b % 3 == 1 ?
		    "NOTFOUND" : "FAIL", cand[i]->id);
	cand[i]->live = 0;
	peer_puts(&sim.udb, "userdb", line);
}

/* op_admin - authguard lock/unlock of an account or an address, or the overview */
static void
op_admin(unsigned a, unsigned b)
{
	char line[200];
	const char *what = b & 4 ? sim_addrs[b & 3] : sim_users[(b & 3) % 3];

	if (sim.ctl.fd >= 0)
		return;
	buf_reset(&sim.ctl_answer);
	sim.ctl.fd = peer_connect("control");
	if (a % 8 == 7)
		snprintf(line, sizeof(line), "overview\tjson\t-\n");
	else
		snprintf(line, sizeof(line), "%s\ttext\t%s%s\tactor=sim\n",
		    a & 1 ? "unlock" : "lock", what, a & 1 ? "" : "\tfor=600");
	peer_puts(&sim.ctl, "control", line);
}

/* op_advance - time passes */
static void
op_advance(unsigned b)
{
	static const unsigned ms[] = {1, 10, 100, 1000, 5000, 9000, 60000,
	    301000, 901000, 1801000};

	advance(ms[b % NELEM(ms)]);
}

/* op_dove_state - Dovecot hangs up, goes down, or comes back */
static void
op_dove_state(unsigned b)
{
	if (b % 3 == 0 && sim.dove.fd >= 0) {
		sim_trace("dovecot: hangs up");
		dove_forget();
	} else if (b % 3 == 1) {
		sim.dove_refuse = 1;
		if (sim.dove.fd >= 0)
			dove_forget();
	} else
		sim.dove_refuse = 0;
}

/* op_udb_state - auth-userdb hangs up */
static void
op_udb_state(void)
{
	if (sim.udb.fd >= 0) {
		peer_close(&sim.udb);
		memset(sim.ureq, 0, sizeof(sim.ureq));
	}
}

/* step_begin - before an operation: the step's lock state, Dovecot's hello */
static void
step_begin(void)
{
	sim.step++;
	snapshot_locks();
	if (sim.dove_hello_due && sim.dove.fd >= 0) {
		sim.dove_hello_due = 0;
		dove_hello();
	}
}

/* step_end - after an operation: let everything settle, check */
static void
step_end(void)
{
	pump();
}

/* sim_step - one step of a schedule: an operation and its two arguments */
void
sim_step(unsigned op, unsigned a, unsigned b)
{
	int c = (int)(a % SIM_CONNS);

	step_begin();
	sim_trace("op %u %u %u", op % 13, a, b);
	switch (op % 13) {
	case 0: op_open(); break;
	case 1: op_close(c); break;
	case 2: case 3: op_auth(c, a >> 2, b); break;
	case 4: case 5: op_cont(c, b); break;
	case 6: op_cancel(c, b); break;
	case 7: op_hostile(c, b); break;
	case 8: case 9: op_dovecot(a, b); break;
	case 10: op_userdb(a, b); break;
	case 11: op_admin(a, b); break;
	default:
		if (b & 0x80)
			op_dove_state(a);
		else if (b & 0x40)
			op_udb_state();
		else
			op_advance(b);
		break;
	}
	step_end();
}

/* sim_open - a new smtpd connection; its index, -1 when all are open */
int
sim_open(void)
{
	int c;

	for (c = 0; c < SIM_CONNS && sim.conn[c].open; c++)
		;
	if (c == SIM_CONNS)
		return -1;
	step_begin();
	op_open();
	step_end();
	return c;
}

/* sim_close - smtpd closes a connection */
void
sim_close(int c)
{
	step_begin();
	op_close(c);
	step_end();
}

/* sim_auth - AUTH on connection c; the request's index, -1 if none */
int
sim_auth(int c, enum sim_mech mech, int user, int addr, int resp, int tls)
{
	int before = sim.nreq;

	step_begin();
	op_auth(c, tls ? 0 : 1, (unsigned)mech | (unsigned)user << 2 |
	    (unsigned)addr << 4 | (resp ? 0x40u : 0));
	step_end();
	return sim.nreq > before ? before : -1;
}

/* sim_auth_lower - sim_auth, the mechanism's name in lower case */
int
sim_auth_lower(int c, enum sim_mech mech, int user, int addr, int resp, int tls)
{
	int before = sim.nreq;

	step_begin();
	op_auth(c, tls ? 0 : 1, (unsigned)mech | (unsigned)user << 2 |
	    (unsigned)addr << 4 | (resp ? 0x40u : 0) | 0x80u);
	step_end();
	return sim.nreq > before ? before : -1;
}

/* sim_auth_unoffered - AUTH NTLM, which Dovecot did not list */
int
sim_auth_unoffered(int c, int addr, int tls)
{
	int before = sim.nreq;

	step_begin();
	op_auth(c, (tls ? 0 : 1) | 2, (unsigned)addr << 4);
	step_end();
	return sim.nreq > before ? before : -1;
}

/* sim_cont - the client's next response to request q */
void
sim_cont(int q, int garbage)
{
	struct sim_req *r = &sim.req[q];
	unsigned k = 0;
	int i;

	for (i = 0; i < q; i++)		/* its place among those waiting */
		if (sim.req[i].conn == r->conn && sim.req[i].turn == T_CLIENT)
			k++;
	step_begin();
	op_cont(r->conn, k | (garbage ? 0x80u : 0));
	step_end();
}

/* sim_cancel - the client gives request q up */
void
sim_cancel(int q)
{
	struct sim_req *r = &sim.req[q];
	unsigned k = 0;
	int i;

	for (i = 0; i < q; i++)
		if (sim.req[i].conn == r->conn && sim.req[i].turn == T_CLIENT)
			k++;
	step_begin();
	op_cancel(r->conn, k);
	step_end();
}

/* sim_hostile - a line real smtpd would not send (kind 0..7) */
void
sim_hostile(int c, int kind)
{
	step_begin();
	op_hostile(c, (unsigned)kind);
	step_end();
}

/* sim_dovecot - Dovecot answers the k-th request it owes */
void
sim_dovecot(int k, enum sim_dove kind)
{
	step_begin();
	op_dovecot((unsigned)k, (unsigned)kind);
	step_end();
}

/* sim_userdb - auth-userdb answers the k-th lookup */
void
sim_userdb(int k, enum sim_udb kind)
{
	step_begin();
	op_userdb((unsigned)k, (unsigned)kind);
	step_end();
}

/* sim_admin - authguard lock/unlock: an account, or (addr) an address */
void
sim_admin(int unlock, int addr, int which)
{
	step_begin();
	op_admin(unlock ? 1 : 0, (addr ? 4u : 0) | (unsigned)which);
	step_end();
}

/* sim_advance - time passes */
void
sim_advance(uint64_t ms)
{
	step_begin();
	advance(ms);
	step_end();
}

/* sim_dovecot_state - Dovecot hangs up (0), goes down (1), comes back (2) */
void
sim_dovecot_state(int how)
{
	step_begin();
	op_dove_state((unsigned)how);
	step_end();
}

/* sim_userdb_hangup - auth-userdb closes its connection */
void
sim_userdb_hangup(void)
{
	step_begin();
	op_udb_state();
	step_end();
}

/* sim_reply - smtpd's last line for request q, "" if none yet */
const char *
sim_reply(int q)
{
	return sim.req[q].reply;
}

/* sim_answered - request q has its answer, or its connection is gone */
int
sim_answered(int q)
{
	return sim.req[q].turn == T_DONE;
}

/* sim_conn_open - is smtpd connection c open (neither side closed it)? */
int
sim_conn_open(int c)
{
	return sim.conn[c].open;
}

/* sim_forwarded - did Dovecot see request q? */
int
sim_forwarded(int q)
{
	return sim.req[q].forwarded;
}

/* sim_dovecot_creds - credentials of a user Dovecot received */
unsigned
sim_dovecot_creds(int user)
{
	return sim.dove_creds[user];
}

/* sim_dovecot_owed - requests Dovecot has not answered */
int
sim_dovecot_owed(void)
{
	int i, n = 0;

	for (i = 0; i < SIM_DOVE_MAX; i++)
		n += sim.dreq[i].live;
	return n;
}

/* sim_log_find - the latest of the daemon's recent lines holding text */
const char *
sim_log_find(const char *text)
{
	unsigned i, n = sim.nlog < SIM_LOG_KEEP ? sim.nlog : SIM_LOG_KEEP;

	for (i = 1; i <= n; i++)
		if (strstr(sim.log[(sim.nlog - i) % SIM_LOG_KEEP], text))
			return sim.log[(sim.nlog - i) % SIM_LOG_KEEP];
	return NULL;
}

/* sim_account_failures - failures of an account in its window now */
unsigned
sim_account_failures(int user)
{
	char key[300];
	struct track *t;

	acct_key(user, key, sizeof(key));
	t = limits_find(&store_limits.acct, key);
	return t ? limits_window_count(&store_limits.acct, t, store_now()) : 0;
}

/* sim_has - does s (a reply or log line, maybe NULL) hold text? */
int
sim_has(const char *s, const char *text)
{
	return s != NULL && strstr(s, text) != NULL;
}

/* sim_account_locked - is an account locked now? */
int
sim_account_locked(int user)
{
	char key[300];

	acct_key(user, key, sizeof(key));
	return key_locked(&store_limits.acct, key);
}

/* sim_control - one request on the control socket; its whole answer */
const char *
sim_control(const char *request)
{
	step_begin();
	/* the last answer was read whole: the daemon writes it at once */
	peer_close(&sim.ctl);
	buf_reset(&sim.ctl_answer);
	sim.ctl.fd = peer_connect("control");
	peer_puts(&sim.ctl, "control", request);
	step_end();
	return buf_str(&sim.ctl_answer);
}

/* sim_dovecot_line - Dovecot sends any line of its own (with its LF) */
void
sim_dovecot_line(const char *line)
{
	unsigned long id;
	const char *p = strchr(line, '\t');
	int i;

	/* an OK or FAIL of its own: Dovecot owes that request nothing more */
	if (p && (strncmp(line, "OK\t", 3) == 0 || strncmp(line, "FAIL\t", 5)
	    == 0) && (id = strtoul(p + 1, NULL, 10)) != 0)
		for (i = 0; i < SIM_DOVE_MAX; i++)
			if (sim.dreq[i].live && sim.dreq[i].id == id)
				sim.dreq[i].live = 0;
	step_begin();
	peer_puts(&sim.dove, "dovecot", line);
	step_end();
}

/* sim_dovecot_id - the gate's id of the k-th request Dovecot owes, 0: none */
unsigned
sim_dovecot_id(int k)
{
	struct dove_req *d = dove_pick((unsigned)k);

	return d ? d->id : 0;
}

/* sim_dovecot_mute - from the next connection on, Dovecot never says DONE */
void
sim_dovecot_mute(int mute)
{
	sim.dove_mute = mute;
}

/* sim_userdb_owed - lookups auth-userdb has not answered */
int
sim_userdb_owed(void)
{
	int i, n = 0;

	for (i = 0; i < SIM_UDB_MAX; i++)
		n += sim.ureq[i].live;
	return n;
}

/* sim_dovecot_hello - Dovecot's handshake on later connections (its
 * lines, LFs included; NULL: the usual one) */
void
sim_dovecot_hello(const char *text)
{
	sim.dove_hello_text = text;
}

/* sim_dovecot_connects - connections Dovecot accepted (refused ones too) */
unsigned
sim_dovecot_connects(void)
{
	return sim.dove_connects;
}

/* sim_dovecot_cancels - CANCEL lines Dovecot received */
unsigned
sim_dovecot_cancels(void)
{
	return sim.dove_cancels;
}

/* sim_cancel_any - smtpd sends CANCEL for request q, whoever's turn it is
 * (real smtpd cancels only at the client's turn) */
void
sim_cancel_any(int q)
{
	struct sim_req *r = &sim.req[q];
	char line[64];

	step_begin();
	if (sim.conn[r->conn].open && r->turn != T_DONE) {
		snprintf(line, sizeof(line), "CANCEL\t%u\n", r->id);
		req_answered(r);	/* no answer follows */
		peer_puts(&sim.conn[r->conn].p, "smtpd", line);
	}
	step_end();
}

/* sim_conn_mechs - the mechanisms smtpd connection c was offered */
const char *
sim_conn_mechs(int c)
{
	return sim.conn[c].mechs;
}

/* sim_password - the password of every later request; NULL: one each */
void
sim_password(const char *pw)
{
	sim.password = pw;
}

/* sim_userdb_line - auth-userdb sends any line of its own (with its LF) */
void
sim_userdb_line(const char *line)
{
	step_begin();
	peer_puts(&sim.udb, "userdb", line);
	step_end();
}

/* sim_userdb_id - the id of the k-th lookup auth-userdb owes, 0: none */
unsigned
sim_userdb_id(int k)
{
	int i, n = 0;

	for (i = 0; i < SIM_UDB_MAX; i++)
		if (sim.ureq[i].live && n++ == k)
			return sim.ureq[i].id;
	return 0;
}

/* sim_userdb_forget - auth-userdb forgets the lookup with this id */
void
sim_userdb_forget(unsigned id)
{
	int i;

	for (i = 0; i < SIM_UDB_MAX; i++)
		if (sim.ureq[i].live && sim.ureq[i].id == id)
			sim.ureq[i].live = 0;
}

/* sim_userdb_connects - connections auth-userdb accepted */
unsigned
sim_userdb_connects(void)
{
	return sim.udb_connects;
}

/* sim_userdb_lookups - USER lookups auth-userdb received */
unsigned
sim_userdb_lookups(void)
{
	return sim.udb_lookups;
}

/* sim_control_raw - a request of any bytes on the control socket */
const char *
sim_control_raw(const char *data, size_t len)
{
	step_begin();
	peer_close(&sim.ctl);		/* as sim_control */
	buf_reset(&sim.ctl_answer);
	sim.ctl.fd = peer_connect("control");
	peer_send(&sim.ctl, "control", data, len);
	step_end();
	return buf_str(&sim.ctl_answer);
}

/* sim_log_count - how many of the daemon's recent lines hold text */
unsigned
sim_log_count(const char *text)
{
	unsigned i, k = 0, n = sim.nlog < SIM_LOG_KEEP ? sim.nlog : SIM_LOG_KEEP;

	for (i = 1; i <= n; i++)
		k += strstr(sim.log[(sim.nlog - i) % SIM_LOG_KEEP], text) != NULL;
	return k;
}

/* sim_address_failures - failures of an address in its window now */
unsigned
sim_address_failures(int addr)
{
	char key[300];
	struct track *t;

	addr_key(addr, key, sizeof(key));
	t = *key ? limits_find(&store_limits.addr, key) : NULL;
	return t ? limits_window_count(&store_limits.addr, t, store_now()) : 0;
}

/* sim_address_locked - is an address locked now? */
int
sim_address_locked(int addr)
{
	char key[300];

	addr_key(addr, key, sizeof(key));
	return *key && key_locked(&store_limits.addr, key);
}

#define SIM_XSTR(x)	#x
#define SIM_STR(x)	SIM_XSTR(x)

/* write_config - the daemon's configuration; extra lines replace defaults */
static void
write_config(const char *extra)
{
	char line[256];
	const char *defaults[] = {"upstream_timeout = 8s",
	    "require_tls_for_auth = yes", "client_detail = safe",
	    "account_fail_limit = " SIM_STR(SIM_ACCT_LIMIT) "/15m",
	    "ip_fail_limit = " SIM_STR(SIM_ADDR_LIMIT) "/15m",
	    "lockout_time = 15m",
	    /* at once, as client_detail = full answers: the tests of refusals
	     * held as long as Dovecot's (and fuzz_sim) set it */
	    "refusal_delay = 0s"};
	FILE *fp = fopen(sim.conf, "w");
	size_t i, klen;

	if (fp == NULL)
		msg_fatal("sim: %s: %s", sim.conf, strerror(errno));
	fprintf(fp, "sasl_listen = unix:%s/auth\n"
	    "sasl_upstream = unix:%s/dovecot\n"
	    "userdb_upstream = unix:%s/userdb\n"
	    "control_listen = unix:%s/control\n"
	    "state_dir = %s/state\n"
	    "fingerprint_key = %s/fingerprint.key\n"
	    "accounts_map = %s/accounts.cdb\n", sim.dir, sim.dir, sim.dir,
	    sim.dir, sim.dir, sim.dir, sim.dir);
	for (i = 0; i < NELEM(defaults); i++) {
		klen = strcspn(defaults[i], " ");
		snprintf(line, sizeof(line), "\n%.*s =", (int)klen, defaults[i]);
		if (extra == NULL || (strncmp(extra, line + 1, strlen(line + 1))
		    != 0 && strstr(extra, line) == NULL))
			fprintf(fp, "%s\n", defaults[i]);
	}
	fprintf(fp, "%s", extra ? extra : "");
	fclose(fp);
}

/* sim_cleanup - at exit: the private directory goes */
static void
sim_cleanup(void)
{
	static const char *const files[] = {"state/state", "state/state.tmp",
	    "state/state.bad", "state/secret", "state/mechanisms", "state",
	    "auth", "control", "dovecot", "userdb", "authguard.conf",
	    "fingerprint.key", "accounts.cdb", "accounts.tmp"};
	char path[160];
	size_t i;

	for (i = 0; i < NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", sim.dir, files[i]);
		if (unlink(path) < 0 && errno == EISDIR)
			rmdir(path);
		else if (errno == EISDIR || errno == EPERM)
			rmdir(path);
	}
	rmdir(sim.dir);
}

/*
 * sim_accounts - the accounts map becomes these "name flags" lines,
 * built as postmap does: a new file renamed into place
 */
void
sim_accounts(const char *text)
{
	struct cdb_make cm;
	char tmp[160], path[160], line[256], *sp;
	const char *p, *nl;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/accounts.tmp", sim.dir);
	snprintf(path, sizeof(path), "%s/accounts.cdb", sim.dir);
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		msg_fatal("sim: %s: %s", tmp, strerror(errno));
	cdb_make_start(&cm, fd);
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = 0;
		cdb_make_add(&cm, line, (unsigned)strlen(line), sp,
		    (unsigned)strlen(sp));
	}
	if (cdb_make_finish(&cm) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		msg_fatal("sim: %s: %s", path, strerror(errno));
}

/* sim_accounts_break - the map is overwritten in place with junk */
void
sim_accounts_break(void)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/accounts.cdb", sim.dir);
	if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0 || write(fd, "x\n", 2) != 2)
		msg_fatal("sim: %s: %s", path, strerror(errno));
	close(fd);
}

/* write_key - the same fingerprint key for every run */
static void
write_key(void)
{
	unsigned char key[FINGERPRINT_KEY_LEN];
	char path[160];
	int fd;

	memset(key, 0x5a, sizeof(key));
	snprintf(path, sizeof(path), "%s/fingerprint.key", sim.dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		msg_fatal("sim: %s: %s", path, strerror(errno));
	close(fd);
}

/* sim_once - per process: the private directory */
static void
sim_once(void)
{
	char state[128];

	if (*sim.dir)
		return;
	snprintf(sim.dir, sizeof(sim.dir), "/tmp/authguard-sim.XXXXXX");
	if (mkdtemp(sim.dir) == NULL)
		msg_fatal("sim: mkdtemp: %s", strerror(errno));
	snprintf(sim.conf, sizeof(sim.conf), "%s/authguard.conf", sim.dir);
	snprintf(state, sizeof(state), "%s/state", sim.dir);
	mkdir(state, 0700);
	write_key();
	atexit(sim_cleanup);
	sim.trace = getenv("SIM_TRACE") != NULL;
	msg_set_sink(sim_log);
	signal(SIGPIPE, SIG_IGN);	/* as the daemon: a closed peer is no crash */
}

/* sim_clean_state - every schedule starts without saved state */
static void
sim_clean_state(void)
{
	static const char *const files[] = {"state", "state.tmp", "state.bad",
	    "secret", "mechanisms"};
	char path[160];
	size_t i;

	for (i = 0; i < NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s/state/%s", sim.dir, files[i]);
		unlink(path);
	}
}

/* sim_begin - the daemon, as main() starts it, on the private sockets;
 * extra: more configuration lines, or NULL */
void
sim_begin(const char *extra)
{
	char err[CONFIG_ERR_MAX + 4096];
	int fd, cfd;
	int i;

	sim_once();
	sim_accounts("nobody@example.org disabled\n");	/* flags for no user */
	write_config(extra);
	memset(&sim.cfg, 0, sizeof(sim.cfg));
	if (config_load(sim.conf, &sim.cfg, err, sizeof(err)) < 0)
		msg_fatal("sim: %s", err);
	sim_clean_state();
	sim.step = 0;
	sim.nreq = 0;
	sim.nlog = 0;
	memset(sim.dove_creds, 0, sizeof(sim.dove_creds));
	sim.dove.fd = sim.udb.fd = sim.ctl.fd = -1;
	buf_init(&sim.dove.in);
	buf_init(&sim.udb.in);
	buf_init(&sim.ctl.in);
	buf_init(&sim.ctl_answer);
	sim.dove_mute = 0;
	sim.dove_hello_text = NULL;
	sim.password = NULL;
	sim.dove_connects = sim.dove_cancels = 0;
	sim.udb_connects = sim.udb_lookups = 0;
	for (i = 0; i < SIM_CONNS; i++) {
		sim.conn[i].open = 0;
		sim.conn[i].nextid = 0;
		sim.conn[i].p.fd = -1;
		buf_init(&sim.conn[i].p.in);
	}
	memset(sim.dreq, 0, sizeof(sim.dreq));
	memset(sim.ureq, 0, sizeof(sim.ureq));
	sim.dove_hello_due = sim.dove_refuse = 0;
	ev_clock_virtual(SIM_START_MS, SIM_WALL_S);
	sim.dove_lfd = peer_listen("dovecot");
	sim.udb_lfd = peer_listen("userdb");
	ev_init();
	fd = listen_socket(&sim.cfg.sasl_listen, 64, "", NULL, 0600);
	cfd = listen_socket(&sim.cfg.control_listen, 16, "", NULL, 0600);
	if (accounts_open(&sim.accounts, sim.cfg.accounts_map) < 0)
		msg_fatal("sim: accounts_map: %s", sim.accounts.err);
	store_init(&sim.cfg);
	shared_init(&sim.cfg, &store_limits.cfg, store_secret,
	    sizeof(store_secret));
	enforce_init(&sim.cfg);
	gate_init(&sim.cfg, &sim.accounts);
	gate_listen(fd);
	control_init(&sim.cfg, cfd);
	pump();
	step_begin();		/* Dovecot's hello */
	step_end();
}

/* sim_stop - the daemon's own shutdown, then the peers' */
static void
sim_stop(void)
{
	int i;

	shared_shutdown();
	gate_shutdown();
	control_shutdown();
	session_shutdown();
	ev_shutdown();
	store_shutdown();
	accounts_close(&sim.accounts);
	config_free(&sim.cfg);
	for (i = 0; i < SIM_CONNS; i++) {
		peer_close(&sim.conn[i].p);
		buf_free(&sim.conn[i].p.in);
	}
	peer_close(&sim.dove);
	peer_close(&sim.udb);
	peer_close(&sim.ctl);
	buf_free(&sim.dove.in);
	buf_free(&sim.udb.in);
	buf_free(&sim.ctl.in);
	buf_free(&sim.ctl_answer);
	close(sim.dove_lfd);
	close(sim.udb_lfd);
}

/* sim_end - every deadline passes, all is answered and ends; then stop */
void
sim_end(void)
{
	int i;

	step_begin();
	sim.dove_refuse = 0;
	advance(20000);		/* past upstream_timeout: all is answered */
	for (i = 0; i < sim.nreq; i++)
		if (sim.req[i].turn == T_SERVER && sim.conn[sim.req[i].conn].open)
			sim_fail("request %d (smtpd %d id %u) never answered", i,
			    sim.req[i].conn, sim.req[i].id);
	for (i = 0; i < SIM_CONNS; i++)
		op_close(i);
	advance(301000);	/* past the client's idle time */
	if (gate_connections() != 0)
		sim_fail("%u smtpd connections left open", gate_connections());
	if (attempt_live() != 0)
		sim_fail("%lu attempts left alive", attempt_live());
	sim_stop();
}
