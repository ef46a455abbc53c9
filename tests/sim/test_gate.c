/*++
/* NAME
/*	test_gate 1
/* SUMMARY
/*	the gate's request life, on the simulation
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3), plays smtpd, Dovecot, auth-userdb and the admin step by
/*	step, and checks what each of them saw. sim_end() then runs every
/*	deadline out and checks the simulation's invariants.
/*--*/
#include <stdint.h>
#include <stdio.h>

#include "sim.h"
#include "unit.h"


/* fail_once - a wrong password for user from address a, to its end */
static void
fail_once(int c, int user, int a)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);

	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
}

/* fail_after - request q is answered FAIL ms from now, not a millisecond earlier */
static void
fail_after(int q, uint64_t ms)
{
	sim_advance(ms - 1);
	CHECK(!sim_answered(q));
	sim_advance(1);
	CHECK(sim_has(sim_reply(q), "FAIL"));
}

TEST(sim_gate_plain_passes)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	CHECK(!sim_answered(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_has(sim_log_find("event=auth"), "result=pass"));
	sim_end();
}

TEST(sim_gate_login_two_steps)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_LOGIN, W, A0, 0, 1);
	CHECK(sim_has(sim_reply(q), "CONT"));	/* Username: */
	sim_cont(q, 0);
	CHECK(sim_has(sim_reply(q), "CONT"));	/* Password: */
	CHECK(!sim_forwarded(q));
	sim_cont(q, 0);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

TEST(sim_gate_tls_required_never_forwarded)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(!sim_forwarded(q));
	CHECK(sim_dovecot_creds(V) == 0);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=tls-required"));
	sim_end();
}

TEST(sim_gate_unknown_user_from_userdb)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_dovecot(0, SD_FAIL);
	CHECK(!sim_answered(q));		/* asking auth-userdb */
	sim_userdb(0, SU_NOTFOUND);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=unknown-user"));
	sim_end();
}

TEST(sim_gate_userdb_stall_decides_in_time)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_dovecot(0, SD_FAIL);
	sim_advance(1000);
	CHECK(!sim_answered(q));
	sim_advance(1100);		/* the lookup's budget is 2 s */
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "result=fail"));
	sim_end();
}

TEST(sim_gate_account_locks_at_its_limit)
{
	unsigned before;
	int c, i, q;

	sim_begin(NULL);
	c = sim_open();
	for (i = 0; i < SIM_ACCT_LIMIT; i++)
		fail_once(c, V, A0);
	CHECK(sim_account_locked(V));
	CHECK(sim_account_failures(V) == 0);	/* the lock took the window */
	before = sim_dovecot_creds(V);
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this account"));
	CHECK(sim_dovecot_creds(V) == before);	/* Dovecot not asked */
	sim_end();
}

TEST(sim_gate_waits_at_the_limit_then_goes)
{
	int c, q, parked;

	sim_begin(NULL);
	c = sim_open();
	fail_once(c, V, A0);
	fail_once(c, V, A0);
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);	/* the last place */
	CHECK(sim_forwarded(q));
	parked = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(parked));
	CHECK(!sim_answered(parked));
	sim_dovecot(0, SD_OK);			/* the place is free again */
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_forwarded(parked));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(parked), "OK"));
	sim_end();
}

TEST(sim_gate_admin_unlock_wakes_a_waiting_request)
{
	int c, q, parked;

	sim_begin(NULL);
	c = sim_open();
	fail_once(c, V, A0);
	fail_once(c, V, A0);
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	parked = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(parked));
	sim_admin(1, 0, V);			/* the window is cleared */
	CHECK(sim_forwarded(parked));		/* at once, not at a timeout */
	CHECK(!sim_answered(q));
	sim_end();
}

TEST(sim_gate_admin_lock_refuses_a_waiting_request)
{
	unsigned before;
	int c, parked;

	sim_begin(NULL);
	c = sim_open();
	fail_once(c, V, A0);
	fail_once(c, V, A0);
	(void)sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	parked = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	before = sim_dovecot_creds(V);
	sim_admin(0, 0, V);
	CHECK(sim_has(sim_reply(parked), "too many failed attempts for this "
	    "account"));
	CHECK(sim_dovecot_creds(V) == before);
	sim_end();
}

