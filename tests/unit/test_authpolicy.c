/*++
/* NAME
/*	test_authpolicy 1
/* SUMMARY
/*	unit tests: Dovecot's auth policy requests, answers and pwhash
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authpolicy.h"
#include "cause.h"
#include "unit.h"
#include "util.h"

/* parse - a body given as a C string; the error kept */
static int
parse(const char *body, struct authpolicy_req *r, char *err, size_t len)
{
	return authpolicy_parse(body, strlen(body), r, err, len);
}

/* parses_not - the body is refused with an error naming what */
static int
parses_not(const char *body, size_t len, const char *what)
{
	struct authpolicy_req r;
	char err[256] = "";
	int rc = authpolicy_parse(body, len, &r, err, sizeof(err));

	authpolicy_free(&r);
	if (rc == 0 || *err == 0)
		return 0;
	return what == NULL || strstr(err, what) != NULL;
}

TEST(authpolicy_command_table)
{
	CHECK(authpolicy_command("allow") == AP_CMD_ALLOW);
	CHECK(authpolicy_command("report") == AP_CMD_REPORT);
	CHECK(authpolicy_command("Allow") == AP_CMD_NONE);
	CHECK(authpolicy_command("") == AP_CMD_NONE);
	CHECK(authpolicy_command(NULL) == AP_CMD_NONE);
	CHECK_STR(authpolicy_command_name(AP_CMD_REPORT), "report");
}

TEST(authpolicy_parse_allow_23)
{
	struct authpolicy_req r;
	char err[256];

	CHECK(parse("{\"login\":\"Alice@Example.com\",\"pwhash\":\"0f83\","
	    "\"remote\":\"192.0.2.7\",\"device_id\":\"\",\"protocol\":"
	    "\"imap\",\"session_id\":\"Zx1abc\",\"tls\":true}", &r, err,
	    sizeof(err)) == 0);
	CHECK_STR(r.login, "Alice@Example.com");
	CHECK_STR(r.pwhash, "0f83");
	CHECK_STR(r.remote, "192.0.2.7");
	CHECK_STR(r.session_id, "Zx1abc");
	CHECK(r.proto == PROTO_IMAP && r.proto_known);
	CHECK(r.tls == 1 && r.success == -1 && r.policy_reject == -1);
	CHECK(r.fail_type == AP_FAIL_UNSAID);
	authpolicy_free(&r);
}

TEST(authpolicy_parse_report_24)
{
	struct authpolicy_req r;
	char err[256];

	CHECK(parse("{\"login\":\"a\",\"protocol\":\"pop3\",\"fail_type\":"
	    "\"credentials\",\"success\":false,\"policy_reject\":false,"
	    "\"tls\":false}", &r, err, sizeof(err)) == 0);
	CHECK(r.proto == PROTO_POP3);
	CHECK(r.success == 0 && r.policy_reject == 0 && r.tls == 0);
	CHECK(r.fail_type == AP_FAIL_CREDENTIALS);
	CHECK_STR(r.pwhash, "");		/* absent: "" */
	authpolicy_free(&r);
	CHECK(parse("{\"fail_type\":\"account\"}", &r, err, sizeof(err)) == 0);
	CHECK(r.fail_type == AP_FAIL_ACCOUNT);
	authpolicy_free(&r);
	CHECK(parse("{\"fail_type\":\"policy\",\"protocol\":\"sieve\"}", &r,
	    err, sizeof(err)) == 0);
	CHECK(r.fail_type == AP_FAIL_POLICY && r.proto == PROTO_SIEVE);
	authpolicy_free(&r);
	CHECK(parse("{\"fail_type\":\"new-kind\",\"protocol\":\"lmtp\"}", &r,
	    err, sizeof(err)) == 0);
	CHECK(r.fail_type == AP_FAIL_OTHER);
	CHECK(r.proto == PROTO_SMTP && !r.proto_known);
	authpolicy_free(&r);
}

TEST(authpolicy_parse_ignores_unknown)
{
	struct authpolicy_req r;
	char err[256];

	CHECK(parse("{\"x\":{\"login\":\"inner\",\"y\":[1,2,{}]},\"login\":"
	    "\"outer\",\"n\":1.5e3,\"z\":null}", &r, err, sizeof(err)) == 0);
	CHECK_STR(r.login, "outer");
	authpolicy_free(&r);
}

