/*++
/* NAME
/*	shared 3
/* SUMMARY
/*	state shared by several servers, in Redis
/* DESCRIPTION
/*	With state_backend = redis://... or unix:..., failure windows,
/*	lockouts, familiar addresses and recent attempts of every server
/*	that names the same Redis live there too (see shared.lua, one
/*	script loaded per connection and run with EVALSHA, so that each
/*	change is atomic). Each server still keeps its own state as with
/*	the embedded backend: it decides from it whenever Redis cannot
/*	answer.
/*
/*	One connection, driven by hiredis's asynchronous API from the
/*	event loop (redis 3). A caller that waits for an answer waits at
/*	most redis_timeout: after that its callback gets no reply and it
/*	decides locally; the late answer, if one comes, goes to its
/*	"late" callback (a reservation made in Redis is then given back).
/*	A connection that answers nothing for SHARED_STALL ms, or an
/*	error that says it cannot apply changes (script gone, a replica,
/*	loading), is dropped; a busy one that answers is kept, but a check
/*	behind SHARED_BUSY unanswered commands is decided locally at once.
/*
/*	While Redis is down, every change (failures, successes, locks,
/*	recent attempts) is kept in a journal, in its wire form, and so
/*	is every change sent on a connection that went away before it
/*	answered (back at the head, in sending order). On the next
/*	connection they are sent again, in order, with the time they
/*	happened, SHARED_REPLAY_BATCH at a time; new changes wait behind
/*	them. Failures carry a unique id, so one sent twice counts once.
/*	The journal keeps at most SHARED_JOURNAL_MAX changes to the limits
/*	and as many commands for recent attempts; past that the oldest
/*	go, counted and logged.
/*
/*	A host name is resolved once, at start: the event loop never
/*	waits for DNS.
/*
/*	rediss:// (where hiredis has hiredis_ssl) puts TLS on each
/*	connection: the server's certificate must chain to redis_tls_ca
/*	(or to the system's CAs) and name the host that state_backend
/*	gives; redis_tls_cert and redis_tls_key are this server's, if
/*	Redis asks for one. The files are read at start (an error stops
/*	it) and again at each reload (an error keeps the ones read
/*	before). A refused handshake is a connection that failed: logged
/*	with its reason, decisions made locally, tried again.
/*
/*	The commands are built by sharedcmd (3), and kept in a journal
/*	(3) while they wait; this module owns the connection, the replay,
/*	and the counts and logs of both.
/*
/*	The Redis password is wiped wherever it was copied for sending:
/*	the AUTH command's strings when freed, and, with hiredis 1.0 or
/*	later, hiredis's own buffers (its allocator wipes what it frees or
/*	moves); hiredis 0.14 frees its output buffer unwiped.
/*--*/
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <openssl/sha.h>
#ifdef HAVE_HIREDIS_SSL
#include <openssl/ssl.h>
#endif

#include "authlimits.h"
#include "backend.h"
#include "buf.h"
#include "event.h"
#include "fingerprint.h"
#include "hush.h"
#include "journal.h"
#include "metrics.h"
#include "msg.h"
#include "redis.h"
#include "shared.h"
#include "shared_lua.h"
#include "sharedcmd.h"
#include "util.h"

#define SHARED_RETRY		1000	/* ms between connection attempts */
#define SHARED_CONNECT		1000	/* ms to connect and get ready */
#define SHARED_STALL		1000	/* ms without any answer: drop */
#define SHARED_BUSY		1000	/* unanswered: checks decide locally */
#define SHARED_REPLAY_BATCH	256	/* kept changes sent at a time */
#define SHARED_JOURNAL_MAX	50000	/* of each kind; ~300 bytes each */
#define SHARED_COMPLAIN_MS	60000	/* between repeats of a log */

enum shared_state { SH_OFF, SH_DOWN, SH_CONNECTING, SH_UP };

struct shared_op {
	TAILQ_ENTRY(shared_op) link;	/* sent, unanswered; oldest first */
	struct shared_cmd *cmd;		/* NULL once handed to the journal */
	shared_cb	 cb;		/* NULL: nobody waits any more */
	void		*arg;
	shared_late_cb	 late;
	struct ev_timer	 timer;
	uint64_t	 sent;
};

