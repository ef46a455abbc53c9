/*++
/* NAME
/*	test_codecs 1
/* SUMMARY
/*	unit tests: base64, SASL, Dovecot protocol lines, line reader
/*--*/
#include <stdlib.h>
#include <string.h>

#include "authproto.h"
#include "base64.h"
#include "buf.h"
#include "linereader.h"
#include "sasl.h"
#include "unit.h"
#include "util.h"

/* b64 - decode helper; returns decoded length or -1 */
static int
b64(const char *in, char *out)
{
	size_t n;

	if (base64_decode(in, strlen(in), (unsigned char *)out, &n) < 0)
		return -1;
	out[n] = 0;
	return (int)n;
}

TEST(base64_decode_valid)
{
	char out[64];

	CHECK(b64("", out) == 0);
	CHECK(b64("Zg==", out) == 1 && strcmp(out, "f") == 0);
	CHECK(b64("Zm8=", out) == 2 && strcmp(out, "fo") == 0);
	CHECK(b64("Zm9v", out) == 3 && strcmp(out, "foo") == 0);
	CHECK(b64("Zm9vYg", out) == 4 && strcmp(out, "foob") == 0);
	CHECK(b64("AGFsaWNlAHNlY3JldA==", out) == 13);
}

TEST(base64_decode_rejects)
{
	char out[64];

	CHECK(b64("Zm9v!", out) < 0);
	CHECK(b64("Zm 9v", out) < 0);
	CHECK(b64("Z", out) < 0);
	CHECK(b64("Zg=", out) < 0);
	CHECK(b64("Zg===", out) < 0);
	CHECK(b64("Zh==", out) < 0);	/* non-zero leftover bits */
	CHECK(b64("=Zg=", out) < 0);
	CHECK(b64("Zg==Zg==", out) < 0);
}

TEST(base64_roundtrip)
{
	unsigned char in[256], out[400];
	struct buf b;
	size_t n, len;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (unsigned char)(n * 7 + 3);
	for (len = 0; len < 40; len++) {
		buf_init(&b);
		base64_encode(&b, in, len);
		CHECK(b.len == (len + 2) / 3 * 4);
		CHECK(base64_decode(buf_str(&b), b.len, out, &n) == 0);
		CHECK(n == len && memcmp(in, out, len) == 0);
		buf_free(&b);
	}
}

TEST(sasl_plain_valid)
{
	struct sasl_plain sp;

	/* "\0alice\0secret" */
	CHECK(sasl_plain_decode("AGFsaWNlAHNlY3JldA==", 20, &sp) == SASL_OK);
	CHECK_STR(sp.authzid, "");
	CHECK_STR(sp.user, "alice");
	CHECK_STR(sp.pass, "secret");
	sasl_plain_wipe(&sp);
	CHECK(sp.mem == NULL);
	/* "bob\0bob\0pw" */
	CHECK(sasl_plain_decode("Ym9iAGJvYgBwdw==", 16, &sp) == SASL_OK);
	CHECK_STR(sp.authzid, "bob");
	CHECK_STR(sp.user, "bob");
	CHECK_STR(sp.pass, "pw");
	sasl_plain_wipe(&sp);
}

/* plain_err - decode b64 of raw bytes, return the error */
static enum sasl_error
plain_err(const char *raw, size_t len)
{
	struct sasl_plain sp;
	enum sasl_error err;
	struct buf b;

	buf_init(&b);
	base64_encode(&b, (const unsigned char *)raw, len);
	err = sasl_plain_decode(buf_str(&b), b.len, &sp);
	if (err == SASL_OK)
		sasl_plain_wipe(&sp);
	buf_free(&b);
	return err;
}