TEST(authpolicy_parse_hostile)
{
	char *deep;
	size_t i, n = 5000;

	CHECK(parses_not("[]", 2, "not a JSON object"));
	CHECK(parses_not("\"login\"", 7, "JSON error"));
	CHECK(parses_not("", 0, "JSON error"));
	CHECK(parses_not("{\"login\":\"a\"", 12, "JSON error"));
	CHECK(parses_not("{\"login\":\"a\",\"login\":\"b\"}", 25, "duplicate"));
	CHECK(parses_not("{\"login\":1}", 11, "login: a string"));
	CHECK(parses_not("{\"login\":null}", 14, "login: a string"));
	CHECK(parses_not("{\"tls\":\"yes\"}", 13, "tls: true or false"));
	CHECK(parses_not("{\"success\":1}", 13, "success: true or false"));
	CHECK(parses_not("{\"fail_type\":[]}", 16, "fail_type"));
	CHECK(parses_not("{\"login\":\"a\\u0000b\"}", 20, "JSON error"));
	CHECK(parses_not("{\"login\":\"a\0b\"}", 15, "JSON error"));
	CHECK(parses_not("{\"login\":\"\xff\xfe\"}", 14, "JSON error"));
	CHECK(parses_not("{\"n\":1e999999}", 14, "JSON error"));
	CHECK(parses_not("{\"n\":99999999999999999999999999}", 32,
	    "JSON error"));
	CHECK(parses_not("{} {}", 5, "JSON error"));
	CHECK(parses_not("{\"login\":\"a\"}", AUTHPOLICY_BODY_MAX + 1, "more than"));
	deep = xmalloc(2 * n + 16);
	memcpy(deep, "{\"x\":", 5);
	for (i = 0; i < n; i++)
		deep[5 + i] = '[';
	for (i = 0; i < n; i++)
		deep[5 + n + i] = ']';
	deep[5 + 2 * n] = '}';
	CHECK(parses_not(deep, 6 + 2 * n, "JSON error"));
	free(deep);
	deep = xmalloc(AUTHPOLICY_FIELD_MAX + 32);
	i = (size_t)snprintf(deep, 16, "{\"login\":\"");
	memset(deep + i, 'a', AUTHPOLICY_FIELD_MAX + 1);
	memcpy(deep + i + AUTHPOLICY_FIELD_MAX + 1, "\"}", 3);
	CHECK(parses_not(deep, strlen(deep), "longer than"));
	free(deep);
}

TEST(authpolicy_answer_json)
{
	char *s;

	s = authpolicy_answer(0, NULL);
	CHECK_STR(s, "{\"status\":0}");
	free(s);
	s = authpolicy_answer(-1, "too many \"failed\" (ref=ABCDEFGHJK)");
	CHECK_STR(s, "{\"status\":-1,\"msg\":\"too many \\\"failed\\\" "
	    "(ref=ABCDEFGHJK)\"}");
	free(s);
	s = authpolicy_answer(-1, "bad \xff");	/* not UTF-8: no msg */
	CHECK_STR(s, "{\"status\":-1}");
	free(s);
}

TEST(authpolicy_header)
{
	char name[64];
	const char *v;

	CHECK(authpolicy_header_split("s3cret", name, sizeof(name), &v) == 0);
	CHECK_STR(name, "X-API-Key");
	CHECK_STR(v, "s3cret");
	CHECK(authpolicy_header_split("Authorization: Bearer x", name,
	    sizeof(name), &v) == 0);
	CHECK_STR(name, "Authorization");
	CHECK_STR(v, "Bearer x");
	CHECK(authpolicy_header_split(": x", name, sizeof(name), &v) < 0);
	CHECK(authpolicy_key_equal("Bearer x", "Bearer x"));
	CHECK(authpolicy_key_equal("Bearer x", "Bearer x "));
	CHECK(!authpolicy_key_equal("Bearer x", "Bearer y"));
	CHECK(!authpolicy_key_equal("Bearer x", "Bearer"));
	CHECK(!authpolicy_key_equal("Bearer x", "Bearer xx"));
	CHECK(!authpolicy_key_equal("Bearer x", ""));
	CHECK(!authpolicy_key_equal("Bearer x", NULL));
}

/* Vectors: Dovecot's algorithm (sha256, buffer_truncate_rshift_bits). */
TEST(authpolicy_pwhash_vectors)
{
	char hex[AUTHPOLICY_HASH_HEX_MAX + 1];

	CHECK(authpolicy_pwhash("n0nce", "alice@example.com", "secret", 12,
	    hex) == 0);
	CHECK_STR(hex, "0f83");
	CHECK(authpolicy_pwhash("n0nce", "alice@example.com", "secret", 16,
	    hex) == 0);
	CHECK_STR(hex, "f832");
	CHECK(authpolicy_pwhash("n0nce", "alice@example.com", "secret", 3,
	    hex) == 0);
	CHECK_STR(hex, "07");
	CHECK(authpolicy_pwhash("n0nce", "alice@example.com", "secret", 0,
	    hex) == 0);
	CHECK_STR(hex, "f832415ea361a8f161ebfa37186a5e13fbe20936302fafa58295"
	    "2621f3c85a96");
	CHECK(authpolicy_pwhash("n0nce", "alice@example.com", "secret", 256,
	    hex) == 0);
	CHECK(strlen(hex) == 64);
	CHECK(authpolicy_pwhash("", "", "", 12, hex) == 0);
	CHECK_STR(hex, "06e3");
}

