/*++
/* NAME
/*	authproto 3
/* SUMMARY
/*	Dovecot auth-client and auth-master protocol lines
/* DESCRIPTION
/*	Pure parsers for the tab-separated lines of Dovecot's
/*	auth-client protocol v1 (Postfix's AUTH/CONT, Dovecot's
/*	OK/CONT/FAIL) and of the auth-master protocol spoken on the
/*	auth-userdb socket (USER/NOTFOUND/FAIL). Lines are split in
/*	place; a NUL byte inside a line or more than
/*	AUTHPROTO_MAX_FIELDS fields makes the line invalid.
/*
/*	Both sides open with VERSION <major> <minor>: a different
/*	major version is incompatible, the minor one says which
/*	additions the peer knows. Dovecot 2.3 announces 1.2 on
/*	auth-client and 1.1 on auth-master; Dovecot 2.4 announces 1.3
/*	on both. With a client that announced 1.3 itself, Dovecot 2.4
/*	also lists the mechanisms that need TLS channel binding (MECH
/*	lines with the flag "channel-binding") and may add fields such
/*	as channel_binding= after the data of a CONT line; with a
/*	client that announced less, its lines are those of 2.3. FAIL
/*	codes are the same in both.
/*
/*	SMTP mechanism names are case-blind (RFC 4954): Postfix passes
/*	the name as the client typed it. authproto_valid_mech() takes
/*	either case, and authproto_parse_auth() upper-cases the name in
/*	place, so that everything after it (the limits, the log's mech=,
/*	the request relayed to Dovecot) sees one spelling.
/*
/*	Dovecot escapes TAB, LF, CR and \\001 in values as \\001
/*	followed by 't', 'n', 'r' or '1' (str_tabescape); the same
/*	escaping is used for anything written here.
/*--*/
#include <string.h>

#include "authproto.h"
#include "util.h"

/* authline_split - split a line of len bytes on TABs, in place */
int
authline_split(char *line, size_t len, struct authline *al)
{
	char *p = line;

	if (memchr(line, 0, len) != NULL)
		return -1;
	al->argc = 0;
	for (;;) {
		if (al->argc == AUTHPROTO_MAX_FIELDS)
			return -1;
		al->argv[al->argc++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = 0;
	}
	return 0;
}

/* authline_param - value of "name=value" (or "" for a bare "name") */
const char *
authline_param(const struct authline *al, int first, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = first; i < al->argc; i++) {
		if (strncmp(al->argv[i], name, n) != 0)
			continue;
		if (al->argv[i][n] == '=')
			return al->argv[i] + n + 1;
		if (al->argv[i][n] == 0)
			return "";
	}
	return NULL;
}

/* authline_id - a request id: decimal, 1..2^32-1 */
int
authline_id(const char *s, unsigned *id)
{
	unsigned long v;

	if (parse_uint(s, 0xffffffffUL, &v) < 0 || v == 0)
		return -1;
	*id = (unsigned)v;
	return 0;
}

/* authproto_parse_version - VERSION <major> <minor> */
int
authproto_parse_version(const struct authline *al, unsigned *major,
    unsigned *minor)
{
	unsigned long maj, min;

	if (al->argc < 3 || strcmp(al->argv[0], "VERSION") != 0 ||
	    parse_uint(al->argv[1], 0xffffUL, &maj) < 0 ||
	    parse_uint(al->argv[2], 0xffffUL, &min) < 0)
		return -1;
	*major = (unsigned)maj;
	*minor = (unsigned)min;
	return 0;
}

/* authproto_mech_flag - the AUTH_MECH_* bit of a MECH flag, 0 if unknown */
static unsigned
authproto_mech_flag(const char *name)
{
	static const struct {
		const char *name;
		unsigned flag;
	} flags[] = {
		{"private", AUTH_MECH_PRIVATE},
		{"anonymous", AUTH_MECH_ANONYMOUS},
		{"plaintext", AUTH_MECH_PLAINTEXT},
		{"dictionary", AUTH_MECH_DICTIONARY},
		{"active", AUTH_MECH_ACTIVE},
		{"forward-secrecy", AUTH_MECH_FORWARD_SECRECY},
		{"mutual-auth", AUTH_MECH_MUTUAL_AUTH},
		{"channel-binding", AUTH_MECH_CHANNEL_BINDING},
	};
	size_t i;

	for (i = 0; i < NELEM(flags); i++)
		if (strcmp(name, flags[i].name) == 0)
			return flags[i].flag;
	return 0;
}