static const struct config *sh_cfg;
static struct limits_config sh_limits;	/* in seconds */
static struct backend sh_be;
static char sh_addr[64];		/* sh_be.host, resolved */
static char sh_where[300];		/* for logs, no password */
static char sh_sha[2 * SHA_DIGEST_LENGTH + 1];
static char sh_server[64];		/* this host's name, in records */
static char sh_keycheck[16];
static char sh_idbase[17];
static unsigned long long sh_idseq;
static enum shared_state sh_state = SH_OFF;
static redisAsyncContext *sh_ac;
static struct ev_timer sh_retry, sh_deadline, sh_kill, sh_tick;
static TAILQ_HEAD(, shared_op) sh_pending = TAILQ_HEAD_INITIALIZER(sh_pending);
/* Kept changes, in their wire form only (a few hundred bytes each). */
static struct journal sh_journal = {.max = SHARED_JOURNAL_MAX};
static struct shared_stats sh_st;
static char sh_last_complaint[512];
static struct hush sh_complained;	/* sh_last_complaint's */
static int sh_was_up;
static size_t sh_npending;
static uint64_t sh_last_answer;		/* ms: anything answered */
static int sh_replaying;
static int sh_setup_errors;		/* this connection attempt's */
static int sh_ready;			/* this connection got ready */
static struct hush sh_dropped_said;
#ifdef HAVE_HIREDIS_SSL
static SSL_CTX *sh_tls;			/* rediss:// */
#endif

static void shared_connect(void);
static void shared_drop(const char *);
static void replay(void);

static const char *const state_names[] = {"off", "down", "connecting", "up"};

/* complain - log a trouble, but the same one at most once a minute */
static void
complain(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, sh_last_complaint) != 0)
		sh_complained = (struct hush){0};	/* another: said at once */
	if (hush_pass(&sh_complained, ev_now(), SHARED_COMPLAIN_MS) < 0)
		return;
	str_copy(sh_last_complaint, sizeof(sh_last_complaint), text);
	msg_error("shared state: %s", text);
}

/* shared_key - the script's KEYS[n] (1-3) */
void
shared_key(struct shared_cmd *c, int n, const char *kind, const char *name)
{
	shared_key_at(c, SHARED_KEYS(n), kind, name);
}

/* shared_key_at - argument i: redis_prefix, kind ("a:"), name */
void
shared_key_at(struct shared_cmd *c, int i, const char *kind, const char *name)
{
	shared_cmd_key(c, i, sh_cfg->redis_prefix, kind, name);
}

/*
 * shared_script - EVALSHA of shared.lua: operation, now, the limits,
 * flags (shared.lua's bit()); keys empty, other ARGV "0" until set.
 */
struct shared_cmd *
shared_script(const char *op, uint32_t now, unsigned flags)
{
	return shared_cmd_script(sh_sha, &sh_limits, op, now, flags);
}

/* shared_new_id - unique among all servers: this run's random base, a count */
void
shared_new_id(char *buf, size_t len)
{
	snprintf(buf, len, "%s.%llu", sh_idbase, ++sh_idseq);
}

/* change_kind - the journal of a change: limits, or recent attempts */
static int
change_kind(const struct shared_cmd *c)
{
	return c->write == SHARED_RECORD ? JOURNAL_RECORDS : JOURNAL_CHANGES;
}

/* keep_in - a change into a journal, in its wire form (takes it); what went */
static struct journal_item
keep_in(struct journal *j, struct shared_cmd *c, int where)
{
	struct journal_item it;
	int k = change_kind(c);

	it.data = shared_cmd_to_wire(c, &it.len);
	return journal_put(j, k, it, where);
}

/* kept_oldest - the oldest kept command (limits first), or NULL */
static struct shared_cmd *
kept_oldest(void)
{
	struct journal_item it;
	int k;

	if ((it = journal_next(&sh_journal, &k)).data == NULL)
		return NULL;
	return shared_cmd_of_wire(k == JOURNAL_RECORDS ? SHARED_RECORD :
	    SHARED_CHANGE, it.data, it.len);
}

