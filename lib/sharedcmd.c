/*++
/* NAME
/*	sharedcmd 3
/* SUMMARY
/*	the Redis commands of the shared state: built, and in wire form
/* DESCRIPTION
/*	A command is up to SHARED_ARGS strings, each copied. Most are
/*	one run of shared.lua: shared_cmd_script() builds EVALSHA of the
/*	script (by its SHA-1), three keys, empty until shared_cmd_key()
/*	names them (redis_prefix, kind, name), and SHARED_SCRIPT_ARGS
/*	arguments: the operation, the time, the limits in seconds, the
/*	gap between repeats of a stale password, the flags (SF_*), and
/*	"0" (or "" for ARGV[15]) for the others until the caller sets
/*	them. The others are plain commands (SET, LPUSH, AUTH, ...).
/*
/*	A change kept for later (shared 3) is held in its wire form only,
/*	Redis's protocol (RESP: "*argc", then "$len" and the bytes of
/*	each argument, each line ended by CRLF): shared_cmd_to_wire()
/*	gives it and frees the command, shared_cmd_of_wire() makes a
/*	command of it again, to send as it is.
/*
/*	A command's strings are wiped when it is freed: one of them may
/*	be the Redis password (AUTH), and a record names a user.
/*--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimits.h"
#include "msg.h"
#include "sharedcmd.h"
#include "util.h"

/* shared_cmd_free - a command and its strings, wiped */
void
shared_cmd_free(struct shared_cmd *c)
{
	int i;

	for (i = 0; i < c->argc; i++)
		if (c->argv[i])
			wipe_free(c->argv[i], c->len[i] + 1);
	if (c->wire)
		wipe_free(c->wire, c->wirelen);
	wipe_free(c, sizeof(*c));
}

/* shared_cmd_set - argument i, copied */
void
shared_cmd_set(struct shared_cmd *c, int i, const char *s, size_t len)
{
	free(c->argv[i]);
	c->argv[i] = xmalloc(len + 1);
	memcpy(c->argv[i], s, len);
	c->argv[i][len] = 0;
	c->len[i] = len;
}

/* shared_command - a plain command: argc strings */
struct shared_cmd *
shared_command(int argc, ...)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));
	const char *s;
	va_list ap;
	int i;

	if (argc > SHARED_ARGS)
		msg_panic("shared_command: %d arguments", argc);
	va_start(ap, argc);
	for (i = 0; i < argc; i++) {
		s = va_arg(ap, const char *);
		shared_cmd_set(c, i, s, strlen(s));
	}
	va_end(ap);
	c->argc = argc;
	return c;
}

/* shared_arg - the script's ARGV[n] */
void
shared_arg(struct shared_cmd *c, int n, const char *s)
{
	shared_cmd_set(c, SHARED_ARGV(n), s, strlen(s));
}

/* shared_arg_num - the script's ARGV[n], a number */
void
shared_arg_num(struct shared_cmd *c, int n, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	shared_arg(c, n, num);
}

/* shared_cmd_key - argument i: prefix, kind ("a:"), name */
void
shared_cmd_key(struct shared_cmd *c, int i, const char *prefix,
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
 * shared_cmd_script - EVALSHA of shared.lua (by its SHA-1): operation, now,
 * the limits, flags (shared.lua's bit()); keys empty, other ARGV "0"
 * until set.
 */
struct shared_cmd *
shared_cmd_script(const char *sha, const struct limits_config *l,
    const char *op, uint32_t now, unsigned flags)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));
	int i;

	c->argc = SHARED_ARGV(SHARED_SCRIPT_ARGS) + 1;
	shared_cmd_set(c, 0, "EVALSHA", 7);
	shared_cmd_set(c, 1, sha, strlen(sha));
	shared_cmd_set(c, 2, "3", 1);
	for (i = SHARED_KEYS(1); i <= SHARED_KEYS(3); i++)
		shared_cmd_set(c, i, "", 0);
	for (i = 1; i <= SHARED_SCRIPT_ARGS; i++)
		shared_arg(c, i, "0");
	shared_arg(c, 1, op);
	shared_arg_num(c, 2, now);
	shared_arg_num(c, 3, l->account.n);
	shared_arg_num(c, 4, l->account.secs);
	shared_arg_num(c, 5, l->address.n);
	shared_arg_num(c, 6, l->address.secs);
	shared_arg_num(c, 7, l->lockout_time);
	shared_arg_num(c, 8, l->lockout_max);
	shared_arg_num(c, 9, l->familiar_ttl);
	shared_arg_num(c, 10, l->guess_distinct);
	shared_arg_num(c, 11, LIMITS_STALE_GAP);
	shared_arg_num(c, 14, flags);
	shared_arg(c, 15, "");
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
 * shared_cmd_to_wire - the command in its wire form, its length in *len;
 * the command is freed. One allocation of the right size: no copy of a
 * user's name is left behind by a growing buffer.
 */
char *
shared_cmd_to_wire(struct shared_cmd *c, size_t *len)
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
	shared_cmd_free(c);
	return wire;
}

/* shared_cmd_of_wire - a command kept in wire form, to send again (takes it) */
struct shared_cmd *
shared_cmd_of_wire(int write, char *wire, size_t len)
{
	struct shared_cmd *c = xcalloc(1, sizeof(*c));

	c->write = write;
	c->wire = wire;
	c->wirelen = len;
	return c;
}
