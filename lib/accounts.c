/*++
/* NAME
/*	accounts 3
/* SUMMARY
/*	per-account flags from a cdb map
/* DESCRIPTION
/*	accounts_map is a constant database as written by
/*	"postmap cdb:FILE" or "cdb -c -m": the key is the login name in
/*	lower case without a trailing NUL, the value a list of flags
/*	separated by commas or white space: app-password-required,
/*	oauth-only, disabled, no-limit.
/*
/*	A flag restricts an account, so a map that cannot be read must
/*	never read as "no flags". accounts_flags_parse() is the pure
/*	value parser: it returns the flags it knows even when the value
/*	holds one it does not (then -1); accounts_flags_unknown() names
/*	those. accounts_open() opens the map and reads every entry
/*	through: a map that is missing, unreadable or not a cdb file is
/*	an error (-1, the reason in err); an unknown flag, a key with
/*	upper-case letters or a trailing NUL (never matched) is a warning
/*	naming the key. accounts_check() is the same read for -t, with
/*	every problem an error.
/*
/*	accounts_lookup() notices when the file was replaced (postmap
/*	renames a new file into place) and uses the new one once it has
/*	been read through. When the file is gone, or its replacement
/*	cannot be used, the map in use stays (its descriptor is open),
/*	with one error. A file rewritten in place that cannot be read
/*	again leaves no map: lookups fail (-1) until one is in place.
/*
/*	accounts_lookup() returns 1 with the entry's flags (those it
/*	knows), 0 when the name has no entry or no map is configured, -1
/*	when the configured map cannot be consulted (a read error, or no
/*	usable map); flags are then 0, and the caller must not take the
/*	account as one without flags. Names of any length are looked up
/*	whole.
/*--*/
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "msg.h"
#include "util.h"

#define ACCOUNTS_SHOW_MAX	20	/* problems named at load; -t names all */
#define ACCOUNTS_HEAD		2048	/* a cdb file's table of tables */

static const struct {
	const char	*name;
	unsigned	 flag;
} acct_flag_names[] = {
	{"app-password-required", ACCT_APP_PASSWORD_REQUIRED},
	{"oauth-only", ACCT_OAUTH_ONLY},
	{"disabled", ACCT_DISABLED},
	{"no-limit", ACCT_NO_LIMIT},
};

/* accounts_flag - one flag by name */
static int
accounts_flag(const char *p, size_t len, unsigned *flag)
{
	size_t i;

	for (i = 0; i < NELEM(acct_flag_names); i++)
		if (strlen(acct_flag_names[i].name) == len &&
		    memcmp(acct_flag_names[i].name, p, len) == 0) {
			*flag = acct_flag_names[i].flag;
			return 0;
		}
	return -1;
}

/* accounts_sep - a byte between flags (a NUL too: postmap -N ends with one) */
static int
accounts_sep(char c)
{
	return c == 0 || c == ',' || c == ' ' || c == '\t' || c == '\r' ||
	    c == '\n';
}

/* accounts_word - the next flag at or after *pos; 0 at the end */
static int
accounts_word(const char *v, size_t len, size_t *pos, const char **w,
    size_t *wlen)
{
	size_t i = *pos, start;

	while (i < len && accounts_sep(v[i]))
		i++;
	for (start = i; i < len && !accounts_sep(v[i]); i++)
		;
	*pos = i;
	*w = v + start;
	*wlen = i - start;
	return *wlen > 0;
}

/* accounts_flags_parse - "flag, flag flag": the known ones, -1 if not all */
int
accounts_flags_parse(const char *v, size_t len, unsigned *flags,
    const char **err)
{
	size_t pos = 0, wlen;
	const char *w;
	unsigned f;
	int unknown = 0;

	*flags = 0;
	while (accounts_word(v, len, &pos, &w, &wlen)) {
		if (accounts_flag(w, wlen, &f) < 0)
			unknown++;
		else
			*flags |= f;
	}
	if (unknown)
		*err = "unknown flag";
	return unknown ? -1 : 0;
}

/*
 * accounts_put - append to out (size len, used *n), "..." when full; in
 * what came from the map (quoted), control bytes, quotes and backslashes
 * become '?'
 */