/* kept_dropped - the oldest of a kind went to make room: counted, said */
static void
kept_dropped(struct journal_item gone)
{
	journal_item_free(gone);
	sh_st.dropped++;
	if (hush_pass(&sh_dropped_said, ev_now(), SHARED_COMPLAIN_MS) >= 0)
		msg_error("shared state: more changes kept for Redis than "
		    "it can hold: the oldest are dropped (%llu so far; "
		    "recent attempts go first)", sh_st.dropped);
}

/* keep - a change at the tail (or head) of the journal; none when stopping */
static void
keep(struct shared_cmd *c, int where)
{
	struct journal_item gone;

	if (sh_state == SH_OFF) {	/* stopping: nothing comes next */
		shared_cmd_free(c);
		return;
	}
	if ((gone = keep_in(&sh_journal, c, where)).data != NULL)
		kept_dropped(gone);
}

/*
 * keep_pending - the changes sent and not answered go back to the head of
 * the journal, in sending order: they are older than anything kept since
 * (live changes wait in the journal while it is being sent)
 */
static void
keep_pending(void)
{
	struct journal older = {.max = SIZE_MAX};	/* nothing dropped */
	struct shared_op *op;

	TAILQ_FOREACH(op, &sh_pending, link) {
		if (op->cmd == NULL || !op->cmd->write)
			continue;
		keep_in(&older, op->cmd, JOURNAL_TAIL);
		op->cmd = NULL;
	}
	journal_prepend(&sh_journal, &older);
}

/* op_end - an operation is over */
static void
op_end(struct shared_op *op)
{
	TAILQ_REMOVE(&sh_pending, op, link);
	sh_npending--;
	ev_timer_stop(&op->timer);
	if (op->cmd)
		shared_cmd_free(op->cmd);
	free(op);
}

/*
 * is_error - an error reply, logged. While connecting only its first
 * word: Redis may quote a refused command's arguments (the password).
 */
static int
is_error(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	sh_st.errors++;
	if (sh_state == SH_UP)
		complain("Redis at %s: %.*s", sh_where, (int)r->len, r->str);
	else if (sh_setup_errors++ == 0)	/* the rest follow from it */
		complain("Redis at %s refused the connection's setup: %.*s",
		    sh_where, (int)strcspn(r->str, " "), r->str);
	return 1;
}

/*
 * lost_cause - an error that says this connection cannot apply changes
 * (script flushed, a replica or a server still loading, a password
 * changed, a script stuck): drop it, keep the change, try again later
 */
static const char *
lost_cause(const redisReply *r)
{
	static const char *const words[] = {"NOSCRIPT", "READONLY", "LOADING",
	    "MASTERDOWN", "NOAUTH", "BUSY"};
	size_t i, n;

	if (r->type != REDIS_REPLY_ERROR)
		return NULL;
	for (i = 0; i < NELEM(words); i++) {
		n = strlen(words[i]);
		if (strncmp(r->str, words[i], n) == 0 && (r->str[n] == ' ' ||
		    r->str[n] == 0))
			return words[i];
	}
	return NULL;
}

/* op_reply - hiredis: an answer, or NULL when the connection went */
static void
op_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct shared_op *op = priv;
	const redisReply *r = reply;
	shared_cb cb = op->cb;
	const char *lost = r ? lost_cause(r) : "closed";
	char why[64];

	if (r)
		sh_last_answer = ev_now();
	if (lost && sh_state != SH_OFF)
		keep_pending();		/* this one and all sent after it */
	if (r && is_error(r))
		r = NULL;
	if (lost && reply) {
		snprintf(why, sizeof(why), "%s: reconnecting", lost);
		shared_drop(why);
	}
	op->cb = NULL;
	if (cb)
		cb(op->arg, r);
	if (op->late && op->cmd && (lost || (cb == NULL && r)))
		op->late(op->cmd, r);	/* NULL: it may have been applied */
	op_end(op);
}

