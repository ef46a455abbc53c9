/*++
/* NAME
/*	test_longnames 1
/* SUMMARY
/*	unit tests: user names of every accepted length
/* DESCRIPTION
/*	The gate accepts user names of up to SASL_FIELD_MAX bytes. Each
/*	such name, at 127, 128, 255, 256 and SASL_FIELD_MAX bytes, must be
/*	decoded (PLAIN and LOGIN), counted and locked as an account of its
/*	own, kept whole in the recent attempts and in the state file (each
/*	line within STATE_LINE_MAX, even when every byte is escaped) and
/*	read back, and fit a control request with every option
/*	(CTL_REQUEST_MAX). One byte more is refused, never cut.
/*--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "base64.h"
#include "buf.h"
#include "config.h"
#include "ctlclient.h"
#include "ctlcmd.h"
#include "history.h"
#include "proto.h"
#include "sasl.h"
#include "state.h"
#include "unit.h"

static const size_t lengths[] = {127, 128, 255, 256, SASL_FIELD_MAX};

#define NLEN	(sizeof(lengths) / sizeof(lengths[0]))

/* name_of - n bytes of c, a tag in front telling the lengths apart */
static char *
name_of(size_t n, char c)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = 0;
	snprintf(s, n, "n%zu", n);
	s[strlen(s)] = c;
	return s;
}

/* plain_b64 - b64(NUL user NUL pass) */
static void
plain_b64(struct buf *b, const char *user, const char *pass)
{
	sasl_plain_encode(b, "", user, pass);
}

/* PLAIN: users and passwords of SASL_FIELD_MAX bytes pass, one more does not */
TEST(longnames_plain_up_to_the_field_max)
{
	struct sasl_plain sp;
	struct buf b;
	char *user, *pass = name_of(SASL_FIELD_MAX, 'p');
	size_t i, ok = 0;

	buf_init(&b);
	for (i = 0; i < NLEN; i++) {
		user = name_of(lengths[i], 'u');
		b.len = 0;
		plain_b64(&b, user, pass);
		if (sasl_plain_decode(b.data, b.len, &sp) == SASL_OK &&
		    strcmp(sp.user, user) == 0 && strcmp(sp.pass, pass) == 0)
			ok++;
		sasl_plain_wipe(&sp);
		free(user);
	}
	CHECK(ok == NLEN);
	user = name_of(SASL_FIELD_MAX + 1, 'u');
	b.len = 0;
	plain_b64(&b, user, "pw");
	CHECK(sasl_plain_decode(b.data, b.len, &sp) == SASL_TOO_LONG);
	b.len = 0;
	plain_b64(&b, "u", user);	/* a password one byte too long */
	CHECK(sasl_plain_decode(b.data, b.len, &sp) == SASL_TOO_LONG);
	free(user);
	free(pass);
	buf_free(&b);
}

/* LOGIN: a user name of each length, one more refused. */
TEST(longnames_login_up_to_the_field_max)
{
	struct buf enc;
	char *user, *v;
	size_t i, ok = 0, n;

	buf_init(&enc);
	for (i = 0; i <= NLEN; i++) {
		n = i < NLEN ? lengths[i] : SASL_FIELD_MAX + 1;
		user = name_of(n, 'u');
		enc.len = 0;
		base64_encode(&enc, (const unsigned char *)user, n);
		if (i < NLEN && sasl_login_decode(enc.data, enc.len, 0, &v) ==
		    SASL_OK) {
			ok += strcmp(v, user) == 0;
			free(v);
		} else if (i == NLEN)
			CHECK(sasl_login_decode(enc.data, enc.len, 0, &v) ==
			    SASL_TOO_LONG);
		free(user);
	}
	CHECK(ok == NLEN);
	buf_free(&enc);
}

/* setup - 2 failures per 10 minutes lock an account */
static void
setup(struct limits *l)
{
	struct limits_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("2/10m", &cfg.account);
	limit_parse("200/10m", &cfg.address);
	cfg.lockout_time = 900;
	cfg.lockout_max = 3600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 100;
	cfg.max_tracked = 100;
	limits_init(l, &cfg);
}

/* worst - a name of n bytes that the state file escapes whole (3 bytes each) */
static char *
worst(size_t n)
{
	char *s = name_of(n, '%');
	size_t i;

	for (i = 0; i < 8 && i < n; i++)
		s[i] = (char)(i % 2 ? ' ' : 0xe9);	/* and some others */
	return s;
}