TEST(sim_gate_address_lock_refuses_before_dovecot)
{
	int c, q, other;

	sim_begin(NULL);
	c = sim_open();
	sim_admin(0, 1, 1);			/* lock sim_addrs[1] */
	q = sim_auth(c, SIM_PLAIN, V, 1, 1, 1);
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this address"));
	CHECK(!sim_forwarded(q));
	other = sim_auth(c, SIM_PLAIN, V, 2, 1, 1);
	CHECK(sim_forwarded(other));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(other), "OK"));
	sim_end();
}

/*
 * The use-after-free at teardown: with a limit of 1, a request of
 * connection B waits behind A's, a LOGIN of B waits for its user name,
 * the admin locks the account, and B closes.
 */
TEST(sim_gate_teardown_with_waiting_requests)
{
	int a, b, qa, parked, login;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	parked = sim_auth(b, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(parked));
	login = sim_auth(b, SIM_LOGIN, W, A0, 0, 1);
	CHECK(sim_has(sim_reply(login), "CONT"));
	sim_admin(0, 0, V);
	sim_close(b);
	CHECK(!sim_forwarded(parked));
	CHECK(!sim_answered(qa));
	sim_dovecot(0, SD_OK);
	CHECK(sim_answered(qa));
	sim_end();
}

/* The same without the lock: closing B wakes its own waiting request. */
TEST(sim_gate_teardown_wakes_nothing_of_its_own)
{
	int a, b, parked;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	(void)sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	parked = sim_auth(b, SIM_PLAIN, V, A0, 1, 1);
	(void)sim_auth(b, SIM_LOGIN, W, A0, 0, 1);
	(void)sim_auth(b, SIM_LOGIN, W, A0, 0, 1);	/* abandons the first */
	sim_close(b);
	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_USER);
	CHECK(!sim_forwarded(parked));
	sim_end();
}

/*
 * Dovecot hangs up while a request waits behind one in flight: the waiting
 * request is woken by the lost one's end, and must not be sent to the next
 * connection after its smtpd was told 454 (the invariant checks it).
 */
TEST(sim_gate_hangup_with_a_waiting_request)
{
	int a, b, qa, parked;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	parked = sim_auth(b, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot_state(0);
	CHECK(sim_answered(qa));
	CHECK(!sim_conn_open(a));		/* 454 */
	sim_advance(1000);			/* it reconnects */
	sim_advance(1000);
	if (sim_answered(parked))
		CHECK(!sim_forwarded(parked));
	sim_end();
}

TEST(sim_gate_dovecot_down_answers_454)
{
	int c, q;

	sim_begin(NULL);
	sim_dovecot_state(1);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_advance(9000);
	CHECK(sim_answered(q));
	CHECK(!sim_conn_open(c));
	CHECK(sim_has(sim_log_find("event=auth"),
	    "cause=auth-service-unavailable"));
	sim_dovecot_state(2);
	sim_advance(5000);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

TEST(sim_gate_tempfail_closes_the_connection)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_TEMPFAIL);
	CHECK(sim_answered(q));
	CHECK(!sim_conn_open(c));
	CHECK(sim_has(sim_log_find("event=auth"),
	    "cause=auth-service-unavailable"));
	sim_end();
}

TEST(sim_gate_cram_md5_relayed)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_CRAM, W, A0, 0, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_CONT);
	CHECK(sim_has(sim_reply(q), "CONT"));
	sim_cont(q, 0);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

/* A locked account's CRAM-MD5 response never reaches Dovecot. */
TEST(sim_gate_cram_md5_locked_account)
{
	unsigned before;
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	sim_admin(0, 0, V);
	q = sim_auth(c, SIM_CRAM, V, A0, 0, 1);
	before = sim_dovecot_creds(V);
	if (sim_forwarded(q))
		sim_dovecot(0, SD_CONT);
	if (sim_has(sim_reply(q), "CONT"))
		sim_cont(q, 0);
	CHECK(sim_dovecot_creds(V) == before);
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this account"));
	sim_end();
}