TEST(sasl_plain_malformed)
{
	struct sasl_plain sp;

	CHECK(sasl_plain_decode("!!!!", 4, &sp) == SASL_BAD_BASE64);
	CHECK(plain_err("alice secret", 12) == SASL_NO_SEPARATORS);
	CHECK(plain_err("alice\0secret", 12) == SASL_NO_SEPARATORS);
	CHECK(plain_err("\0alice\0sec\0ret", 14) == SASL_NO_SEPARATORS);
	CHECK(plain_err("\0\0secret", 8) == SASL_EMPTY_USER);
	CHECK(plain_err("\0alice\0", 7) == SASL_EMPTY_PASSWORD);
	CHECK(plain_err("", 0) == SASL_NO_SEPARATORS);
	CHECK(sp.mem == NULL);
}

TEST(sasl_plain_too_long)
{
	char raw[3000];
	size_t n = sizeof(raw);

	memset(raw, 'a', n);
	raw[0] = 0;
	raw[1500] = 0;		/* user of 1499 bytes */
	CHECK(plain_err(raw, n) == SASL_TOO_LONG);
}

TEST(sasl_login_steps)
{
	char *v;

	CHECK(sasl_login_decode("YWxpY2U=", 8, 0, &v) == SASL_OK);
	CHECK_STR(v, "alice");
	wipe_str(v);
	CHECK(sasl_login_decode("", 0, 0, &v) == SASL_EMPTY_USER && v == NULL);
	CHECK(sasl_login_decode("", 0, 1, &v) == SASL_EMPTY_PASSWORD);
	CHECK(sasl_login_decode("YQBi", 4, 1, &v) == SASL_NUL_IN_VALUE);
	CHECK(sasl_login_decode("*", 1, 1, &v) == SASL_BAD_BASE64);
}

TEST(sasl_plain_encode_roundtrip)
{
	struct sasl_plain sp;
	struct buf b;

	buf_init(&b);
	sasl_plain_encode(&b, "", "alice@example.test", "correct horse");
	CHECK(sasl_plain_decode(buf_str(&b), b.len, &sp) == SASL_OK);
	CHECK_STR(sp.user, "alice@example.test");
	CHECK_STR(sp.pass, "correct horse");
	sasl_plain_wipe(&sp);
	buf_free(&b);
}

TEST(sasl_app_password_shapes)
{
	CHECK(sasl_app_password_spaced("abcd efgh ijkl mnop"));
	CHECK(sasl_app_password_spaced("ABCD efgh IJKL mnop"));
	CHECK(!sasl_app_password_spaced("abcdefghijklmnop"));
	CHECK(!sasl_app_password_spaced("abcd efgh ijkl mno1"));
	CHECK(!sasl_app_password_spaced("abcd  efg ijkl mnop"));
	CHECK(!sasl_app_password_spaced("abcd efgh ijkl mnop "));
	CHECK(sasl_app_password_shaped("abcdefghijklmnop"));
	CHECK(!sasl_app_password_shaped("abcd efgh ijkl mnop"));
	CHECK(!sasl_app_password_shaped("Carol-Pass-1"));
	CHECK(!sasl_app_password_shaped("abcdefghijklmno"));
}

TEST(authline_split_and_params)
{
	char line[] = "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
	    "rip=192.0.2.1\tsecured\tresp=AGEAYg==";
	struct auth_request ar;
	struct authline al;
	const char *err;

	CHECK(authline_split(line, strlen(line), &al) == 0);
	CHECK(al.argc == 9);
	CHECK(authproto_parse_auth(&al, &ar, &err) == 0);
	CHECK(ar.id == 7);
	CHECK_STR(ar.mech, "PLAIN");
	CHECK_STR(ar.rip, "192.0.2.1");
	CHECK_STR(ar.lip, "127.0.0.1");
	CHECK_STR(ar.resp, "AGEAYg==");
	CHECK(ar.secured == 1);
	CHECK_STR(authline_param(&al, 3, "nologin"), "");
	CHECK(authline_param(&al, 3, "nolog") == NULL);
}

