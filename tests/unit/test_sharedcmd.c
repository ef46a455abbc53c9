/*++
/* NAME
/*	test_sharedcmd 1
/* SUMMARY
/*	unit tests: the Redis commands of the shared state
/* DESCRIPTION
/*	A run of shared.lua is EVALSHA, the script's SHA-1, "3", three
/*	keys and 18 arguments in a fixed order; each operation (check,
/*	fail, pass, release, lock, unlock, info, keycheck) differs only
/*	in ARGV[1] and what its caller sets after. These tests hold every
/*	argument, the keys with redis_prefix, plain commands, and the
/*	wire form (Redis's protocol) byte for byte, which is what a kept
/*	change is sent as after an outage.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "buf.h"
#include "history.h"
#include "proto.h"
#include "sharedcmd.h"
#include "state.h"
#include "unit.h"

#define SHA	"0123456789abcdef0123456789abcdef01234567"

/* The limits of these tests, in seconds. */
static const struct limits_config test_limits = {
	.account = {5, 600}, .address = {20, 3600}, .lockout_time = 300,
	.lockout_max = 86400, .familiar_ttl = 2592000, .guess_distinct = 3,
	.max_tracked = 100000,
};

/* same_args - the command holds exactly these arguments */
static int
same_args(const struct shared_cmd *c, const char *const *want, int n)
{
	int i;

	if (c->argc != n)
		return 0;
	for (i = 0; i < n; i++)
		if (c->len[i] != strlen(want[i]) ||
		    memcmp(c->argv[i], want[i], c->len[i]) != 0 ||
		    c->argv[i][c->len[i]] != 0)
			return 0;
	return 1;
}

/* wire_is - the command's wire form is exactly want (the command is freed) */
static int
wire_is(struct shared_cmd *c, const char *want, size_t wantlen)
{
	size_t len;
	char *w = shared_cmd_to_wire(c, &len);
	int ok = len == wantlen && memcmp(w, want, len) == 0 && w[len] == 0;

	free(w);
	return ok;
}

TEST(shared_cmd_script_every_argument_in_order)
{
	static const char *const ops[] = {"check", "fail", "pass", "release",
	    "lock", "unlock", "info", "keycheck"};
	const char *want[SHARED_ARGS] = {"EVALSHA", SHA, "3", "", "", "",
	    NULL, "1700000000", "5", "600", "20", "3600", "300", "86400",
	    "2592000", "3", "10", "0", "0", "9", "", "0", "0", "0"};
	struct shared_cmd *c;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		want[SHARED_ARGV(1)] = ops[i];
		c = shared_cmd_script(SHA, &test_limits, ops[i], 1700000000u,
		    SF_ACCOUNT | SF_COUNT_ACCT);
		CHECK(c->argc == SHARED_ARGS);
		CHECK(same_args(c, want, SHARED_ARGS));
		CHECK(c->write == 0);
		CHECK(c->wire == NULL);
		shared_cmd_free(c);
	}
}

TEST(shared_cmd_script_follows_the_limits_given)
{
	struct limits_config l = test_limits;
	struct shared_cmd *c;

	l.account.n = 1;
	l.address.secs = 7;
	l.guess_distinct = 0;
	c = shared_cmd_script(SHA, &l, "check", 0, 0);
	CHECK_STR(c->argv[SHARED_ARGV(2)], "0");
	CHECK_STR(c->argv[SHARED_ARGV(3)], "1");
	CHECK_STR(c->argv[SHARED_ARGV(6)], "7");
	CHECK_STR(c->argv[SHARED_ARGV(10)], "0");
	CHECK_STR(c->argv[SHARED_ARGV(14)], "0");
	shared_cmd_free(c);
}

