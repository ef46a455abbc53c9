/*++
/* NAME
/*	authpolicy 3
/* SUMMARY
/*	Dovecot's auth policy protocol: requests, answers, pwhash
/* SYNOPSIS
/*	#include "authpolicy.h"
/*
/*	enum authpolicy_cmd authpolicy_command(const char *query_command)
/*
/*	int authpolicy_parse(const char *body, size_t len,
/*		struct authpolicy_req *req, char *err, size_t errlen)
/*
/*	void authpolicy_free(struct authpolicy_req *req)
/*
/*	char *authpolicy_answer(int status, const char *msg)
/*
/*	int authpolicy_header_split(const char *setting, char *name,
/*		size_t namelen, const char **value)
/*
/*	int authpolicy_key_equal(const char *want, const char *got)
/*
/*	int authpolicy_pwhash(const char *nonce, const char *user,
/*		const char *password, unsigned truncate_bits, char *hex)
/* DESCRIPTION
/*	Dovecot's auth process (2.2.27 and later) asks a policy server
/*	before an authentication (POST ...?command=allow) and tells it
/*	the outcome after (?command=report). The body is one JSON object
/*	made from auth_policy_request_attributes: by default login,
/*	pwhash, remote, device_id, protocol and session_id, all strings;
/*	Dovecot 2.4 adds fail_type; mech is read when the attributes
/*	add it (mech=%{mechanism}); a report adds the booleans success
/*	and policy_reject; every request carries the boolean tls. The
/*	answer is {"status": N, "msg": "..."}: N below 0 refuses (msg
/*	becomes the reason), 0 allows, above 0 delays N seconds.
/*
/*	authpolicy_command() maps ?command= to AP_CMD_ALLOW or
/*	AP_CMD_REPORT; anything else, or NULL, is AP_CMD_NONE.
/*
/*	authpolicy_parse() reads a body of at most AUTHPOLICY_BODY_MAX
/*	bytes with jansson: strict RFC 8259, a duplicate key, a NUL in a
/*	string or bytes that are not UTF-8 are errors. The top level must
/*	be an object. The keys above are read; a key of the right name
/*	but the wrong type (a number for login, a string for success) is
/*	an error, as is a string longer than AUTHPOLICY_FIELD_MAX bytes.
/*	Other keys, nested objects and arrays are ignored. It returns 0,
/*	or -1 with a one-line message in err (with jansson's position).
/*	authpolicy_free() releases what a parse gave, also after -1.
/*
/*	authpolicy_answer() formats the answer, msg left out when NULL;
/*	the caller frees it.
/*
/*	authpolicy_header_split() reads auth_policy_server_api_header as
/*	Dovecot does: "Name: value" is a header and its value (blanks
/*	around the value dropped, as HTTP does), a setting without a
/*	colon is the value of X-API-Key. -1 for an empty name or one
/*	longer than namelen. authpolicy_key_equal() compares the value
/*	expected with the one received in time that does not depend on
/*	where they differ; a NULL received value is not equal.
/*
/*	authpolicy_pwhash() computes Dovecot's pwhash: sha256(nonce user
/*	NUL password), shifted right to its first truncate_bits bits as
/*	Dovecot's buffer_truncate_rshift_bits() does (0: the whole hash),
/*	in lower-case hex, into hex (AUTHPOLICY_HASH_HEX_MAX + 1 bytes).
/*	It returns 0, or -1 when the hash cannot be computed.
/*--*/
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "authpolicy.h"
#include "util.h"

/* ?command= values */
static const struct {
	const char	*name;
	enum authpolicy_cmd cmd;
} ap_commands[] = {
	{"allow", AP_CMD_ALLOW},
	{"report", AP_CMD_REPORT},
};

/* fail_type values (Dovecot 2.4's auth_policy_fail_type()) */
static const struct {
	const char	*name;
	enum authpolicy_fail fail;
} ap_fail_types[] = {
	{"", AP_FAIL_UNSAID},
	{"policy", AP_FAIL_POLICY},
	{"internal", AP_FAIL_INTERNAL},
	{"credentials", AP_FAIL_CREDENTIALS},
	{"expired", AP_FAIL_EXPIRED},
	{"disabled", AP_FAIL_DISABLED},
	{"account", AP_FAIL_ACCOUNT},
};

