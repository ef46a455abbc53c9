/*++
/* NAME
/*	test_upstream 1
/* SUMMARY
/*	the Dovecot auth-client connection's life, on the simulation
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3) and plays Dovecot's side of the auth-client socket: its
/*	handshake (finished, unfinished, of another protocol version,
/*	with other mechanisms), hang-ups and refusals, replies for ids it
/*	was never given, overlong and unknown lines. What upstream 3
/*	does is seen from outside: the connections Dovecot accepts and
/*	when, what reaches it (AUTH, CANCEL), what smtpd is told, the
/*	upstream state of the control socket's stats, and the log.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "unit.h"

#define STATS	"stats\ttext\t-\n"

/* mute_reconnect - Dovecot hangs up and its next handshake never ends */
static void
mute_reconnect(void)
{
	sim_dovecot_mute(1);
	sim_dovecot_state(0);
	sim_advance(100);		/* the first retry: 100 ms */
	sim_advance(1);			/* its handshake, without DONE */
}

/*
 * A handshake without DONE: requests wait for it; after upstream_timeout
 * they get 454 and the daemon tries again, 100 ms doubling.
 */
TEST(sim_upstream_handshake_timeout_backs_off)
{
	int c, q;

	sim_begin(NULL);
	CHECK(sim_dovecot_connects() == 1);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	sim_dovecot_mute(1);
	sim_dovecot_state(0);			/* t=0: hangs up */
	CHECK(sim_has(sim_log_find("sasl_upstream"), "connection to Dovecot lost"));
	sim_advance(99);
	CHECK(sim_dovecot_connects() == 1);
	sim_advance(1);				/* t=100: tries again */
	CHECK(sim_dovecot_connects() == 2);
	sim_advance(1);				/* VERSION, MECH, no DONE */
	CHECK(sim_has(sim_control(STATS), "upstream=handshake"));
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(q));
	sim_advance(7998);			/* t=8099 */
	CHECK(!sim_answered(q));
	CHECK(!sim_forwarded(q));
	sim_advance(1);				/* t=8100: 8 s since connect */
	CHECK(sim_answered(q));
	CHECK(!sim_conn_open(c));		/* 454 */
	CHECK(!sim_forwarded(q));
	CHECK(sim_has(sim_log_find("sasl_upstream: no handshake"), "within 8000 ms"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=auth-service-unavailable"));
	sim_advance(199);
	CHECK(sim_dovecot_connects() == 2);
	sim_advance(1);				/* 200 ms later */
	CHECK(sim_dovecot_connects() == 3);
	sim_advance(1);				/* mute again */
	sim_dovecot_mute(0);
	sim_advance(7999);			/* t=16300 */
	CHECK(sim_has(sim_control(STATS), "upstream=connecting") ||
	    sim_has(sim_control(STATS), "upstream=down"));
	sim_advance(399);
	CHECK(sim_dovecot_connects() == 3);
	sim_advance(1);				/* 400 ms later */
	CHECK(sim_dovecot_connects() == 4);
	sim_advance(1);				/* a whole handshake */
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	CHECK(sim_has(sim_log_find("sasl_upstream"), "connected to Dovecot"));
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

/* Dovecot refuses: the retries back off from 100 ms up to 10 s. */
TEST(sim_upstream_refused_backoff_caps_at_10s)
{
	static const unsigned gaps[] = {100, 200, 400, 800, 1600, 3200, 6400,
	    10000, 10000, 10000};
	unsigned i, n;

	sim_begin(NULL);
	sim_dovecot_state(1);			/* goes down: hangs up too */
	n = sim_dovecot_connects();
	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		sim_advance(gaps[i] - 1);
		CHECK(sim_dovecot_connects() == n);
		sim_advance(1);
		CHECK(sim_dovecot_connects() == ++n);
	}
	CHECK(!sim_has(sim_control(STATS), "upstream=ready"));
	sim_dovecot_state(2);			/* back */
	sim_advance(10000);
	CHECK(sim_dovecot_connects() == ++n);
	sim_advance(1);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	sim_dovecot_state(0);			/* the backoff starts over */
	sim_advance(100);
	CHECK(sim_dovecot_connects() == ++n);
	sim_end();
}

/* Requests made during the handshake are sent after DONE, and only then. */
TEST(sim_upstream_queued_until_done)
{
	int c, d, q, r;

	sim_begin(NULL);
	mute_reconnect();
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	r = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_advance(5000);
	CHECK(!sim_forwarded(q));
	CHECK(!sim_forwarded(r));
	CHECK(!sim_answered(q));
	CHECK(sim_has(sim_conn_mechs(c), "PLAIN LOGIN CRAM-MD5"));
	sim_dovecot_line("DONE\n");
	CHECK(sim_forwarded(q));
	CHECK(sim_forwarded(r));
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	sim_dovecot(0, SD_OK);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_has(sim_reply(r), "OK"));
	/* the unfinished handshake's MECH list is Dovecot's last one now */
	d = sim_open();
	CHECK(strcmp(sim_conn_mechs(d), "PLAIN") == 0);
	sim_end();
}

