/*++
/* NAME
/*	test_policy 1
/* SUMMARY
/*	unit tests: policy requests, the submission decision, state file,
/*	fingerprints
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "cause.h"
#include "config.h"
#include "fingerprint.h"
#include "history.h"
#include "authlimits.h"
#include "netaddr.h"
#include "policyproto.h"
#include "proto.h"
#include "state.h"
#include "submission.h"
#include "unit.h"
#include "util.h"

/* feed - push a request given as text with \n line ends */
static enum policy_push
feed(struct policy_req *r, const char *text)
{
	enum policy_push p = POLICY_MORE;
	const char *nl;

	while ((nl = strchr(text, '\n')) != NULL) {
		p = policy_req_line(r, text, (size_t)(nl - text));
		text = nl + 1;
	}
	return p;
}

TEST(policy_request_parse)
{
	struct policy_req r;

	policy_req_init(&r);
	CHECK(feed(&r, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "sasl_username=\nclient_address=192.0.2.1\nfoo=bar=baz\n"
	    "protocol_state=MAIL\n") == POLICY_MORE);
	CHECK(feed(&r, "\n") == POLICY_DONE);
	CHECK(r.error == NULL);
	CHECK_STR(policy_req_get(&r, "protocol_state"), "MAIL");
	CHECK_STR(policy_req_get(&r, "sasl_username"), "");
	CHECK_STR(policy_req_get(&r, "foo"), "bar=baz");
	CHECK(policy_req_get(&r, "missing") == NULL);
	policy_req_reset(&r);
	CHECK(r.n == 0 && policy_req_get(&r, "foo") == NULL);
	CHECK(feed(&r, "no equals here\nBad-Name=x\nok=1\n\n") == POLICY_DONE);
	CHECK(r.error != NULL);
	CHECK_STR(policy_req_get(&r, "ok"), "1");
	policy_req_reset(&r);
	CHECK(policy_req_line(&r, "a=b\0c", 5) == POLICY_MORE && r.error);
	policy_req_free(&r);
}

TEST(policy_request_attribute_cap)
{
	struct policy_req r;
	char line[32];
	int i;

	policy_req_init(&r);
	for (i = 0; i < POLICY_ATTR_MAX + 10; i++) {
		snprintf(line, sizeof(line), "a%d=%d", i, i);
		policy_req_line(&r, line, strlen(line));
	}
	CHECK(r.n == POLICY_ATTR_MAX && r.error != NULL);
	policy_req_free(&r);
}

/* decide - a request from text */
static enum cause
decide(const char *text, int failed, int require_tls)
{
	struct submission_cfg cfg = {"587 465", require_tls, NULL};
	struct policy_req r;
	enum cause c;

	policy_req_init(&r);
	feed(&r, text);
	c = submission_decide(&r, &cfg, failed);
	policy_req_free(&r);
	return c;
}

TEST(submission_decisions)
{
	CHECK(decide("protocol_state=RCPT\nserver_port=587\n", 0, 1) ==
	    CAUSE_NO_AUTH_NO_TLS);
	CHECK(decide("protocol_state=RCPT\nserver_port=587\n"
	    "encryption_protocol=TLSv1.3\n", 0, 1) == CAUSE_NO_AUTH_ATTEMPTED);
	CHECK(decide("protocol_state=MAIL\npolicy_context=submission\n"
	    "encryption_protocol=TLSv1.3\nsasl_username=\n", 1, 1) ==
	    CAUSE_AUTH_FAILED_THEN_SENT);
	CHECK(decide("protocol_state=RCPT\nserver_port=25\n", 0, 1) ==
	    CAUSE_NONE);
	CHECK(decide("protocol_state=RCPT\nserver_port=5870\n", 0, 1) ==
	    CAUSE_NONE);
	CHECK(decide("protocol_state=DATA\nserver_port=587\n", 0, 1) ==
	    CAUSE_NONE);
	CHECK(decide("protocol_state=RCPT\nserver_port=587\nsasl_username=jo\n"
	    "encryption_protocol=TLSv1.2\n", 0, 1) == CAUSE_NONE);
	CHECK(decide("protocol_state=RCPT\nserver_port=25\nsasl_username=jo\n",
	    0, 1) == CAUSE_CLEARTEXT_AUTH);
	CHECK(decide("protocol_state=RCPT\nserver_port=25\nsasl_username=jo\n",
	    0, 0) == CAUSE_NONE);
}