TEST(sim_gate_cancel_and_garbage)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 0, 1);
	CHECK(sim_has(sim_reply(q), "CONT"));
	sim_cancel(q);
	CHECK(sim_has(sim_log_find("event=auth"), "result=abort"));
	q = sim_auth(c, SIM_LOGIN, V, A0, 0, 1);
	sim_cont(q, 1);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=malformed-response"));
	sim_hostile(c, 6);			/* a line over 16 KiB */
	CHECK(sim_conn_open(c));		/* and it keeps serving */
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

/*
 * Dovecot hangs up while a relayed response waits at the limit behind a
 * request in flight: the waiting request, woken by the lost one's end,
 * must not queue its response (a proof of the password) for the next
 * connection, where its id means nothing (the invariant checks it).
 */
TEST(sim_gate_hangup_with_a_waiting_relayed_response)
{
	int a, b, qa, qb;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	qb = sim_auth(b, SIM_CRAM, V, A0, 0, 1);
	CHECK(sim_forwarded(qb));		/* for its challenge */
	sim_dovecot(1, SD_CONT);
	CHECK(sim_has(sim_reply(qb), "CONT"));
	sim_cont(qb, 0);			/* names v: waits behind qa */
	CHECK(sim_dovecot_creds(V) == 1);
	sim_dovecot_state(0);
	CHECK(sim_answered(qa));
	CHECK(sim_answered(qb));
	sim_advance(1000);			/* a new connection, its hello */
	sim_advance(1000);
	CHECK(sim_dovecot_creds(V) == 1);
	sim_end();
}

/*
 * While the client answers a relayed challenge, its request holds no
 * place at the limit: a client that never answers keeps nobody waiting.
 */
TEST(sim_gate_relayed_challenge_holds_no_place)
{
	int a, b, qa, qb;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qb = sim_auth(b, SIM_CRAM, V, A0, 0, 1);
	sim_dovecot(0, SD_CONT);
	sim_cont(qb, 0);			/* names v, goes on */
	CHECK(sim_dovecot_creds(V) == 1);
	sim_dovecot(0, SD_CONT);		/* a second challenge */
	CHECK(sim_has(sim_reply(qb), "CONT"));
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(qa));		/* not kept waiting */
	sim_dovecot(1, SD_OK);
	CHECK(sim_has(sim_reply(qa), "OK"));
	sim_end();
}

/* Mechanism names are case-blind (RFC 4954): Postfix passes them on as typed. */
TEST(sim_gate_mechanism_names_case_blind)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth_lower(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_has(sim_log_find("event=auth"), "mech=PLAIN"));
	q = sim_auth_lower(c, SIM_LOGIN, W, A0, 0, 1);
	CHECK(sim_has(sim_reply(q), "CONT"));	/* Username: */
	sim_cont(q, 0);
	sim_cont(q, 0);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_has(sim_log_find("event=auth"), "mech=LOGIN"));
	q = sim_auth_lower(c, SIM_CRAM, U, A0, 0, 1);
	CHECK(sim_forwarded(q));		/* relayed as CRAM-MD5 */
	sim_dovecot(0, SD_CONT);
	sim_cont(q, 0);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_has(sim_log_find("event=auth"), "mech=CRAM-MD5"));
	sim_end();
}

/*
 * A mechanism Dovecot did not list is refused by the gate: sent on, it
 * would make Dovecot drop its connection and every attempt in flight
 * on it would get 454.
 */
TEST(sim_gate_unoffered_mechanism_costs_nobody)
{
	int a, b, qa, qb;

	sim_begin(NULL);
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(qa));
	qb = sim_auth_unoffered(b, A1, 1);
	CHECK(sim_has(sim_reply(qb), "FAIL"));
	CHECK(!sim_forwarded(qb));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=malformed-response"));
	CHECK(sim_has(sim_log_find("event=auth"),
	    "mechanism NTLM is not offered by Dovecot"));
	CHECK(sim_conn_open(b));		/* its smtpd goes on too */
	CHECK(!sim_answered(qa));
	sim_dovecot(0, SD_OK);			/* the same connection answers */
	CHECK(sim_has(sim_reply(qa), "OK"));
	CHECK(sim_dovecot_connects() == 1);
	sim_end();
}