/* The string keys read, and where they go. */
static const struct {
	const char	*key;
	size_t		 off;
} ap_strings[] = {
	{"login", offsetof(struct authpolicy_req, login)},
	{"pwhash", offsetof(struct authpolicy_req, pwhash)},
	{"remote", offsetof(struct authpolicy_req, remote)},
	{"device_id", offsetof(struct authpolicy_req, device_id)},
	{"session_id", offsetof(struct authpolicy_req, session_id)},
	{"protocol", offsetof(struct authpolicy_req, protocol)},
	{"mech", offsetof(struct authpolicy_req, mech)},
};

/* The boolean keys read. */
static const struct {
	const char	*key;
	size_t		 off;
} ap_bools[] = {
	{"success", offsetof(struct authpolicy_req, success)},
	{"policy_reject", offsetof(struct authpolicy_req, policy_reject)},
	{"tls", offsetof(struct authpolicy_req, tls)},
};

/* authpolicy_command - ?command= as an enum */
enum authpolicy_cmd
authpolicy_command(const char *s)
{
	size_t i;

	for (i = 0; s && i < NELEM(ap_commands); i++)
		if (strcmp(s, ap_commands[i].name) == 0)
			return ap_commands[i].cmd;
	return AP_CMD_NONE;
}

/* authpolicy_command_name - for lines and metrics */
const char *
authpolicy_command_name(enum authpolicy_cmd cmd)
{
	size_t i;

	for (i = 0; i < NELEM(ap_commands); i++)
		if (ap_commands[i].cmd == cmd)
			return ap_commands[i].name;
	return "none";
}

/* fail_type - Dovecot's name, or AP_FAIL_OTHER */
static enum authpolicy_fail
fail_type(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(ap_fail_types); i++)
		if (strcmp(s, ap_fail_types[i].name) == 0)
			return ap_fail_types[i].fail;
	return AP_FAIL_OTHER;
}

/* string_field - the place of a string field */
static char **
string_field(struct authpolicy_req *r, size_t i)
{
	return (char **)(void *)((char *)r + ap_strings[i].off);
}

/* bool_field - the place of a boolean field */
static int *
bool_field(struct authpolicy_req *r, size_t i)
{
	return (int *)(void *)((char *)r + ap_bools[i].off);
}

/* req_empty - every field absent */
static void
req_empty(struct authpolicy_req *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < NELEM(ap_strings); i++)
		*string_field(r, i) = xstrdup("");
	for (i = 0; i < NELEM(ap_bools); i++)
		*bool_field(r, i) = -1;
	r->proto = PROTO_SMTP;
	r->fail_type = AP_FAIL_UNSAID;
}

/* read_strings - the string keys, typed; -1 and err */
static int
read_strings(json_t *obj, struct authpolicy_req *r, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	for (i = 0; i < NELEM(ap_strings); i++) {
		if ((v = json_object_get(obj, ap_strings[i].key)) == NULL)
			continue;
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s: a string was expected",
			    ap_strings[i].key);
			return -1;
		}
		if (json_string_length(v) > AUTHPOLICY_FIELD_MAX) {
			snprintf(err, errlen, "%s: longer than %d bytes",
			    ap_strings[i].key, AUTHPOLICY_FIELD_MAX);
			return -1;
		}
		free(*string_field(r, i));
		*string_field(r, i) = xstrdup(json_string_value(v));
	}
	return 0;
}

/* read_bools - the boolean keys, typed; -1 and err */
static int
read_bools(json_t *obj, struct authpolicy_req *r, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	for (i = 0; i < NELEM(ap_bools); i++) {
		if ((v = json_object_get(obj, ap_bools[i].key)) == NULL)
			continue;
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "%s: true or false was expected",
			    ap_bools[i].key);
			return -1;
		}
		*bool_field(r, i) = json_is_true(v);
	}
	return 0;
}

/* read_fail_type - fail_type, a string of a known name or not */
static int
read_fail_type(json_t *obj, struct authpolicy_req *r, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(obj, "fail_type");

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "fail_type: a string was expected");
		return -1;
	}
	r->fail_type = fail_type(json_string_value(v));
	return 0;
}