TEST(submission_tls_exempt)
{
	struct submission_cfg cfg = {"587", 1, NULL};
	struct policy_req r;
	struct netlist nl;
	const char *err;

	netlist_parse("127.0.0.0/8", &nl, &err);
	cfg.tls_exempt = &nl;
	policy_req_init(&r);
	feed(&r, "protocol_state=RCPT\nsasl_username=jo\n"
	    "client_address=127.0.0.1\n");
	CHECK(submission_decide(&r, &cfg, 0) == CAUSE_NONE);
	policy_req_free(&r);
	netlist_free(&nl);
}

TEST(state_file_roundtrip)
{
	struct limits_config cfg;
	struct limits l, l2;
	struct history h, h2;
	struct limits_outcome out;
	struct limits_query q = {"jane doe\t%", "192.0.2.1/32", 5, 0, 0};
	struct state_loader ld;
	struct hist_rec rec;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	uint32_t retry;
	FILE *fp;
	int i;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("2/10m", &cfg.account);
	limit_parse("9/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 9;
	cfg.max_tracked = 100;
	limits_init(&l, &cfg);
	history_init(&h, 4);
	limits_pass(&l, &(struct limits_query){"bob", "10.0.0.1/32", 0, 0, 0},
	    1000);
	for (i = 0; i < 2; i++) {
		q.fp = (uint32_t)i + 1;
		limits_fail(&l, &q, 1, 1, 1000, &out);
	}
	memset(&rec, 0, sizeof(rec));
	strcpy(rec.ref, "ABCDEFGHIJ");
	strcpy(rec.mech, "SCRAM-SHA-256-PLUS");	/* the longest name relayed */
	strcpy(rec.ip, "192.0.2.1");
	rec.t = 1000;
	rec.cause = 1;
	history_add(&h, &rec, "jane doe\t%");
	fp = open_memstream(&text, &len);
	CHECK(state_write(fp, &l, &h, 1001) == 0);
	fclose(fp);
	limits_init(&l2, &cfg);
	history_init(&h2, 4);
	state_loader_init(&ld, &l2, &h2, 1002);
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		CHECK(state_load_line(&ld, line) == 0);
	CHECK(ld.bad == 0);
	CHECK(limits_check(&l2, &q, 1002, &retry) == LV_ACCOUNT_LOCKED);
	CHECK(retry == 1900);
	CHECK(limits_familiar(&l2, "bob", "10.0.0.1/32", 1002));
	CHECK(h2.n == 1 && strcmp(history_nth(&h2, 0)->user, "jane doe\t%") == 0);
	CHECK_STR(history_nth(&h2, 0)->mech, "SCRAM-SHA-256-PLUS");
	/* damage: unknown records and bad numbers are counted, not fatal */
	{
		char bad1[] = "E a x notanumber 0 0", bad2[] = "Z what",
		    orphan[] = "F 1 2 3", magic[] = "authguard-state 999";

		CHECK(state_load_line(&ld, bad1) < 0);
		CHECK(state_load_line(&ld, bad2) < 0);
		CHECK(state_load_line(&ld, orphan) < 0);	/* no entry */
		CHECK(ld.bad == 3);
		state_loader_init(&ld, &l2, &h2, 1002);
		CHECK(state_load_line(&ld, magic) < 0 && !ld.header);
	}
	free(text);
	limits_free(&l);
	limits_free(&l2);
	history_free(&h);
	history_free(&h2);
}

/* mac32 - the first 32 bits of HMAC-SHA256(key, a NUL p), computed apart */
static uint32_t
mac32(const unsigned char *key, size_t keylen, const char *a, const char *p)
{
	unsigned char msg[256], mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	size_t alen = strlen(a), plen = strlen(p);

	memcpy(msg, a, alen + 1);
	memcpy(msg + alen + 1, p, plen);
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, alen + 1 + plen, mac,
	    &maclen) == NULL || maclen < 4)
		return 0;
	return (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
	    (uint32_t)mac[2] << 8 | mac[3];
}

/* has_fail_fp - whether an account's loaded failures hold this fingerprint */
static int
has_fail_fp(struct limits *l, const char *account, uint32_t fp)
{
	struct track *t = limits_find(&l->acct, account);
	unsigned i;

	for (i = 0; t && i < t->nfail; i++)
		if (t->fails[i].fp == fp)
			return 1;
	return 0;
}