/* Before Dovecot has failed anyone, a refusal decided here takes 2 s. */
TEST(sim_gate_refusal_waits_as_dovecot_would)
{
	int c, q;

	sim_begin("refusal_delay = dovecot\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);	/* no TLS */
	CHECK(!sim_answered(q));
	CHECK(!sim_forwarded(q));
	fail_after(q, 2000);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=tls-required"));
	CHECK(sim_dovecot_creds(V) == 0);
	sim_end();
}

/*
 * Once Dovecot has failed someone, failures are sent when the slowest of
 * Dovecot's last ones came: a refusal decided here waits for that time,
 * and so does a failure of Dovecot's that came earlier.
 */
TEST(sim_gate_refusal_follows_dovecots_delay)
{
	int c, q, i;

	sim_begin("refusal_delay = dovecot\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_advance(1300);
	sim_dovecot(0, SD_FAIL);		/* Dovecot's failure: 1.3 s */
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));	/* the one seen: sent now */
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);	/* decided here */
	fail_after(q, 1300);
	for (i = 0; i < 9; i++) {		/* nine more at 1.5 s */
		q = sim_auth(c, SIM_PLAIN, W, A1, 1, 1);
		sim_advance(1500);
		sim_dovecot(0, SD_FAIL);
		sim_userdb(0, SU_USER);
		CHECK(sim_has(sim_reply(q), "FAIL"));	/* later than 1.3 s */
	}
	q = sim_auth(c, SIM_PLAIN, W, A1, 1, 1);
	sim_advance(200);
	sim_dovecot(0, SD_FAIL);		/* early: held to 1.5 s */
	sim_userdb(0, SU_USER);
	fail_after(q, 1300);
	sim_end();
}