/* authpolicy_parse - one request body; 0, or -1 and err */
int
authpolicy_parse(const char *body, size_t len, struct authpolicy_req *r,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *obj;
	int rc = -1;

	req_empty(r);
	if (len > AUTHPOLICY_BODY_MAX) {
		snprintf(err, errlen, "body of %zu bytes, more than %d", len,
		    AUTHPOLICY_BODY_MAX);
		return -1;
	}
	if ((obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "JSON error at line %d column %d: %s",
		    je.line, je.column, je.text);
		return -1;
	}
	if (!json_is_object(obj))
		snprintf(err, errlen, "the body is not a JSON object");
	else if (read_strings(obj, r, err, errlen) == 0 &&
	    read_bools(obj, r, err, errlen) == 0 &&
	    read_fail_type(obj, r, err, errlen) == 0)
		rc = 0;
	json_decref(obj);
	if (rc == 0 && *r->protocol)
		r->proto_known = proto_parse(r->protocol, &r->proto) == 0;
	if (!r->proto_known)
		r->proto = PROTO_SMTP;
	return rc;
}

/* authpolicy_free - release a parsed request */
void
authpolicy_free(struct authpolicy_req *r)
{
	size_t i;

	for (i = 0; i < NELEM(ap_strings); i++) {
		free(*string_field(r, i));
		*string_field(r, i) = NULL;
	}
}

/* authpolicy_answer - {"status":N,"msg":"..."}; the caller frees it */
char *
authpolicy_answer(int status, const char *msg)
{
	json_t *obj = json_object();
	char *s, *copy, plain[32];

	json_object_set_new(obj, "status", json_integer(status));
	if (msg)	/* not UTF-8: no string, and no msg */
		json_object_set_new(obj, "msg", json_string(msg));
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	snprintf(plain, sizeof(plain), "{\"status\":%d}", status);
	copy = xstrdup(s ? s : plain);
	free(s);
	return copy;
}

/* is_blank - space or tab */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * authpolicy_header_split - "Name: value" as Dovecot sends it; no colon:
 * the value of X-API-Key. 0, or -1 for a name that is empty or too long.
 */
int
authpolicy_header_split(const char *set, char *name, size_t namelen,
    const char **value)
{
	const char *colon = strchr(set, ':');
	size_t n;

	if (colon == NULL) {
		*value = set;
		return str_copy(name, namelen, "X-API-Key");
	}
	n = (size_t)(colon - set);
	while (n > 0 && is_blank(set[n - 1]))
		n--;
	if (n == 0 || n >= namelen)
		return -1;
	memcpy(name, set, n);
	name[n] = 0;
	for (*value = colon + 1; is_blank(**value); (*value)++)
		;
	return 0;
}

/* value_len - a header value's length without trailing blanks */
static size_t
value_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		n--;
	return n;
}

/* authpolicy_key_equal - the key expected and the one received, in even time */
int
authpolicy_key_equal(const char *want, const char *got)
{
	size_t wn, gn;
	unsigned char *a, *b;
	int same;

	if (got == NULL)
		return 0;
	wn = value_len(want);
	gn = value_len(got);
	/* compare equal lengths: the one received, padded or cut */
	a = xcalloc(1, gn + 1);
	b = xcalloc(1, gn + 1);
	memcpy(a, want, wn < gn ? wn : gn);
	memcpy(b, got, gn);
	same = CRYPTO_memcmp(a, b, gn) == 0 && wn == gn;
	free(a);
	free(b);
	return same;
}

/* rshift_bits - Dovecot's buffer_truncate_rshift_bits(); the new length */
static size_t
rshift_bits(unsigned char *p, size_t used, size_t bits)
{
	size_t bytes, i;

	if (used * 8 < bits)
		return used;
	bytes = (bits + 7) / 8;
	bits %= 8;
	if (bytes > used)
		bytes = used;
	if (bits > 0 && bytes > 0) {
		for (i = bytes - 1; i > 0; i--)
			p[i] = (unsigned char)((p[i] >> (8 - bits)) +
			    ((p[i - 1] & (0xff >> bits)) << bits));
		p[0] = (unsigned char)(p[0] >> (8 - bits));
	}
	return bytes;
}

/* authpolicy_pwhash - Dovecot's pwhash of a password, in hex */
int
authpolicy_pwhash(const char *nonce, const char *user, const char *password,
    unsigned truncate_bits, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t n, i;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, nonce, strlen(nonce)) == 1 &&
	    EVP_DigestUpdate(ctx, user, strlen(user) + 1) == 1 &&
	    (password == NULL ||
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	n = truncate_bits > 0 ? rshift_bits(md, mdlen, truncate_bits) : mdlen;
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = 0;
	wipe(md, sizeof(md));
	return 0;
}