TEST(fingerprint_width)
{
	unsigned char key[FINGERPRINT_KEY_LEN];
	static const char *const pw[] = {"", "a", "correct horse", "Summer2026!",
	    "\xff\x01 with spaces"};
	struct limits_config cfg;
	struct limits l;
	struct history h;
	struct state_loader ld;
	char line[128], magic[] = STATE_MAGIC, entry[] = "E a fp-user 0 0 0";
	uint32_t fp, now = 100000;
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	/* FINGERPRINT_BITS of the HMAC, never 0: the first 20 of the former 32 */
	CHECK(FINGERPRINT_MAX == 0xFFFFF);
	for (i = 0; i < sizeof(pw) / sizeof(pw[0]); i++) {
		fp = fingerprint(key, sizeof(key), "jane@example.test", pw[i]);
		CHECK(fp >= 1 && fp <= FINGERPRINT_MAX);
		CHECK(fp == fingerprint_narrow(mac32(key, sizeof(key),
		    "jane@example.test", pw[i])));
		CHECK(fp == fingerprint(key, sizeof(key), "jane@example.test",
		    pw[i]));
	}
	/* the account is part of the input */
	CHECK(fingerprint(key, sizeof(key), "a", "pw") != fingerprint(key,
	    sizeof(key), "b", "pw"));
	CHECK(fingerprint_narrow(0xFFFFFFFF) == 0xFFFFF);
	CHECK(fingerprint_narrow(0xDEADBEEF) == 0xDEADB);
	CHECK(fingerprint_narrow(0x1000) == 1);
	CHECK(fingerprint_narrow(0xFFF) == 1);	/* 0 means none: 1 instead */
	CHECK(fingerprint_narrow(0) == 1);
	/* the key check value keeps its 32-bit form (values kept in Redis) */
	CHECK(fingerprint_check(key, sizeof(key)) == mac32(key, sizeof(key),
	    "authguard", "key check"));

	/* a state file of the former width: cut to the same first 20 bits */
	memset(&cfg, 0, sizeof(cfg));
	limit_parse("5/10m", &cfg.account);
	limit_parse("9/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 9;
	cfg.max_tracked = 100;
	limits_init(&l, &cfg);
	history_init(&h, 4);
	state_loader_init(&ld, &l, &h, now);
	CHECK(state_load_line(&ld, magic) == 0);
	CHECK(state_load_line(&ld, entry) == 0);
	snprintf(line, sizeof(line), "F %u 3735928559 7", (unsigned)now - 30);
	CHECK(state_load_line(&ld, line) == 0);
	snprintf(line, sizeof(line), "F %u 1048576 7", (unsigned)now - 20);
	CHECK(state_load_line(&ld, line) == 0);	/* 0x100000: first 20 bits, 0x100 */
	snprintf(line, sizeof(line), "F %u 1048575 7", (unsigned)now - 10);
	CHECK(state_load_line(&ld, line) == 0);	/* FINGERPRINT_MAX: as it is */
	CHECK(ld.bad == 0);
	CHECK(has_fail_fp(&l, "fp-user", 0xDEADB));
	CHECK(has_fail_fp(&l, "fp-user", 3735928559U) == 0);
	CHECK(has_fail_fp(&l, "fp-user", 0x100));
	CHECK(has_fail_fp(&l, "fp-user", 1048576) == 0);
	CHECK(has_fail_fp(&l, "fp-user", 1048575));
	limits_free(&l);
	history_free(&h);
}

TEST(history_ring)
{
	struct history h;
	struct hist_rec r;
	int i;

	history_init(&h, 3);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 5; i++) {
		r.t = (uint32_t)i;
		history_add(&h, &r, "u");
	}
	CHECK(h.n == 3);
	CHECK(history_nth(&h, 0)->t == 4 && history_nth(&h, 2)->t == 2);
	CHECK(history_nth(&h, 3) == NULL);
	history_free(&h);
}