TEST(sharedcmd_keys_carry_the_prefix_and_kind)
{
	struct shared_cmd *c = shared_cmd_script(SHA, &test_limits, "fail",
	    1, SF_ACCOUNT | SF_ADDRESS);

	shared_cmd_key(c, SHARED_KEYS(1), "authguard:", "a:",
	    "user@example.com");
	shared_cmd_key(c, SHARED_KEYS(2), "authguard:", "i:", "192.0.2.1");
	shared_cmd_key(c, SHARED_KEYS(3), "", "f:", "ab12.7");
	CHECK_STR(c->argv[3], "authguard:a:user@example.com");
	CHECK(c->len[3] == strlen("authguard:a:user@example.com"));
	CHECK_STR(c->argv[4], "authguard:i:192.0.2.1");
	CHECK(c->len[4] == strlen("authguard:i:192.0.2.1"));
	CHECK_STR(c->argv[5], "f:ab12.7");
	CHECK(c->len[5] == 8);
	shared_cmd_key(c, SHARED_KEYS(1), "p:", "a:", "");	/* replaced */
	CHECK_STR(c->argv[3], "p:a:");
	CHECK(c->len[3] == 4);
	CHECK_STR(c->argv[SHARED_ARGV(1)], "fail");	/* ARGV untouched */
	shared_cmd_free(c);
}

TEST(shared_arguments_set_and_replaced)
{
	struct shared_cmd *c = shared_cmd_script(SHA, &test_limits, "check",
	    1, 0);

	shared_arg_num(c, 12, 305419896u);
	shared_arg_num(c, 13, 18446744073709551615ull);
	shared_arg(c, 15, "res.1");
	shared_arg(c, 15, "res.22");
	shared_arg_num(c, 16, 0);
	CHECK_STR(c->argv[SHARED_ARGV(12)], "305419896");
	CHECK_STR(c->argv[SHARED_ARGV(13)], "18446744073709551615");
	CHECK_STR(c->argv[SHARED_ARGV(15)], "res.22");
	CHECK(c->len[SHARED_ARGV(15)] == 6);
	CHECK_STR(c->argv[SHARED_ARGV(16)], "0");
	CHECK(c->argc == SHARED_ARGS);
	shared_cmd_free(c);
}

TEST(sharedcmd_plain_commands_of_a_record)
{
	static const char *const set[] = {"SET", "authguard:h:REF0000001",
	    "line", "EX", "86400"};
	static const char *const lpush[] = {"LPUSH", "authguard:hu:bob",
	    "line"};
	static const char *const ltrim[] = {"LTRIM", "authguard:hi:192.0.2.1",
	    "0", "49"};
	struct shared_cmd *c;

	c = shared_command(5, "SET", "", "line", "EX", "86400");
	shared_cmd_key(c, 1, "authguard:", "h:", "REF0000001");
	CHECK(same_args(c, set, 5));
	shared_cmd_free(c);
	c = shared_command(3, "LPUSH", "", "line");
	shared_cmd_key(c, 1, "authguard:", "hu:", "bob");
	CHECK(same_args(c, lpush, 3));
	shared_cmd_free(c);
	c = shared_command(4, "LTRIM", "", "0", "49");
	shared_cmd_key(c, 1, "authguard:", "hi:", "192.0.2.1");
	CHECK(same_args(c, ltrim, 4));
	CHECK(c->write == 0);
	shared_cmd_free(c);
}

TEST(sharedcmd_wire_of_plain_commands)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	static const char auth[] = "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n"
	    "$0\r\n\r\n";
	static const char bin[] = "*2\r\n$4\r\nECHO\r\n$7\r\na\r\n\0b c\r\n";
	struct shared_cmd *c;

	CHECK(wire_is(shared_command(1, "PING"), ping, sizeof(ping) - 1));
	CHECK(wire_is(shared_command(3, "AUTH", "alice", ""), auth, sizeof(auth) - 1));
	CHECK(wire_is(shared_command(0), "*0\r\n", 4));
	c = shared_command(2, "ECHO", "");
	shared_cmd_set(c, 1, "a\r\n\0b c", 7);	/* bytes, not a string */
	CHECK(wire_is(c, bin, sizeof(bin) - 1));
}