TEST(authline_mechanism_case_blind)
{
	char l1[] = "AUTH\t1\tplain\tservice=smtp", l2[] =
	    "AUTH\t2\tCram-Md5\tservice=smtp", l3[] = "AUTH\t3\tscram-sha-256";
	struct auth_request ar;
	struct authline al;
	const char *err;

	CHECK(authproto_valid_mech("plain") && authproto_valid_mech("Plain") &&
	    authproto_valid_mech("SCRAM-SHA-256") &&
	    authproto_valid_mech("x-oauth_2"));
	CHECK(!authproto_valid_mech("pl ain") && !authproto_valid_mech("") &&
	    !authproto_valid_mech("a.b") &&
	    !authproto_valid_mech("abcdefghijklmnopqrstu"));	/* 21 */
	CHECK(authline_split(l1, strlen(l1), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) == 0);
	CHECK_STR(ar.mech, "PLAIN");
	CHECK(authline_split(l2, strlen(l2), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) == 0);
	CHECK_STR(ar.mech, "CRAM-MD5");
	CHECK(authline_split(l3, strlen(l3), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) == 0);
	CHECK_STR(ar.mech, "SCRAM-SHA-256");
}

TEST(authline_rejects)
{
	char nul[] = "AUTH\t1\tPL\0AIN";
	char many[400];
	struct auth_request ar;
	struct authline al;
	const char *err;
	char l1[] = "AUTH\t0\tPLAIN", l2[] = "AUTH\tx\tPLAIN",
	    l3[] = "AUTH\t1\tpl ain", l4[] = "AUTH\t1", l5[] =
	    "AUTH\t4294967296\tPLAIN";
	int i;

	CHECK(authline_split(nul, sizeof(nul) - 1, &al) < 0);
	for (i = 0; i < 100; i++)
		memcpy(many + i * 2, "a\t", 2);
	many[199] = 0;
	CHECK(authline_split(many, strlen(many), &al) < 0);
	CHECK(authline_split(l1, strlen(l1), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) < 0);
	CHECK(authline_split(l2, strlen(l2), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) < 0);
	CHECK(authline_split(l3, strlen(l3), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) < 0);
	CHECK(authline_split(l4, strlen(l4), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) < 0);
	CHECK(authline_split(l5, strlen(l5), &al) == 0 &&
	    authproto_parse_auth(&al, &ar, &err) < 0);
}

TEST(authproto_replies)
{
	char ok[] = "OK\t3\tuser=alice@example.test";
	char fail[] = "FAIL\t4\tuser=bob\tcode=pass_expired\treason=expired";
	char cont[] = "CONT\t5\tVXNlcm5hbWU6";
	char bad[] = "NOPE\t5";
	struct auth_reply r;
	struct authline al;

	authline_split(ok, strlen(ok), &al);
	CHECK(authproto_parse_reply(&al, &r) == 0 && r.kind == AUTH_REPLY_OK);
	CHECK(r.id == 3);
	CHECK_STR(r.user, "alice@example.test");
	authline_split(fail, strlen(fail), &al);
	CHECK(authproto_parse_reply(&al, &r) == 0 && r.kind == AUTH_REPLY_FAIL);
	CHECK_STR(r.code, "pass_expired");
	CHECK_STR(r.reason, "expired");
	authline_split(cont, strlen(cont), &al);
	CHECK(authproto_parse_reply(&al, &r) == 0 && r.kind == AUTH_REPLY_CONT);
	CHECK_STR(r.data, "VXNlcm5hbWU6");
	authline_split(bad, strlen(bad), &al);
	CHECK(authproto_parse_reply(&al, &r) < 0);
}

TEST(authproto_userdb)
{
	char u[] = "USER\t9\talice\tuid=1000", n[] = "NOTFOUND\t10",
	    f[] = "FAIL\t11\treason=x", x[] = "USER\tz";
	enum userdb_reply_kind k;
	struct authline al;
	unsigned id;

	authline_split(u, strlen(u), &al);
	CHECK(authproto_parse_userdb(&al, &id, &k) == 0 && id == 9 &&
	    k == USERDB_FOUND);
	authline_split(n, strlen(n), &al);
	CHECK(authproto_parse_userdb(&al, &id, &k) == 0 && k == USERDB_NOTFOUND);
	authline_split(f, strlen(f), &al);
	CHECK(authproto_parse_userdb(&al, &id, &k) == 0 && k == USERDB_FAIL);
	authline_split(x, strlen(x), &al);
	CHECK(authproto_parse_userdb(&al, &id, &k) < 0);
}