/* Vectors printed by Dovecot 2.3.19.1 itself (its policy requests, captured in the lab). */
TEST(authpolicy_pwhash_dovecot_vectors)
{
	static const struct {
		const char *nonce, *user, *pass;
		unsigned bits;
		const char *want;
	} v[] = {
		{"lab-policy-nonce", "alice@example.test", "correct horse", 12, "0137"},
		{"lab-policy-nonce", "alice@example.test", "wrong password", 12, "05ed"},
		{"lab-policy-nonce", "nobody@example.test", "", 12, "05b1"},
		{"lab-policy-nonce", "carol@example.test", "p\xc3\xa4ss w\xc3\xb6rd", 12,
		    "02c7"},
		{"lab-policy-nonce", "alice@example.test", "correct horse", 0,
		    "137f8f55318707633583174e05600f7088242fc67d35e00d7929061f7ec42a12"},
		{"lab-policy-nonce", "alice@example.test", "correct horse", 8, "13"},
		{"lab-policy-nonce", "alice@example.test", "correct horse", 13, "026f"},
		{"lab-policy-nonce", "alice@example.test", "wrong password", 13, "0bda"},
		{"lab-policy-nonce", "carol@example.test", "p\xc3\xa4ss w\xc3\xb6rd", 13,
		    "058f"},
		{"lab-policy-nonce", "alice@example.test", "wrong password", 16, "5ed4"},
		{"another nonce", "alice@example.test", "correct horse", 12, "04d7"},
		{"n", "alice@example.test", "correct horse", 255,
		    "58dd7937899d5f67afb05a508f66eb1fec2e4181fd256746f7cbfed5029f9cb5"},
	};
	char hex[AUTHPOLICY_HASH_HEX_MAX + 1];
	size_t i;

	for (i = 0; i < NELEM(v); i++) {
		CHECK(authpolicy_pwhash(v[i].nonce, v[i].user, v[i].pass,
		    v[i].bits, hex) == 0);
		CHECK_STR(hex, v[i].want);
	}
	/* no password (a mechanism without one) hashes as the empty one */
	CHECK(authpolicy_pwhash("lab-policy-nonce", "nobody@example.test", NULL,
	    12, hex) == 0);
	CHECK_STR(hex, "05b1");
}

/* parse_fixture - a body Dovecot sent, from tests/fixtures/authpolicy */
static int
parse_fixture(const char *name, struct authpolicy_req *r)
{
	char path[128], err[256], *text;
	int rc;

	snprintf(path, sizeof(path), "authpolicy/%s", name);
	text = unit_fixture(path);
	rc = authpolicy_parse(text, strlen(text), r, err, sizeof(err));
	free(text);
	return rc;
}

TEST(authpolicy_parse_dovecot_bodies)
{
	struct authpolicy_req r;

	CHECK(parse_fixture("allow-imap.json", &r) == 0);
	CHECK_STR(r.login, "alice@example.test");
	CHECK_STR(r.pwhash, "0137");
	CHECK(r.proto == PROTO_IMAP && r.tls == 0 && r.success == -1);
	CHECK(strlen(r.session_id) == 16);
	authpolicy_free(&r);
	CHECK(parse_fixture("report-imap-fail.json", &r) == 0);
	CHECK(r.success == 0 && r.policy_reject == 0);
	CHECK(r.fail_type == AP_FAIL_UNSAID);	/* 2.3: none */
	CHECK_STR(r.pwhash, "05ed");
	authpolicy_free(&r);
	CHECK(parse_fixture("report-imap-policy-reject.json", &r) == 0);
	CHECK(r.success == 0 && r.policy_reject == 1);
	authpolicy_free(&r);
	CHECK(parse_fixture("report-imap-tls-success.json", &r) == 0);
	CHECK(r.success == 1 && r.tls == 1);
	authpolicy_free(&r);
	CHECK(parse_fixture("allow-sieve.json", &r) == 0);
	CHECK(r.proto == PROTO_SIEVE);
	authpolicy_free(&r);
	CHECK(parse_fixture("allow-pop3.json", &r) == 0);
	CHECK(r.proto == PROTO_POP3);
	authpolicy_free(&r);
	CHECK(parse_fixture("allow-smtp-session.json", &r) == 0);
	CHECK(r.proto == PROTO_SMTP && r.tls == 1);
	CHECK_STR(r.session_id, "AG7K2M4P9Q");
	authpolicy_free(&r);
	CHECK(parse_fixture("allow-imap-device-id.json", &r) == 0);
	CHECK_STR(r.device_id, "\"name\" \"LabMail\" \"version\" \"1.0\"");
	authpolicy_free(&r);
}

TEST(cause_refusal_text_of_a_lockout)
{
	char buf[128];

	CHECK_STR(cause_refusal_text(CAUSE_ACCOUNT_LOCKED, DETAIL_SAFE, 30, buf,
	    sizeof(buf)), "too many failed attempts for this account: try "
	    "again in 30 seconds");
	CHECK_STR(cause_refusal_text(CAUSE_IP_BLOCKED, DETAIL_FULL, 600, buf,
	    sizeof(buf)), "too many failed attempts for this address: try "
	    "again in 10 minutes");
	CHECK(cause_refusal_text(CAUSE_ACCOUNT_LOCKED, DETAIL_NONE, 30, buf,
	    sizeof(buf)) == NULL);
	CHECK_STR(cause_refusal_text(CAUSE_BAD_PASSWORD, DETAIL_SAFE, 0, buf,
	    sizeof(buf)), CAUSE_GENERIC_TEXT);
}
