/*++
/* NAME
/*	policyproto 3
/* SUMMARY
/*	Postfix policy delegation requests (SMTPD_POLICY_README)
/* DESCRIPTION
/*	A request is "name=value" lines ended by an empty line. Lines
/*	are pushed one at a time (without the newline); POLICY_DONE says
/*	the request is complete. A malformed line (no '=', a bad name, a
/*	NUL byte, too many attributes) does not end the request: it is
/*	remembered in req->error, so that the caller answers it with the
/*	default action once it is complete, and the connection stays in
/*	step. Unknown attributes are kept and ignored; a repeated name
/*	keeps its last value.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "policyproto.h"
#include "util.h"

static const char *const known_names[PA_COUNT] = {"protocol_state",
    "sasl_username", "client_address", "client_port", "server_port",
    "encryption_protocol", "policy_context", "sender"};
static unsigned known_hash[PA_COUNT];

static unsigned name_hash(const char *, size_t);

/* policy_req_reset - forget the attributes, keep the memory */
void
policy_req_reset(struct policy_req *r)
{
	int i;

	r->n = 0;
	r->error = NULL;
	r->text.len = 0;
	for (i = 0; i < PA_COUNT; i++)
		r->known[i] = POLICY_NONE;
}

/* policy_req_init - empty request */
void
policy_req_init(struct policy_req *r)
{
	int i;

	if (known_hash[0] == 0)
		for (i = 0; i < PA_COUNT; i++)
			known_hash[i] = name_hash(known_names[i],
			    strlen(known_names[i]));
	buf_init(&r->text);
	policy_req_reset(r);
}

/* policy_attr_name - the name of a known attribute */
const char *
policy_attr_name(enum policy_attr a)
{
	return known_names[a];
}

/* policy_req_attr - a known attribute's value; NULL when absent */
const char *
policy_req_attr(const struct policy_req *r, enum policy_attr a)
{
	return r->known[a] == POLICY_NONE ? NULL : r->text.data + r->known[a];
}

/* policy_req_free - release */
void
policy_req_free(struct policy_req *r)
{
	buf_free(&r->text);
	r->n = 0;
}

/* name_hash - hash of a valid name ([a-z0-9_], 1..63 bytes), or 0
 * (the same hash as scan_name) */
static unsigned
name_hash(const char *p, size_t len)
{
	unsigned h = 2166136261u;
	size_t i;

	if (len == 0 || len >= 64)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' &&
		    p[i] <= '9') || p[i] == '_'))
			return 0;
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	}
	return h ? h : 1;
}

/* scan_name - hash of the name before '=' ([a-z0-9_]{1,63}); 0: invalid */
static unsigned
scan_name(const char *line, size_t len, size_t *nlen)
{
	unsigned h = 2166136261u;
	size_t i;
	char c;

	for (i = 0; i < len && i < 64; i++) {
		if ((c = line[i]) == '=')
			break;
		if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' &&
		    c <= '9')))
			return 0;
		h = (h ^ (unsigned char)c) * 16777619u;
	}
	if (i == 0 || i == len || i == 64 || line[i] != '=')
		return 0;
	*nlen = i;
	return h ? h : 1;
}

/* policy_req_note - remember where a known attribute's value is */
static void
policy_req_note(struct policy_req *r, const char *name, size_t nlen,
    unsigned h, size_t value)
{
	int k;

	for (k = 0; k < PA_COUNT; k++)
		if (known_hash[k] == h && strlen(known_names[k]) == nlen &&
		    memcmp(known_names[k], name, nlen) == 0) {
			r->known[k] = value;
			return;
		}
}

/* policy_req_line - one line of a request */
enum policy_push
policy_req_line(struct policy_req *r, const char *line, size_t len)
{
	size_t nlen = 0, vlen;
	unsigned h;

	if (len == 0)
		return POLICY_DONE;
	if ((h = scan_name(line, len, &nlen)) == 0) {
		r->error = r->error ? r->error : "not a name=value line";
		return POLICY_MORE;
	}
	vlen = len - nlen - 1;
	if (memchr(line + nlen + 1, 0, vlen) != NULL) {
		r->error = r->error ? r->error : "NUL byte in attribute";
		return POLICY_MORE;
	}
	if (r->n == POLICY_ATTR_MAX) {
		r->error = r->error ? r->error : "too many attributes";
		return POLICY_MORE;
	}
	r->hash[r->n] = h;
	r->name[r->n] = r->text.len;
	r->value[r->n] = r->text.len + nlen + 1;
	buf_reserve(&r->text, len + 1);
	memcpy(r->text.data + r->text.len, line, len);
	r->text.data[r->text.len + nlen] = 0;		/* name NUL value NUL */
	r->text.data[r->text.len + len] = 0;
	r->text.len += len + 1;
	policy_req_note(r, line, nlen, h, r->value[r->n++]);
	return POLICY_MORE;
}

/* policy_req_get - an attribute's (last) value; NULL when absent */
const char *
policy_req_get(const struct policy_req *r, const char *name)
{
	unsigned h = name_hash(name, strlen(name));
	int i;

	for (i = r->n - 1; i >= 0; i--)
		if (r->hash[i] == h && strcmp(r->text.data + r->name[i], name) == 0)
			return r->text.data + r->value[i];
	return NULL;
}