/* op_timeout - the caller waited long enough: it decides locally */
static void
op_timeout(struct ev_timer *t)
{
	struct shared_op *op = (struct shared_op *)((char *)t -
	    offsetof(struct shared_op, timer));
	shared_cb cb = op->cb;

	sh_st.timeouts++;
	op->cb = NULL;
	if (cb)
		cb(op->arg, NULL);
}

/* op_send - on the connection; NULL when it cannot be sent */
static struct shared_op *
op_send(struct shared_cmd *c, shared_cb cb, void *arg, shared_late_cb late,
    unsigned ms)
{
	struct shared_op *op = xcalloc(1, sizeof(*op));

	op->cmd = c;
	op->cb = cb;
	op->arg = arg;
	op->late = late;
	op->sent = ev_now();
	if ((c->wire ? redisAsyncFormattedCommand(sh_ac, op_reply, op, c->wire,
	    c->wirelen) : redisAsyncCommandArgv(sh_ac, op_reply, op, c->argc,
	    (const char **)c->argv, c->len)) != REDIS_OK) {
		free(op);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&sh_pending, op, link);
	sh_npending++;
	if (cb && ms)
		ev_timer_start(&op->timer, ms, op_timeout);
	return op;
}

/*
 * shared_send - send a command; cb gets the answer within redis_timeout
 * or NULL. Returns NULL when Redis is not there: the caller decides
 * locally at once, and a change is kept for later. Takes the command.
 */
struct shared_op *
shared_send(struct shared_cmd *c, shared_cb cb, void *arg,
    shared_late_cb late)
{
	struct shared_op *op = NULL;

	/*
	 * A check behind a long queue would only time out: decide at once.
	 * A change waits behind the kept ones, so that Redis gets them in order.
	 */
	if (sh_state == SH_UP && (c->write ? shared_settled() :
	    sh_npending < SHARED_BUSY))
		op = op_send(c, cb, arg, late, sh_cfg->redis_timeout ?
		    sh_cfg->redis_timeout : 1);
	if (op == NULL) {
		if (c->write)
			keep(c, JOURNAL_TAIL);
		else
			shared_cmd_free(c);
		if (sh_state == SH_UP)
			replay();
	}
	return op;
}

/* shared_settled - up, and nothing kept waits to be sent */
int
shared_settled(void)
{
	return sh_state == SH_UP && journal_size(&sh_journal) == 0 &&
	    !sh_replaying;
}

/* shared_forget - the caller no longer waits (the late callback still runs) */
void
shared_forget(struct shared_op *op)
{
	if (op->cb)
		ev_timer_stop(&op->timer);
	op->cb = NULL;
}

/* replay_next - a batch of kept changes was applied: the next one */
static void
replay_next(void *arg, const redisReply *r)
{
	sh_replaying = 0;
	if (r && sh_state == SH_UP)
		replay();
}

/*
 * replay - send what was kept while Redis was away, a batch at a time
 * (changes to the limits first), so that the output queue stays short
 * and live checks wait behind one batch at most
 */
static void
replay(void)
{
	struct shared_cmd *c;
	int n;

	if (sh_replaying)
		return;
	for (n = 0; n < SHARED_REPLAY_BATCH && sh_state == SH_UP; n++) {
		if ((c = kept_oldest()) == NULL)
			break;
		if (op_send(c, NULL, NULL, NULL, 0) == NULL) {
			keep(c, JOURNAL_HEAD);	/* the connection is going */
			return;
		}
		sh_st.merged++;
	}
	if (n > 0 && sh_state == SH_UP &&
	    (c = shared_command(1, "PING")) != NULL) {
		if (op_send(c, replay_next, NULL, NULL, 0))
			sh_replaying = 1;
		else
			shared_cmd_free(c);
	}
}

/* setup_reply - AUTH, SELECT or SCRIPT LOAD answered (an error is logged) */
static void
setup_reply(void *arg, const redisReply *r)
{
	if (r == NULL && sh_state == SH_CONNECTING)
		shared_drop(NULL);
}

