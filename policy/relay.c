/*++
/* NAME
/*	relay 3
/* SUMMARY
/*	the gate's relayed mechanisms: the account read on the way
/* DESCRIPTION
/*	Mechanisms other than PLAIN and LOGIN are relayed to Dovecot as
/*	they are, each client response read on its way (saslpeek 3) for
/*	the account that the mechanism carries in clear: CRAM-MD5 and
/*	DIGEST-MD5 in the response to the first challenge, SCRAM-* in
/*	its client-first message, OAUTHBEARER (a=) and XOAUTH2 (user=)
/*	in their first response. Until that response comes, only the
/*	address limits apply: an AUTH whose account comes later is
/*	forwarded at once, so that Dovecot sends its challenge, which
/*	holds no secret. The response that names the account is held
/*	back and checked as PLAIN is (authzid, accounts_map flags, then
/*	the account's limits with the address's again), and so is every
/*	later one, which may carry a proof of the password while a lock
/*	began meanwhile: a refused response never reaches Dovecot, whose
/*	open request is cancelled; an allowed one goes on in the same
/*	Dovecot request, after waiting for its turn if it must. A
/*	response that cannot be what the mechanism sends is refused as
/*	malformed, not forwarded.
/*
/*	Where no account can be read, Dovecot names it in its OK or
/*	FAIL, and the lock of that account is checked then (request 3).
/*--*/
#include <stdlib.h>
#include <string.h>

#include "attempt.h"
#include "cause.h"
#include "enforce.h"
#include "relay.h"
#include "request.h"
#include "saslpeek.h"
#include "util.h"

/*
 * req_relay_found - a relayed response names the account: checked as
 * PLAIN is before it goes on; a place held for the address alone (the
 * exchange's first step) is given back and taken again with the account
 */
static void
req_relay_found(struct gate_req *r, const struct saslpeek_id *id)
{
	enum cause cause;

	if (r->enf_ready) {
		enforce_release(&r->enf);
		r->enf_ready = 0;
	}
	free(r->authzid);
	r->authzid = xstrdup(id->authzid);
	req_learn_account(r, id->user);
	if ((cause = req_precheck(r)) != CAUSE_NONE)
		req_refuse(r, cause);
	else
		req_limits(r);
}

/* req_relay_malformed - a relayed response no client of its mechanism sends */
static void
req_relay_malformed(struct gate_req *r)
{
	attempt_set_detail(&r->at, r->peek.why);
	req_fail(r, CAUSE_MALFORMED_RESPONSE);
}

/*
 * req_relay_start - a relayed AUTH: its initial response read, then
 * checked with the account if it names one, else with the address only
 * (the account comes later, or never in clear)
 */
void
req_relay_start(struct gate_req *r)
{
	enum saslpeek_status s = SASLPEEK_NOT_THIS_STEP;
	struct saslpeek_id id;

	saslpeek_start(&r->peek, r->at.mech);
	if (r->resp)		/* "=": SMTP's empty one, as if none */
		s = saslpeek_push(&r->peek, 1, r->resp, strcmp(r->resp, "=") ?
		    strlen(r->resp) : 0, &id);
	if (s == SASLPEEK_FOUND)
		req_relay_found(r, &id);
	else if (s == SASLPEEK_MALFORMED)
		req_relay_malformed(r);
	else
		req_limits(r);
}

/*
 * req_relay_cont - a relayed response to a challenge, held back until the
 * limits allow it: each response may carry a proof of the password, and
 * the account or address may have been locked since the last one (its
 * place is given back and taken again, as for a new attempt)
 */
void
req_relay_cont(struct gate_req *r, const char *b64)
{
	enum saslpeek_status s;
	struct saslpeek_id id;

	s = saslpeek_push(&r->peek, 0, b64, strlen(b64), &id);
	if (s == SASLPEEK_MALFORMED) {
		req_relay_malformed(r);
		return;
	}
	wipe_str(r->resp);
	r->resp = xstrdup(b64);
	if (s == SASLPEEK_FOUND)
		req_relay_found(r, &id);
	else {
		enforce_release(&r->enf);
		req_limits(r);
	}
}
