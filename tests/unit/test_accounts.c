/*++
/* NAME
/*	test_accounts 1
/* SUMMARY
/*	unit tests: the accounts_map flags and how the map fails
/* DESCRIPTION
/*	A flag restricts an account: an entry with a misspelled flag
/*	keeps the flags it spells right, and a map that is missing,
/*	unreadable or not a cdb file is an error at open, never an empty
/*	map. Once open, a map that goes away or whose replacement cannot
/*	be read stays in use. The maps are built with tinycdb's cdb(1),
/*	as an admin would; what is logged is read through msg_set_sink().
/*--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "msg.h"
#include "unit.h"
#include "util.h"

static char acct_log[16384];		/* what was logged, one line each */
static int acct_errors, acct_warnings;

/* acct_sink - keep what is logged */
static void
acct_sink(int pri, const char *level, const char *text)
{
	size_t n = strlen(acct_log);

	(void)pri;
	if (level && strcmp(level, "error") == 0)
		acct_errors++;
	if (level && strcmp(level, "warning") == 0)
		acct_warnings++;
	snprintf(acct_log + n, sizeof(acct_log) - n, "%s: %s\n",
	    level ? level : "info", text);
}

/* acct_log_reset - forget what was logged */
static void
acct_log_reset(void)
{
	acct_log[0] = 0;
	acct_errors = acct_warnings = 0;
	msg_set_sink(acct_sink);
}

/* acct_dir - a fresh directory for maps */
static int
acct_dir(char *dir)
{
	strcpy(dir, "/tmp/agacctXXXXXX");
	return mkdtemp(dir) != NULL;
}

/* acct_make - path built from "key value" lines, as cdb -c -m makes it */
static int
acct_make(const char *path, const char *lines)
{
	char src[300], cmd[700];
	FILE *fp;

	snprintf(src, sizeof(src), "%s.src", path);
	if ((fp = fopen(src, "w")) == NULL)
		return -1;
	fputs(lines, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "cdb -c -m %s < %s", path, src);
	return system(cmd) == 0 ? 0 : -1;
}

/* acct_write - path holds text (not a cdb) */
static void
acct_write(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	if (fp) {
		fwrite(text, 1, len, fp);
		fclose(fp);
	}
}