static void
accounts_put(char *out, size_t len, size_t *n, const char *p, size_t plen,
    int quoted)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < plen && *n + 1 < len; i++) {
		c = (unsigned char)p[i];
		out[(*n)++] = quoted && (c < 0x20 || c == 0x7f || c == '"' ||
		    c == '\\') ? '?' : (char)c;
	}
	if (i < plen && len >= 4)
		memcpy(out + len - 4, "...", 3), *n = len - 1;
	out[*n] = 0;
}

/*
 * accounts_flags_unknown - the flags of a value that are not flags, each
 * in double quotes, comma-separated, printable, into out (cut with "..."
 * if need be); their number
 */
size_t
accounts_flags_unknown(const char *v, size_t len, char *out, size_t outlen)
{
	size_t pos = 0, wlen, n = 0, count = 0;
	const char *w;
	unsigned f;

	if (outlen == 0)
		return 0;
	*out = 0;
	while (accounts_word(v, len, &pos, &w, &wlen)) {
		if (accounts_flag(w, wlen, &f) == 0)
			continue;
		if (count++)
			accounts_put(out, outlen, &n, ", ", 2, 0);
		accounts_put(out, outlen, &n, "\"", 1, 0);
		accounts_put(out, outlen, &n, w, wlen > 64 ? 64 : wlen, 1);
		if (wlen > 64)
			accounts_put(out, outlen, &n, "...", 3, 0);
		accounts_put(out, outlen, &n, "\"", 1, 0);
	}
	return count;
}

/* accounts_flags_format - "oauth-only, no-limit", or "none" */
void
accounts_flags_format(unsigned flags, char *out, size_t len)
{
	size_t i, n = 0;

	if (len == 0)
		return;
	*out = 0;
	for (i = 0; i < NELEM(acct_flag_names); i++) {
		if ((flags & acct_flag_names[i].flag) == 0)
			continue;
		if (n)
			accounts_put(out, len, &n, ", ", 2, 0);
		accounts_put(out, len, &n, acct_flag_names[i].name,
		    strlen(acct_flag_names[i].name), 0);
	}
	if (n == 0)
		accounts_put(out, len, &n, "none", 4, 0);
}

/* accounts_entry - one entry's problems, said as errors or warnings; 1 if any */
static int
accounts_entry(const char *path, const char *k, unsigned klen,
    const char *v, unsigned vlen, int say, int strict)
{
	char key[300], unknown[300], known[100];
	const char *err;
	unsigned i, flags;
	size_t n = 0;
	int upper = 0, nul = klen > 0 && k[klen - 1] == 0;

	for (i = 0; i < klen; i++)
		upper |= k[i] >= 'A' && k[i] <= 'Z';
	if (!upper && !nul && accounts_flags_unknown(v, vlen, unknown,
	    sizeof(unknown)) == 0)
		return 0;
	if (!say)
		return 1;
	accounts_put(key, sizeof(key), &n, k, klen - (unsigned)nul, 1);
	(void)accounts_flags_parse(v, vlen, &flags, &err);
	accounts_flags_format(flags, known, sizeof(known));
	if (upper || nul) {
		if (strict)
			msg_error("accounts_map %s: key \"%s\" %s: it never matches "
			    "(logins are looked up in lower case, without a NUL; "
			    "build the map with postmap cdb:FILE)", path, key, upper ?
			    "has upper-case letters" : "ends in a NUL byte");
		else
			msg_warn("accounts_map %s: key \"%s\" %s: it never matches "
			    "(logins are looked up in lower case, without a NUL; "
			    "build the map with postmap cdb:FILE)", path, key, upper ?
			    "has upper-case letters" : "ends in a NUL byte");
	}
	if (accounts_flags_unknown(v, vlen, unknown, sizeof(unknown)) == 0)
		return 1;
	if (strict)
		msg_error("accounts_map %s: key \"%s\": unknown flag %s (the flags "
		    "are app-password-required, oauth-only, disabled, no-limit); "
		    "the entry's other flags apply: %s", path, key, unknown, known);
	else
		msg_warn("accounts_map %s: key \"%s\": unknown flag %s ignored "
		    "(the flags are app-password-required, oauth-only, disabled, "
		    "no-limit); the entry's other flags apply: %s", path, key,
		    unknown, known);
	return 1;
}

