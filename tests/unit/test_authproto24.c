/*++
/* NAME
/*	test_authproto24 1
/* SUMMARY
/*	unit tests: Dovecot 2.3 and 2.4 protocol lines as they really are
/* DESCRIPTION
/*	Every line below was captured from a real Dovecot talking to
/*	real Postfix or to a test client (tests/lab/capture_protocol.py
/*	and tests/lab/sockspy.py), and says where it came from:
/*	"captured from Dovecot 2.3.19.1" (Debian 12) or "captured from
/*	Dovecot 2.4.1" (Debian 13). Tabs are written as \t.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authproto.h"
#include "cause.h"
#include "unit.h"
#include "util.h"

/* split - a writable copy of line, split into al (freed by the caller) */
static char *
split(const char *line, struct authline *al)
{
	char *copy = xstrdup(line);

	if (authline_split(copy, strlen(copy), al) < 0) {
		free(copy);
		return NULL;
	}
	return copy;
}

/* reply - parse one server reply line; 0 on success */
static int
reply(const char *line, struct auth_reply *r, char **copy)
{
	struct authline al;

	if ((*copy = split(line, &al)) == NULL)
		return -1;
	return authproto_parse_reply(&al, r);
}

/* version_of - major.minor of a VERSION line, or -1 */
static int
version_of(const char *line, unsigned *major, unsigned *minor)
{
	struct authline al;
	char *copy;
	int rc;

	if ((copy = split(line, &al)) == NULL)
		return -1;
	rc = authproto_parse_version(&al, major, minor);
	free(copy);
	return rc;
}

/* mech_of - name and flags of a MECH line, or -1 */
static int
mech_of(const char *line, char *name, size_t size, unsigned *flags)
{
	struct authline al;
	struct auth_mech m;
	char *copy;
	int rc;

	if ((copy = split(line, &al)) == NULL)
		return -1;
	if ((rc = authproto_parse_mech(&al, &m)) == 0) {
		snprintf(name, size, "%s", m.name);
		*flags = m.flags;
	}
	free(copy);
	return rc;
}

TEST(authproto_version_lines)
{
	unsigned major, minor;

	/* auth-client, server side: captured from Dovecot 2.3.19.1 */
	CHECK(version_of("VERSION\t1\t2", &major, &minor) == 0 &&
	    major == 1 && minor == 2);
	/* auth-client, server side: captured from Dovecot 2.4.1 */
	CHECK(version_of("VERSION\t1\t3", &major, &minor) == 0 &&
	    major == 1 && minor == 3);
	/* auth-master (auth-userdb) greeting: captured from Dovecot 2.3.19.1 */
	CHECK(version_of("VERSION\t1\t1", &major, &minor) == 0 &&
	    major == 1 && minor == 1);
	/* client side: captured from Postfix 3.7.11 and Postfix 3.10 alike */
	CHECK(version_of("VERSION\t1\t0", &major, &minor) == 0 &&
	    major == 1 && minor == 0);
	/* not versions */
	CHECK(version_of("VERSION\t1", &major, &minor) < 0);
	CHECK(version_of("VERSION\tx\t1", &major, &minor) < 0);
	CHECK(version_of("VERSION\t1\t-3", &major, &minor) < 0);
	CHECK(version_of("VERSION\t99999999\t0", &major, &minor) < 0);
	CHECK(version_of("MECH\t1\t3", &major, &minor) < 0);
	/* a future major version parses; the caller refuses it */
	CHECK(version_of("VERSION\t2\t0", &major, &minor) == 0 && major == 2);
}

TEST(authproto_mech_lines)
{
	char name[32];
	unsigned flags;

	/* captured from Dovecot 2.3.19.1 and Dovecot 2.4.1 alike */
	CHECK(mech_of("MECH\tPLAIN\tplaintext", name, sizeof(name),
	    &flags) == 0 && strcmp(name, "PLAIN") == 0 &&
	    flags == AUTH_MECH_PLAINTEXT);
	CHECK(mech_of("MECH\tCRAM-MD5\tdictionary\tactive", name,
	    sizeof(name), &flags) == 0 && strcmp(name, "CRAM-MD5") == 0 &&
	    flags == (AUTH_MECH_DICTIONARY | AUTH_MECH_ACTIVE));
	CHECK(mech_of("MECH\tSCRAM-SHA-256\tmutual-auth", name, sizeof(name),
	    &flags) == 0 && flags == AUTH_MECH_MUTUAL_AUTH);
	/*
	 * Captured from Dovecot 2.4.1 (auth_mechanisms with
	 * scram-sha-256-plus) answering a client that announced VERSION 1 3;
	 * to a client that announced 1 2 the same Dovecot leaves it out.
	 */
	CHECK(mech_of("MECH\tSCRAM-SHA-256-PLUS\tmutual-auth\tchannel-binding",
	    name, sizeof(name), &flags) == 0 &&
	    strcmp(name, "SCRAM-SHA-256-PLUS") == 0 &&
	    flags == (AUTH_MECH_MUTUAL_AUTH | AUTH_MECH_CHANNEL_BINDING));
	/* a flag a later Dovecot may add is ignored, the name kept */
	CHECK(mech_of("MECH\tXYZ\tsomething-new", name, sizeof(name),
	    &flags) == 0 && strcmp(name, "XYZ") == 0 && flags == 0);
	CHECK(mech_of("MECH", name, sizeof(name), &flags) < 0);
	CHECK(mech_of("MECH\tplain lower", name, sizeof(name), &flags) < 0);
	CHECK(mech_of("SPID\t161", name, sizeof(name), &flags) < 0);
}