/* acct_rmdir - remove a test directory */
static void
acct_rmdir(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

TEST(account_flags)
{
	const char *err;
	unsigned f;

	CHECK(accounts_flags_parse("disabled", 8, &f, &err) == 0 &&
	    f == ACCT_DISABLED);
	CHECK(accounts_flags_parse("app-password-required, oauth-only", 33, &f,
	    &err) == 0 && f == (ACCT_APP_PASSWORD_REQUIRED | ACCT_OAUTH_ONLY));
	CHECK(accounts_flags_parse("no-limit disabled\n", 18, &f, &err) == 0 &&
	    f == (ACCT_NO_LIMIT | ACCT_DISABLED));
	CHECK(accounts_flags_parse("", 0, &f, &err) == 0 && f == 0);
	CHECK(accounts_flags_parse("disabled\0", 9, &f, &err) == 0 &&
	    f == ACCT_DISABLED);
	CHECK(accounts_flags_parse("dis\0abled", 9, &f, &err) < 0 && f == 0);
	CHECK(accounts_flags_parse("disable", 7, &f, &err) < 0);
	CHECK(accounts_flags_parse("disabledx", 9, &f, &err) < 0);
}

/* One flag misspelled: the others still apply (the entry is not dropped). */
TEST(account_flags_unknown_keeps_known)
{
	const char *err = NULL;
	unsigned f;

	CHECK(accounts_flags_parse("oauth-only, no_limit", 20, &f, &err) < 0 &&
	    f == ACCT_OAUTH_ONLY && err && strcmp(err, "unknown flag") == 0);
	CHECK(accounts_flags_parse("no_limit,disabled,oauth-only", 28, &f,
	    &err) < 0 && f == (ACCT_DISABLED | ACCT_OAUTH_ONLY));
	CHECK(accounts_flags_parse("Disabled", 8, &f, &err) < 0 && f == 0);
	CHECK(accounts_flags_parse("disabled dis\0abled", 18, &f, &err) < 0 &&
	    f == ACCT_DISABLED);
}

TEST(account_flags_unknown_named)
{
	char out[64];

	CHECK(accounts_flags_unknown("oauth-only, no_limit", 20, out,
	    sizeof(out)) == 1);
	CHECK_STR(out, "\"no_limit\"");
	CHECK(accounts_flags_unknown("oauth-only disabled", 19, out,
	    sizeof(out)) == 0);
	CHECK_STR(out, "");
	CHECK(accounts_flags_unknown("x\ty,disabled z\"\x1b", 17, out,
	    sizeof(out)) == 3);
	CHECK_STR(out, "\"x\", \"y\", \"z??\"");
	/* cut, never overrun */
	CHECK(accounts_flags_unknown("aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbb", 33,
	    out, 20) == 2);
	CHECK(strlen(out) == 19 && strcmp(out + 16, "...") == 0);
}

TEST(account_flags_format)
{
	char out[80];

	accounts_flags_format(ACCT_OAUTH_ONLY | ACCT_NO_LIMIT, out, sizeof(out));
	CHECK_STR(out, "oauth-only, no-limit");
	accounts_flags_format(0, out, sizeof(out));
	CHECK_STR(out, "none");
}

TEST(account_map_cdb)
{
	char dir[32], path[128];
	struct accounts_map m;
	unsigned f;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/accounts", dir);
	CHECK(acct_make(path, "bob@example.test disabled\n"
	    "carol@example.test app-password-required\n") == 0);
	CHECK(accounts_open(&m, path) == 0);
	CHECK(accounts_lookup(&m, "BOB@Example.Test", &f) == 1 &&
	    f == ACCT_DISABLED);
	CHECK(accounts_lookup(&m, "carol@example.test", &f) == 1 &&
	    f == ACCT_APP_PASSWORD_REQUIRED);
	CHECK(accounts_lookup(&m, "alice@example.test", &f) == 0 && f == 0);
	/* a rebuilt map takes effect without reopening by hand */
	CHECK(acct_make(path, "alice@example.test oauth-only\n") == 0);
	CHECK(accounts_lookup(&m, "alice@example.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(accounts_lookup(&m, "bob@example.test", &f) == 0);
	accounts_close(&m);
	/* no map configured: no flags, no error */
	CHECK(accounts_open(&m, "") == 0);
	CHECK(accounts_lookup(&m, "bob@example.test", &f) == 0 && f == 0);
	accounts_close(&m);
	acct_rmdir(dir);
}

/* dave@lab.test "oauth-only, no_limit": oauth-only still holds; said at open. */
TEST(account_map_unknown_flag_warned_known_kept)
{
	char dir[32], path[128];
	struct accounts_map m;
	unsigned f;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/accounts", dir);
	CHECK(acct_make(path, "dave@lab.test oauth-only, no_limit\n"
	    "erin@lab.test disabled\n") == 0);
	acct_log_reset();
	CHECK(accounts_open(&m, path) == 0);
	CHECK(acct_warnings == 1 && acct_errors == 0);
	CHECK(strstr(acct_log, "key \"dave@lab.test\": unknown flag \"no_limit\"")
	    != NULL);
	CHECK(strstr(acct_log, "other flags apply: oauth-only") != NULL);
	CHECK(accounts_lookup(&m, "Dave@Lab.Test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(accounts_lookup(&m, "erin@lab.test", &f) == 1 &&
	    f == ACCT_DISABLED);
	CHECK(acct_warnings == 1);	/* named once, at open */
	accounts_close(&m);
	/* -t: an error naming the key and the flag, and a failure */
	acct_log_reset();
	CHECK(accounts_check(path) < 0);
	CHECK(strstr(acct_log, "error: accounts_map") != NULL);
	CHECK(strstr(acct_log, "key \"dave@lab.test\": unknown flag \"no_limit\"")
	    != NULL);
	/* a key that can never match: upper case (cdb -m does not fold) */
	CHECK(acct_make(path, "Frank@Lab.Test disabled\n") == 0);
	acct_log_reset();
	CHECK(accounts_check(path) < 0);
	CHECK(strstr(acct_log, "key \"Frank@Lab.Test\" has upper-case letters")
	    != NULL);
	CHECK(acct_make(path, "frank@lab.test disabled\n") == 0);
	acct_log_reset();
	CHECK(accounts_check(path) == 0 && acct_errors == 0);
	msg_set_sink(NULL);
	acct_rmdir(dir);
}

/* Missing, unreadable, not a cdb: an error at open, never an empty map. */
TEST(account_map_open_fails_closed)
{
	char dir[32], path[128], junk[4096];
	struct accounts_map m;
	unsigned f;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	acct_log_reset();
	snprintf(path, sizeof(path), "%s/missing.cdb", dir);
	CHECK(accounts_open(&m, path) < 0);
	CHECK(strstr(m.err, "No such file") != NULL);
	/* its status ignored: lookups fail, they do not say "no flags" */
	CHECK(accounts_lookup(&m, "bob@example.test", &f) < 0 && f == 0);
	accounts_close(&m);
	CHECK(accounts_check(path) < 0);
	snprintf(path, sizeof(path), "%s/source", dir);	/* the text, not the cdb */
	memset(junk, '#', sizeof(junk));
	acct_write(path, "bob@example.test disabled\n", 26);
	CHECK(accounts_open(&m, path) < 0 && strstr(m.err, "not a cdb") != NULL);
	accounts_close(&m);
	acct_write(path, junk, sizeof(junk));		/* long enough to map */
	CHECK(accounts_open(&m, path) < 0 && strstr(m.err, "not a cdb") != NULL);
	accounts_close(&m);
	acct_write(path, "", 0);
	CHECK(accounts_open(&m, path) < 0 && strstr(m.err, "not a cdb") != NULL);
	accounts_close(&m);
	CHECK(accounts_open(&m, dir) < 0 &&
	    strstr(m.err, "not a regular file") != NULL);
	accounts_close(&m);
	if (geteuid() != 0) {		/* root reads a mode 0 file */
		CHECK(acct_make(path, "bob@example.test disabled\n") == 0);
		CHECK(chmod(path, 0) == 0);
		CHECK(accounts_open(&m, path) < 0 &&
		    strstr(m.err, "Permission denied") != NULL);
		accounts_close(&m);
	}
	msg_set_sink(NULL);
	acct_rmdir(dir);
}

/*
 * Open, then the file removed, then a text file renamed into its place:
 * the map read before stays in use, one error each; a good map renamed
 * into place is used.
 */
TEST(account_map_gone_keeps_the_last_good)
{
	char dir[32], path[128], other[160];
	struct accounts_map m;
	unsigned f;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/accounts.cdb", dir);
	snprintf(other, sizeof(other), "%s/new.cdb", dir);
	CHECK(acct_make(path, "dave@lab.test oauth-only\n") == 0);
	CHECK(accounts_open(&m, path) == 0);
	acct_log_reset();
	CHECK(unlink(path) == 0);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(acct_errors == 1 && strstr(acct_log, "No such file") &&
	    strstr(acct_log, "stays in use"));
	acct_write(other, "dave@lab.test\n", 14);
	CHECK(rename(other, path) == 0);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	CHECK(acct_errors == 2 && strstr(acct_log, "new file not used"));
	CHECK(acct_make(other, "dave@lab.test disabled\n") == 0);
	CHECK(rename(other, path) == 0);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_DISABLED);
	CHECK(acct_errors == 2 && strstr(acct_log, "new map in use"));
	accounts_close(&m);
	msg_set_sink(NULL);
	acct_rmdir(dir);
}

/* Rewritten in place and broken: what was mapped is gone; lookups fail. */
TEST(account_map_broken_in_place_fails)
{
	char dir[32], path[128];
	struct accounts_map m;
	unsigned f;
	int fd;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/accounts.cdb", dir);
	CHECK(acct_make(path, "dave@lab.test oauth-only\n") == 0);
	CHECK(accounts_open(&m, path) == 0);
	acct_log_reset();
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "x\n", 2) == 2);
	close(fd);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) < 0 && f == 0);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) < 0 && f == 0);
	CHECK(acct_errors == 1 && strstr(acct_log, "rewritten in place"));
	CHECK(acct_make(path, "dave@lab.test oauth-only\n") == 0);
	CHECK(accounts_lookup(&m, "dave@lab.test", &f) == 1 &&
	    f == ACCT_OAUTH_ONLY);
	accounts_close(&m);
	msg_set_sink(NULL);
	acct_rmdir(dir);
}