/* A request cancelled before DONE is never sent; the others are. */
TEST(sim_upstream_cancel_while_queued)
{
	int c, q, r;

	sim_begin(NULL);
	mute_reconnect();
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	r = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_cancel_any(q);
	CHECK(sim_has(sim_log_find("event=auth"), "result=abort"));
	sim_dovecot_line("DONE\n");
	CHECK(!sim_forwarded(q));
	CHECK(sim_dovecot_creds(V) == 0);
	CHECK(sim_forwarded(r));
	CHECK(sim_dovecot_owed() == 1);
	CHECK(sim_dovecot_cancels() == 0);	/* nothing to cancel there */
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(r), "OK"));
	sim_end();
}

/* A request that ends while Dovecot has it is cancelled there. */
TEST(sim_upstream_cancel_sent_when_a_request_ends)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_cancel_any(q);			/* smtpd gives it up */
	CHECK(sim_dovecot_cancels() == 1);
	CHECK(sim_dovecot_owed() == 0);
	CHECK(sim_has(sim_log_find("event=auth"), "cancelled by the client"));
	q = sim_auth(c, SIM_CRAM, W, A0, 0, 1);	/* relayed */
	sim_dovecot(0, SD_CONT);
	CHECK(sim_has(sim_reply(q), "CONT"));
	sim_cancel(q);				/* at the client's turn */
	CHECK(sim_dovecot_cancels() == 2);
	CHECK(sim_dovecot_owed() == 0);
	sim_end();
}

/* No answer within upstream_timeout: 454, CANCEL, a late answer ignored. */
TEST(sim_upstream_timeout_cancels)
{
	char line[64];
	unsigned id;
	int c, q, r;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	id = sim_dovecot_id(0);
	CHECK(id != 0);
	sim_advance(7999);
	CHECK(!sim_answered(q));
	sim_advance(1);
	CHECK(sim_answered(q));
	CHECK(!sim_conn_open(c));
	CHECK(sim_dovecot_cancels() == 1);
	CHECK(sim_has(sim_log_find("event=auth"), "no answer from Dovecot in time"));
	snprintf(line, sizeof(line), "OK\t%u\tuser=v\n", id);
	sim_dovecot_line(line);			/* too late: ignored */
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	c = sim_open();
	r = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	CHECK(sim_dovecot_id(0) != id);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(r), "OK"));
	sim_end();
}

/* A hang-up fails what is in flight with 454; the daemon comes back. */
TEST(sim_upstream_reconnects_after_hangup)
{
	int a, b, qa, qb;

	sim_begin(NULL);
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	qb = sim_auth(b, SIM_PLAIN, W, A0, 1, 1);
	sim_dovecot_state(0);
	CHECK(sim_answered(qa) && sim_answered(qb));
	CHECK(!sim_conn_open(a) && !sim_conn_open(b));
	CHECK(sim_has(sim_log_find("sasl_upstream"), "connection to Dovecot lost"));
	CHECK(sim_log_count("cause=auth-service-unavailable") == 2);
	sim_advance(100);
	CHECK(sim_dovecot_connects() == 2);
	sim_advance(1);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	a = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(qa));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(qa), "OK"));
	sim_end();
}

/* An overlong reply fails its own request only; the connection stays. */
TEST(sim_upstream_overlong_reply_fails_one_request)
{
	char *line;
	unsigned id;
	int a, b, qa, qb, n;

	sim_begin(NULL);
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	qb = sim_auth(b, SIM_PLAIN, W, A0, 1, 1);
	id = sim_dovecot_id(0);
	line = malloc(20100);
	n = snprintf(line, 100, "OK\t%u\tuser=v\tx=", id);
	memset(line + n, 'x', 20000);
	strcpy(line + n + 20000, "\n");
	sim_dovecot_line(line);
	free(line);
	CHECK(sim_answered(qa));
	CHECK(!sim_conn_open(a));		/* 454 */
	CHECK(sim_has(sim_log_find("sasl_upstream: line from Dovecot"),
	    "longer than 16384 bytes"));
	CHECK(sim_has(sim_log_find("event=auth"), "overlong reply from Dovecot"));
	CHECK(!sim_answered(qb));
	CHECK(sim_conn_open(b));
	CHECK(sim_dovecot_connects() == 1);	/* kept */
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(qb), "OK"));
	sim_end();
}

