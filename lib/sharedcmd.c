/*++
/* NAME
/*	sharedcmd 3
/* SUMMARY
/*	the Redis commands of the shared state: built, and in wire form
/* DESCRIPTION
/*	A command is up to SHARED_ARGS strings, each copied. Most are
/*	one run of shared.lua: sharedcmd_script() builds EVALSHA of the
/*	script (by its SHA-1), three keys, empty until sharedcmd_key_at()
/*	names them (redis_prefix, kind, name), and SHARED_SCRIPT_ARGS
/*	arguments: the operation, the time, the limits in seconds, the
/*	gap between repeats of a stale password, the flags (SF_*), and
/*	"0" (or "" for ARGV[15]) for the others until the caller sets
/*	them. The others are plain commands (SET, LPUSH, AUTH, ...).
/*
/*	A change kept for later (shared 3) is held in its wire form only,
/*	Redis's protocol (RESP: "*argc", then "$len" and the bytes of
/*	each argument, each line ended by CRLF): sharedcmd_to_wire()
/*	gives it and frees the command, sharedcmd_of_wire() makes a
/*	command of it again, to send as it is.
/*
/*	A command's strings are wiped when it is freed: one of them may
/*	be the Redis password (AUTH), and a record names a user.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "msg.h"
#include "sharedcmd.h"
#include "util.h"

/* sharedcmd_free - a command and its strings, wiped */
void
sharedcmd_free(struct shared_cmd *c)
{
	int i;

	for (i = 0; i < c->argc; i++)
		if (c->argv[i])
			wipe_free(c->argv[i], c->len[i] + 1);
	if (c->wire)
		wipe_free(c->wire, c->wirelen);
	wipe_free(c, sizeof(*c));
}

/* sharedcmd_set - argument i, copied */
void
sharedcmd_set(struct shared_cmd *c, int i, const char *s, size_t len)
{
	free(c->argv[i]);
	c->argv[i] = xmalloc(len + 1);
	memcpy(c->argv[i], s, len);
	c->argv[i][len] = 0;
	c->len[i] = len;
}

/* sharedcmd_new - a plain command: argc strings */
struct shared_cmd *
sharedcmd_new(int argc, va_list ap)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));
	const char *s;
	int i;

	if (argc > SHARED_ARGS)
		msg_panic("shared_command: %d arguments", argc);
	for (i = 0; i < argc; i++) {
		s = va_arg(ap, const char *);
		sharedcmd_set(c, i, s, strlen(s));
	}
	c->argc = argc;
	return c;
}

/* sharedcmd_arg - the script's ARGV[n] */
void
sharedcmd_arg(struct shared_cmd *c, int n, const char *s)
{
	sharedcmd_set(c, SHARED_ARGV(n), s, strlen(s));
}

/* sharedcmd_arg_num - the script's ARGV[n], a number */
void
sharedcmd_arg_num(struct shared_cmd *c, int n, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	sharedcmd_arg(c, n, num);
}

/* sharedcmd_key_at - argument i: prefix, kind ("a:"), name */
void
sharedcmd_key_at(struct shared_cmd *c, int i, const char *prefix,
    const char *kind, const char *name)
{
	size_t p = strlen(prefix), k = strlen(kind), l = strlen(name);
	char *s = xmalloc(p + k + l + 1);

	memcpy(s, prefix, p);
	memcpy(s + p, kind, k);
	memcpy(s + p + k, name, l + 1);
	free(c->argv[i]);
	c->argv[i] = s;
	c->len[i] = p + k + l;
}

/*
 * sharedcmd_script - EVALSHA of shared.lua (by its SHA-1): operation, now,
 * the limits, flags (shared.lua's bit()); keys empty, other ARGV "0"
 * until set.
 */
struct shared_cmd *
sharedcmd_script(const char *sha, const struct limits_config *l,
    const char *op, uint32_t now, unsigned flags)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));
	int i;

	c->argc = SHARED_ARGV(SHARED_SCRIPT_ARGS) + 1;
	sharedcmd_set(c, 0, "EVALSHA", 7);
	sharedcmd_set(c, 1, sha, strlen(sha));
	sharedcmd_set(c, 2, "3", 1);
	for (i = SHARED_KEYS(1); i <= SHARED_KEYS(3); i++)
		sharedcmd_set(c, i, "", 0);
	for (i = 1; i <= SHARED_SCRIPT_ARGS; i++)
		sharedcmd_arg(c, i, "0");
	sharedcmd_arg(c, 1, op);
	sharedcmd_arg_num(c, 2, now);
	sharedcmd_arg_num(c, 3, l->account.n);
	sharedcmd_arg_num(c, 4, l->account.secs);
	sharedcmd_arg_num(c, 5, l->address.n);
	sharedcmd_arg_num(c, 6, l->address.secs);
	sharedcmd_arg_num(c, 7, l->lockout_time);
	sharedcmd_arg_num(c, 8, l->lockout_max);
	sharedcmd_arg_num(c, 9, l->familiar_ttl);
	sharedcmd_arg_num(c, 10, l->guess_distinct);
	sharedcmd_arg_num(c, 11, LIMITS_STALE_GAP);
	sharedcmd_arg_num(c, 14, flags);
	sharedcmd_arg(c, 15, "");
	return c;
}

/* resp_head - "*argc" or "$len" and CRLF at out (NULL: measure only) */
static size_t
resp_head(char *out, char mark, size_t n)
{
	char head[32];
	int k = snprintf(head, sizeof(head), "%c%zu\r\n", mark, n);

	if (out)
		memcpy(out, head, (size_t)k);
	return (size_t)k;
}

/* resp_put - the command in Redis's protocol at out (NULL: measure only) */
static size_t
resp_put(const struct shared_cmd *c, char *out)
{
	size_t n = resp_head(out, '*', (size_t)c->argc);
	int i;

	for (i = 0; i < c->argc; i++) {
		n += resp_head(out ? out + n : NULL, '$', c->len[i]);
		if (out) {
			memcpy(out + n, c->argv[i], c->len[i]);
			memcpy(out + n + c->len[i], "\r\n", 2);
		}
		n += c->len[i] + 2;
	}
	return n;
}

/*
 * sharedcmd_to_wire - the command in its wire form, its length in *len;
 * the command is freed. One allocation of the right size: no copy of a
 * user's name is left behind by a growing buffer.
 */
char *
sharedcmd_to_wire(struct shared_cmd *c, size_t *len)
{
	char *wire = c->wire;

	if (wire) {
		*len = c->wirelen;
		c->wire = NULL;
	} else {
		*len = resp_put(c, NULL);
		wire = xmalloc(*len + 1);
		resp_put(c, wire);
		wire[*len] = 0;
	}
	sharedcmd_free(c);
	return wire;
}

/* sharedcmd_of_wire - a command kept in wire form, to send again (takes it) */
struct shared_cmd *
sharedcmd_of_wire(int write, char *wire, size_t len)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));

	c->write = write;
	c->wire = wire;
	c->wirelen = len;
	return c;
}
