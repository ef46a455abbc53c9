/*++
/* NAME
/*	test_enforce 1
/* SUMMARY
/*	the failure limits as attempts meet them, on the simulation
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3) with account_fail_limit 3/15m, ip_fail_limit 5/15m and
/*	lockout_time 15m unless it says otherwise, makes attempts through
/*	smtpd, Dovecot and auth-userdb, and checks what enforce 3 made of
/*	them: the account's and the address's windows, locks and their
/*	length, exempt networks, address prefixes, familiar addresses,
/*	and the causes a repeated or guessed password is logged with.
/*--*/
#include "sim.h"
#include "unit.h"


/* fail_once - a wrong password of an existing user, to its end */
static int
fail_once(int c, int user, int a)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);

	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	return q;
}

/* pass_once - the right password, to its end */
static void
pass_once(int c, int user, int a)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);

	CHECK(sim_forwarded(q));
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
}

/* refused - an attempt refused before Dovecot, with the client's text */
static int
refused(int c, int user, int a, const char *text)
{
	int q = sim_auth(c, SIM_PLAIN, user, a, 1, 1);

	return !sim_forwarded(q) && sim_has(sim_reply(q), text);
}

/* An account's and an address's failures are counted apart. */
TEST(sim_enforce_account_and_address_windows_apart)
{
	int c;

	sim_begin(NULL);
	c = sim_open();
	(void)fail_once(c, V, A0);
	(void)fail_once(c, V, A0);
	(void)fail_once(c, W, A0);
	(void)fail_once(c, W, A0);
	CHECK(sim_account_failures(V) == 2);
	CHECK(sim_account_failures(W) == 2);
	CHECK(sim_address_failures(A0) == 4);
	CHECK(sim_address_failures(A1) == 0);
	CHECK(!sim_address_locked(A0));
	(void)fail_once(c, U, A0);		/* the address's fifth */
	CHECK(sim_address_locked(A0));
	CHECK(!sim_account_locked(U));
	CHECK(sim_has(sim_log_find("event=lock"), "kind=address key=192.0.2.1/32 "
	    "seconds=900"));
	CHECK(refused(c, V, A0, "too many failed attempts for this address"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=ip-blocked"));
	CHECK(sim_account_failures(V) == 2);	/* a refusal counts nowhere */
	(void)fail_once(c, V, A1);		/* the account's third */
	CHECK(sim_account_locked(V));
	CHECK(sim_has(sim_log_find("event=lock"), "kind=account key=v seconds=900"));
	CHECK(!sim_address_locked(A1));
	CHECK(refused(c, V, A1, "too many failed attempts for this account"));
	pass_once(c, W, A1);
	sim_end();
}

/* limit_exempt_networks: neither window counts, no lock applies. */
TEST(sim_enforce_exempt_network)
{
	int c, i;

	sim_begin("limit_exempt_networks = 192.0.2.0/24\n");
	c = sim_open();
	for (i = 0; i < 6; i++)
		(void)fail_once(c, V, A0);
	CHECK(sim_account_failures(V) == 0);
	CHECK(sim_address_failures(A0) == 0);
	CHECK(!sim_account_locked(V) && !sim_address_locked(A0));
	for (i = 0; i < 3; i++)
		(void)fail_once(c, V, A1);
	CHECK(sim_account_locked(V));
	CHECK(refused(c, V, A1, "this account"));
	pass_once(c, V, A0);			/* the exempt network still gets in */
	sim_end();
}

/* The window slides: a failure older than 15 minutes no longer counts. */
TEST(sim_enforce_window_slides)
{
	int c;

	sim_begin(NULL);
	c = sim_open();
	(void)fail_once(c, V, A0);
	sim_advance(600000);
	(void)fail_once(c, V, A0);
	CHECK(sim_account_failures(V) == 2);
	sim_advance(300000);			/* the first is 15 minutes old */
	CHECK(sim_account_failures(V) == 1);
	(void)fail_once(c, V, A0);
	CHECK(sim_account_failures(V) == 2);
	CHECK(!sim_account_locked(V));
	sim_end();
}

/* A lock ends after lockout_time; the next one lasts twice as long. */
TEST(sim_enforce_lock_expires_and_doubles)
{
	int c, i;

	sim_begin(NULL);
	c = sim_open();
	for (i = 0; i < 3; i++)
		(void)fail_once(c, V, A0);
	CHECK(sim_has(sim_log_find("event=lock"), "kind=account key=v seconds=900"));
	CHECK(refused(c, V, A0, "try again in 15 minutes"));
	sim_advance(899000);
	CHECK(sim_account_locked(V));
	CHECK(refused(c, V, A1, "try again in 1 seconds"));
	sim_advance(1000);
	CHECK(!sim_account_locked(V));
	for (i = 0; i < 3; i++)		/* another address: its own window */
		(void)fail_once(c, V, A1);
	CHECK(sim_has(sim_log_find("event=lock"), "kind=account key=v seconds=1800"));
	CHECK(refused(c, V, A1, "try again in 30 minutes"));
	sim_advance(1800000);
	for (i = 0; i < 3; i++)
		(void)fail_once(c, V, 2);
	CHECK(sim_has(sim_log_find("event=lock"), "kind=account key=v seconds=3600"));
	/* the admin's unlock starts the doubling over */
	CHECK(sim_has(sim_control("unlock\ttext\tv\n"), "OK\n"));
	for (i = 0; i < 3; i++)
		(void)fail_once(c, V, 3);
	CHECK(sim_has(sim_log_find("event=lock"), "kind=account key=v seconds=900"));
	sim_end();
}

/* The same wrong password again counts once, and later as stale-password. */
TEST(sim_enforce_repeated_password_is_stale)
{
	int c, i;

	sim_begin(NULL);
	c = sim_open();
	sim_password("old-password");
	(void)fail_once(c, V, A0);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	(void)fail_once(c, V, A0);		/* at once: one mistake */
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	CHECK(sim_account_failures(V) == 1);
	CHECK(sim_address_failures(A0) == 1);
	sim_advance(10000);
	for (i = 0; i < 5; i++) {		/* an old device, retrying */
		(void)fail_once(c, V, A0);
		CHECK(sim_has(sim_log_find("event=auth"), "cause=stale-password"));
	}
	CHECK(sim_account_failures(V) == 1);
	CHECK(!sim_account_locked(V));
	CHECK(sim_has(sim_control("top\ttext\t-\n"), "pattern=stale-password"));
	sim_password(NULL);			/* another password counts */
	(void)fail_once(c, V, A0);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	CHECK(sim_account_failures(V) == 2);
	sim_end();
}

/* Many distinct passwords for one account: password-guessing. */
TEST(sim_enforce_distinct_passwords_are_guessing)
{
	int c, i;

	sim_begin("account_fail_limit = 10/15m\n");
	c = sim_open();
	for (i = 0; i < 3; i++) {
		(void)fail_once(c, V, A0);
		CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	}
	(void)fail_once(c, V, A0);		/* the fourth distinct one */
	CHECK(sim_has(sim_log_find("event=auth"), "cause=password-guessing"));
	CHECK(sim_account_failures(V) == 4);
	CHECK(sim_has(sim_control("top\ttext\t-\n"), "pattern=password-guessing"));
	sim_end();
}

/* A locked account still gets in from an address it logged in from. */
TEST(sim_enforce_familiar_address_passes_a_lock)
{
	int c, i;

	sim_begin(NULL);
	c = sim_open();
	pass_once(c, V, A0);			/* A0 is familiar now */
	for (i = 0; i < 3; i++)
		(void)fail_once(c, V, A1);
	CHECK(sim_account_locked(V));
	CHECK(refused(c, V, A1, "this account"));
	pass_once(c, V, A0);
	CHECK(sim_has(sim_control("why\ttext\tv\n"), "familiar_addresses=1"));
	sim_end();
}

/* ipv4_prefix: an address's window and lock cover its network. */
TEST(sim_enforce_ipv4_prefix)
{
	int c;

	sim_begin(NULL);
	CHECK(sim_has(sim_control("lock\ttext\t192.0.2.77\n"),
	    "locked=192.0.2.77/32"));
	c = sim_open();
	pass_once(c, V, A0);			/* another /32 */
	sim_end();

	sim_begin("ipv4_prefix = 24\n");
	CHECK(sim_has(sim_control("lock\ttext\t192.0.2.77\n"),
	    "locked=192.0.2.0/24"));
	CHECK(sim_address_locked(A0));
	c = sim_open();
	CHECK(refused(c, V, A0, "this address"));
	CHECK(sim_has(sim_control("unlock\ttext\t192.0.2.200\n"), "OK\n"));
	(void)fail_once(c, V, A0);
	CHECK(sim_has(sim_control("why\ttext\t192.0.2.9\n"),
	    "address: key=192.0.2.0/24 locked=no failures_in_window=1"));
	sim_end();
}

/* Which windows a cause goes to: none, the address's only, or both. */
TEST(sim_enforce_what_each_cause_counts)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 0);	/* no TLS */
	CHECK(sim_has(sim_log_find("event=auth"), "cause=tls-required"));
	CHECK(sim_account_failures(V) == 0 && sim_address_failures(A0) == 1);
	q = sim_auth(c, SIM_PLAIN, V, A0, 0, 1);
	sim_cont(q, 1);				/* garbage */
	CHECK(sim_has(sim_log_find("event=auth"), "cause=malformed-response"));
	CHECK(sim_account_failures(V) == 0 && sim_address_failures(A0) == 2);
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_dovecot(0, SD_FAIL);
	sim_userdb(0, SU_NOTFOUND);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=unknown-user"));
	CHECK(sim_account_failures(W) == 1 && sim_address_failures(A0) == 3);
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_DISABLED);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=account-disabled"));
	CHECK(sim_account_failures(V) == 0 && sim_address_failures(A0) == 3);
	sim_end();
}