/* authproto_parse_mech - MECH <name> [flags...] */
int
authproto_parse_mech(const struct authline *al, struct auth_mech *m)
{
	int i;

	if (al->argc < 2 || strcmp(al->argv[0], "MECH") != 0 ||
	    !authproto_valid_mech(al->argv[1]))
		return -1;
	m->name = al->argv[1];
	m->flags = 0;
	for (i = 2; i < al->argc; i++)
		m->flags |= authproto_mech_flag(al->argv[i]);
	return 0;
}

/* authproto_valid_mech - SASL mechanism name (RFC 4422 charset, any case) */
int
authproto_valid_mech(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 20)
		return 0;
	return strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* authproto_parse_auth - AUTH <id> <mech> [params...]; mech upper-cased */
int
authproto_parse_auth(struct authline *al, struct auth_request *ar,
    const char **err)
{
	memset(ar, 0, sizeof(*ar));
	if (al->argc < 3 || strcmp(al->argv[0], "AUTH") != 0) {
		*err = "AUTH needs an id and a mechanism";
		return -1;
	}
	if (authline_id(al->argv[1], &ar->id) < 0) {
		*err = "invalid request id";
		return -1;
	}
	if (!authproto_valid_mech(al->argv[2])) {
		*err = "invalid mechanism name";
		return -1;
	}
	str_upper(al->argv[2]);
	ar->mech = al->argv[2];
	ar->first_param = 3;
	ar->resp = authline_param(al, 3, "resp");
	ar->rip = authline_param(al, 3, "rip");
	ar->lip = authline_param(al, 3, "lip");
	ar->secured = authline_param(al, 3, "secured") != NULL;
	return 0;
}

/* authproto_parse_reply - OK/CONT/FAIL <id> ... from the server */
int
authproto_parse_reply(const struct authline *al, struct auth_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (al->argc < 2 || authline_id(al->argv[1], &r->id) < 0)
		return -1;
	if (strcmp(al->argv[0], "OK") == 0)
		r->kind = AUTH_REPLY_OK;
	else if (strcmp(al->argv[0], "FAIL") == 0)
		r->kind = AUTH_REPLY_FAIL;
	else if (strcmp(al->argv[0], "CONT") == 0 && al->argc >= 3)
		r->kind = AUTH_REPLY_CONT;
	else
		return -1;
	if (r->kind == AUTH_REPLY_CONT) {
		r->data = al->argv[2];
		return 0;
	}
	r->user = authline_param(al, 2, "user");
	r->code = authline_param(al, 2, "code");
	r->reason = authline_param(al, 2, "reason");

	r->temp = authline_param(al, 2, "temp") != NULL;
	return 0;
}

/* authproto_parse_userdb - USER/NOTFOUND/FAIL <id> ... */
int
authproto_parse_userdb(const struct authline *al, unsigned *id,
    enum userdb_reply_kind *kind)
{
	if (al->argc < 2 || authline_id(al->argv[1], id) < 0)
		return -1;
	if (strcmp(al->argv[0], "USER") == 0)
		*kind = USERDB_FOUND;
	else if (strcmp(al->argv[0], "NOTFOUND") == 0)
		*kind = USERDB_NOTFOUND;
	else if (strcmp(al->argv[0], "FAIL") == 0)
		*kind = USERDB_FAIL;
	else
		return -1;
	return 0;
}

/* authproto_escape - append s with TAB/LF/CR/\001 escaped */
void
authproto_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\001':
			buf_puts(b, "\0011");
			break;
		case '\t':
			buf_puts(b, "\001t");
			break;
		case '\n':
			buf_puts(b, "\001n");
			break;
		case '\r':
			buf_puts(b, "\001r");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

/* authproto_unescape - undo authproto_escape in place */
void
authproto_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s != '\001' || s[1] == 0) {
			*d++ = *s;
			continue;
		}
		s++;
		*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' :
		    *s == '1' ? '\001' : *s;
	}
	*d = 0;
}

/* authproto_overlong_id - command and id from the start of a cut line */
int
authproto_overlong_id(const char *prefix, const char **cmd, unsigned *id)
{
	static const char *const cmds[] = {"AUTH", "CONT", "OK", "FAIL", "USER",
	    "NOTFOUND"};
	char digits[11];
	size_t i, n;

	for (i = 0; i < NELEM(cmds); i++) {
		n = strlen(cmds[i]);
		if (strncmp(prefix, cmds[i], n) == 0 && prefix[n] == '\t')
			break;
	}
	if (i == NELEM(cmds))
		return -1;
	*cmd = cmds[i];
	prefix += n + 1;
	n = strspn(prefix, "0123456789");
	if (n == 0 || n >= sizeof(digits) || prefix[n] != '\t')
		return -1;
	memcpy(digits, prefix, n);
	digits[n] = 0;
	return authline_id(digits, id);
}
