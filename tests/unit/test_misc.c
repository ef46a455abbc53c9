/*++
/* NAME
/*	test_misc 1
/* SUMMARY
/*	unit tests: causes, refs, log lines, id map
/*--*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "cause.h"
#include "idmap.h"
#include "logline.h"
#include "msg.h"
#include "ref.h"
#include "unit.h"
#include "util.h"

TEST(cause_catalogue_complete)
{
	int i;

	for (i = 1; i < CAUSE_COUNT; i++) {
		const struct cause_info *ci = cause_info((enum cause)i);

		CHECK(ci->id && *ci->id && ci->client_text && *ci->client_text);
		CHECK(ci->hint && strlen(ci->hint) > 20);
		CHECK(cause_by_id(ci->id) == (enum cause)i);
		CHECK(strchr(ci->client_text, '\t') == NULL);
		CHECK(strchr(ci->client_text, '\n') == NULL);
		CHECK(ci->title && strlen(ci->title) > 10);
		CHECK(ci->tell && strlen(ci->tell) > 40);
		CHECK(strpbrk(ci->title, "\t\n\\") == NULL);
		CHECK(strpbrk(ci->tell, "\t\n\\") == NULL);
	}
	CHECK(cause_by_id("no-such-cause") == CAUSE_COUNT);
}

/*
 * The man page names every cause with its client text, remedy, plain words
 * and what to tell the user, word for word.
 */
TEST(cause_man_page_matches_catalogue)
{
	static char page[64 * 1024];
	FILE *fp = fopen("doc/authguard-causes.7", "r");
	char entry[512];
	size_t n;
	int i;

	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	n = fread(page, 1, sizeof(page) - 1, fp);
	fclose(fp);
	page[n] = 0;
	for (i = 1; i < CAUSE_COUNT; i++) {
		const struct cause_info *ci = cause_info((enum cause)i);

		snprintf(entry, sizeof(entry), ".B %s\nClient: %s\n", ci->id,
		    ci->client_text);
		CHECK(strstr(page, entry) != NULL);
		snprintf(entry, sizeof(entry), "Remedy: %s\n.br\nIn plain words: "
		    "%s\n.br\n", ci->hint, ci->title);
		CHECK(strstr(page, entry) != NULL);
		snprintf(entry, sizeof(entry), "Tell the user: %s\n", ci->tell);
		CHECK(strstr(page, entry) != NULL);
	}
}

TEST(cause_client_detail)
{
	CHECK_STR(cause_client_text(CAUSE_BAD_PASSWORD, DETAIL_SAFE),
	    CAUSE_GENERIC_TEXT);
	CHECK_STR(cause_client_text(CAUSE_UNKNOWN_USER, DETAIL_SAFE),
	    CAUSE_GENERIC_TEXT);
	CHECK_STR(cause_client_text(CAUSE_TLS_REQUIRED, DETAIL_SAFE),
	    "TLS is required before AUTH: use STARTTLS on port 587 or TLS on "
	    "port 465");
	CHECK(strcmp(cause_client_text(CAUSE_APP_PASSWORD_SPACES, DETAIL_SAFE),
	    CAUSE_GENERIC_TEXT) != 0);
	CHECK(strcmp(cause_client_text(CAUSE_MALFORMED_RESPONSE, DETAIL_SAFE),
	    CAUSE_GENERIC_TEXT) != 0);
	CHECK(strcmp(cause_client_text(CAUSE_AUTHZID_MISMATCH, DETAIL_SAFE),
	    CAUSE_GENERIC_TEXT) != 0);
	CHECK(strcmp(cause_client_text(CAUSE_BAD_PASSWORD, DETAIL_FULL),
	    CAUSE_GENERIC_TEXT) != 0);
	CHECK(cause_client_text(CAUSE_TLS_REQUIRED, DETAIL_NONE) == NULL);
}

