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
/*	accounts_flags_parse() is the pure value parser; an unknown
/*	flag is an error. accounts_lookup() notices when the file was
/*	replaced (postmap renames a new file into place) and reopens
/*	it, so a rebuilt map takes effect without a restart. A missing
/*	or broken map is logged once and treated as empty: the password
/*	database still decides.
/*
/*	Returns 1 with flags set when found, 0 when absent, -1 on error.
/*--*/
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "msg.h"
#include "util.h"

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

/* accounts_flags_parse - "flag, flag flag" */
int
accounts_flags_parse(const char *v, size_t len, unsigned *flags,
    const char **err)
{
	static const char sep[] = ", \t\r\n";
	size_t i = 0, start;
	unsigned f;

	*flags = 0;
	while (i < len) {
		if (v[i] == 0 || memchr(sep, v[i], sizeof(sep) - 1)) {
			if (v[i] == 0 && i + 1 != len)
				return *err = "NUL inside flags", -1;
			i++;
			continue;
		}
		for (start = i; i < len && v[i] && !memchr(sep, v[i],
		    sizeof(sep) - 1); i++)
			;
		if (accounts_flag(v + start, i - start, &f) < 0)
			return *err = "unknown flag", -1;
		*flags |= f;
	}
	return 0;
}

/* accounts_open - remember the path; opened lazily */
void
accounts_open(struct accounts_map *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->path = path && *path ? xstrdup(path) : NULL;
}

/* accounts_release - drop the open file */
static void
accounts_release(struct accounts_map *m)
{
	if (m->cdb) {
		cdb_free(m->cdb);
		free(m->cdb);
		m->cdb = NULL;
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->open_ok = 0;
}

/* accounts_refresh - (re)open when the file changed */
static int
accounts_refresh(struct accounts_map *m)
{
	struct stat st;

	if (stat(m->path, &st) < 0) {
		if (!m->warned++)
			msg_error("accounts_map %s: %s; no account flags apply",
			    m->path, strerror(errno));
		accounts_release(m);
		return -1;
	}
	if (m->open_ok && st.st_ino == m->ino && st.st_dev == m->dev &&
	    st.st_mtim.tv_sec == m->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->mtime.tv_nsec)
		return 0;
	accounts_release(m);
	m->fd = open(m->path, O_RDONLY | O_CLOEXEC);
	m->cdb = xcalloc(1, sizeof(struct cdb));
	if (m->fd < 0 || cdb_init(m->cdb, m->fd) < 0) {
		if (!m->warned++)
			msg_error("accounts_map %s: cannot open as cdb: %s",
			    m->path, strerror(errno));
		accounts_release(m);
		return -1;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->mtime = st.st_mtim;
	m->open_ok = 1;
	m->warned = 0;
	return 0;
}

/* accounts_lookup - flags for a login name (lower-cased here) */
int
accounts_lookup(struct accounts_map *m, const char *user, unsigned *flags)
{
	struct cdb *cdb;
	char key[1024];
	const char *err;
	int rc;

	*flags = 0;
	if (m->path == NULL)
		return 0;
	if (accounts_refresh(m) < 0)
		return -1;
	if (str_copy(key, sizeof(key), user) < 0)
		return 0;
	str_lower(key);
	cdb = m->cdb;
	if ((rc = cdb_find(cdb, key, (unsigned)strlen(key))) <= 0)
		return rc < 0 ? -1 : 0;
	if (accounts_flags_parse(cdb_getdata(cdb), cdb_datalen(cdb), flags,
	    &err) < 0) {
		msg_warn("accounts_map %s: key \"%s\": %s; entry ignored",
		    m->path, key, err);
		*flags = 0;
		return -1;
	}
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
