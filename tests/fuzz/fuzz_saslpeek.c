/*++
/* NAME
/*	fuzz_saslpeek 1
/* SUMMARY
/*	libFuzzer target: the account a relayed SASL mechanism carries
/* DESCRIPTION
/*	The input is one exchange: byte 0 picks the mechanism, byte 1's
/*	bit 0 says the first response is the AUTH line's initial
/*	response, bit 1 that the responses are given raw (the target
/*	base64-encodes them) rather than as base64. The rest is the
/*	client's responses, separated by 0xff bytes.
/*
/*	It checks: at most one response per exchange names an account;
/*	a name is non-empty, within SASLPEEK_NAME_MAX and NUL-free;
/*	nothing is named on any other status; once decided, an exchange
/*	says not-this-step; a CRAM-MD5 account is the response up to its
/*	last space.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "saslpeek.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

static const char *const mechs[] = {
	"CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
	"SCRAM-SHA-256-PLUS", "OAUTHBEARER", "XOAUTH2", "GSSAPI", "scram-sha-1",
};

/* check_id - what a status may leave in the id */
static void
check_id(enum saslpeek_status s, const struct saslpeek_id *id)
{
	size_t u = strnlen(id->user, sizeof(id->user));
	size_t a = strnlen(id->authzid, sizeof(id->authzid));

	if (u == sizeof(id->user) || a == sizeof(id->authzid))
		abort();		/* unterminated */
	if (s == SASLPEEK_FOUND && u == 0)
		abort();
	if (s != SASLPEEK_FOUND && (u != 0 || a != 0))
		abort();
}

/* check_cram - a CRAM-MD5 account is the raw response up to its last space */
static void
check_cram(const unsigned char *raw, size_t n, const struct saslpeek_id *id)
{
	size_t u = strlen(id->user);

	if (n != u + 33 || memcmp(raw, id->user, u) != 0 || raw[u] != ' ')
		abort();
}

/* push_one - one response; returns its status */
static enum saslpeek_status
push_one(struct saslpeek *sp, int initial, int raw, const unsigned char *p,
    size_t n, struct saslpeek_id *id)
{
	enum saslpeek_status s;
	struct buf b;

	if (!raw)
		return saslpeek_push(sp, initial, (const char *)p, n, id);
	buf_init(&b);
	base64_encode(&b, p, n);
	s = saslpeek_push(sp, initial, b.len ? b.data : "", b.len, id);
	buf_free(&b);
	if (s == SASLPEEK_FOUND && sp->mech == SASLPEEK_MECH_CRAM_MD5)
		check_cram(p, n, id);
	return s;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct saslpeek sp;
	struct saslpeek_id id;
	enum saslpeek_status s;
	const unsigned char *p, *end, *sep;
	int initial, raw, found = 0, decided = 0;

	if (len < 2)
		return 0;
	saslpeek_start(&sp, mechs[data[0] % (sizeof(mechs) / sizeof(mechs[0]))]);
	initial = data[1] & 1;
	raw = (data[1] & 2) != 0;
	for (p = data + 2, end = data + len; p <= end; p = sep + 1) {
		if ((sep = memchr(p, 0xff, (size_t)(end - p))) == NULL)
			sep = end;
		s = push_one(&sp, initial, raw, p, (size_t)(sep - p), &id);
		initial = 0;
		check_id(s, &id);
		if (decided && s != SASLPEEK_NOT_THIS_STEP)
			abort();
		if (s == SASLPEEK_FOUND && found++)
			abort();
		if (s != SASLPEEK_NOT_THIS_STEP)
			decided = 1;
		if (decided && !sp.over)
			abort();
	}
	return 0;
}