/* setup_done - the key check answered: ready */
static void
setup_done(void *arg, const redisReply *r)
{
	if (sh_state != SH_CONNECTING)
		return;
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		shared_drop("no answer to the key check");
		return;
	}
	sh_st.key_mismatch = strcmp(r->str, sh_keycheck) != 0;
	if (sh_st.key_mismatch)
		msg_error("shared state: this server's fingerprint key "
		    "(fingerprint_key) differs from the one the other servers "
		    "use: a wrong password repeated on two servers counts "
		    "twice; copy one fingerprint_key file to every server");
	ev_timer_stop(&sh_deadline);
	sh_state = SH_UP;
	sh_ready = 1;
	sh_last_complaint[0] = 0;
	if (journal_size(&sh_journal))
		msg_info("shared state: Redis at %s %s; sending %zu changes kept "
		    "meanwhile", sh_where, sh_was_up ? "reachable again" : "ready",
		    journal_size(&sh_journal));
	else
		msg_info("shared state: Redis at %s %s", sh_where, sh_was_up ?
		    "reachable again" : "ready");
	sh_was_up = 1;
	sh_last_answer = ev_now();
	sh_replaying = 0;
	replay();
}

/* setup_send - one setup command, waited for until the connect deadline */
static void
setup_send(struct shared_cmd *c, shared_cb cb)
{
	if (op_send(c, cb, NULL, NULL, 0) == NULL)
		shared_cmd_free(c);
}

/* setup - what a new connection sends first (queued until connected) */
static void
setup(void)
{
	struct shared_cmd *c;
	char db[16];

	if (sh_be.password[0])
		setup_send(sh_be.user[0] ? shared_command(3, "AUTH", sh_be.user,
		    sh_be.password) : shared_command(2, "AUTH", sh_be.password),
		    setup_reply);
	if (sh_be.db) {
		snprintf(db, sizeof(db), "%u", sh_be.db);
		setup_send(shared_command(2, "SELECT", db), setup_reply);
	}
	setup_send(shared_command(3, "SCRIPT", "LOAD", shared_lua), setup_reply);
	c = shared_script("keycheck", 0, 0);
	shared_key(c, 1, "keycheck", "");
	shared_arg(c, 16, sh_keycheck);
	setup_send(c, setup_done);
}

/* retry - time for another connection */
static void
retry(struct ev_timer *t)
{
	shared_connect();
}

/* shared_down - the connection is gone: local decisions, retry */
static void
shared_down(const char *why)
{
	if (why == NULL)
		;		/* shared_drop said why */
	else if (sh_state == SH_UP) {
		sh_st.outages++;
		msg_error("shared state: Redis at %s unreachable (%s): deciding "
		    "from this server's state, keeping changes for later",
		    sh_where, why);
	} else
		complain("Redis at %s: %s", sh_where, why);
	sh_state = SH_DOWN;
	sh_ac = NULL;
	ev_timer_stop(&sh_deadline);
	ev_timer_stop(&sh_kill);
	ev_timer_start(&sh_retry, SHARED_RETRY, retry);
}

/*
 * conn_error - why a connection failed: TLS's reason, or hiredis's. A
 * Redis that wants a client certificate and got none sends an alert and
 * closes, and the alert may be lost in the reset: when the connection
 * ended during the TLS set-up (handshake set), say what it may mean.
 */
static const char *
conn_error(const redisAsyncContext *ac, int handshake)
{
#ifdef HAVE_HIREDIS_SSL
	static char why[400];

	if (sh_tls && redis_tls_failure(why, sizeof(why)))
		return why;
	if (sh_tls && handshake && !sh_ready && !*sh_cfg->redis_tls_cert) {
		snprintf(why, sizeof(why), "%s during the TLS set-up (does Redis "
		    "ask for a client certificate? see redis_tls_cert)",
		    ac->errstr);
		return why;
	}
#endif
	return ac->errstr;
}

/* on_connect - hiredis: connected (TCP; TLS comes after), or not */
static void
on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)		/* hiredis frees the context */
		shared_down(conn_error(ac, 0));
}

/* on_disconnect - hiredis: the connection ended */
static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	shared_down(status == REDIS_OK ? "closed" : conn_error(ac, 1));
}