TEST(authproto_escape_roundtrip)
{
	const char *in = "a\tb\nc\rd\001e\\f";
	struct buf b;
	char *copy;

	buf_init(&b);
	authproto_escape(&b, in);
	CHECK(strchr(buf_str(&b), '\t') == NULL);
	CHECK(strchr(buf_str(&b), '\n') == NULL);
	copy = xstrdup(buf_str(&b));
	authproto_unescape(copy);
	CHECK_STR(copy, in);
	free(copy);
	buf_free(&b);
}

TEST(authproto_overlong)
{
	const char *cmd;
	unsigned id;

	CHECK(authproto_overlong_id("AUTH\t42\tPLAIN\tresp=xxxx", &cmd, &id) == 0);
	CHECK_STR(cmd, "AUTH");
	CHECK(id == 42);
	CHECK(authproto_overlong_id("CONT\t7\tAAAA", &cmd, &id) == 0 && id == 7);
	CHECK(authproto_overlong_id("CONT\t7", &cmd, &id) < 0);
	CHECK(authproto_overlong_id("XYZ\t7\t", &cmd, &id) < 0);
	CHECK(authproto_overlong_id("AUTH\t\t", &cmd, &id) < 0);
}

TEST(linereader_lines)
{
	struct linereader lr;
	char *line;
	size_t len;

	lr_init(&lr, 16);
	lr_push(&lr, "one\ntw", 6);
	CHECK(lr_next(&lr, &line, &len) == LR_LINE && len == 3);
	CHECK_STR(line, "one");
	CHECK(lr_next(&lr, &line, &len) == LR_NONE);
	lr_push(&lr, "o\n\nthree\n", 9);
	CHECK(lr_next(&lr, &line, &len) == LR_LINE);
	CHECK_STR(line, "two");
	CHECK(lr_next(&lr, &line, &len) == LR_LINE && len == 0);
	CHECK(lr_next(&lr, &line, &len) == LR_LINE);
	CHECK_STR(line, "three");
	CHECK(lr_next(&lr, &line, &len) == LR_NONE);
	lr_free(&lr);
}

TEST(linereader_overlong_bounded)
{
	struct linereader lr;
	char chunk[1000], *line;
	size_t len;
	int i;

	memset(chunk, 'x', sizeof(chunk));
	lr_init(&lr, 16);
	lr_push(&lr, "AUTH\t1\t", 7);
	for (i = 0; i < 100; i++) {
		lr_push(&lr, chunk, sizeof(chunk));
		if (i == 0) {
			CHECK(lr_next(&lr, &line, &len) == LR_OVERLONG);
			CHECK(len == 16 && strncmp(line, "AUTH\t1\t", 7) == 0);
		} else
			CHECK(lr_next(&lr, &line, &len) == LR_NONE);
		CHECK(lr.in.cap <= 4096);	/* never buffers the long line */
	}
	lr_push(&lr, "xx\nnext\n", 8);
	CHECK(lr_next(&lr, &line, &len) == LR_LINE);
	CHECK_STR(line, "next");
	lr_free(&lr);
}

TEST(linereader_overlong_complete)
{
	struct linereader lr;
	char *line;
	size_t len;

	lr_init(&lr, 4);
	lr_push(&lr, "abcdefgh\nok\n", 12);
	CHECK(lr_next(&lr, &line, &len) == LR_OVERLONG && len == 4);
	CHECK(lr_next(&lr, &line, &len) == LR_LINE);
	CHECK_STR(line, "ok");
	lr_free(&lr);
}
