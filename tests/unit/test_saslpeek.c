/*++
/* NAME
/*	test_saslpeek 1
/* SUMMARY
/*	unit tests: the account a relayed SASL mechanism carries in clear
/* DESCRIPTION
/*	The vectors are the RFCs' own examples (RFC 2195, 2831, 5802,
/*	7677, 7628) and the forms Dovecot refuses.
/*--*/
#include <stddef.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "saslpeek.h"
#include "unit.h"

#define RFC2195	"tim b913a602c7eda7a495b4e6e7334d3890"
#define RFC2831	"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\"," \
	"nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\"," \
	"digest-uri=\"imap/elwood.innosoft.com\"," \
	"response=d388dad90d4bbd760a152321f2143af7,qop=auth"
#define RFC5802	"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
#define RFC7677	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC7628	"n,a=user@example.com,\001host=server.example.com\001" \
	"port=143\001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001"

static struct saslpeek_id id;

/* push_raw - base64 the bytes, push them as one response */
static enum saslpeek_status
push_raw(struct saslpeek *sp, int initial, const char *raw, size_t n)
{
	struct buf b;
	enum saslpeek_status s;

	buf_init(&b);
	base64_encode(&b, (const unsigned char *)raw, n);
	s = saslpeek_push(sp, initial, buf_str(&b), b.len, &id);
	buf_free(&b);
	return s;
}

/* push - push a C string */
static enum saslpeek_status
push(struct saslpeek *sp, int initial, const char *raw)
{
	return push_raw(sp, initial, raw, strlen(raw));
}

/* one - the status of a mechanism's carrying step for one response */
static enum saslpeek_status
one(const char *mech, const char *raw)
{
	struct saslpeek sp;

	saslpeek_start(&sp, mech);
	if (sp.mech == SASLPEEK_MECH_CRAM_MD5 ||
	    sp.mech == SASLPEEK_MECH_DIGEST_MD5)
		return push(&sp, 0, raw);
	return push(&sp, 1, raw);
}

