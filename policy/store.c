/*++
/* NAME
/*	store 3
/* SUMMARY
/*	the daemon's state: limits, recent attempts, the secret, on disk
/* DESCRIPTION
/*	All state lives in memory, in the event loop's thread. Once a
/*	second, when something changed, a child process forked for the
/*	purpose writes a snapshot (state_dir/state, see state 3) to a
/*	temporary file, syncs it and renames it into place: the event
/*	loop never waits for the disk, the file is never half written,
/*	and a kill -9 loses at most the last second. The child closes
/*	every descriptor it inherited but stdin, stdout and stderr before
/*	anything else: a connection the daemon closes meanwhile is closed
/*	at once for its peer (smtpd sees the end of its connection, not
/*	the end of the write), and no socket with a password in flight is
/*	held by a second process.
/*
/*	A state file that exists but cannot be read (EACCES, EIO) stops
/*	the start (store_init() returns -1): starting empty would lift
/*	every lockout. One that is not ours, or of another version, is
/*	set aside as state.bad, an error is logged, and the daemon starts
/*	empty: only the daemon writes it, whole, by rename, so damage
/*	comes from outside, and refusing to start would stop every login
/*	for the sake of lockouts that end by themselves; damaged lines
/*	in a file that is ours are skipped.
/*
/*	The fingerprint key is read from the fingerprint_key file, apart
/*	from state_dir, so that a copy of the state (which holds the
/*	fingerprints of wrong passwords) cannot be used to test guesses
/*	against them. A state_dir/secret left by an older version is used
/*	while that file does not exist, with a warning, and removed once
/*	it holds the same key; with neither, the key is made for the run.
/*	A key file that exists but cannot be read, or has the wrong size
/*	(a state_dir/secret too, when it is the key), stops the start: a
/*	key made for the run would silently change every fingerprint and
/*	every keyed name. The key is read at start only. The same key,
/*	through limits_set_who_key(), keys the names of the other side
/*	in failures and familiar addresses (limits 3), here and in Redis.
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "authlimits.h"
#include "buf.h"
#include "event.h"
#include "metrics.h"
#include "msg.h"
#include "shared.h"
#include "state.h"
#include "store.h"
#include "util.h"

#define STORE_SHARED_LIST	100	/* recent attempts per user, address */

struct limits store_limits;
struct history store_history;
unsigned char store_secret[FINGERPRINT_KEY_LEN];

static char *store_path, *store_tmp;
static struct ev_timer store_timer;
static int store_is_dirty;
static pid_t store_child;
static unsigned store_history_ttl;	/* seconds, in Redis */

/* store_writer - the snapshot writer's pid while it runs, else 0 */
pid_t
store_writer(void)
{
	return store_child > 0 ? store_child : 0;
}

/* store_now - wall clock seconds, for windows that survive restarts */
uint32_t
store_now(void)
{
	return ev_wall();
}

/*
 * store_key_read - a fingerprint key file: 32 bytes are the key itself
 * (a state_dir/secret moved there keeps its fingerprints), more are
 * hashed to 32 (SHA-256); flags: more open(2) flags. 1 read, 0 absent,
 * -1 unusable (logged).
 */