/*
 * The FAIL lines of the lab's special accounts (a Lua passdb returning
 * Dovecot's own results), the same in Dovecot 2.3.19.1 and 2.4.1: both
 * captured, byte for byte, by tests/lab/capture_protocol.py case 8.
 */
static const char *const fail_lines[] = {
	"FAIL\t27\tuser=disabled@example.test\tcode=user_disabled",
	"FAIL\t28\tuser=expired@example.test\tcode=pass_expired\treason=Password expired",
	"FAIL\t29\tuser=tempfail@example.test\tcode=temp_fail",
	"FAIL\t30\tuser=nobody@example.test",
};

TEST(authproto_fail_codes_23_and_24)
{
	static const enum cause want[] = {CAUSE_ACCOUNT_DISABLED,
	    CAUSE_PASSWORD_EXPIRED, CAUSE_AUTH_SERVICE_UNAVAILABLE, CAUSE_NONE};
	struct auth_reply r;
	char *copy;
	size_t i;

	for (i = 0; i < NELEM(fail_lines); i++) {
		CHECK(reply(fail_lines[i], &r, &copy) == 0);
		CHECK(r.kind == AUTH_REPLY_FAIL && r.id == 27 + i);
		CHECK(r.user != NULL && strchr(r.user, '@') != NULL);
		CHECK(cause_from_code(r.code) == want[i]);
		CHECK(!r.temp);
		free(copy);
	}
	CHECK(reply(fail_lines[1], &r, &copy) == 0);
	CHECK_STR(r.reason, "Password expired");
	free(copy);
	/* an empty PLAIN response ("resp="): no user, no code, no reason;
	   captured from Dovecot 2.3.19.1 and 2.4.1 alike */
	CHECK(reply("FAIL\t11", &r, &copy) == 0 && r.kind == AUTH_REPLY_FAIL &&
	    r.id == 11 && r.user == NULL && r.code == NULL && r.reason == NULL);
	free(copy);
}

TEST(authproto_replies_24)
{
	struct auth_reply r;
	char *copy;

	/* captured from Dovecot 2.4.1 */
	CHECK(reply("OK\t32\tuser=alice@example.test", &r, &copy) == 0 &&
	    r.kind == AUTH_REPLY_OK && r.id == 32);
	CHECK_STR(r.user, "alice@example.test");
	free(copy);
	/* LOGIN's prompts and PLAIN's empty challenge, captured from
	   Dovecot 2.4.1 (the same as 2.3.19.1) */
	CHECK(reply("CONT\t6\tVXNlcm5hbWU6", &r, &copy) == 0 &&
	    r.kind == AUTH_REPLY_CONT);
	CHECK_STR(r.data, "VXNlcm5hbWU6");
	free(copy);
	CHECK(reply("CONT\t9\t", &r, &copy) == 0 && r.kind == AUTH_REPLY_CONT);
	CHECK_STR(r.data, "");
	free(copy);
	/* Dovecot 2.4 adds fields after a CONT's data for clients that
	   announced 1.3 (auth-request-handler.c, channel_binding=); the data
	   stays the third field */
	CHECK(reply("CONT\t4\tcj1hYmM=\tchannel_binding=tls-exporter", &r,
	    &copy) == 0 && r.kind == AUTH_REPLY_CONT);
	CHECK_STR(r.data, "cj1hYmM=");
	free(copy);
}

TEST(authproto_userdb_24)
{
	struct authline al;
	enum userdb_reply_kind k;
	unsigned id, major, minor;
	char *copy;

	/* the auth-userdb greeting: captured from Dovecot 2.4.1 */
	CHECK(version_of("VERSION\t1\t3", &major, &minor) == 0 && major == 1);
	/* captured from Dovecot 2.4.1 (home shortened) */
	CHECK((copy = split("USER\t1\talice@example.test\tuid=1000\tgid=1000"
	    "\thome=/tmp/lab/home/alice", &al)) != NULL);
	CHECK(authproto_parse_userdb(&al, &id, &k) == 0 && id == 1 &&
	    k == USERDB_FOUND);
	free(copy);
	CHECK((copy = split("NOTFOUND\t2", &al)) != NULL);
	CHECK(authproto_parse_userdb(&al, &id, &k) == 0 && id == 2 &&
	    k == USERDB_NOTFOUND);
	free(copy);
	/* SPID follows VERSION on connect: not a reply */
	CHECK((copy = split("SPID\t161", &al)) != NULL);
	CHECK(authproto_parse_userdb(&al, &id, &k) < 0);
	free(copy);
}
