/*++
/* NAME
/*	notify 3
/* SUMMARY
/*	notices to an account's owner: when, to whom, and the sending
/* SYNOPSIS
/*	#include "notify.h"
/*
/*	int	notify_check(cfg, err, len)
/*
/*	void	notify_init(cfg)
/*
/*	void	notify_reconfigure(cfg)
/*
/*	void	notify_attempt(pass, cause, user, ip, proto, ref)
/*
/*	void	notify_lock(account, addr, ref, familiar, until, count, first)
/*
/*	const struct notify_row *notify_row(k)
/*
/*	void	notify_shutdown(void)
/* DESCRIPTION
/*	With notify = yes, every attempt's end (attempt_record) and every
/*	lock of an account (enforce) is shown to the watch (noticewatch
/*	3), which says when a notice is due. A due notice goes to the
/*	address notify_contact_map gives for the account, else to the
/*	account itself when it is an address we may write (notice_addr_ok);
/*	else it is skipped. The limits then admit it or not (limited);
/*	admitted, it waits in a queue of at most NOTIFY_QUEUE_MAX (more are
/*	dropped) for one of notify_max_children places.
/*
/*	In its place, a notice first asks "getent hosts IP" (2 s) for the
/*	address's reverse name, kept when notice_rname_ok() takes it, then
/*	runs notify_sendmail with "-f notify_from", its message (notice 3,
/*	from the template of its kind) on stdin. Exit 0: sent. Else it is
/*	tried once more 60 s later, then failed. No child is ever waited
/*	for (spawn 3). Each outcome is one log line,
/*
/*	event=notice kind=.. user=.. to=.. ip=.. ref=.. message_id=..
/*	result=sent|failed|retry|limited|skipped|dropped reason=..
/*
/*	and each end (all but retry) a line of the journal (noticelog 3)
/*	and a count of authguard_notices_total{kind,result}. Postfix's
/*	sendmail prints no queue id: the Message-ID,
/*	<RANDOM.authguard@HOST>, is what Postfix's cleanup logs as
/*	message-id=.
/*
/*	The templates are notify_templates/KIND.txt, read at start and at
/*	each reload; a missing file means the built-in text. notify_check()
/*	(-t) reads them and fails with the first file's error; a reload
/*	with a bad file keeps the running set and warns. The journal's
/*	recent sends restore the limits at start. With notify = no
/*	nothing of this runs: no table, no child.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>
#include <openssl/rand.h>

#include "authlimits.h"
#include "buf.h"
#include "event.h"
#include "logline.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "notice.h"
#include "noticelog.h"
#include "noticewatch.h"
#include "notify.h"
#include "spawn.h"
#include "store.h"
#include "util.h"

#define NOTIFY_RNAME_MS		2000	/* getent hosts */
#define NOTIFY_SEND_MS		60000	/* sendmail */
#define NOTIFY_RETRY_MS		60000	/* the one retry */
#define NOTIFY_SWEEP_MS		60000
#define NOTIFY_ARGV_MAX		32
#define NOTIFY_GETENT		"/usr/bin/getent"

/* The outcomes, as logged, journalled and counted. */
enum notify_result { NR_SENT, NR_FAILED, NR_LIMITED, NR_SKIPPED, NR_DROPPED,
	NR_RETRY, NR_COUNT };
static const char *const result_names[NR_COUNT] = {"sent", "failed",
    "limited", "skipped", "dropped", "retry"};
#define NR_COUNTED	NR_RETRY	/* the metric counts those before */

enum job_step { JOB_QUEUED, JOB_RNAME, JOB_FORWARD, JOB_SEND, JOB_WAIT };

/* One admitted notice on its way. */
struct job {
	struct notice_due due;
	char		 to[NOTICE_ADDR_MAX + 1];
	char		 rname[254];
	char		 door[16];
	char		 message_id[320];
	int		 tries;
	int		 rname_done;
	enum job_step	 step;
	struct spawn	*sp;
	struct ev_timer	 retry;
	struct job	*next;		/* queue, or the list of the others */
};