TEST(sharedcmd_wire_of_a_check_byte_for_byte)
{
	static const char want[] =
	    "*24\r\n" "$7\r\nEVALSHA\r\n" "$40\r\n" SHA "\r\n" "$1\r\n3\r\n"
	    "$28\r\nauthguard:a:user@example.com\r\n"
	    "$21\r\nauthguard:i:192.0.2.1\r\n" "$0\r\n\r\n"
	    "$5\r\ncheck\r\n" "$10\r\n1700000000\r\n" "$1\r\n5\r\n"
	    "$3\r\n600\r\n" "$2\r\n20\r\n" "$4\r\n3600\r\n" "$3\r\n300\r\n"
	    "$5\r\n86400\r\n" "$7\r\n2592000\r\n" "$1\r\n3\r\n"
	    "$2\r\n10\r\n" "$9\r\n305419896\r\n" "$1\r\n0\r\n"
	    "$1\r\n3\r\n" "$5\r\nres.7\r\n" "$1\r\n0\r\n" "$1\r\n0\r\n"
	    "$1\r\n0\r\n";
	struct shared_cmd *c = shared_cmd_script(SHA, &test_limits, "check",
	    1700000000u, SF_ACCOUNT | SF_ADDRESS);

	shared_cmd_key(c, SHARED_KEYS(1), "authguard:", "a:",
	    "user@example.com");
	shared_cmd_key(c, SHARED_KEYS(2), "authguard:", "i:", "192.0.2.1");
	shared_arg_num(c, 12, 305419896u);
	shared_arg(c, 15, "res.7");
	CHECK(sizeof(want) - 1 == 312);
	CHECK(wire_is(c, want, sizeof(want) - 1));
}

TEST(sharedcmd_kept_wire_sent_again_unchanged)
{
	struct shared_cmd *c = shared_cmd_script(SHA, &test_limits, "pass", 5,
	    SF_ACCOUNT);
	struct shared_cmd *kept;
	char *first, *again, *copy;
	size_t len, len2;

	shared_cmd_key(c, SHARED_KEYS(1), "", "a:", "carol");
	c->write = SHARED_CHANGE;
	first = shared_cmd_to_wire(c, &len);
	copy = malloc(len);
	memcpy(copy, first, len);
	kept = shared_cmd_of_wire(SHARED_RECORD, first, len);
	CHECK(kept->write == SHARED_RECORD);
	CHECK(kept->argc == 0);
	CHECK(kept->wire == first && kept->wirelen == len);
	again = shared_cmd_to_wire(kept, &len2);	/* taken as it is */
	CHECK(again == first);
	CHECK(len2 == len && memcmp(again, copy, len) == 0);
	free(again);
	free(copy);
}

/*
 * A recent attempt of the IMAP door as every server keeps it: SET of its
 * record, which names the door after the server, byte for byte; the
 * record of an SMTP attempt is what it always was.
 */
TEST(sharedcmd_wire_of_a_record_with_its_door)
{
	static const char want[] =
	    "*5\r\n" "$3\r\nSET\r\n" "$22\r\nauthguard:h:K7Q2M9XW3P\r\n"
	    "$60\r\nH K7Q2M9XW3P 1700000000 1 3 1 0 PLAIN 192.0.2.1 bob mx1 imap"
	    "\r\n" "$2\r\nEX\r\n" "$5\r\n86400\r\n";
	static const char smtp[] =
	    "H K7Q2M9XW3P 1700000000 1 3 1 812 PLAIN 192.0.2.1 bob mx1";
	struct hist_rec r;
	struct shared_cmd *c;
	struct buf line;

	memset(&r, 0, sizeof(r));
	strcpy(r.ref, "K7Q2M9XW3P");
	strcpy(r.mech, "PLAIN");
	strcpy(r.ip, "192.0.2.1");
	strcpy(r.server, "mx1");
	r.t = 1700000000;
	r.result = 1;
	r.cause = 3;
	r.tls = 1;
	r.proto = PROTO_IMAP;
	r.user = "bob";
	buf_init(&line);
	state_history_format(&line, &r);
	buf_putc(&line, 0);
	c = shared_command(5, "SET", "", line.data, "EX", "86400");
	shared_cmd_key(c, 1, "authguard:", "h:", r.ref);
	CHECK(wire_is(c, want, sizeof(want) - 1));
	r.proto = PROTO_SMTP;
	r.smtpd_pid = 812;
	line.len = 0;
	state_history_format(&line, &r);
	buf_putc(&line, 0);
	CHECK_STR(line.data, smtp);
	buf_free(&line);
}