/* kill_now - free the context outside hiredis's callbacks */
static void
kill_now(struct ev_timer *t)
{
	redisAsyncContext *ac = sh_ac;

	if (ac == NULL)
		return;
	ac->onDisconnect = NULL;
	redisAsyncFree(ac);	/* unanswered changes go to the journal */
	shared_down(NULL);
}

/* shared_drop - give up on this connection; why NULL: said already */
static void
shared_drop(const char *why)
{
	if (sh_ac == NULL || sh_kill.slot)
		return;
	keep_pending();
	if (why == NULL)
		;
	else if (sh_state == SH_UP) {
		sh_st.outages++;
		msg_error("shared state: Redis at %s: %s; deciding from this "
		    "server's state, keeping changes for later", sh_where, why);
	} else
		complain("Redis at %s: %s", sh_where, why);
	sh_state = SH_DOWN;
	ev_timer_start(&sh_kill, 0, kill_now);
}

/* connect_deadline - not ready in time */
static void
connect_deadline(struct ev_timer *t)
{
	shared_drop("not ready within 1s");
}

/*
 * tick - once a second: a connection with questions that has answered
 * nothing for SHARED_STALL is dropped (a busy one that answers is kept)
 */
static void
tick(struct ev_timer *t)
{
	struct shared_op *op = TAILQ_FIRST(&sh_pending);

	if (sh_state == SH_UP && op && ev_now() - op->sent > SHARED_STALL &&
	    ev_now() - sh_last_answer > SHARED_STALL)
		shared_drop("no answer for more than 1s");
	ev_timer_start(&sh_tick, 1000, tick);
}

/* connect_failed - a connection that could not start: try again later */
static void
connect_failed(redisAsyncContext *ac, const char *why)
{
	complain("Redis at %s: %s", sh_where, why);
	if (ac)
		redisAsyncFree(ac);
	ev_timer_start(&sh_retry, SHARED_RETRY, retry);
	sh_state = SH_DOWN;
}

/* shared_connect - start a connection (non-blocking, TLS too) */
static void
shared_connect(void)
{
	redisAsyncContext *ac;
#ifdef HAVE_HIREDIS_SSL
	char err[300];
#endif

	ac = sh_be.path[0] ? redisAsyncConnectUnix(sh_be.path) :
	    redisAsyncConnect(sh_addr, (int)sh_be.port);
	if (ac == NULL || ac->err) {
		connect_failed(ac, ac ? ac->errstr : "out of memory");
		return;
	}
#ifdef HAVE_HIREDIS_SSL
	if (sh_tls && redis_tls_start(ac, sh_tls, sh_be.host, err,
	    sizeof(err)) < 0) {
		connect_failed(ac, err);
		return;
	}
#endif
	redis_attach(ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	sh_ac = ac;
	sh_state = SH_CONNECTING;
	sh_setup_errors = 0;
	sh_ready = 0;
	ev_timer_start(&sh_deadline, SHARED_CONNECT, connect_deadline);
	setup();
}

/* resolve - the host's address, once */
static void
resolve(void)
{
	struct addrinfo hints, *ai;
	int rc;

	if (sh_be.path[0])
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(sh_be.host, NULL, &hints, &ai)) != 0)
		msg_fatal("state_backend: %s: %s", sh_be.host, gai_strerror(rc));
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, sh_addr, sizeof(sh_addr),
	    NULL, 0, NI_NUMERICHOST) != 0)
		msg_fatal("state_backend: %s: no usable address", sh_be.host);
	freeaddrinfo(ai);
}

/*
 * shared_check - what only a try can tell (the TLS files); 0, or -1 with
 * err. For a configuration test; shared_init stops at the same errors.
 */
int
shared_check(const struct config *cfg, char *err, size_t len)
{
#ifdef HAVE_HIREDIS_SSL
	SSL_CTX *ctx;

	if (cfg->state_backend.kind != BACKEND_REDIS || !cfg->state_backend.tls)
		return 0;
	if ((ctx = redis_tls_context(cfg->redis_tls_ca, cfg->redis_tls_cert,
	    cfg->redis_tls_key, err, len)) == NULL)
		return -1;
	SSL_CTX_free(ctx);
#endif
	return 0;
}