static const struct config *n_cfg;
static struct notice_watch *n_watch;
static struct notice_template *n_tpl[NOTICE_KINDS];
static struct job *n_queue, **n_tail = &n_queue, *n_busy;
static unsigned n_queued, n_running;
static unsigned long n_count[NOTICE_KINDS][NR_COUNTED];
static struct ev_timer n_sweep, n_kick;
static char n_server[256];

static void job_start(struct job *);

/* rules - the watch's rules from the configuration */
static struct notice_rules
rules(void)
{
	struct notice_rules r;

	r.kinds = n_cfg->notify_events;
	r.stale_after = n_cfg->notify_stale_after / 1000;
	r.repeat = n_cfg->notify_repeat;
	r.interval = n_cfg->notify_interval / 1000;
	r.per_hour = n_cfg->notify_max_per_hour;
	return r;
}

/* door_name - the door, as a notice names it */
static const char *
door_name(enum proto p)
{
	static const char *const names[PROTO_COUNT] = {"SMTP", "IMAP", "POP3",
	    "ManageSieve"};

	return (unsigned)p < PROTO_COUNT ? names[p] : "";
}

/* outcome - one outcome: the log line, the journal, the count */
static void
outcome(const struct notice_due *d, const char *to, const char *message_id,
    enum notify_result res, const char *reason)
{
	struct notify_row row;
	struct logline l;

	logline_begin(&l, n_cfg->log_format);
	logline_str(&l, "event", "notice");
	logline_str(&l, "kind", notice_kind_name(d->kind));
	logline_str(&l, "user", d->account);
	logline_str(&l, "to", to);
	logline_str(&l, "ip", d->ip);
	logline_str(&l, "ref", d->ref);
	logline_str(&l, "message_id", message_id);
	logline_str(&l, "result", result_names[res]);
	logline_str(&l, "reason", reason);
	msg_event(res == NR_FAILED || res == NR_DROPPED, logline_end(&l));
	logline_free(&l);
	if (res == NR_RETRY)
		return;			/* not an end: neither counted nor kept */
	n_count[d->kind][res]++;
	if (res == NR_LIMITED || res == NR_SKIPPED)
		return;			/* no mail: the log line and the count */
	memset(&row, 0, sizeof(row));
	row.t = store_now();
	str_copy(row.kind, sizeof(row.kind), notice_kind_name(d->kind));
	str_copy(row.user, sizeof(row.user), d->account);
	str_copy(row.to, sizeof(row.to), to);
	str_copy(row.ip, sizeof(row.ip), d->ip);
	str_copy(row.ref, sizeof(row.ref), d->ref);
	str_copy(row.message_id, sizeof(row.message_id), message_id);
	str_copy(row.result, sizeof(row.result), result_names[res]);
	noticelog_append(&row, reason);
}

/* render_counts - authguard_notices_total{kind,result} */
static void
render_counts(struct buf *b)
{
	int k, r;

	if (n_cfg == NULL || (!n_cfg->notify && n_watch == NULL))
		return;
	metrics_family(b, "authguard_notices_total", "counter",
	    "Notices to account owners, by kind and outcome.");
	for (k = 0; k < NOTICE_KINDS; k++)
		for (r = 0; r < NR_COUNTED; r++)
			buf_printf(b, "authguard_notices_total{kind=\"%s\","
			    "result=\"%s\"} %lu\n", notice_kind_name(
			    (enum notice_kind)k), result_names[r], n_count[k][r]);
}