TEST(cause_classification)
{
	CHECK(cause_from_code("temp_fail") == CAUSE_AUTH_SERVICE_UNAVAILABLE);
	CHECK(cause_from_code("user_disabled") == CAUSE_ACCOUNT_DISABLED);
	CHECK(cause_from_code("pass_expired") == CAUSE_PASSWORD_EXPIRED);
	CHECK(cause_from_code("authz_fail") == CAUSE_AUTHZID_MISMATCH);
	CHECK(cause_from_code(NULL) == CAUSE_NONE);
	CHECK(cause_from_code("whatever") == CAUSE_NONE);
	CHECK(cause_after_fail("abcd efgh ijkl mnop", 0, 0) ==
	    CAUSE_APP_PASSWORD_SPACES);
	CHECK(cause_after_fail("abcd efgh ijkl mnop", 0, 1) ==
	    CAUSE_APP_PASSWORD_SPACES);
	CHECK(cause_after_fail("x", 0, 0) == CAUSE_UNKNOWN_USER);
	CHECK(cause_after_fail("x", 0, 1) == CAUSE_BAD_PASSWORD);
	CHECK(cause_after_fail("x", 0, -1) == CAUSE_BAD_CREDENTIALS);
	CHECK(cause_after_fail("Carol-Pass-1", ACCT_APP_PASSWORD_REQUIRED, 1) ==
	    CAUSE_APP_PASSWORD_REQUIRED);
	CHECK(cause_after_fail("abcdefghijklmnop", ACCT_APP_PASSWORD_REQUIRED,
	    1) == CAUSE_BAD_PASSWORD);
	CHECK(cause_after_fail(NULL, ACCT_APP_PASSWORD_REQUIRED, 1) ==
	    CAUSE_BAD_PASSWORD);
}

TEST(ref_format_and_uniqueness)
{
	unsigned char rnd[32];
	char r[REF_LEN + 1], seen[2000][REF_LEN + 1];
	int i, j, dup = 0;

	memset(rnd, 255, sizeof(rnd));
	CHECK(ref_from_bytes(rnd, sizeof(rnd), r) < 0);	/* all rejected */
	for (i = 0; i < 32; i++)
		rnd[i] = (unsigned char)i;
	CHECK(ref_from_bytes(rnd, sizeof(rnd), r) == REF_LEN);
	CHECK_STR(r, "0123456789");
	rnd[0] = 252;		/* rejected: would bias the alphabet */
	CHECK(ref_from_bytes(rnd, sizeof(rnd), r) == REF_LEN + 1);
	for (i = 0; i < 2000; i++) {
		ref_new(seen[i]);
		CHECK(ref_valid(seen[i]));
	}
	for (i = 0; i < 2000; i++)
		for (j = i + 1; j < 2000; j++)
			dup += strcmp(seen[i], seen[j]) == 0;
	CHECK(dup == 0);
	CHECK(!ref_valid("abc"));
	CHECK(!ref_valid("0123456789a"));
}

/* line - one logfmt line with a single value */
static char *
line(enum log_format fmt, const char *val, size_t len)
{
	struct logline l;
	char *s;

	logline_begin(&l, fmt);
	logline_str(&l, "event", "auth");
	logline_mem(&l, "user", val, len);
	s = strdup(logline_end(&l));
	logline_free(&l);
	return s;
}

TEST(open_private_replaces_links_and_modes)
{
	char dir[] = "/tmp/ag-unit-XXXXXX", path[64], target[64];
	struct stat st;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.tmp", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	CHECK((fd = open(target, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	CHECK(symlink(target, path) == 0);		/* planted */
	CHECK((fd = open_private(path)) >= 0);
	CHECK(write(fd, "x", 1) == 1);
	close(fd);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(stat(target, &st) == 0 && st.st_size == 0);	/* untouched */
	chmod(path, 0644);				/* left over, too open */
	CHECK((fd = open_private(path)) >= 0);
	close(fd);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	unlink(path);
	unlink(target);
	rmdir(dir);
}

TEST(msg_text_stays_one_line)
{
	char s[] = "peer said \"a\r\nb\t\033[31m\x7f\" \xc3\xa9 ok";

	CHECK(strcmp(msg_printable(s), "peer said \"a??b??[31m?\" \xc3\xa9 ok") == 0);
}

