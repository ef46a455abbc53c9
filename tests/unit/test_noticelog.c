/*++
/* NAME
/*	test_noticelog 1
/* SUMMARY
/*	unit tests: the journal of notices (policy/noticelog.c)
/* DESCRIPTION
/*	A line written by noticelog_append() reads back the same, even
/*	with a user name of quotes, spaces, control bytes and an equals
/*	sign; a line cut short, or without time or kind, is not a row;
/*	the rows shown are bounded, newest first; the file is 0600.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../policy/noticelog.h"
#include "unit.h"

/* row - a row of the given user and result */
static struct notify_row
row(uint32_t t, const char *user, const char *result)
{
	struct notify_row r;

	memset(&r, 0, sizeof(r));
	r.t = t;
	snprintf(r.kind, sizeof(r.kind), "lock");
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.to, sizeof(r.to), "owner@example.org");
	snprintf(r.ip, sizeof(r.ip), "2001:db8::7");
	snprintf(r.ref, sizeof(r.ref), "ABCDEFGH12");
	snprintf(r.message_id, sizeof(r.message_id), "<ab12.authguard@mx>");
	snprintf(r.result, sizeof(r.result), "%s", result);
	return r;
}

/* read_file - a whole small file */
static char *
read_file(const char *path, size_t *len)
{
	static char text[65536];
	FILE *fp = fopen(path, "r");

	*len = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
	text[*len] = 0;
	if (fp)
		fclose(fp);
	return text;
}

static struct notify_row got[8];
static int ngot;

/* collect - noticelog_read's callback */
static void
collect(void *arg, const struct notify_row *r)
{
	(void)arg;
	if (ngot < 8)
		got[ngot++] = *r;
}

/* Appended lines read back as they were written; the file is 0600. */
TEST(noticelog_round_trip)
{
	char dir[] = "/tmp/noticelog-XXXXXX", path[128], *text;
	static const char odd[] = "we\"ird user=x\\ \x01\n\xff";
	struct notify_row a = row(1796000000, odd, "sent");
	struct notify_row b = row(1796000060, "bob", "failed");
	struct stat st;
	size_t len;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(noticelog_open(dir, NULL, NULL) == 0);
	noticelog_append(&a, "");
	noticelog_append(&b, "postdrop: warning: \"x\"");
	snprintf(path, sizeof(path), "%s/notices", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	text = read_file(path, &len);
	CHECK(strchr(text, '\x01') == NULL);	/* escaped, one line each */
	ngot = 0;
	noticelog_read(text, len, collect, NULL);
	CHECK(ngot == 2);
	CHECK(got[0].t == a.t);
	CHECK_STR(got[0].user, odd);
	CHECK_STR(got[0].kind, "lock");
	CHECK_STR(got[0].to, "owner@example.org");
	CHECK_STR(got[0].ip, "2001:db8::7");
	CHECK_STR(got[0].ref, "ABCDEFGH12");
	CHECK_STR(got[0].message_id, "<ab12.authguard@mx>");
	CHECK_STR(got[0].result, "sent");
	CHECK_STR(got[1].user, "bob");
	CHECK_STR(got[1].result, "failed");
	/* the rows shown: newest first */
	CHECK(noticelog_row(0) && strcmp(noticelog_row(0)->user, "bob") == 0);
	CHECK(noticelog_row(2) == NULL);
	/* opened again: the file's rows are back */
	CHECK(noticelog_open(dir, NULL, NULL) == 0);
	CHECK(noticelog_row(1) && noticelog_row(1)->t == a.t);
	noticelog_close();
	unlink(path);
	rmdir(dir);
}

/* Not rows: a line cut short, without time or kind, a bad time. */
TEST(noticelog_refuses_broken_lines)
{
	static const char text[] =
	    "kind=lock user=a result=sent\n"
	    "time=12 user=a result=sent\n"
	    "time=x12 kind=lock\n"
	    "time=99999999999 kind=lock\n"
	    "time=\"12 kind=lock\n"
	    "time=13 kind=lock user=\"unclosed\n"
	    "time=14 kind=lock user=cut";
	struct notify_row r;

	ngot = 0;
	noticelog_read(text, strlen(text), collect, NULL);
	CHECK(ngot == 1);		/* the unclosed quote ends at the line */
	CHECK(ngot == 1 && got[0].t == 13 && strcmp(got[0].user, "unclosed") == 0);
	CHECK(noticelog_parse("time=5 kind=lock", 16, &r) == 0 && r.t == 5);
	CHECK(noticelog_parse("", 0, &r) < 0);
}

/* The rows shown are bounded: the oldest go. */
TEST(noticelog_rows_bounded)
{
	struct notify_row r;
	unsigned i;

	noticelog_close();
	for (i = 0; i < NOTICELOG_ROWS_MAX + 10; i++) {
		r = row(i + 1, "u", "sent");
		noticelog_keep(&r);
	}
	CHECK(noticelog_row(0)->t == NOTICELOG_ROWS_MAX + 10);
	CHECK(noticelog_row(NOTICELOG_ROWS_MAX - 1)->t == 11);
	CHECK(noticelog_row(NOTICELOG_ROWS_MAX) == NULL);
	noticelog_close();
}

/* A journal past twice the tail read is cut to its tail as it grows. */
TEST(noticelog_cut_when_grown)
{
	char dir[] = "/tmp/noticelog-XXXXXX", path[128], user[201];
	struct notify_row r;
	struct stat st;
	unsigned i, n = 3 * NOTICELOG_READ_MAX / 300;

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = 0;
	CHECK(mkdtemp(dir) != NULL);
	CHECK(noticelog_open(dir, NULL, NULL) == 0);
	for (i = 1; i <= n; i++) {
		r = row(i, user, "skipped");
		noticelog_append(&r, "no-address");
	}
	snprintf(path, sizeof(path), "%s/notices", dir);
	CHECK(stat(path, &st) == 0 && st.st_size <= 2 * NOTICELOG_READ_MAX + 400);
	CHECK(st.st_size >= NOTICELOG_READ_MAX / 2 && (st.st_mode & 0777) == 0600);
	CHECK(noticelog_open(dir, NULL, NULL) == 0);	/* the newest are there, whole */
	CHECK(noticelog_row(0) && noticelog_row(0)->t == n);
	CHECK(noticelog_row(NOTICELOG_ROWS_MAX - 1) &&
	    noticelog_row(NOTICELOG_ROWS_MAX - 1)->t == n - NOTICELOG_ROWS_MAX + 1);
	CHECK(noticelog_row(0) && strcmp(noticelog_row(0)->user, user) == 0);
	noticelog_close();
	unlink(path);
	rmdir(dir);
}