TEST(history_record_roundtrip)
{
	struct hist_rec r, back;
	struct buf b;
	char *user, *line;

	memset(&r, 0, sizeof(r));
	strcpy(r.ref, "K7Q2M9XW3P");
	strcpy(r.mech, "PLAIN");
	strcpy(r.ip, "2001:db8::7");
	strcpy(r.server, "mx 2");
	r.t = 1795766683;
	r.result = 1;
	r.cause = 3;
	r.tls = 1;
	r.smtpd_pid = 4242;
	r.user = "jane doe\t%\n";
	buf_init(&b);
	state_history_format(&b, &r);
	buf_putc(&b, 0);
	CHECK(strchr(b.data, '\n') == NULL && strchr(b.data, '\t') == NULL);
	line = strdup(b.data);
	CHECK(state_history_parse(line, &back, &user) == 0);
	CHECK_STR(back.ref, "K7Q2M9XW3P");
	CHECK_STR(back.ip, "2001:db8::7");
	CHECK_STR(back.server, "mx 2");
	CHECK_STR(user, "jane doe\t%\n");
	CHECK(back.t == r.t && back.result == 1 && back.cause == 3 &&
	    back.tls == 1 && back.smtpd_pid == 4242);
	free(line);
	r.server[0] = 0;		/* the embedded form: ten fields */
	b.len = 0;
	state_history_format(&b, &r);
	buf_putc(&b, 0);
	line = strdup(b.data);
	CHECK(state_history_parse(line, &back, &user) == 0 && back.server[0] == 0);
	free(line);
	/* not a record: refused */
	line = strdup("E a bob 0 0 0");
	CHECK(state_history_parse(line, &back, &user) < 0);
	free(line);
	line = strdup("H K7Q2M9XW3P 1 1 3 1 1 PLAIN ip user server extra");
	CHECK(state_history_parse(line, &back, &user) < 0);
	free(line);
	line = strdup("H K7Q2M9XW3P 1 9 3 1 1 PLAIN ip user");
	CHECK(state_history_parse(line, &back, &user) < 0);	/* result */
	free(line);
	buf_free(&b);
}

/* record - a record's line as state_history_format writes it */
static const char *
record(struct buf *b, const struct hist_rec *r)
{
	b->len = 0;
	state_history_format(b, r);
	buf_putc(b, 0);
	return b->data;
}

/* parse_copy - state_history_parse of a copy of line; *back the record */
static int
parse_copy(const char *line, struct hist_rec *back)
{
	char *copy = strdup(line), *user;
	int rc;

	memset(back, 0, sizeof(*back));
	back->proto = 0xff;		/* set by the parse, whatever it was */
	rc = state_history_parse(copy, back, &user);
	free(copy);
	return rc;
}

/*
 * The door of a recent attempt: SMTP's record is what it was before there
 * were other doors; another door's ends in its name, after the server ("%"
 * when none). A record without the name is SMTP's.
 */
TEST(history_record_proto)
{
	static const char *const older[] = {
	    "H K7Q2M9XW3P 1 1 3 1 7 PLAIN 192.0.2.7 jane",
	    "H K7Q2M9XW3P 1 1 3 1 7 PLAIN 192.0.2.7 jane mx2",
	};
	static const char *const refused[] = {
	    "H K7Q2M9XW3P 1 1 3 1 0 PLAIN 192.0.2.7 jane mx2 lmtp",
	    "H K7Q2M9XW3P 1 1 3 1 0 PLAIN 192.0.2.7 jane mx2 unknown",
	    "H K7Q2M9XW3P 1 1 3 1 0 PLAIN 192.0.2.7 jane mx2 imap extra",
	    "H K7Q2M9XW3P 1 1 3 1 0 PLAIN 192.0.2.7 jane mx2 %",
	};
	struct hist_rec r, back;
	struct buf b;
	size_t i;

	memset(&r, 0, sizeof(r));
	strcpy(r.ref, "K7Q2M9XW3P");
	strcpy(r.mech, "PLAIN");
	strcpy(r.ip, "192.0.2.7");
	r.t = 1795766683;
	r.result = 1;
	r.cause = 3;
	r.tls = 1;
	r.user = "jane";
	buf_init(&b);
	CHECK_STR(record(&b, &r), "H K7Q2M9XW3P 1795766683 1 3 1 0 PLAIN "
	    "192.0.2.7 jane");
	CHECK(parse_copy(b.data, &back) == 0 && back.proto == PROTO_SMTP);
	r.proto = PROTO_IMAP;
	CHECK_STR(record(&b, &r), "H K7Q2M9XW3P 1795766683 1 3 1 0 PLAIN "
	    "192.0.2.7 jane % imap");
	CHECK(parse_copy(b.data, &back) == 0 && back.proto == PROTO_IMAP &&
	    back.server[0] == 0 && back.cause == 3 && back.tls == 1);
	strcpy(r.server, "mx2");
	r.proto = PROTO_SIEVE;
	CHECK_STR(record(&b, &r), "H K7Q2M9XW3P 1795766683 1 3 1 0 PLAIN "
	    "192.0.2.7 jane mx2 sieve");
	for (i = 0; i < PROTO_COUNT; i++) {
		r.proto = (uint8_t)i;
		CHECK(parse_copy(record(&b, &r), &back) == 0 &&
		    back.proto == i && strcmp(back.server, "mx2") == 0);
	}
	r.proto = PROTO_SMTP;
	CHECK_STR(record(&b, &r), "H K7Q2M9XW3P 1795766683 1 3 1 0 PLAIN "
	    "192.0.2.7 jane mx2");
	for (i = 0; i < NELEM(older); i++)
		CHECK(parse_copy(older[i], &back) == 0 &&
		    back.proto == PROTO_SMTP && back.smtpd_pid == 7);
	CHECK(parse_copy("H K7Q2M9XW3P 1 1 3 1 0 PLAIN 192.0.2.7 jane % pop3",
	    &back) == 0 && back.proto == PROTO_POP3 && back.server[0] == 0);
	for (i = 0; i < NELEM(refused); i++)
		CHECK(parse_copy(refused[i], &back) < 0);
	buf_free(&b);
}

