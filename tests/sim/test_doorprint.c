/*++
/* NAME
/*	test_doorprint 1
/* SUMMARY
/*	one password, one fingerprint, through the gate and the door
/* DESCRIPTION
/*	With auth_policy_hash_nonce set, the gate's fingerprint of a
/*	password (enforce_fill) is that of Dovecot's pwhash of it, which
/*	is all the auth policy door sees (enforce_fill_pwhash): the same
/*	old password through SMTP and IMAP is one fingerprint. Without
/*	the nonce the two differ. Dovecot hashes the user name in lower
/*	case (auth_username_format %Lu), as the gate's account is.
/*--*/
#include "authpolicy.h"
#include "enforce.h"
#include "sim.h"
#include "unit.h"

/* prints - the gate's and the door's fingerprint of one password */
static void
prints(const char *nonce, const char *typed, const char *pass, uint32_t *gate,
    uint32_t *door)
{
	char hex[AUTHPOLICY_HASH_HEX_MAX + 1];
	struct enforce e = {0}, d = {0};

	CHECK(authpolicy_pwhash(nonce, "alice@example.test", pass, 12, hex) == 0);
	enforce_fill(&e, typed, "192.0.2.7", pass, 0);
	enforce_fill_pwhash(&d, "alice@example.test", "192.0.2.7", hex, 0);
	*gate = e.fp;
	*door = d.fp;
	enforce_free(&e);
	enforce_free(&d);
}

TEST(sim_door_one_password_one_fingerprint)
{
	uint32_t g, d, g2, d2;

	sim_begin("auth_policy_hash_nonce = lab-policy-nonce\n");
	prints("lab-policy-nonce", "Alice@Example.TEST", "wrong password", &g, &d);
	CHECK(g != 0 && g == d);
	prints("lab-policy-nonce", "alice@example.test", "other password", &g2, &d2);
	CHECK(g2 == d2 && g2 != g);
	sim_end();
	sim_begin(NULL);
	prints("lab-policy-nonce", "alice@example.test", "wrong password", &g, &d);
	CHECK(g != 0 && d != 0 && g != d);
	sim_end();
}