TEST(logline_long_values_cut_and_marked)
{
	char val[10240], want[600];
	char *s;

	memset(val, 'x', sizeof(val));
	val[3] = '\n';
	s = line(LOG_FORMAT_LOGFMT, val, sizeof(val));
	snprintf(want, sizeof(want), "...(+%zu bytes)\"",
	    sizeof(val) - LOGLINE_VALUE_MAX);
	CHECK(strlen(s) < LOGLINE_VALUE_MAX + 64);
	CHECK(strlen(s) > strlen(want) &&
	    strcmp(s + strlen(s) - strlen(want), want) == 0);
	CHECK(strncmp(s, "event=auth user=\"xxx\\nxx",
	    strlen("event=auth user=\"xxx\\nxx")) == 0);
	free(s);
	s = line(LOG_FORMAT_JSON, val, sizeof(val));
	CHECK(strlen(s) < LOGLINE_VALUE_MAX + 64 && s[strlen(s) - 1] == '}');
	free(s);
	s = line(LOG_FORMAT_LOGFMT, val + 4, LOGLINE_VALUE_MAX);	/* at the cap: whole */
	CHECK(strstr(s, "bytes)") == NULL && strlen(s) == 16 + LOGLINE_VALUE_MAX);
	free(s);
}

TEST(logline_escaping)
{
	char *s;

	s = line(LOG_FORMAT_LOGFMT, "alice", 5);
	CHECK_STR(s, "event=auth user=alice");
	free(s);
	s = line(LOG_FORMAT_LOGFMT, "a b", 3);
	CHECK_STR(s, "event=auth user=\"a b\"");
	free(s);
	s = line(LOG_FORMAT_LOGFMT, "", 0);
	CHECK_STR(s, "event=auth user=\"\"");
	free(s);
	s = line(LOG_FORMAT_LOGFMT, "x\r\nevent=pass\t\"\\", 16);
	CHECK_STR(s, "event=auth user=\"x\\r\\nevent=pass\\t\\\"\\\\\"");
	free(s);
	s = line(LOG_FORMAT_LOGFMT, "a\0b\xff\x01", 5);
	CHECK_STR(s, "event=auth user=\"a\\x00b\\xff\\x01\"");
	free(s);
	s = line(LOG_FORMAT_LOGFMT, "j\xc3\xb6rg", 5);	/* valid UTF-8 */
	CHECK_STR(s, "event=auth user=\"j\xc3\xb6rg\"");
	free(s);
	s = line(LOG_FORMAT_JSON, "a\"b\n\xff", 5);
	CHECK_STR(s, "{\"event\":\"auth\",\"user\":\"a\\\"b\\n\\u00ff\"}");
	free(s);
}

TEST(logline_utf8)
{
	CHECK(utf8_valid_prefix((const unsigned char *)"abc", 3) == 3);
	CHECK(utf8_valid_prefix((const unsigned char *)"\xc3\xb6", 2) == 2);
	CHECK(utf8_valid_prefix((const unsigned char *)"\xc0\x80", 2) == 0);
	CHECK(utf8_valid_prefix((const unsigned char *)"\xed\xa0\x80", 3) == 0);
	CHECK(utf8_valid_prefix((const unsigned char *)"a\xe2\x82", 3) == 1);
	CHECK(utf8_valid_prefix((const unsigned char *)"\xf0\x9f\x98\x80", 4)
	    == 4);
}

TEST(idmap_basics)
{
	struct idmap m;
	static int vals[5000];
	unsigned i;
	int popped = 0;

	idmap_init(&m);
	for (i = 1; i <= 5000; i++)
		idmap_put(&m, i * 7, &vals[i - 1]);
	CHECK(idmap_count(&m) == 5000);
	CHECK(idmap_get(&m, 7 * 77) == &vals[76]);
	CHECK(idmap_get(&m, 8) == NULL);
	CHECK(idmap_del(&m, 7 * 77) == &vals[76]);
	CHECK(idmap_get(&m, 7 * 77) == NULL);
	CHECK(idmap_del(&m, 7 * 77) == NULL);
	while (idmap_pop(&m))
		popped++;
	CHECK(popped == 4999 && idmap_count(&m) == 0);
	idmap_free(&m);
}