TEST(saslpeek_cram_rfc2195)
{
	struct saslpeek sp;

	saslpeek_start(&sp, "CRAM-MD5");
	CHECK(sp.mech == SASLPEEK_MECH_CRAM_MD5);
	/* the AUTH line carries nothing (Dovecot ignores a response there) */
	CHECK(push(&sp, 1, "junk") == SASLPEEK_NOT_THIS_STEP && !sp.over);
	CHECK(saslpeek_push(&sp, 0,
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", 48, &id) ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "tim");
	CHECK_STR(id.authzid, "");
	CHECK(sp.over);
	CHECK(push(&sp, 0, RFC2195) == SASLPEEK_NOT_THIS_STEP);
	CHECK_STR(id.user, "");
}

TEST(saslpeek_cram_forms)
{
	/* the user runs to the last space */
	CHECK(one("cram-md5", "tim smith b913a602c7eda7a495b4e6e7334d3890") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "tim smith");
	CHECK(one("CRAM-MD5", "a@b.c B913A602C7EDA7A495B4E6E7334D3890") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "a@b.c");
	CHECK(one("CRAM-MD5", "timb913a602c7eda7a495b4e6e7334d3890") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", " b913a602c7eda7a495b4e6e7334d3890") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d389") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d38900") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d389g") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d3890 ") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("CRAM-MD5", "") == SASLPEEK_MALFORMED);
	CHECK_STR(id.user, "");
}

TEST(saslpeek_cram_nul)
{
	struct saslpeek sp;

	saslpeek_start(&sp, "CRAM-MD5");
	CHECK(push_raw(&sp, 0, "t\0m b913a602c7eda7a495b4e6e7334d3890", 36) ==
	    SASLPEEK_MALFORMED);
	CHECK_STR(id.user, "");
}

TEST(saslpeek_digest_rfc2831)
{
	struct saslpeek sp;

	saslpeek_start(&sp, "DIGEST-MD5");
	CHECK(push(&sp, 0, RFC2831) == SASLPEEK_FOUND);
	/* Dovecot logs in user@realm when a realm is given */
	CHECK_STR(id.user, "chris@elwood.innosoft.com");
	CHECK_STR(id.authzid, "");
	CHECK(push(&sp, 0, "") == SASLPEEK_NOT_THIS_STEP);	/* rspauth ack */
}

/*
 * A user name with an '@' of its own is the account Dovecot checks, realm
 * or not (it adds the realm only to a name without one): "alice@x" with
 * realm "y" must not be read as "alice@x@y", an account that is never
 * locked while Dovecot checks alice@x's password.
 */
TEST(saslpeek_digest_realm_only_without_at)
{
	CHECK(one("DIGEST-MD5", "username=\"alice@example.com\",realm=\"x\","
	    "nonce=\"n\",response=0123") == SASLPEEK_FOUND);
	CHECK_STR(id.user, "alice@example.com");
	CHECK(one("DIGEST-MD5", "realm=\"example.com\",username=\"alice\"")
	    == SASLPEEK_FOUND);
	CHECK_STR(id.user, "alice@example.com");
}

TEST(saslpeek_digest_forms)
{
	CHECK(one("digest-md5", "username=\"a\\\"b\\\\c\",nonce=\"x\"") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "a\"b\\c");
	CHECK(one("DIGEST-MD5", " , USERNAME = \"jane\" ,realm=\"\",,"
	    " authzid=\"boss\" , qop=auth") == SASLPEEK_FOUND);
	CHECK_STR(id.user, "jane");
	CHECK_STR(id.authzid, "boss");
	CHECK(one("DIGEST-MD5", "username=jane,nonce=\"a,b\",qop=auth") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "jane");
	/* a comma inside quotes is not a separator */
	CHECK(one("DIGEST-MD5", "nonce=\"username=\\\"eve\\\",\",username=\"bob\"")
	    == SASLPEEK_FOUND);
	CHECK_STR(id.user, "bob");
	CHECK(one("DIGEST-MD5", "username=\"a\",username=\"b\"") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=\"a\",realm=x,realm=y") ==
	    SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "nonce=\"x\",qop=auth") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=\"\"") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=\"jane") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=\"jane\\") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=\"jane\"x") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "=\"jane\"") == SASLPEEK_MALFORMED);
	CHECK(one("DIGEST-MD5", "username=,nonce=x") == SASLPEEK_MALFORMED);
	CHECK_STR(id.user, "");
}