static int
store_key_read(const char *path, int flags, unsigned char *key)
{
	unsigned char data[4096];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) < 0) {
		if (errno == ENOENT)
			return 0;
		msg_error("fingerprint key %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, data, sizeof(data));
	if (fstat(fd, &st) == 0 && (st.st_mode & 0004))
		msg_warn("fingerprint key %s: readable by every user; make it "
		    "mode 0640 or 0600", path);
	close(fd);
	if (n < FINGERPRINT_KEY_LEN || n == (ssize_t)sizeof(data)) {
		msg_error("fingerprint key %s: %s (it takes 32 to 4095 bytes, "
		    "e.g. head -c 32 /dev/urandom)", path, n < 0 ?
		    strerror(errno) : "wrong size");
		wipe(data, sizeof(data));
		return -1;
	}
	if (n == FINGERPRINT_KEY_LEN)
		memcpy(key, data, FINGERPRINT_KEY_LEN);
	else
		SHA256(data, (size_t)n, key);
	wipe(data, sizeof(data));
	return 1;
}

/*
 * store_secret_read - the fingerprint key, kept out of state_dir: a copy
 * of the state (the fingerprints) must not carry their key. From
 * fingerprint_key; else from state_dir/secret, where older versions made
 * it (with a warning). 1 read, 0 none, -1 when the file that holds the
 * key exists but cannot be used (said): a key of its own for the run
 * would silently change every fingerprint. check (-t): nothing removed.
 */
static int
store_secret_read(const struct config *cfg, unsigned char *key, int check)
{
	unsigned char old[FINGERPRINT_KEY_LEN];
	char legacy[4096];
	int r, o, rc = 1;

	if (snprintf(legacy, sizeof(legacy), "%s/secret", cfg->state_dir) >=
	    (int)sizeof(legacy)) {
		msg_error("state_dir path too long");
		return -1;
	}
	r = store_key_read(cfg->fingerprint_key, 0, key);
	/* state_dir is the daemon's own: a link planted there is not followed */
	o = store_key_read(legacy, O_NOFOLLOW, old);
	if (r < 0) {
		msg_error("fingerprint_key %s exists but cannot be used: fix its "
		    "owner, mode or size (the daemon reads it as its \"user\")",
		    cfg->fingerprint_key);
		rc = -1;
	} else if (r > 0 && o > 0 && memcmp(old, key, sizeof(old)) == 0) {
		if (!check && unlink(legacy) == 0)
			msg_info("removed %s: the same key is in %s", legacy,
			    cfg->fingerprint_key);
	} else if (r > 0 && o != 0)
		msg_warn("%s is not the fingerprint key (%s is): remove it",
		    legacy, cfg->fingerprint_key);
	else if (r == 0 && o < 0) {
		msg_error("%s, the fingerprint key of an older version, exists "
		    "but cannot be used, and %s does not exist: fix it, or put "
		    "the key in %s", legacy, cfg->fingerprint_key,
		    cfg->fingerprint_key);
		rc = -1;
	} else if (r == 0 && o > 0) {
		memcpy(key, old, sizeof(old));
		msg_warn("fingerprint key read from %s, where a copy of the state "
		    "carries it with the fingerprints it keys: move it to %s",
		    legacy, cfg->fingerprint_key);
	} else if (r == 0)
		rc = 0;
	wipe(old, sizeof(old));
	return rc;
}

/* store_secret_load - the fingerprint key, or one for this run; 0 or -1 */
static int
store_secret_load(const struct config *cfg)
{
	int r;

	if ((r = store_secret_read(cfg, store_secret, 0)) != 0)
		return r < 0 ? -1 : 0;
	if (getrandom(store_secret, sizeof(store_secret), 0) !=
	    (ssize_t)sizeof(store_secret))
		msg_fatal("getrandom: %s", strerror(errno));
	msg_warn("no fingerprint key in %s: using one for this run only (a "
	    "wrong password repeated across a restart counts again, familiar "
	    "addresses are learned again; servers sharing Redis need one key "
	    "file)", cfg->fingerprint_key);
	return 0;
}

/* store_set_aside - keep a bad file for inspection, start empty */
static void
store_set_aside(const char *why)
{
	char bad[4200];

	snprintf(bad, sizeof(bad), "%s.bad", store_path);
	msg_error("state file %s: %s; set aside as %s, starting empty",
	    store_path, why, bad);
	rename(store_path, bad);
	limits_free(&store_limits);
	history_free(&store_history);
}

/* store_unreadable - the state file exists and cannot be read: said */
static void
store_unreadable(const char *why)
{
	msg_error("state file %s: %s: the lockouts and failure windows it "
	    "holds cannot be read, and starting without them would lift "
	    "every lockout: make it readable by the daemon's \"user\", or "
	    "move it away to start empty", store_path, why);
}

/*
 * store_load - read the snapshot: 0, or -1 when it exists and cannot be
 * read (said). A file that is not one of ours is set aside (the daemon
 * writes it whole, by rename: only something else damages it) and the
 * state starts empty; damaged lines are skipped.
 */
static int
store_load(const struct limits_config *lc, size_t hist)
{
	struct state_loader ld;
	char *line = xmalloc(STATE_LINE_MAX);
	size_t len;
	FILE *fp;
	int rerr;

	limits_init(&store_limits, lc);
	history_init(&store_history, hist);
	if ((fp = fopen(store_path, "r")) == NULL) {
		rerr = errno;
		if (rerr != ENOENT)
			store_unreadable(strerror(rerr));
		free(line);
		return rerr == ENOENT ? 0 : -1;
	}
	state_loader_init(&ld, &store_limits, &store_history, store_now());
	errno = 0;
	while (fgets(line, STATE_LINE_MAX, fp)) {
		len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (state_load_line(&ld, line) < 0 && !ld.header)
			break;
		errno = 0;
	}
	rerr = ferror(fp) ? (errno ? errno : EIO) : 0;
	if (rerr) {
		fclose(fp);
		store_unreadable(strerror(rerr));
		free(line);
		return -1;
	}
	if (!ld.header) {
		fclose(fp);
		store_set_aside("not an authguard state file of this version");
		limits_init(&store_limits, lc);
		history_init(&store_history, hist);
	} else {
		fclose(fp);
		if (ld.bad)
			msg_error("state file %s: %lu unreadable lines ignored",
			    store_path, ld.bad);
		if (ld.old_familiar)
			msg_info("state file %s: %lu familiar addresses from an "
			    "older version dropped; each is learned again at its "
			    "next successful login", store_path, ld.old_familiar);
		msg_info("state loaded: %zu accounts, %zu addresses, %zu recent "
		    "attempts", store_limits.acct.count, store_limits.addr.count,
		    store_history.n);
	}
	free(line);
	return 0;
}

/*
 * store_check_state - -t: the state file reads through; owner_read: the
 * start gives it to "user" (root checks for it), so its owner must be
 * able to read it. 0 or -1 (said).
 */
static int
store_check_state(const char *path, int owner_read)
{
	struct stat st;
	char buf[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		msg_error("state file %s: %s: the daemon would not start",
		    path, strerror(errno));
		return -1;
	}
	if (owner_read && fstat(fd, &st) == 0 && !(st.st_mode & S_IRUSR)) {
		msg_error("state file %s: Permission denied (mode %04o): the "
		    "daemon would not start", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		msg_error("state file %s: %s: the daemon would not start", path,
		    strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* store_write_file - write the snapshot to the temporary file, rename */
static int
store_write_file(void)
{
	FILE *fp;
	int fd;

	fd = open_private(store_tmp);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (state_write(fp, &store_limits, &store_history, store_now()) < 0 ||
	    fflush(fp) != 0 || fsync(fd) < 0) {
		fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0)
		return -1;
	return rename(store_tmp, store_path);
}

/*
 * store_close_inherited - in the child, first thing: every descriptor
 * above stderr (sockets, listeners, the log), so that the child holds
 * nothing of the daemon's connections while it writes
 */
static void
store_close_inherited(void)
{
	long fd, max;

	if (close_range(3, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 ? max : 65536); fd++)
		(void)close((int)fd);
}

/* store_reap - collect the snapshot writer */
static void
store_reap(void)
{
	int status;

	if (store_child <= 0 || waitpid(store_child, &status, WNOHANG) <= 0)
		return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		msg_error("state file %s: could not be written (disk full or "
		    "read-only?); will retry", store_path);
		store_is_dirty = 1;
	}
	store_child = 0;
}

/* store_tick - once a second: snapshot if something changed */
static void
store_tick(struct ev_timer *t)
{
	pid_t pid;

	store_reap();
	if (store_is_dirty && store_child == 0) {
		store_is_dirty = 0;
		if ((pid = fork()) == 0) {
			store_close_inherited();
			_exit(store_write_file() == 0 ? 0 : 1);
		}
		if (pid < 0) {
			msg_error("fork: %s; state not saved", strerror(errno));
			store_is_dirty = 1;
		} else
			store_child = pid;
	}
	ev_timer_start(&store_timer, 1000, store_tick);
}

/* share_cmd - one command of a record's sharing: a change, kept if need be */
static void
share_cmd(struct shared_cmd *c, int key, const char *kind, const char *name)
{
	shared_key_at(c, key, kind, name);
	c->write = SHARED_RECORD;
	shared_send(c, NULL, NULL, NULL);
}

/*
 * store_history_share - the record for "why" on every server: by ref,
 * and in the lists of its user and its address (plain commands: no
 * script needed, none has to be atomic with another)
 */
static void
store_history_share(const struct hist_rec *h, const char *user)
{
	struct hist_rec r = *h;
	struct buf line;
	char *lower = xstrdup(user), ttl[16], max[16];
	const char *kind[2] = {"hu:", "hi:"}, *name[2] = {lower, h->ip};
	int i;

	r.user = (char *)user;
	buf_init(&line);
	state_history_format(&line, &r);
	buf_putc(&line, 0);
	snprintf(ttl, sizeof(ttl), "%u", store_history_ttl);
	snprintf(max, sizeof(max), "%d", STORE_SHARED_LIST - 1);
	share_cmd(shared_command(5, "SET", "", line.data, "EX", ttl), 1, "h:",
	    h->ref);
	str_lower(lower);		/* whole: names up to SASL_FIELD_MAX */
	for (i = 0; i < 2; i++) {
		if (*name[i] == 0)
			continue;
		share_cmd(shared_command(3, "LPUSH", "", line.data), 1, kind[i],
		    name[i]);
		share_cmd(shared_command(4, "LTRIM", "", "0", max), 1, kind[i],
		    name[i]);
		share_cmd(shared_command(3, "EXPIRE", "", ttl), 1, kind[i],
		    name[i]);
	}
	buf_free(&line);
	free(lower);
}

/* store_history_add - a recent attempt, here and, if shared, in Redis */
void
store_history_add(struct hist_rec *h, const char *user)
{
	if (shared_enabled())
		snprintf(h->server, sizeof(h->server), "%s", shared_server());
	history_add(&store_history, h, user);
	store_dirty();
	if (shared_enabled())
		store_history_share(h, user ? user : "");
}

/* store_dirty - something worth keeping changed */
void
store_dirty(void)
{
	store_is_dirty = 1;
}

/* store_settings - what the store takes from the configuration: the
 * limits, and how long Redis keeps a recent attempt (seconds) */
static void
store_settings(const struct config *cfg, struct limits_config *lc)
{
	lc->account = cfg->account_fail_limit;
	lc->address = cfg->ip_fail_limit;
	lc->lockout_time = cfg->lockout_time / 1000;
	lc->lockout_max = cfg->lockout_max / 1000;
	lc->familiar_ttl = cfg->familiar_address_ttl / 1000;
	lc->guess_distinct = cfg->guessing_threshold;
	lc->max_tracked = cfg->max_tracked;
	store_history_ttl = cfg->shared_history_ttl / 1000 ?
	    cfg->shared_history_ttl / 1000 : 1;
}

/* store_reconfigure - a reload: new limits over the same entries */
void
store_reconfigure(const struct config *cfg)
{
	struct limits_config lc;

	store_settings(cfg, &lc);
	limits_reconfigure(&store_limits, &lc);
}

/* store_metrics_tracked - what the failure limits track and drop */
static void
store_metrics_tracked(struct buf *b)
{
	metrics_family(b, "authguard_tracked_entries", "gauge",
	    "Accounts and addresses with failure windows or locks.");
	buf_printf(b, "authguard_tracked_entries{kind=\"account\"} %zu\n"
	    "authguard_tracked_entries{kind=\"address\"} %zu\n",
	    store_limits.acct.count, store_limits.addr.count);
	metrics_family(b, "authguard_evicted_entries_total", "counter",
	    "Entries dropped to stay within max_tracked.");
	buf_printf(b, "authguard_evicted_entries_total{kind=\"account\"} %llu\n"
	    "authguard_evicted_entries_total{kind=\"address\"} %llu\n",
	    store_limits.acct.evicted, store_limits.addr.evicted);
}

/* store_metrics_history - the attempts held for "why" */
static void
store_metrics_history(struct buf *b)
{
	metrics_family(b, "authguard_recent_attempts", "gauge",
	    "Attempts held for authguard why.");
	buf_printf(b, "authguard_recent_attempts %zu\n", store_history.n);
}

/*
 * store_init - load the secret and the state, start saving: 0, or -1 when
 * a file that exists cannot be used (said): the caller does not start
 */
int
store_init(const struct config *cfg)
{
	struct limits_config lc;
	char path[4096];

	metrics_source(METRICS_TRACKED, store_metrics_tracked);
	metrics_source(METRICS_HISTORY, store_metrics_history);
	store_settings(cfg, &lc);
	if (store_secret_load(cfg) < 0)
		return -1;
	limits_set_who_key(store_secret, sizeof(store_secret));
	snprintf(path, sizeof(path), "%s/state", cfg->state_dir);
	store_path = xstrdup(path);
	snprintf(path, sizeof(path), "%s/state.tmp", cfg->state_dir);
	store_tmp = xstrdup(path);
	if (store_load(&lc, cfg->history_size) < 0)
		return -1;
	ev_timer_start(&store_timer, 1000, store_tick);
	return 0;
}

/*
 * store_check - -t: STORE_CHECK_KEY: the fingerprint key (read as
 * "user": the start does not give it away); STORE_CHECK_STATE: the state
 * file and an older version's state_dir/secret when it would be the key
 * (read by whoever starts the daemon: the start gives state_dir to
 * "user" first). 0 or -1 (said).
 */
int
store_check(const struct config *cfg, int what)
{
	unsigned char key[FINGERPRINT_KEY_LEN];
	char path[4096];
	int rc = 0;

	if ((what & STORE_CHECK_KEY) &&
	    store_key_read(cfg->fingerprint_key, 0, key) < 0) {
		msg_error("fingerprint_key %s exists but cannot be used: the "
		    "daemon would not start", cfg->fingerprint_key);
		rc = -1;
	}
	wipe(key, sizeof(key));
	if ((what & STORE_CHECK_STATE) == 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/secret", cfg->state_dir) >=
	    (int)sizeof(path))
		return -1;
	if (access(cfg->fingerprint_key, F_OK) < 0 && errno == ENOENT &&
	    store_key_read(path, O_NOFOLLOW, key) < 0) {
		msg_error("%s, the fingerprint key of an older version, cannot "
		    "be used, and %s does not exist: the daemon would not start",
		    path, cfg->fingerprint_key);
		rc = -1;
	}
	wipe(key, sizeof(key));
	snprintf(path, sizeof(path), "%s/state", cfg->state_dir);
	if (store_check_state(path, geteuid() == 0 && *cfg->user &&
	    strcmp(cfg->user, "root") != 0) < 0)
		rc = -1;
	return rc;
}

/* store_shutdown - final snapshot, in this process */
void
store_shutdown(void)
{
	int status;

	ev_timer_stop(&store_timer);
	if (store_child > 0)
		waitpid(store_child, &status, 0);
	if (store_write_file() < 0)
		msg_error("state file %s: final save failed: %s", store_path,
		    strerror(errno));
	limits_free(&store_limits);
	history_free(&store_history);
	free(store_path);
	free(store_tmp);
	wipe(store_secret, sizeof(store_secret));
	limits_set_who_key(NULL, 0);
}