/* accounts_head_ok - the table of tables points inside the file */
static int
accounts_head_ok(struct cdb *cdb, off_t fsize)
{
	const unsigned char *h = cdb_get(cdb, ACCOUNTS_HEAD, 0);
	unsigned i, pos, len, size = (unsigned)fsize;

	if (h == NULL || fsize > (off_t)~0u)
		return 0;
	for (i = 0; i < 256; i++) {
		pos = cdb_unpack(h + 8 * i);
		len = cdb_unpack(h + 8 * i + 4);
		if (pos < ACCOUNTS_HEAD || pos > size || len > (size - pos) / 8)
			return 0;
	}
	return 1;
}

/*
 * accounts_scan - read every entry through; problems said (strict: each
 * one, as an error; else the first few, as warnings). The entries with a
 * problem, or -1 when the file is not a well-formed cdb.
 */
static long
accounts_scan(struct cdb *cdb, off_t fsize, const char *path, int strict)
{
	const char *k, *v;
	unsigned pos;
	long bad = 0;
	int rc;

	if (!accounts_head_ok(cdb, fsize))
		return errno = EPROTO, -1;
	cdb_seqinit(&pos, cdb);
	while ((rc = cdb_seqnext(&pos, cdb)) > 0) {
		k = cdb_getkey(cdb);
		v = cdb_getdata(cdb);
		if (k == NULL || v == NULL)
			return errno = EPROTO, -1;
		bad += accounts_entry(path, k, cdb_keylen(cdb), v,
		    cdb_datalen(cdb), strict || bad < ACCOUNTS_SHOW_MAX, strict);
	}
	if (rc < 0)
		return errno = EPROTO, -1;
	if (!strict && bad > ACCOUNTS_SHOW_MAX)
		msg_warn("accounts_map %s: entries with a problem: %ld in all "
		    "(authguard-policyd -t names each)", path, bad);
	return bad;
}

/* accounts_free - a cdb and its descriptor */
static void
accounts_free(struct cdb *cdb, int fd)
{
	if (cdb) {
		cdb_free(cdb);
		free(cdb);
	}
	if (fd >= 0)
		close(fd);
}