TEST(saslpeek_scram_rfc5802_7677)
{
	struct saslpeek sp;

	saslpeek_start(&sp, "SCRAM-SHA-1");
	CHECK(push(&sp, 1, RFC5802) == SASLPEEK_FOUND);
	CHECK_STR(id.user, "user");
	CHECK(push(&sp, 0, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=") == SASLPEEK_NOT_THIS_STEP);
	/* no initial response: Dovecot's empty challenge, then client-first */
	saslpeek_start(&sp, "scram-sha-256");
	CHECK(sp.mech == SASLPEEK_MECH_SCRAM);
	CHECK(push(&sp, 0, RFC7677) == SASLPEEK_FOUND);
	CHECK_STR(id.user, "user");
	/* an empty initial response is no initial response */
	saslpeek_start(&sp, "SCRAM-SHA-256-PLUS");
	CHECK(push(&sp, 1, "") == SASLPEEK_NOT_THIS_STEP && !sp.over);
	CHECK(push(&sp, 0, "p=tls-exporter,,n=user,r=abc") == SASLPEEK_FOUND);
	CHECK_STR(id.user, "user");
}

TEST(saslpeek_scram_forms)
{
	CHECK(one("SCRAM-SHA-256", "y,a=adm=2Cin,n=us=3Der=2C,r=x") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "us=er,");
	CHECK_STR(id.authzid, "adm,in");
	CHECK(one("SCRAM-SHA-256", "n,,n=user,r=x,e=ext") == SASLPEEK_FOUND);
	CHECK(one("SCRAM-SHA-256", "n,,n=us=2cer,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=us=41er,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=user=,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=user=3,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,m=ext,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=user") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=user,r=") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,,n=user,x=y") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "x,,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,b=x,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n,a=,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "p=,,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "p=a_b,,n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK(one("SCRAM-SHA-256", "n=user,r=x") == SASLPEEK_MALFORMED);
	CHECK_STR(id.user, "");
}

TEST(saslpeek_oauth)
{
	struct buf b;
	struct saslpeek sp;
	size_t i;

	CHECK(one("OAUTHBEARER", RFC7628) == SASLPEEK_FOUND);
	CHECK_STR(id.user, "user@example.com");
	CHECK_STR(id.authzid, "");
	CHECK(one("OAUTHBEARER", "n,,\001auth=Bearer x\001\001") ==
	    SASLPEEK_NONE);
	CHECK(one("OAUTHBEARER", "n,a=user") == SASLPEEK_MALFORMED);
	CHECK(one("OAUTHBEARER", "n,a=user,") == SASLPEEK_MALFORMED);
	CHECK(one("XOAUTH2", "user=someuser@example.com\001auth=Bearer "
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001") ==
	    SASLPEEK_FOUND);
	CHECK_STR(id.user, "someuser@example.com");
	CHECK(one("XOAUTH2", "auth=Bearer x\001user=u\001\001") == SASLPEEK_FOUND);
	CHECK_STR(id.user, "u");
	CHECK(one("XOAUTH2", "auth=Bearer x\001\001") == SASLPEEK_MALFORMED);
	CHECK(one("XOAUTH2", "user=a\001user=b\001\001") == SASLPEEK_MALFORMED);
	/* a long token first: the user lies past what is read */
	buf_init(&b);
	buf_puts(&b, "auth=Bearer ");
	for (i = 0; i < 6000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\001user=u\001\001");
	CHECK(one("XOAUTH2", buf_str(&b)) == SASLPEEK_NONE);
	/* a long token after the user: read */
	saslpeek_start(&sp, "XOAUTH2");
	buf_free(&b);
	buf_init(&b);
	buf_puts(&b, "user=u\001auth=Bearer ");
	for (i = 0; i < 6000; i++)
		buf_putc(&b, 'x');
	CHECK(push(&sp, 1, buf_str(&b)) == SASLPEEK_FOUND);
	CHECK_STR(id.user, "u");
	buf_free(&b);
}

TEST(saslpeek_none)
{
	static const char *const mechs[] = {"GSSAPI", "EXTERNAL", "ANONYMOUS",
	    "NTLM", "OTP", "PLAIN", "SCRAM-", ""};
	struct saslpeek sp;
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		saslpeek_start(&sp, mechs[i]);
		CHECK(sp.mech == SASLPEEK_MECH_OTHER);
		CHECK(push(&sp, 1, "n,,n=user,r=x") == SASLPEEK_NONE);
		CHECK(sp.over);
		CHECK(push(&sp, 0, "tim b913a602c7eda7a495b4e6e7334d3890") ==
		    SASLPEEK_NOT_THIS_STEP);
	}
	saslpeek_start(&sp, NULL);
	CHECK(sp.mech == SASLPEEK_MECH_OTHER);
	CHECK_STR(saslpeek_status_str(SASLPEEK_FOUND), "found");
	CHECK_STR(saslpeek_status_str(SASLPEEK_NOT_THIS_STEP), "not-this-step");
}

TEST(saslpeek_bad_base64_and_length)
{
	struct saslpeek sp;
	struct buf b;
	char name[SASLPEEK_NAME_MAX + 2];

	saslpeek_start(&sp, "CRAM-MD5");
	CHECK(saslpeek_push(&sp, 0, "dGlt!", 5, &id) == SASLPEEK_MALFORMED);
	CHECK(sp.why && strcmp(sp.why, "bad base64") == 0);
	saslpeek_start(&sp, "SCRAM-SHA-256");
	CHECK(saslpeek_push(&sp, 1, "bi", 1, &id) == SASLPEEK_MALFORMED);
	/* names up to SASLPEEK_NAME_MAX */
	memset(name, 'a', sizeof(name));
	name[SASLPEEK_NAME_MAX] = 0;
	buf_init(&b);
	buf_printf(&b, "n,,n=%s,r=x", name);
	CHECK(one("SCRAM-SHA-256", buf_str(&b)) == SASLPEEK_FOUND);
	CHECK(strlen(id.user) == SASLPEEK_NAME_MAX);
	buf_free(&b);
	name[SASLPEEK_NAME_MAX] = 'a';
	name[SASLPEEK_NAME_MAX + 1] = 0;
	buf_init(&b);
	buf_printf(&b, "n,,n=%s,r=x", name);
	CHECK(one("SCRAM-SHA-256", buf_str(&b)) == SASLPEEK_MALFORMED);
	buf_free(&b);
	buf_init(&b);
	buf_printf(&b, "%s b913a602c7eda7a495b4e6e7334d3890", name);
	CHECK(one("CRAM-MD5", buf_str(&b)) == SASLPEEK_MALFORMED);
	buf_free(&b);
	buf_init(&b);
	buf_printf(&b, "username=\"%s\"", name);
	CHECK(one("DIGEST-MD5", buf_str(&b)) == SASLPEEK_MALFORMED);
	buf_free(&b);
	/* user@realm over the limit */
	name[SASLPEEK_NAME_MAX - 1] = 0;
	buf_init(&b);
	buf_printf(&b, "username=\"%s\",realm=\"r\"", name);
	CHECK(one("DIGEST-MD5", buf_str(&b)) == SASLPEEK_MALFORMED);
	buf_free(&b);
	/* a decoded response over SASLPEEK_DECODED_MAX */
	buf_init(&b);
	buf_puts(&b, "n,,n=user,r=");
	while (b.len <= SASLPEEK_DECODED_MAX)
		buf_putc(&b, 'x');
	CHECK(one("SCRAM-SHA-256", buf_str(&b)) == SASLPEEK_MALFORMED);
	buf_free(&b);
}

/* right_user - the user found is one the cut vector can name */
static int
right_user(const char *user, const char *alt)
{
	return strcmp(id.user, user) == 0 || (alt && strcmp(id.user, alt) == 0);
}

/*
 * prefixes_never_lie - every cut of a vector: malformed, not this step, or
 * the right user (alt: the user of a cut that drops a later part, as
 * DIGEST-MD5's realm)
 */
static void
prefixes_never_lie(const char *mech, const char *raw, const char *user,
    const char *alt)
{
	struct saslpeek sp;
	struct buf b;
	size_t n, len = strlen(raw);
	enum saslpeek_status s;

	for (n = 0; n < len; n++) {
		saslpeek_start(&sp, mech);
		if (sp.mech == SASLPEEK_MECH_CRAM_MD5 ||
		    sp.mech == SASLPEEK_MECH_DIGEST_MD5)
			s = push_raw(&sp, 0, raw, n);
		else
			s = push_raw(&sp, n > 0, raw, n);
		CHECK(s == SASLPEEK_MALFORMED || s == SASLPEEK_NOT_THIS_STEP ||
		    (s == SASLPEEK_FOUND && right_user(user, alt)));
	}
	/* cuts of the base64 itself */
	buf_init(&b);
	base64_encode(&b, (const unsigned char *)raw, len);
	for (n = 1; n < b.len; n++) {
		saslpeek_start(&sp, mech);
		s = saslpeek_push(&sp, 0, b.data, n, &id);
		CHECK(s != SASLPEEK_FOUND || right_user(user, alt));
	}
	buf_free(&b);
}

TEST(saslpeek_truncated)
{
	prefixes_never_lie("CRAM-MD5", RFC2195, "tim", NULL);
	prefixes_never_lie("DIGEST-MD5", RFC2831, "chris@elwood.innosoft.com",
	    "chris");
	prefixes_never_lie("SCRAM-SHA-1", RFC5802, "user", NULL);
	prefixes_never_lie("SCRAM-SHA-256", RFC7677, "user", NULL);
	prefixes_never_lie("OAUTHBEARER", RFC7628, "user@example.com", NULL);
	/* a cut CRAM-MD5 response is never found */
	CHECK(one("CRAM-MD5", "tim b913a602") == SASLPEEK_MALFORMED);
}
