/*++
/* NAME
/*	test_userdb 1
/* SUMMARY
/*	user lookups on auth-userdb, on the simulation
/* DESCRIPTION
/*	Each test starts authguard-policyd's real code on the simulation
/*	(sim 3), has Dovecot reject a password without saying why, and
/*	plays auth-userdb: it answers USER, NOTFOUND or FAIL, stalls,
/*	hangs up, answers ids it was never asked, sends unknown and
/*	overlong lines. What userdb 3 does is seen from outside: the
/*	connections and lookups auth-userdb gets, the cause each attempt
/*	is logged with, and the log's warnings.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "unit.h"


/* rejected - a request Dovecot rejects without a reason; its index */
static int
rejected(int c, int user)
{
	int q = sim_auth(c, SIM_PLAIN, user, A0, 1, 1);

	sim_dovecot(0, SD_FAIL);
	return q;
}

/* The connection is opened when a lookup is needed, then kept. */
TEST(sim_userdb_on_demand_and_kept)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_OK);
	CHECK(sim_has(sim_reply(q), "OK"));
	CHECK(sim_userdb_connects() == 0);	/* nothing to ask yet */
	q = rejected(c, V);
	CHECK(sim_userdb_connects() == 1);
	CHECK(sim_userdb_lookups() == 1);
	CHECK(!sim_answered(q));
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	q = rejected(c, W);
	CHECK(sim_userdb_lookups() == 2);
	CHECK(sim_userdb_connects() == 1);	/* the same connection */
	sim_userdb(0, SU_NOTFOUND);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=unknown-user"));
	/* Dovecot said why: no lookup */
	q = sim_auth(c, SIM_PLAIN, V, A0, 1, 1);
	sim_dovecot(0, SD_DISABLED);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_userdb_lookups() == 2);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=account-disabled"));
	sim_end();
}

/* A hang-up with lookups pending: they decide without it, then it reopens. */
TEST(sim_userdb_hangup_decides_pending)
{
	int a, b, qa, qb;

	sim_begin(NULL);
	a = sim_open();
	b = sim_open();
	qa = rejected(a, V);
	qb = rejected(b, W);
	CHECK(sim_userdb_owed() == 2);
	CHECK(!sim_answered(qa) && !sim_answered(qb));
	sim_userdb_hangup();
	CHECK(sim_has(sim_reply(qa), "FAIL"));
	CHECK(sim_has(sim_reply(qb), "FAIL"));
	CHECK(sim_conn_open(a) && sim_conn_open(b));	/* no 454 */
	CHECK(sim_log_find("userdb_upstream: connection lost") != NULL);
	CHECK(sim_log_count("cause=bad-credentials") == 2);
	CHECK(sim_log_count("cause=unknown-user") == 0);
	qa = rejected(a, V);
	CHECK(sim_userdb_connects() == 2);
	sim_userdb(0, SU_NOTFOUND);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=unknown-user"));
	sim_end();
}

/* FAIL from auth-userdb: bad-credentials, and one warning per connection. */
TEST(sim_userdb_fail_warns_once_per_connection)
{
	int c;

	sim_begin(NULL);
	c = sim_open();
	(void)rejected(c, V);
	sim_userdb(0, SU_FAIL);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-credentials"));
	CHECK(sim_log_count("Dovecot could not look up a user") == 1);
	(void)rejected(c, W);
	sim_userdb(0, SU_FAIL);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-credentials"));
	CHECK(sim_log_count("Dovecot could not look up a user") == 1);
	sim_userdb_hangup();
	(void)rejected(c, W);
	CHECK(sim_userdb_connects() == 2);
	sim_userdb(0, SU_FAIL);
	CHECK(sim_log_count("Dovecot could not look up a user") == 2);
	sim_end();
}

/* A stalled lookup: at most 2 s, and never past smtpd's wait. */
TEST(sim_userdb_stall_within_budget)
{
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = rejected(c, V);
	sim_advance(1999);
	CHECK(!sim_answered(q));
	sim_advance(1);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-credentials"));
	sim_userdb(0, SU_NOTFOUND);		/* too late: ignored */
	CHECK(sim_log_count("event=auth") == 1);
	/* Dovecot took 7 s: 1 s is left of upstream_timeout */
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_advance(7000);
	sim_dovecot(0, SD_FAIL);
	CHECK(sim_userdb_owed() == 1);
	sim_advance(999);
	CHECK(!sim_answered(q));
	sim_advance(1);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	sim_userdb(0, SU_USER);
	/* Dovecot took 7.95 s: still 100 ms for the lookup */
	q = sim_auth(c, SIM_PLAIN, W, A0, 1, 1);
	sim_advance(7950);
	sim_dovecot(0, SD_FAIL);
	sim_advance(99);
	CHECK(!sim_answered(q));
	sim_advance(1);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	sim_end();
}

/* Answers for ids never asked and unknown lines change nothing. */
TEST(sim_userdb_unknown_ids_and_lines_ignored)
{
	char line[64];
	unsigned id;
	int c, q;

	sim_begin(NULL);
	c = sim_open();
	q = rejected(c, V);
	id = sim_userdb_id(0);
	CHECK(id != 0);
	snprintf(line, sizeof(line), "NOTFOUND\t%u\n", id + 100);
	sim_userdb_line(line);
	sim_userdb_line("USER\t4242\tv\tuid=8\n");
	CHECK(!sim_answered(q));
	sim_userdb_line("FROB\t1\n");
	CHECK(sim_has(sim_log_find("userdb_upstream: unexpected"), "FROB"));
	CHECK(!sim_answered(q));
	sim_userdb(0, SU_USER);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	sim_end();
}

/* An overlong USER still means found; an overlong other answer fails. */
TEST(sim_userdb_overlong_answers)
{
	char *line;
	unsigned id;
	int c, q, n;

	sim_begin(NULL);
	c = sim_open();
	line = malloc(20100);
	q = rejected(c, V);
	id = sim_userdb_id(0);
	n = snprintf(line, 100, "USER\t%u\tv\tx=", id);
	memset(line + n, 'x', 20000);
	strcpy(line + n + 20000, "\n");
	sim_userdb_forget(id);
	sim_userdb_line(line);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-password"));
	q = rejected(c, W);
	id = sim_userdb_id(0);
	n = snprintf(line, 100, "NOTFOUND\t%u\tx=", id);
	memset(line + n, 'x', 20000);
	strcpy(line + n + 20000, "\n");
	sim_userdb_forget(id);
	sim_userdb_line(line);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_has(sim_log_find("event=auth"), "cause=bad-credentials"));
	free(line);
	CHECK(sim_userdb_connects() == 1);
	sim_end();
}

/* A password with an app password's spaces needs no lookup. */
TEST(sim_userdb_not_asked_for_spaced_app_password)
{
	int c, q;

	sim_begin(NULL);
	sim_password("abcd efgh ijkl mnop");
	c = sim_open();
	q = rejected(c, V);
	CHECK(sim_has(sim_reply(q), "FAIL"));
	CHECK(sim_userdb_lookups() == 0);
	CHECK(sim_has(sim_log_find("event=auth"), "cause=app-password-spaces"));
	sim_end();
}