/* A success is never held. */
TEST(sim_gate_success_not_held)
{
	int c, q;

	sim_begin("refusal_delay = 2s\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

/* client_detail = full tells the causes apart in words: no wait. */
TEST(sim_gate_refusal_at_once_with_full_detail)
{
	int c, q;

	sim_begin("refusal_delay = dovecot\nclient_detail = full\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	sim_end();
}

/* The wait stays within smtpd's, whatever refusal_delay says. */
TEST(sim_gate_refusal_delay_within_smtpds_wait)
{
	int c, q;

	sim_begin("refusal_delay = 1h\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);
	fail_after(q, 7900);	/* upstream_timeout 8 s - 100 ms */
	sim_end();
}

/*
 * A refusal that waits is decided: cancelled or with smtpd gone, it is
 * logged as the failure it is, and nothing more is sent.
 */
TEST(sim_gate_waiting_refusal_cancelled_or_closed)
{
	int c, q;

	sim_begin("refusal_delay = 2s\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);
	sim_advance(1000);
	CHECK(!sim_answered(q));		/* waiting */
	CHECK(sim_log_count("event=auth") == 0);
	sim_cancel_any(q);		/* a FAIL after it breaks invariant I1 */
	CHECK(sim_log_count("event=auth") == 1);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=tls-required"));
	CHECK(sim_has(sim_log_find("event=auth"), "result=fail"));
	sim_advance(2000);			/* its time passes: nothing */
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 0);
	sim_advance(1000);
	CHECK(!sim_answered(q));
	sim_close(c);
	CHECK(sim_log_count("event=auth") == 2);
	CHECK(sim_has(sim_log_find("event=auth"), "user=W"));
	CHECK(sim_has(sim_log_find("event=auth"), "result=fail"));
	sim_advance(2000);
	CHECK(sim_log_count("event=auth") == 2);
	sim_end();
}

/*
 * An entry with a flag the daemon does not know keeps its known flags:
 * "oauth-only, no_limit" still refuses W's password, in Dovecot's time.
 */
TEST(sim_gate_unknown_flag_keeps_the_known_ones)
{
	int c, q;

	sim_begin("refusal_delay = 2s\n");
	sim_accounts("w oauth-only, no_limit\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	CHECK(!sim_forwarded(q));
	CHECK(sim_dovecot_creds(W) == 0);
	fail_after(q, 2000);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=oauth-required"));
	CHECK(sim_log_count("no_limit") >= 1);	/* the warning names it */
	sim_end();
}

/*
 * The map in use rewritten in place cannot be read: nothing passes, a
 * 454, not "no flags" (a replacement that cannot be read is not used:
 * the last good map stays, as test_accounts shows)
 */
TEST(sim_gate_unreadable_map_fails_closed)
{
	int c, q;

	sim_begin(NULL);
	sim_accounts("w oauth-only\n");
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);	/* the new map in use */
	CHECK(sim_has(sim_log_find("event=auth"), "cause=oauth-required"));
	sim_accounts_break();
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	CHECK(!sim_forwarded(q));
	CHECK(sim_dovecot_creds(W) == 0);
	CHECK(!sim_conn_open(c));		/* smtpd says 454 */
	CHECK(sim_has(sim_log_find("event=auth"),
	    "cause=auth-service-unavailable"));
	sim_accounts("w oauth-only\n");		/* rebuilt: served again */
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	sim_end();
}

/*
 * A failure Dovecot sends at once (invalid_base64, for a relayed response
 * the gate does not read) is no measure of its failure delay: were it
 * one, a client could send such requests until refusals decided here
 * came at once again, while Dovecot's own still took their time.
 */
TEST(sim_gate_fast_failures_do_not_shorten_the_wait)
{
	char line[128];
	int c, q;

	sim_begin("refusal_delay = dovecot\n");
	c = sim_open();
	q = sim_auth(c, SIM_CRAM, U, A1, 1, 1);
	CHECK(sim_forwarded(q));
	snprintf(line, sizeof(line), "FAIL\t%u\tcode=invalid_base64\t"
	    "reason=Invalid base64 data in initial response\n",
	    sim_dovecot_id(0));
	sim_dovecot_line(line);
	sim_advance(2000);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);	/* decided here */
	fail_after(q, 2000);
	sim_end();
}

/*
 * A relayed exchange refused half-way waits with Dovecot's request
 * cancelled: Dovecot hanging up meanwhile changes nothing (it made the
 * decided refusal a 454).
 */
TEST(sim_gate_waiting_refusal_holds_no_dovecot_request)
{
	int c, q;

	sim_begin("refusal_delay = 2s\n");
	sim_accounts("u@example.org oauth-only\n");
	c = sim_open();
	q = sim_auth(c, SIM_CRAM, U, A0, 0, 1);
	sim_dovecot(0, SD_CONT);
	sim_cont(q, 0);				/* names u: refused, waits */
	CHECK(!sim_answered(q));
	CHECK(sim_dovecot_cancels() == 1);
	sim_advance(500);
	sim_dovecot_state(0);			/* Dovecot hangs up */
	CHECK(!sim_answered(q));
	sim_advance(1500);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_conn_open(c));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=oauth-required"));
	sim_end();
}

/*
 * Dovecot comes back without CRAM-MD5 while requests wait for its
 * handshake: the CRAM-MD5 one is refused, not sent (Dovecot would drop the
 * connection, and the PLAIN one with it).
 */
TEST(sim_gate_queued_request_for_a_dropped_mechanism)
{
	int a, b, qa, qb;

	sim_begin(NULL);
	a = sim_open();
	b = sim_open();
	sim_dovecot_hello("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
	    "MECH\tLOGIN\tplaintext\nSPID\t4242\nCUID\t1\n"
	    "COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n");
	sim_dovecot_state(0);			/* a restart: it hangs up */
	qb = sim_auth(b, SIM_CRAM, U, A1, 0, 1);	/* b's list has CRAM-MD5 */
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	sim_advance(100);			/* the new handshake */
	CHECK(sim_has(sim_reply(qb), "FAIL"));
	CHECK(!sim_forwarded(qb));
	CHECK(sim_log_count("mechanism CRAM-MD5 is no longer offered by "
	    "Dovecot") == 1);
	CHECK(sim_forwarded(qa));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(qa), "OK"));
	CHECK(sim_conn_open(a) && sim_conn_open(b));
	CHECK(sim_log_count("cause=auth-service-unavailable") == 0);
	sim_end();
}