/* Every name the gate accepts (SASL_FIELD_MAX = 1024 bytes) is looked up whole. */
TEST(account_map_long_names)
{
	static const size_t lens[] = {127, 128, 255, 256, 1023, 1024, 4000};
	char dir[32], path[128], *lines, *name;
	struct accounts_map m;
	size_t i, n = 0;
	unsigned f;

	if (!acct_dir(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/accounts.cdb", dir);
	lines = xcalloc(1, 16 * 4096);
	name = xcalloc(1, 4096);
	for (i = 0; i < NELEM(lens); i++) {
		memset(name, 'a' + (int)i, lens[i] - 13);
		strcpy(name + lens[i] - 13, "@example.test");
		n += (size_t)sprintf(lines + n, "%s %s\n", name, i % 2 ?
		    "disabled" : "oauth-only");
	}
	CHECK(acct_make(path, lines) == 0);
	CHECK(accounts_open(&m, path) == 0);
	for (i = 0; i < NELEM(lens); i++) {
		memset(name, 'A' + (int)i, lens[i] - 13);
		strcpy(name + lens[i] - 13, "@Example.Test");
		CHECK(accounts_lookup(&m, name, &f) == 1 &&
		    f == (i % 2 ? ACCT_DISABLED : ACCT_OAUTH_ONLY));
		name[lens[i] - 1] = 'x';
		CHECK(accounts_lookup(&m, name, &f) == 0 && f == 0);
	}
	accounts_close(&m);
	free(lines);
	free(name);
	acct_rmdir(dir);
}