/* Replies for ids Dovecot was never given, and lines it should not send. */
TEST(sim_upstream_unknown_ids_and_lines_ignored)
{
	char line[128];
	unsigned id;
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	id = sim_dovecot_id(0);
	sim_dovecot_line("OK\t9999\tuser=v\n");
	sim_dovecot_line("FAIL\t9998\tuser=v\n");
	sim_dovecot_line("CONT\t9997\tAAAA\n");
	CHECK(!sim_answered(q));
	sim_dovecot_line("FROB\t1\n");
	CHECK(sim_has(sim_log_find("sasl_upstream: unexpected"), "FROB"));
	sim_dovecot_line("MECH\tEVIL\tplaintext\n");	/* after DONE */
	CHECK(sim_has(sim_log_find("sasl_upstream: unexpected"), "MECH"));
	CHECK(!sim_answered(q));
	CHECK(sim_conn_open(c));
	snprintf(line, sizeof(line), "OK\t%u\tuser=v\tnopassword\tfoo=bar\n",
	    id);
	sim_dovecot_line(line);
	CHECK(strcmp(sim_reply(q), "OK\tuser=v\tnopassword\tfoo=bar") == 0);
	CHECK(sim_has(sim_log_find("event=auth"), "result=pass"));
	c = sim_open();
	CHECK(strcmp(sim_conn_mechs(c), "PLAIN LOGIN CRAM-MD5") == 0);
	sim_end();
}

/* A handshake of protocol version 2 is refused; the daemon tries again. */
TEST(sim_upstream_version_2_refused)
{
	int c, q;
	unsigned n;

	sim_begin(NULL);
	sim_dovecot_hello("VERSION\t2\t0\nMECH\tPLAIN\tplaintext\nDONE\n");
	sim_dovecot_state(0);
	sim_advance(100);
	sim_advance(1);
	CHECK(sim_has(sim_log_find("sasl_upstream: unsupported"), "version 2"));
	CHECK(!sim_has(sim_control(STATS), "upstream=ready"));
	n = sim_dovecot_connects();
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);	/* connects at once */
	CHECK(sim_dovecot_connects() == n + 1);
	sim_advance(1);				/* VERSION 2 again */
	CHECK(sim_answered(q));
	CHECK(!sim_forwarded(q));
	CHECK(!sim_conn_open(c));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=auth-service-unavailable"));
	sim_dovecot_hello(NULL);
	sim_advance(10000);
	sim_advance(1);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	sim_end();
}

/* The mechanisms smtpd is offered follow Dovecot's last handshake. */
TEST(sim_upstream_mechanisms_follow_dovecot)
{
	int c, d, e;

	sim_begin(NULL);
	c = sim_open();
	CHECK(strcmp(sim_conn_mechs(c), "PLAIN LOGIN CRAM-MD5") == 0);
	sim_dovecot_hello("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
	    "MECH\tSCRAM-SHA-256\tmutual-auth\n"
	    "MECH\tSCRAM-SHA-256-PLUS\tmutual-auth\tchannel-binding\n"
	    "SPID\t1\nCUID\t1\nCOOKIE\t00\nDONE\n");
	sim_dovecot_state(0);
	sim_advance(101);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	CHECK(sim_has(sim_log_find("sasl_upstream: mechanism"),
	    "SCRAM-SHA-256-PLUS needs TLS channel binding"));
	d = sim_open();
	CHECK(strcmp(sim_conn_mechs(d), "PLAIN SCRAM-SHA-256") == 0);
	CHECK(strcmp(sim_conn_mechs(c), "PLAIN LOGIN CRAM-MD5") == 0);
	/* a handshake without MECH lines keeps the list */
	sim_dovecot_hello("VERSION\t1\t2\nDONE\n");
	sim_dovecot_state(0);
	sim_advance(101);
	CHECK(sim_has(sim_control(STATS), "upstream=ready"));
	e = sim_open();
	CHECK(strcmp(sim_conn_mechs(e), "PLAIN SCRAM-SHA-256") == 0);
	sim_end();
}