/* tls_init - the TLS context of rediss://, or stop */
static void
tls_init(const struct config *cfg)
{
#ifdef HAVE_HIREDIS_SSL
	char err[400];

	if (!sh_be.tls)
		return;
	if ((sh_tls = redis_tls_context(cfg->redis_tls_ca, cfg->redis_tls_cert,
	    cfg->redis_tls_key, err, sizeof(err))) == NULL)
		msg_fatal("state_backend: %s", err);
	msg_info("shared state: TLS, the server's certificate verified against "
	    "%s%s%s", *cfg->redis_tls_ca ? cfg->redis_tls_ca : "the system's CAs",
	    *cfg->redis_tls_cert ? ", client certificate " : "",
	    cfg->redis_tls_cert);
#endif
}

#if HIREDIS_MAJOR >= 1
/* hi_wiping_free - hiredis frees: wiped first (the AUTH it sent) */
static void
hi_wiping_free(void *p)
{
	if (p != NULL)
		wipe_free(p, malloc_usable_size(p));
}

/* hi_wiping_realloc - a move leaves no copy behind */
static void *
hi_wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	old = malloc_usable_size(p);
	if ((q = malloc(n ? n : 1)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wipe_free(p, old);
	return q;
}

/* hi_wiping_allocators - hiredis's buffers wiped when freed */
static void
hi_wiping_allocators(void)
{
	hiredisAllocFuncs ha = {
		.mallocFn = malloc, .callocFn = calloc,
		.reallocFn = hi_wiping_realloc, .strdupFn = strdup,
		.freeFn = hi_wiping_free,
	};

	hiredisSetAllocators(&ha);
}
#endif

/*
 * shared_init - connect when state_backend names Redis; the limits are
 * the store's, given by the caller, sent with each run of the script
 */
void
shared_init(const struct config *cfg, const struct limits_config *limits,
    const unsigned char *key, size_t keylen)
{
	unsigned char rnd[8], md[SHA_DIGEST_LENGTH];
	int i;

	sh_cfg = cfg;
	sh_limits = *limits;
	metrics_source(METRICS_SHARED, shared_metrics);
	sh_be = cfg->state_backend;
	if (sh_be.kind != BACKEND_REDIS)
		return;
#if HIREDIS_MAJOR >= 1
	hi_wiping_allocators();
#endif
	if (backend_describe(&sh_be, sh_where, sizeof(sh_where)) < 0)
		str_copy(sh_where, sizeof(sh_where), "redis");
	SHA1((const unsigned char *)shared_lua, strlen(shared_lua), md);
	for (i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(sh_sha + 2 * i, 3, "%02x", md[i]);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		msg_fatal("getrandom: %s", strerror(errno));
	for (i = 0; i < 8; i++)
		snprintf(sh_idbase + 2 * i, 3, "%02x", rnd[i]);
	snprintf(sh_keycheck, sizeof(sh_keycheck), "%08x", (unsigned)
	    fingerprint_check(key, keylen));
	if (gethostname(sh_server, sizeof(sh_server)) < 0)
		str_copy(sh_server, sizeof(sh_server), "?");
	sh_server[sizeof(sh_server) - 1] = 0;
	resolve();
	msg_info("shared state: Redis at %s", sh_where);
	tls_init(cfg);
	ev_timer_start(&sh_tick, 1000, tick);
	shared_connect();
}

/*
 * shared_reconfigure - a reload: the new redis_timeout and limits (the
 * store's, as its caller gives them), from the next command on; the TLS
 * files again (renewed certificates), for the next connection
 */
void
shared_reconfigure(const struct config *cfg, const struct limits_config *limits)
{
#ifdef HAVE_HIREDIS_SSL
	char err[400];
	SSL_CTX *ctx;

	if (sh_tls && (ctx = redis_tls_context(cfg->redis_tls_ca,
	    cfg->redis_tls_cert, cfg->redis_tls_key, err, sizeof(err))) == NULL)
		msg_error("reload: state_backend: %s; the TLS files read before "
		    "stay in use", err);
	else if (sh_tls) {
		SSL_CTX_free(sh_tls);	/* connections hold their own reference */
		sh_tls = ctx;
	}
#endif
	sh_cfg = cfg;
	sh_limits = *limits;
}

/* shared_shutdown - answer the waiting callers (locally), close */
void
shared_shutdown(void)
{
	if (sh_state == SH_OFF)
		return;
	ev_timer_stop(&sh_retry);
	ev_timer_stop(&sh_deadline);
	ev_timer_stop(&sh_kill);
	ev_timer_stop(&sh_tick);
	if (journal_size(&sh_journal) || !TAILQ_EMPTY(&sh_pending))
		msg_error("shared state: %zu changes not yet in Redis are lost",
		    journal_size(&sh_journal) + sh_npending);
	sh_state = SH_OFF;	/* callbacks decide locally, keep nothing */
	if (sh_ac) {
		sh_ac->onDisconnect = NULL;
		redisAsyncFree(sh_ac);
		sh_ac = NULL;
	}
	journal_clear(&sh_journal);
#ifdef HAVE_HIREDIS_SSL
	SSL_CTX_free(sh_tls);
	sh_tls = NULL;
#endif
	wipe(sh_be.password, sizeof(sh_be.password));
}

/* shared_enabled - does state_backend name Redis? */
int
shared_enabled(void)
{
	return sh_cfg && sh_be.kind == BACKEND_REDIS;
}

/* shared_up - can a command be sent now? */
int
shared_up(void)
{
	return sh_state == SH_UP;
}

/* shared_count_local - a decision made without Redis */
void
shared_count_local(void)
{
	sh_st.local++;
}

/* shared_stats - for metrics and stats */
void
shared_stats(struct shared_stats *st)
{
	*st = sh_st;
	st->state = state_names[sh_state];
	st->journal = journal_size(&sh_journal);
}

/*
 * shared_metrics - the shared state's gauges and counters, in the
 * Prometheus text format; nothing when state_backend names no Redis
 * (registered with metrics from shared_init)
 */
void
shared_metrics(struct buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{"timeouts", "Answers from Redis that came later than "
		    "redis_timeout.", offsetof(struct shared_stats, timeouts)},
		{"errors", "Error replies from Redis.",
		    offsetof(struct shared_stats, errors)},
		{"outages", "Times the connection to Redis was lost.",
		    offsetof(struct shared_stats, outages)},
		{"local_decisions", "Checks and failures decided from this "
		    "server's state alone.", offsetof(struct shared_stats, local)},
		{"merged", "Changes kept during an outage and sent afterwards.",
		    offsetof(struct shared_stats, merged)},
		{"dropped", "Changes kept during an outage and lost (journal "
		    "full).", offsetof(struct shared_stats, dropped)},
	};
	struct shared_stats st;
	char name[64];
	size_t i;

	if (!shared_enabled())
		return;
	shared_stats(&st);
	metrics_family(b, "authguard_shared_up", "gauge",
	    "1 when the shared state (Redis) answers.");
	buf_printf(b, "authguard_shared_up{state=\"%s\"} %d\n", st.state,
	    sh_state == SH_UP);
	metrics_family(b, "authguard_shared_kept", "gauge",
	    "Changes kept while Redis is unreachable, to send when it returns.");
	buf_printf(b, "authguard_shared_kept %zu\n", st.journal);
	metrics_family(b, "authguard_shared_key_mismatch", "gauge",
	    "1 when this server's fingerprint key differs from the other "
	    "servers'.");
	buf_printf(b, "authguard_shared_key_mismatch %d\n", st.key_mismatch);
	for (i = 0; i < NELEM(counters); i++) {
		snprintf(name, sizeof(name), "authguard_shared_%s_total",
		    counters[i].name);
		metrics_family(b, name, "counter", counters[i].help);
		buf_printf(b, "%s %llu\n", name, *(const unsigned long long *)
		    ((const char *)&st + counters[i].off));
	}
}

/* shared_server - this host's name, as recorded with its attempts */
const char *
shared_server(void)
{
	return sh_server;
}