/* accounts_id_of - which file st is */
static void
accounts_id_of(struct accounts_id *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

/* accounts_id_is - is st that file, unchanged? */
static int
accounts_id_is(const struct accounts_id *id, const struct stat *st)
{
	return id->dev == st->st_dev && id->ino == st->st_ino &&
	    id->size == st->st_size && id->mtime.tv_sec == st->st_mtim.tv_sec &&
	    id->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * accounts_attach - open path as a cdb map and read it through (strict:
 * problems as errors, and any is a failure): 0 with the descriptor, the
 * cdb and which file it is, or -1 and why
 */
static int
accounts_attach(const char *path, int strict, int *fdp, struct cdb **cdbp,
    struct accounts_id *id, char *why, size_t len)
{
	struct stat st;
	struct cdb *cdb;
	long bad;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return snprintf(why, len, "%s", strerror(errno)), -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s", "not a regular file");
		close(fd);
		return -1;
	}
	cdb = xcalloc(1, sizeof(*cdb));
	if (cdb_init(cdb, fd) < 0) {
		snprintf(why, len, "not a cdb map (%s): build it with postmap "
		    "cdb:FILE", errno == EPROTO ? "too short" : strerror(errno));
		free(cdb);
		close(fd);
		return -1;
	}
	if ((bad = accounts_scan(cdb, st.st_size, path, strict)) < 0 || (strict && bad)) {
		if (bad < 0)
			snprintf(why, len, "not a cdb map (damaged): build it with "
			    "postmap cdb:FILE");
		else
			snprintf(why, len, "entries with a problem: %ld", bad);
		accounts_free(cdb, fd);
		return -1;
	}
	*fdp = fd;
	*cdbp = cdb;
	accounts_id_of(id, &st);
	return 0;
}

/* accounts_open - open and read through the map; 0, or -1 (why: m->err) */
int
accounts_open(struct accounts_map *m, const char *path)
{
	struct cdb *cdb;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (path == NULL || *path == 0)
		return 0;
	m->path = xstrdup(path);
	if (accounts_attach(m->path, 0, &m->fd, &cdb, &m->cur, m->err,
	    sizeof(m->err)) < 0)
		return -1;
	m->cdb = cdb;
	return 0;
}

/* accounts_check - -t: the map read through, every problem an error; 0 or -1 */
int
accounts_check(const char *path)
{
	struct accounts_id id;
	struct cdb *cdb;
	char why[ACCOUNTS_ERR_MAX];
	int fd;

	if (accounts_attach(path, 1, &fd, &cdb, &id, why, sizeof(why)) < 0) {
		msg_error("accounts_map %s: %s", path, why);
		return -1;
	}
	accounts_free(cdb, fd);
	return 0;
}

/* accounts_release - drop the map in use */
static void
accounts_release(struct accounts_map *m)
{
	accounts_free(m->cdb, m->fd);
	m->cdb = NULL;
	m->fd = -1;
}

/* accounts_replace - the file at the path changed: use it if it reads */
static int
accounts_replace(struct accounts_map *m, const struct stat *st)
{
	struct cdb *cdb;
	struct accounts_id id;
	char why[ACCOUNTS_ERR_MAX];
	int fd;

	if (accounts_attach(m->path, 0, &fd, &cdb, &id, why, sizeof(why)) == 0) {
		accounts_release(m);
		m->fd = fd;
		m->cdb = cdb;
		m->cur = id;
		m->have_bad = 0;
		msg_info("accounts_map %s: new map in use", m->path);
		return 0;
	}
	m->have_bad = 1;
	accounts_id_of(&m->bad, st);
	if (m->cdb && st->st_ino == m->cur.ino && st->st_dev == m->cur.dev) {
		/* rewritten in place: what is mapped is the broken file now */
		accounts_release(m);
		msg_error("accounts_map %s: %s; it was rewritten in place "
		    "(postmap renames a new file into place instead): no map in "
		    "use, every AUTH fails temporarily until a readable one is in "
		    "place", m->path, why);
		return -1;
	}
	if (m->cdb)
		msg_error("accounts_map %s: new file not used: %s; the map read "
		    "before stays in use", m->path, why);
	else
		msg_error("accounts_map %s: %s; no map in use, every AUTH fails "
		    "temporarily until a readable one is in place", m->path, why);
	return m->cdb ? 0 : -1;
}

/* accounts_refresh - the file at the path, if it changed and reads; 0 or -1 */
static int
accounts_refresh(struct accounts_map *m)
{
	struct stat st;

	if (stat(m->path, &st) < 0) {
		if (!m->gone++)
			msg_error("accounts_map %s: %s; %s", m->path,
			    strerror(errno), m->cdb ? "the map read before stays "
			    "in use (its file is still open)" : "no map in use, "
			    "every AUTH fails temporarily until one is in place");
		return m->cdb ? 0 : -1;
	}
	if (m->gone) {
		m->gone = 0;
		msg_info("accounts_map %s: in place again", m->path);
	}
	if (m->cdb && accounts_id_is(&m->cur, &st))
		return 0;
	if (m->have_bad && accounts_id_is(&m->bad, &st))
		return m->cdb ? 0 : -1;		/* said when it was tried */
	return accounts_replace(m, &st);
}

/* accounts_lookup - flags for a login name (lower-cased here) */
int
accounts_lookup(struct accounts_map *m, const char *user, unsigned *flags)
{
	struct cdb *cdb;
	const char *err, *v = NULL;
	size_t len = strlen(user);
	char *key;
	int rc;

	*flags = 0;
	if (m->path == NULL)
		return 0;
	if (accounts_refresh(m) < 0)
		return -1;
	cdb = m->cdb;
	key = xstrdup(user);
	str_lower(key);
	rc = len > ~0u ? 0 : cdb_find(cdb, key, (unsigned)len);
	free(key);
	if (rc > 0 && (v = cdb_getdata(cdb)) == NULL)
		rc = -1;
	if (rc < 0) {
		msg_error("accounts_map %s: read error: %s", m->path,
		    strerror(errno));
		return -1;
	}
	if (rc == 0)
		return 0;
	/* an unknown flag was named when the map was read; the rest apply */
	(void)accounts_flags_parse(v, cdb_datalen(cdb), flags, &err);
	return 1;
}

/* accounts_close - release everything */
void
accounts_close(struct accounts_map *m)
{
	accounts_release(m);
	free(m->path);
	m->path = NULL;
}