/* contact - notify_contact_map's address for an account: 1, 0 none, -1 */
static int
contact(const char *account, char *to, size_t len)
{
	const char *map = n_cfg->notify_contact_map;
	char key[256];
	struct cdb cdb;
	unsigned vlen;
	int fd, rc;

	if (*map == 0)
		return 0;
	str_copy(key, sizeof(key), account);
	str_lower(key);
	if ((fd = open(map, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    cdb_init(&cdb, fd) < 0) {
		msg_error("notify_contact_map %s: %s", map, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = cdb_find(&cdb, key, (unsigned)strlen(key));
	if (rc > 0 && (vlen = cdb_datalen(&cdb)) < len &&
	    cdb_read(&cdb, to, vlen, cdb_datapos(&cdb)) == 0)
		to[vlen] = 0;
	else
		rc = rc > 0 ? -1 : rc;
	cdb_free(&cdb);
	close(fd);
	return rc > 0 ? 1 : rc;
}

/*
 * recipient - where a due notice goes: notify_contact_map's address, else
 * the account itself when it is an address and the account has logged in
 * within familiar_address_ttl (or accounts_map names it: app-password-required).
 * Anyone may try any name, a stranger's address too: mail goes only to an
 * account shown to exist. NULL, or why not.
 */
static const char *
recipient(const struct notice_due *d, char *to, size_t len)
{
	int rc = contact(d->account, to, len);

	if (rc > 0 && notice_addr_ok(to))
		return NULL;
	if (rc > 0)
		msg_warn("notify_contact_map: %s: not an address we may write",
		    d->account);
	*to = 0;
	if (!notice_addr_ok(d->account))
		return "no-address";
	if (d->kind != NOTICE_APP_PASSWORD &&	/* accounts_map names those */
	    !limits_known(&store_limits, d->account, store_now()))
		return "no-login-seen";
	str_copy(to, len, d->account);
	str_lower(to);
	return NULL;
}

/* new_message_id - <RANDOM.authguard@HOST> */
static void
new_message_id(char *out, size_t len)
{
	unsigned char r[16];
	char hex[33];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		msg_fatal("RAND_bytes failed");
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	snprintf(out, len, "<%s.authguard@%s>", hex, n_server);
}

/* job_free - a job's memory, once no child and no timer holds it */
static void
job_free(void *arg)
{
	free(arg);
}

/* busy_remove - off the list of jobs with a child or a timer */
static void
busy_remove(struct job *j)
{
	struct job **pp;

	for (pp = &n_busy; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

/* queue_next - start what waits, as places free */
static void
queue_next(void)
{
	struct job *j;

	while (n_queue && n_running < n_cfg->notify_max_children) {
		j = n_queue;
		if ((n_queue = j->next) == NULL)
			n_tail = &n_queue;
		n_queued--;
		j->next = n_busy;
		n_busy = j;
		n_running++;
		job_start(j);
	}
}

/* on_kick - the queue, from the loop (never inside an attempt's stack) */
static void
on_kick(struct ev_timer *t)
{
	(void)t;
	queue_next();
}

/* enqueue - wait for a place; 0, or -1 when the queue is full */
static int
enqueue(struct job *j)
{
	if (n_queued >= NOTIFY_QUEUE_MAX)
		return -1;
	j->step = JOB_QUEUED;
	j->next = NULL;
	*n_tail = j;
	n_tail = &j->next;
	n_queued++;
	if (n_kick.slot == 0)
		ev_timer_start(&n_kick, 0, on_kick);
	return 0;
}

/* job_end - its place is free; the job goes */
static void
job_end(struct job *j)
{
	busy_remove(j);
	n_running--;
	ev_defer_free(job_free, j);
	queue_next();
}

/* first_line - a child's stderr: its first line, for the log */
static void
first_line(const char *err, char *out, size_t len)
{
	str_copy(out, len, err);
	out[strcspn(out, "\r\n")] = 0;
}

/* on_retry - the minute is over: a place again */
static void
on_retry(struct ev_timer *t)
{
	struct job *j = (struct job *)((char *)t - offsetof(struct job, retry));

	busy_remove(j);
	if (enqueue(j) < 0) {
		outcome(&j->due, j->to, j->message_id, NR_DROPPED, "queue-full");
		free(j);
	}
}

/* send_failed - the retry, or the end */
static void
send_failed(struct job *j, const char *reason)
{
	if (j->tries >= 2) {
		outcome(&j->due, j->to, j->message_id, NR_FAILED, reason);
		job_end(j);
		return;
	}
	outcome(&j->due, j->to, j->message_id, NR_RETRY, reason);
	n_running--;			/* waits without a place */
	j->step = JOB_WAIT;
	ev_timer_start(&j->retry, NOTIFY_RETRY_MS, on_retry);
	queue_next();
}

/* on_sent - sendmail ended */
static void
on_sent(void *arg, const struct spawn_result *r)
{
	struct job *j = arg;
	char reason[512];

	j->sp = NULL;
	if (r->exited && r->status == 0) {
		outcome(&j->due, j->to, j->message_id, NR_SENT, "");
		job_end(j);
		return;
	}
	first_line(r->err, reason, sizeof(reason));
	if (*reason == 0)
		snprintf(reason, sizeof(reason), r->timed_out ? "timed out" :
		    r->exited ? "exit status %d" : "killed by signal %d",
		    r->status);
	send_failed(j, reason);
}

/* split_command - notify_sendmail on spaces, then -f notify_from */
static int
split_command(char *copy, char **argv, size_t max)
{
	size_t n = 0;
	char *w, *save = NULL;

	for (w = strtok_r(copy, " \t", &save); w && n + 3 < max;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	if (n == 0)
		return -1;
	argv[n++] = "-f";
	argv[n++] = n_cfg->notify_from;
	argv[n] = NULL;
	return 0;
}

/* facts - what the message tells */
static void
facts(const struct job *j, struct notice_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = j->due.kind;
	f->account = j->due.account;
	f->to = j->to;
	f->from = n_cfg->notify_from;
	f->ip = j->due.ip;
	f->rname = j->rname;
	f->door = j->door;
	f->ref = j->due.ref;
	f->server = n_server;
	f->message_id = j->message_id;
	f->first = j->due.first;
	f->last = j->due.last;
	f->until = j->due.until;
	f->now = store_now();
	f->count = j->due.count;
}

/* job_send - the message to sendmail */
static void
job_send(struct job *j)
{
	char *argv[NOTIFY_ARGV_MAX], *copy = xstrdup(n_cfg->notify_sendmail);
	char err[512];
	struct notice_facts f;
	struct buf msg;

	j->step = JOB_SEND;
	j->tries++;
	if (n_tpl[j->due.kind] == NULL) {	/* notify = no since */
		j->tries = 2;
		send_failed(j, "notify = no");
		free(copy);
		return;
	}
	facts(j, &f);
	buf_init(&msg);
	if (notice_render(n_tpl[j->due.kind], &f, &msg, err, sizeof(err)) < 0) {
		j->tries = 2;		/* the same text fails again */
		send_failed(j, err);
	} else if (split_command(copy, argv, NELEM(argv)) < 0)
		send_failed(j, "notify_sendmail is empty");
	else if ((j->sp = spawn_start(argv, buf_str(&msg), msg.len,
	    NOTIFY_SEND_MS, on_sent, j, err, sizeof(err))) == NULL)
		send_failed(j, err);
	buf_free(&msg);
	free(copy);
}

/*
 * forwards_to - does getent ahosts's output (one "ADDRESS TYPE [NAME]" per
 * line) list the address?
 */
static int
forwards_to(const char *out, const char *canon)
{
	size_t n = strlen(canon);
	const char *p;

	for (p = out; *p; p += strcspn(p, "\n"), p += *p == '\n')
		if (strncmp(p, canon, n) == 0 && (p[n] == ' ' || p[n] == '\t'))
			return 1;
	return 0;
}

/*
 * on_forward - getent ahosts of the reverse name ended: the name is kept
 * only when it leads back to the address (whoever runs the address's
 * reverse zone can write any name there; the forward zone is the name's)
 */
static void
on_forward(void *arg, const struct spawn_result *r)
{
	struct job *j = arg;
	char canon[NETADDR_CANON_MAX];

	j->sp = NULL;
	if (!r->exited || r->status != 0 || netaddr_canon(j->due.ip, canon,
	    sizeof(canon)) != canon || !forwards_to(r->out, canon))
		j->rname[0] = 0;
	job_send(j);
}

/* on_rname - getent hosts ended: its name, when it is one, then checked */
static void
on_rname(void *arg, const struct spawn_result *r)
{
	struct job *j = arg;
	char *argv[] = {NOTIFY_GETENT, "ahosts", j->rname, NULL};
	const char *p = r->out;
	char err[256];
	size_t n;

	j->sp = NULL;
	j->rname_done = 1;
	p += strcspn(p, " \t\n");	/* the address, then the name */
	p += strspn(p, " \t");
	n = strcspn(p, " \t\r\n");
	if (r->exited && r->status == 0 && n > 0 && n < sizeof(j->rname)) {
		memcpy(j->rname, p, n);
		j->rname[n] = 0;
		if (!notice_rname_ok(j->rname))
			j->rname[0] = 0;
	}
	if (*j->rname) {
		j->step = JOB_FORWARD;
		if ((j->sp = spawn_start(argv, NULL, 0, NOTIFY_RNAME_MS,
		    on_forward, j, err, sizeof(err))) != NULL)
			return;
		msg_warn("notice: %s", err);
		j->rname[0] = 0;
	}
	job_send(j);
}

/* job_start - in its place: the reverse name first, then the message */
static void
job_start(struct job *j)
{
	char canon[NETADDR_CANON_MAX], err[256];
	char *argv[] = {NOTIFY_GETENT, "hosts", canon, NULL};

	if (!j->rname_done && netaddr_canon(j->due.ip, canon, sizeof(canon)) ==
	    canon) {
		j->step = JOB_RNAME;
		if ((j->sp = spawn_start(argv, NULL, 0, NOTIFY_RNAME_MS, on_rname,
		    j, err, sizeof(err))) != NULL)
			return;
		msg_warn("notice: %s", err);
	}
	j->rname_done = 1;
	job_send(j);
}

/* admit - a due notice: its address, the limits, the queue */
static void
admit(const struct notice_due *d, const char *door)
{
	struct notice_rules r = rules();
	char to[NOTICE_ADDR_MAX + 1];
	enum notice_admit a;
	const char *why;
	struct job *j;

	if ((why = recipient(d, to, sizeof(to))) != NULL) {
		outcome(d, "", "", NR_SKIPPED, why);
		return;
	}
	if ((a = notice_watch_admit(n_watch, &r, d->kind, d->account,
	    store_now())) == NOTICE_LIMITED_CAP)
		notice_watch_untell(n_watch, d);	/* its turn comes later */
	if (a != NOTICE_GO) {
		outcome(d, to, "", NR_LIMITED, a == NOTICE_LIMITED_CAP ?
		    "notify_max_per_hour" : "notify_interval");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->due = *d;
	str_copy(j->to, sizeof(j->to), to);
	str_copy(j->door, sizeof(j->door), door);
	new_message_id(j->message_id, sizeof(j->message_id));
	if (enqueue(j) < 0) {
		outcome(d, to, j->message_id, NR_DROPPED, "queue-full");
		free(j);
	}
}

/*
 * lock_door - a lock is told before its attempt's line: that attempt
 * gives a queued lock notice its door and the address itself
 */
static void
lock_door(const char *ref, const char *ip, enum proto proto)
{
	struct job *j;

	for (j = n_queue; j; j = j->next)
		if (j->due.kind == NOTICE_LOCK && *j->door == 0 &&
		    strcmp(j->due.ref, ref) == 0) {
			str_copy(j->door, sizeof(j->door), door_name(proto));
			str_copy(j->due.ip, sizeof(j->due.ip), ip);
		}
}

/* window_facts - a guessing's story: the account's failures in the window */
static void
window_facts(struct notice_due *d, uint32_t now)
{
	const struct track *t;
	uint32_t first = 0;
	unsigned n;

	if ((t = limits_find(&store_limits.acct, d->account)) == NULL ||
	    (n = limits_window_span(&store_limits.acct, t, now, &first)) == 0)
		return;
	if (n > d->count)
		d->count = n;
	if (first < d->first)
		d->first = first;
}

/* notify_attempt - an attempt ended (attempt_record) */
void
notify_attempt(int pass, enum cause cause, const char *user, const char *ip,
    enum proto proto, const char *ref)
{
	struct notice_rules r;
	struct notice_due d;
	char account[256];

	if (n_watch == NULL || !n_cfg->notify)
		return;
	lock_door(ref, ip, proto);
	if (user == NULL || *user == 0 || strlen(user) >= sizeof(account))
		return;
	str_copy(account, sizeof(account), user);
	str_lower(account);
	r = rules();
	if (!notice_watch_attempt(n_watch, &r, pass, cause, account, ip, ref,
	    store_now(), &d))
		return;
	if (d.kind == NOTICE_GUESSING)
		window_facts(&d, store_now());
	admit(&d, door_name(proto));
}

/*
 * notify_lock - an account was locked (enforce) by count failures, the
 * first at first
 */
void
notify_lock(const char *account, const char *addr, const char *ref,
    int familiar, uint32_t until, unsigned count, uint32_t first)
{
	struct notice_rules r;
	struct notice_due d;

	if (n_watch == NULL || !n_cfg->notify || account == NULL || !*account)
		return;
	r = rules();
	if (!notice_watch_lock(n_watch, &r, account, addr, ref, familiar, until,
	    store_now(), &d))
		return;
	d.count = count;
	if (first && first < d.first)
		d.first = first;
	admit(&d, "");
}

/* read_template - one kind's file, or its default; NULL with err */
static struct notice_template *
read_template(const char *dir, enum notice_kind k, char *err, size_t len)
{
	char path[4096], perr[256], *text;
	struct notice_template *t;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.txt", dir, notice_kind_name(k));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 &&
	    errno == ENOENT) {
		text = (char *)notice_template_default(k);
		return notice_template_parse(text, strlen(text), err, len);
	}
	if (fd < 0) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {	/* a FIFO */
		snprintf(err, len, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	text = xmalloc(NOTICE_TEXT_MAX + 1);
	n = read(fd, text, NOTICE_TEXT_MAX + 1);
	close(fd);
	if (n < 0 || n > NOTICE_TEXT_MAX) {
		snprintf(err, len, "%s: %s", path, n < 0 ? strerror(errno) :
		    "larger than 64 KiB");
		free(text);
		return NULL;
	}
	if ((t = notice_template_parse(text, (size_t)n, perr, sizeof(perr))) ==
	    NULL)
		snprintf(err, len, "%s: %s", path, perr);
	free(text);
	return t;
}

/* load_templates - every kind's; -1 with err and nothing replaced */
static int
load_templates(const char *dir, struct notice_template **set, char *err,
    size_t len)
{
	struct notice_template *t[NOTICE_KINDS];
	int k, i;

	for (k = 0; k < NOTICE_KINDS; k++)
		if ((t[k] = read_template(dir, (enum notice_kind)k, err,
		    len)) == NULL) {
			for (i = 0; i < k; i++)
				notice_template_free(t[i]);
			return -1;
		}
	for (k = 0; k < NOTICE_KINDS; k++) {
		notice_template_free(set[k]);
		set[k] = t[k];
	}
	return 0;
}

/* map_check - -t: notify_contact_map is a cdb map we can read */
static int
map_check(const char *map, char *err, size_t len)
{
	struct cdb cdb;
	int fd;

	if (*map == 0)
		return 0;
	if ((fd = open(map, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    cdb_init(&cdb, fd) < 0) {
		snprintf(err, len, "notify_contact_map %s: %s", map, fd < 0 ?
		    strerror(errno) : "not a cdb map");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	cdb_free(&cdb);
	close(fd);
	return 0;
}

/* notify_check - -t: the templates parse, the contact map opens; -1 with err */
int
notify_check(const struct config *cfg, char *err, size_t len)
{
	struct notice_template *set[NOTICE_KINDS] = {NULL};
	int k;

	if (!cfg->notify)
		return 0;
	if (map_check(cfg->notify_contact_map, err, len) < 0)
		return -1;
	if (load_templates(cfg->notify_templates, set, err, len) < 0)
		return -1;
	for (k = 0; k < NOTICE_KINDS; k++)
		notice_template_free(set[k]);
	return 0;
}

/* restore_row - a journal row: a recent send counts against the limits */
static void
restore_row(void *arg, const struct notify_row *r)
{
	uint32_t interval = n_cfg->notify_interval / 1000, now = store_now();
	int k = notice_kind_lookup(r->kind);

	(void)arg;
	if (k >= 0 && (strcmp(r->result, "sent") == 0 ||
	    strcmp(r->result, "failed") == 0) && r->t <= now &&
	    now - r->t < (interval > 3600 ? interval : 3600))
		notice_watch_restore(n_watch, (enum notice_kind)k, r->user, r->t);
}

/* on_sweep - forget what can no longer matter */
static void
on_sweep(struct ev_timer *t)
{
	struct notice_rules r = rules();

	notice_watch_sweep(n_watch, &r, store_now());
	ev_timer_start(t, NOTIFY_SWEEP_MS, on_sweep);
}

/* server_name - notify_hostname or this host's, for Message-ID and ${server} */
static void
server_name(void)
{
	if (*n_cfg->notify_hostname)
		str_copy(n_server, sizeof(n_server), n_cfg->notify_hostname);
	else if (gethostname(n_server, sizeof(n_server)) < 0 ||
	    (n_server[sizeof(n_server) - 1] = 0, !notice_rname_ok(n_server)))
		str_copy(n_server, sizeof(n_server), "localhost");
}

/* watch_on - notify = yes: the table, the journal, the limits restored */
static void
watch_on(void)
{
	size_t k;
	char err[512];

	if (load_templates(n_cfg->notify_templates, n_tpl, err,
	    sizeof(err)) < 0)
		msg_warn("notices: %s; the built-in texts are used", err);
	for (k = 0; k < NOTICE_KINDS; k++)
		if (n_tpl[k] == NULL)
			n_tpl[k] = notice_template_parse(notice_template_default(
			    (enum notice_kind)k), strlen(notice_template_default(
			    (enum notice_kind)k)), err, sizeof(err));
	server_name();
	n_watch = notice_watch_new(store_secret, sizeof(store_secret),
	    n_cfg->max_tracked);
	(void)noticelog_open(n_cfg->state_dir, restore_row, NULL);
	ev_timer_start(&n_sweep, NOTIFY_SWEEP_MS, on_sweep);
}

/* drop_queue - the waiting notices go, each logged as dropped */
static void
drop_queue(const char *reason)
{
	struct job *j;

	while ((j = n_queue) != NULL) {
		n_queue = j->next;
		outcome(&j->due, j->to, j->message_id, NR_DROPPED, reason);
		free(j);
	}
	n_tail = &n_queue;
	n_queued = 0;
}

/* watch_off - notify = no: the table and the waiting notices go */
static void
watch_off(void)
{
	int k;

	drop_queue("notify = no");
	ev_timer_stop(&n_sweep);
	ev_timer_stop(&n_kick);
	notice_watch_free(n_watch);
	n_watch = NULL;
	noticelog_close();
	for (k = 0; k < NOTICE_KINDS; k++) {
		notice_template_free(n_tpl[k]);
		n_tpl[k] = NULL;
	}
}

/* notify_init - at start, once the state is read */
void
notify_init(const struct config *cfg)
{
	n_cfg = cfg;
	metrics_source(METRICS_NOTICES, render_counts);
	if (cfg->notify)
		watch_on();
}

/* notify_reconfigure - a reload: on, off, or new templates */
void
notify_reconfigure(const struct config *cfg)
{
	char err[512];

	n_cfg = cfg;
	if (!cfg->notify && n_watch != NULL)
		watch_off();
	else if (cfg->notify && n_watch == NULL)
		watch_on();
	else if (cfg->notify) {
		server_name();
		if (load_templates(cfg->notify_templates, n_tpl, err,
		    sizeof(err)) < 0)
			msg_warn("reload: %s; the running notice templates stay",
			    err);
	}
}

/* notify_row - the k-th newest outcome, for "notices"; NULL: no more */
const struct notify_row *
notify_row(size_t k)
{
	return noticelog_row(k);
}

/*
 * notify_shutdown - children killed and reaped; what was on its way is
 * logged as dropped, then freed
 */
void
notify_shutdown(void)
{
	struct job *j;

	for (j = n_busy; j; j = j->next)
		outcome(&j->due, j->to, j->message_id, NR_DROPPED, "stopped");
	drop_queue("stopped");
	spawn_shutdown();
	while ((j = n_busy) != NULL) {
		n_busy = j->next;
		ev_timer_stop(&j->retry);
		free(j);
	}
	if (n_watch != NULL)
		watch_off();
}