/*
 * Dovecot answers for another account than the one typed ("v" is
 * u@example.org, as auth_default_realm or auth_username_format make it):
 * that account's lock and flags apply, and its failures count for it.
 */
TEST(sim_gate_renamed_account_keeps_its_lock_and_flags)
{
	char line[128];
	unsigned before;
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	CHECK(sim_has(sim_control("lock\ttext\tu@example.org\n"), "OK"));
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);	/* right password */
	CHECK(sim_forwarded(q));
	snprintf(line, sizeof(line), "OK\t%u\tuser=u@example.org\n",
	    sim_dovecot_id(0));
	sim_dovecot_line(line);
	CHECK(sim_has(sim_reply(q), "too many failed attempts for this account"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=account-locked"));
	CHECK(sim_has(sim_log_find("event=auth"), "user=u@example.org"));
	CHECK(sim_has(sim_control("unlock\ttext\tu@example.org\n"), "OK"));
	sim_accounts("u@example.org oauth-only\n");
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	snprintf(line, sizeof(line), "OK\t%u\tuser=u@example.org\n",
	    sim_dovecot_id(0));
	sim_dovecot_line(line);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=oauth-required"));
	sim_accounts("nobody@example.org disabled\n");
	before = sim_account_failures(U);
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	snprintf(line, sizeof(line), "FAIL\t%u\tuser=u@example.org\n",
	    sim_dovecot_id(0));
	sim_dovecot_line(line);
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_account_failures(U) == before + 1);	/* counted for u */
	sim_end();
}

/*
 * A relayed challenge gives back the place its request held: a request
 * that waits for that place goes on at once, not when the exchange ends.
 */
TEST(sim_gate_relayed_challenge_wakes_a_waiting_request)
{
	int a, b, qa, qb;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qb = sim_auth(b, SIM_CRAM, V, A0, 0, 1);
	sim_dovecot(0, SD_CONT);
	sim_cont(qb, 0);			/* names v, holds v's place */
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	CHECK(!sim_forwarded(qa));		/* waits behind it */
	sim_dovecot(0, SD_CONT);		/* a second challenge */
	CHECK(sim_has(sim_reply(qb), "CONT"));
	CHECK(sim_forwarded(qa));		/* the place is free */
	sim_dovecot(1, SD_OK);
	CHECK(sim_has(sim_reply(qa), "OK"));
	sim_end();
}

/*
 * Dovecot renames the typed account ("v" is u@example.org): the place held
 * under "v" is given back, so a request waiting for "v" from another
 * address goes on then, not at its deadline.
 */
TEST(sim_gate_renamed_account_wakes_the_typed_names_waiters)
{
	char line[128];
	int a, b, qa, qb;

	sim_begin("account_fail_limit = 1/15m\n");
	a = sim_open();
	b = sim_open();
	qa = sim_auth(a, SIM_PLAIN, V, A0, 1, 1);
	CHECK(sim_forwarded(qa));
	qb = sim_auth(b, SIM_PLAIN, V, A1, 1, 1);	/* another address */
	CHECK(!sim_forwarded(qb));			/* waits for v's place */
	snprintf(line, sizeof(line), "OK\t%u\tuser=u@example.org\n",
	    sim_dovecot_id(0));
	sim_dovecot_line(line);
	CHECK(sim_has(sim_reply(qa), "OK"));
	CHECK(sim_forwarded(qb));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(qb), "OK"));
	sim_advance(20000);
	CHECK(sim_log_count("cause=auth-service-unavailable") == 0);
	sim_end();
}