/* fill - each name fails twice (locked) and is a recent attempt */
static void
fill(struct limits *l, struct history *h, char **names)
{
	struct limits_outcome out;
	struct limits_query q = {NULL, "192.0.2.1/32", 0, 0, 0};
	struct hist_rec rec;
	size_t i;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.mech, "SCRAM-SHA-256-PLUS");
	strcpy(rec.ip, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	strcpy(rec.server, "a-host-name-of-thirty-one-bytes");
	rec.proto = PROTO_SIEVE;	/* the longest door's name */
	rec.t = 1000;
	rec.result = 1;
	rec.cause = 1;
	for (i = 0; i < NLEN; i++) {
		q.account = names[i];
		q.fp = 1;
		limits_fail(l, &q, 1, 1, 1000, &out);
		q.fp = 2;
		limits_fail(l, &q, 1, 1, 1000, &out);
		snprintf(rec.ref, sizeof(rec.ref), "ABCDEFGHJ%zu", i);
		history_add(h, &rec, names[i]);
	}
}

/* Every byte of every name escaped: each line fits, each name comes back. */
TEST(longnames_state_file_round_trip)
{
	struct limits l, l2;
	struct history h, h2;
	struct state_loader ld;
	struct limits_query q = {NULL, NULL, 3, 0, 0};
	char *names[NLEN], *text = NULL, *line, *save = NULL;
	size_t len = 0, i, longest = 0, locked = 0, kept = 0;
	uint32_t retry;
	FILE *fp;

	for (i = 0; i < NLEN; i++)
		names[i] = worst(lengths[i]);
	setup(&l);
	history_init(&h, NLEN);
	fill(&l, &h, names);
	fp = open_memstream(&text, &len);
	CHECK(state_write(fp, &l, &h, 1001) == 0);
	fclose(fp);
	setup(&l2);
	history_init(&h2, NLEN);
	state_loader_init(&ld, &l2, &h2, 1002);
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) + 1 > longest)
			longest = strlen(line) + 1;
		CHECK(state_load_line(&ld, line) == 0);
	}
	CHECK(ld.bad == 0);
	CHECK(longest > 3 * SASL_FIELD_MAX && longest < STATE_LINE_MAX);
	for (i = 0; i < NLEN; i++) {
		q.account = names[i];
		locked += limits_check(&l2, &q, 1002, &retry) ==
		    LV_ACCOUNT_LOCKED;
		kept += strcmp(history_nth(&h2, NLEN - 1 - i)->user,
		    names[i]) == 0 && history_nth(&h2, NLEN - 1 - i)->proto ==
		    PROTO_SIEVE;
		free(names[i]);
	}
	CHECK(locked == NLEN && kept == NLEN);
	free(text);
	limits_free(&l);
	limits_free(&l2);
	history_free(&h);
	history_free(&h2);
}

/*
 * A record as Redis keeps it (state_history_format) parses back whole:
 * the longest name, a zoned address, a host name of 63 bytes.
 */
TEST(longnames_shared_record_round_trip)
{
	static const char zoned[] = "fe80::ffff:ffff:ffff:ffff%abcdefghijklmno";
	struct hist_rec rec, back;
	struct buf b;
	char *name = worst(SASL_FIELD_MAX), *user, *copy;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.ref, "ABCDEFGHJK");
	strcpy(rec.mech, "PLAIN");
	strcpy(rec.ip, zoned);
	memset(rec.server, 'h', sizeof(rec.server) - 1);
	rec.proto = PROTO_SIEVE;
	rec.user = name;
	buf_init(&b);
	state_history_format(&b, &rec);
	copy = strdup(buf_str(&b));
	CHECK(state_history_parse(copy, &back, &user) == 0);
	CHECK(user != NULL && strcmp(user, name) == 0);
	CHECK_STR(back.ip, zoned);
	CHECK(strlen(back.server) == 63 && strcmp(back.server, rec.server) == 0);
	CHECK(back.proto == PROTO_SIEVE);
	free(copy);
	free(name);
	buf_free(&b);
}

/* The longest control request: a SASL_FIELD_MAX argument and every option. */
TEST(longnames_control_request_fits)
{
	char *name = name_of(SASL_FIELD_MAX, 'u');
	char *actor = name_of(CTL_ACTOR_MAX, 'a');
	struct buf req;

	buf_init(&req);
	buf_printf(&req, "unlock\tjson\t%s\tsince=4294967295\tby=address\t"
	    "for=4294967295\tsince=4294967295\tactor=%s", name, actor);
	CHECK(req.len <= CTL_REQUEST_MAX);
	buf_free(&req);
	free(actor);
	free(name);
}