/* state_text - a state file of limits l and history h at now */
static char *
state_text(struct limits *l, struct history *h, uint32_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	CHECK(fp && state_write(fp, l, h, now) == 0);
	if (fp)
		fclose(fp);
	return text;
}

/* state_setup - empty limits and a history of 8 */
static void
state_setup(struct limits *l, struct history *h)
{
	struct limits_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("5/10m", &cfg.account);
	limit_parse("9/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 9;
	cfg.max_tracked = 100;
	limits_init(l, &cfg);
	history_init(h, 8);
}

/* state_read - text into fresh limits and history; the loader's counts */
static struct state_loader
state_read(struct limits *l, struct history *h, char *text, uint32_t now)
{
	struct state_loader ld;
	char *line, *save = NULL;

	state_setup(l, h);
	state_loader_init(&ld, l, h, now);
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		state_load_line(&ld, line);
	return ld;
}

/*
 * The state file keeps each attempt's door; a file written before there
 * were other doors loads whole, its attempts SMTP's.
 */
TEST(state_history_proto_round_trip)
{
	struct limits l, l2;
	struct history h, h2;
	struct state_loader ld;
	struct hist_rec r;
	char *text, old[512];
	size_t i;

	state_setup(&l, &h);
	memset(&r, 0, sizeof(r));
	strcpy(r.mech, "PLAIN");
	strcpy(r.ip, "192.0.2.7");
	r.t = 990;
	r.result = 1;
	r.cause = 3;
	for (i = 0; i < PROTO_COUNT; i++) {
		snprintf(r.ref, sizeof(r.ref), "K7Q2M9XW3%zu", i);
		r.proto = (uint8_t)(PROTO_COUNT - 1 - i);
		r.smtpd_pid = r.proto == PROTO_SMTP ? 4242 : 0;
		history_add(&h, &r, "jane");
	}
	text = state_text(&l, &h, 1000);
	CHECK(strstr(text, " jane % imap\n") != NULL);
	CHECK(strstr(text, " jane\n") != NULL);		/* SMTP's, as before */
	ld = state_read(&l2, &h2, text, 1000);
	CHECK(ld.header && ld.bad == 0 && h2.n == PROTO_COUNT);
	for (i = 0; i < PROTO_COUNT; i++)
		CHECK(history_nth(&h2, i)->proto == i &&
		    strcmp(history_nth(&h2, i)->user, "jane") == 0);
	CHECK(history_nth(&h2, 0)->smtpd_pid == 4242);
	free(text);
	limits_free(&l2);
	history_free(&h2);
	/* a file of the same version from before: every attempt SMTP's */
	snprintf(old, sizeof(old), "%s\nE a jane 0 0 0\nF 990 5 0\n"
	    "H K7Q2M9XW3P 990 1 3 1 12 PLAIN 192.0.2.7 jane\n"
	    "H K7Q2M9XW3Q 991 0 0 1 12 PLAIN 192.0.2.7 jane mx2\n",
	    STATE_MAGIC);
	ld = state_read(&l2, &h2, old, 1000);
	CHECK(ld.header && ld.bad == 0 && h2.n == 2);
	CHECK(h2.n == 2 && history_nth(&h2, 0)->proto == PROTO_SMTP &&
	    history_nth(&h2, 1)->proto == PROTO_SMTP &&
	    history_nth(&h2, 1)->smtpd_pid == 12);
	limits_free(&l);
	limits_free(&l2);
	history_free(&h);
	history_free(&h2);
}
