/*++
/* NAME
/*	config 3
/* SUMMARY
/*	authguard.conf: one table of name, default and variable
/* DESCRIPTION
/*	The file is "key = value" lines; '#' starts a comment line;
/*	blank lines are ignored; a later setting of a key replaces an
/*	earlier one. Unknown keys, bad values and malformed lines are
/*	errors reported as "file:line: ...". Every parameter is one
/*	row of config_table: name, default, type and where it goes;
/*	defaults are parsed by the same code as the file.
/*
/*	Keys that go together are checked once the whole file is read,
/*	as "file: ...": the redis_tls_* keys need a rediss:// backend;
/*	an inet: auth_policy_listen needs auth_policy_api_header (any
/*	local process may connect to a TCP port), and a header set as
/*	"Name: value" needs both parts.
/*
/*	config_parse() is pure: text in, struct config or an error out.
/*	config_load() reads a file (at most 1 MiB) and calls it.
/*
/*	conf_parse(), conf_load() and conf_free() do the same for any
/*	file of the same syntax, described by its own struct config_table
/*	(rows of the same types): authguard.conf is one such table, the
/*	web front end's file another.
/*
/*	config_duration() ("30s", in ms) and limit_parse() ("10/15m")
/*	are the value parsers of the table, for other callers too.
/*--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "config.h"
#include "notice.h"
#include "util.h"

#ifndef NOTIFY_DEF_TEMPLATES
#define NOTIFY_DEF_TEMPLATES	"/etc/authguard/notices"
#endif

#define CP(name, def, type) {#name, def, type, offsetof(struct config, name), \
	0, 0, 0}
/* A socket, an identity or a size fixed at start: SIGHUP keeps the old value. */
#define CR(name, def, type) {#name, def, type, offsetof(struct config, name), \
	0, 0, 1}
#define CPU(name, def, min, max) {#name, def, CT_UINT, \
	offsetof(struct config, name), min, max, 0}
#define CRU(name, def, min, max) {#name, def, CT_UINT, \
	offsetof(struct config, name), min, max, 1}

static const struct config_param config_table[] = {
	CR(sasl_listen, "unix:/run/authguard/auth", CT_SOCKET),
	CR(sasl_upstream, "unix:/run/dovecot/auth-client", CT_SOCKET),
	CR(userdb_upstream, "", CT_SOCKET_OPT),
	CR(policy_listen, "", CT_SOCKET_OPT),
	CR(control_listen, "unix:/run/authguard/control", CT_SOCKET_OPT),
	CR(control_group, "", CT_STRING),
	CR(metrics_listen, "", CT_SOCKET_OPT),
	CR(state_dir, "/var/lib/authguard", CT_STRING),
	CR(fingerprint_key, "/etc/authguard/fingerprint.key", CT_STRING),
	CP(accounts_map, "", CT_STRING),
	CP(require_tls_for_auth, "yes", CT_BOOL),
	CP(tls_exempt_networks, "", CT_NETLIST),
	CP(client_detail, "safe", CT_DETAIL),
	CP(log_format, "logfmt", CT_LOGFMT),
	CP(upstream_timeout, "8s", CT_DURATION),
	CP(refusal_delay, "dovecot", CT_REFUSAL_DELAY),
	CR(socket_owner, "", CT_STRING),
	CR(socket_group, "", CT_STRING),
	CR(socket_mode, "0660", CT_MODE),
	CP(account_fail_limit, "10/15m", CT_LIMIT),
	CP(ip_fail_limit, "30/15m", CT_LIMIT),
	CP(lockout_time, "15m", CT_DURATION),
	CP(lockout_max, "1d", CT_DURATION),
	CP(familiar_address_ttl, "30d", CT_DURATION),
	CP(limit_exempt_networks, "", CT_NETLIST),
	CPU(max_tracked, "100000", 1, 100000000),
	CRU(ipv4_prefix, "32", 8, 32),
	CRU(ipv6_prefix, "64", 16, 128),
	CPU(guessing_threshold, "4", 2, 255),
	CRU(history_size, "10000", 16, 10000000),
	CP(submission_ports, "587 465", CT_STRING),
	CP(policy_default_action, "DUNNO", CT_STRING),
	CP(policy_log, "all", CT_POLICY_LOG),
	CR(user, "", CT_STRING),
	CR(milter_listen, "unix:/run/authguard/milter", CT_SOCKET),
	CP(authserv_id, "", CT_STRING),
	CP(milter_auth_results, "yes", CT_BOOL),
	CP(milter_diag_header, "yes", CT_BOOL),
	CP(milter_header_user, "yes", CT_BOOL),
	CP(milter_submission_daemons, "", CT_STRING),
	CP(milter_control_timeout, "300ms", CT_DURATION),
	CR(state_backend, "embedded", CT_BACKEND),
	CR(redis_prefix, "authguard:", CT_STRING),
	CP(redis_timeout, "5ms", CT_DURATION),
	CP(shared_history_ttl, "1d", CT_DURATION),
	CR(redis_tls_ca, "", CT_FILE),
	CR(redis_tls_cert, "", CT_FILE),
	CR(redis_tls_key, "", CT_FILE),
	CR(auth_policy_listen, "", CT_SOCKET_OPT),
	CP(auth_policy_api_header, "", CT_STRING),
	CP(auth_policy_hash_nonce, "", CT_STRING),
	CPU(auth_policy_hash_truncate, "12", 0, 256),
	CP(auth_policy_max_wait, "1s", CT_DURATION),
	CP(notify, "no", CT_BOOL),
	CP(notify_events, "stale-password, app-password-required, lock, "
	    "password-guessing", CT_NOTICE_KINDS),
	CP(notify_stale_after, "1h", CT_DURATION),
	CPU(notify_repeat, "3", 1, 1000),
	CP(notify_interval, "1d", CT_DURATION),
	CPU(notify_max_per_hour, "100", 1, 100000),
	CP(notify_sendmail, "/usr/sbin/sendmail -t -oi", CT_STRING),
	CP(notify_from, "postmaster", CT_STRING),
	CP(notify_contact_map, "", CT_FILE),
	CP(notify_templates, NOTIFY_DEF_TEMPLATES, CT_FILE),
	CPU(notify_max_children, "4", 1, 64),
	CP(notify_hostname, "", CT_STRING),
};

_Static_assert(NELEM(config_table) == CONFIG_KEYS, "CONFIG_KEYS in config.h");

static int config_check(const void *, const char **);

static const struct config_table config_file = {
	config_table, NELEM(config_table), sizeof(struct config),
	offsetof(struct config, text), config_check,
};

/* config_duration - "30s", "10m", "1h", "1d", "500ms"; result in ms */
int
config_duration(const char *s, unsigned *ms)
{
	static const struct {
		const char *unit;
		unsigned long mult;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	    {"d", 86400000}};
	char num[16];
	size_t n = strspn(s, "0123456789"), i;
	unsigned long v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = 0;
	if (parse_uint(num, 0xffffffffUL, &v) < 0)
		return -1;
	for (i = 0; i < NELEM(units); i++)
		if (strcmp(s + n, units[i].unit) == 0)
			break;
	if (i == NELEM(units) || v > 0xffffffffUL / units[i].mult)
		return -1;
	*ms = (unsigned)(v * units[i].mult);
	return 0;
}

/* limit_parse - "N/DURATION" */
int
limit_parse(const char *s, struct limit *l)
{
	const char *slash = strchr(s, '/');
	char num[16];
	unsigned long n;
	unsigned ms;

	if (slash == NULL || slash == s || (size_t)(slash - s) >= sizeof(num))
		return -1;
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = 0;
	if (parse_uint(num, 255, &n) < 0 || n == 0)
		return -1;
	if (config_duration(slash + 1, &ms) < 0 || ms < 1000)
		return -1;
	l->n = (unsigned)n;
	l->secs = ms / 1000;
	return 0;
}

/*
 * notice_kinds_parse - a list of notice kinds (notice_kind_name's words),
 * separated by commas or white space, into bits (1u << kind); "" is none
 */
static int
notice_kinds_parse(const char *v, unsigned *bits, const char **err)
{
	char word[64];
	size_t n;
	int k;

	*bits = 0;
	for (;;) {
		v += strspn(v, ", \t");
		if (*v == 0)
			return 0;
		if ((n = strcspn(v, ", \t")) >= sizeof(word) ||
		    (memcpy(word, v, n), word[n] = 0,
		    (k = notice_kind_lookup(word)) < 0))
			return *err = "want notice kinds: stale-password, "
			    "app-password-required, lock, password-guessing", -1;
		*bits |= 1u << k;
		v += n;
	}
}

/* config_enum - value in a list of words */
static int
config_enum(const char *v, const char *const *words, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	return -1;
}

/* config_texts - a file's values as written, one per row */
static char **
config_texts(const struct config_table *t, void *c)
{
	return (char **)((char *)c + t->text);
}

/* config_set - parse one value into its slot */
static int
config_set(const struct config_table *t, void *c,
    const struct config_param *p, const char *v, const char **err)
{
	static const char *const bools[] = {"no", "yes"};
	static const char *const details[] = {"safe", "full", "none"};
	static const char *const fmts[] = {"logfmt", "json"};
	static const char *const plogs[] = {"all", "refusals"};
	static char numerr[80];
	void *slot = (char *)c + p->offset;
	char **text = &config_texts(t, c)[p - t->rows];
	unsigned long mode;
	int i;

	free(*text);			/* as written, for a reload to compare */
	*text = xstrdup(v);
	switch (p->type) {
	case CT_SOCKET_OPT:
		if (*v == 0) {
			memset(slot, 0, sizeof(struct sockspec));
			return 0;
		}
		/* FALLTHROUGH */
	case CT_SOCKET:
		return sockspec_parse(v, slot, err);
	case CT_STRING:
		free(*(char **)slot);
		*(char **)slot = xstrdup(v);
		return 0;
	case CT_BOOL:
		if ((i = config_enum(v, bools, 2)) < 0)
			return *err = "want yes or no", -1;
		*(int *)slot = i;
		return 0;
	case CT_NETLIST:
		netlist_free(slot);
		return netlist_parse(v, slot, err);
	case CT_DETAIL:
		if ((i = config_enum(v, details, 3)) < 0)
			return *err = "want safe, full or none", -1;
		*(enum client_detail *)slot = (enum client_detail)i;
		return 0;
	case CT_LOGFMT:
		if ((i = config_enum(v, fmts, 2)) < 0)
			return *err = "want logfmt or json", -1;
		*(enum log_format *)slot = (enum log_format)i;
		return 0;
	case CT_DURATION_OPT:
		if (*v == 0) {
			*(unsigned *)slot = 0;
			return 0;
		}
		/* FALLTHROUGH */
	case CT_DURATION:
		if (config_duration(v, slot) < 0)
			return *err = "want a duration like 500ms, 30s, 10m, 1h, 1d",
			    -1;
		return 0;
	case CT_REFUSAL_DELAY:
		if (strcmp(v, "dovecot") == 0) {
			*(unsigned *)slot = REFUSAL_DELAY_DOVECOT;
			return 0;
		}
		if (config_duration(v, slot) < 0 ||
		    *(unsigned *)slot >= REFUSAL_DELAY_DOVECOT)
			return *err = "want dovecot, or a duration like 2s or 0s",
			    -1;
		return 0;
	case CT_POLICY_LOG:
		if ((i = config_enum(v, plogs, 2)) < 0)
			return *err = "want all or refusals", -1;
		*(int *)slot = i == 0;
		return 0;
	case CT_LIMIT:
		if (limit_parse(v, slot) < 0)
			return *err = "want a limit like 10/15m (1-255 per window "
			    "of 1s or more)", -1;
		return 0;
	case CT_UINT:
		if (parse_uint(v, p->max, &mode) < 0 || mode < p->min) {
			snprintf(numerr, sizeof(numerr), "want a number from %lu "
			    "to %lu", p->min, p->max);
			return *err = numerr, -1;
		}
		*(unsigned *)slot = (unsigned)mode;
		return 0;
	case CT_BACKEND:
		if (backend_parse(v, slot, err) < 0)
			return -1;
#ifndef HAVE_HIREDIS_SSL
		if (((struct backend *)slot)->tls)
			return *err = "rediss:// is not supported: this build's "
			    "hiredis has no TLS (no hiredis_ssl, as in Debian 12); "
			    "use a unix socket, a private network or a TLS tunnel",
			    -1;
#endif
		return 0;
	case CT_FILE:
		if (*v != 0 && *v != '/')
			return *err = "want an absolute path", -1;
		free(*(char **)slot);
		*(char **)slot = xstrdup(v);
		return 0;
	case CT_NOTICE_KINDS:
		return notice_kinds_parse(v, slot, err);
	case CT_MODE:
		if (strspn(v, "01234567") != strlen(v) || *v == 0 ||
		    (mode = strtoul(v, NULL, 8)) > 0777)
			return *err = "want an octal mode like 0660", -1;
		*(unsigned *)slot = (unsigned)mode;
		return 0;
	}
	return *err = "internal: unknown parameter type", -1;
}

/* config_find - table row by name */
static const struct config_param *
config_find(const struct config_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	return NULL;
}

/* trim - strip leading and trailing white space in place */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* config_defaults - every parameter at its default */
static void
config_defaults(const struct config_table *t, void *c)
{
	const char *err;
	size_t i;

	memset(c, 0, t->size);
	for (i = 0; i < t->nrows; i++)
		if (config_set(t, c, &t->rows[i], t->rows[i].def, &err) < 0)
			abort();	/* a broken default is a build bug */
}

/* config_line - one line; 0 ok, -1 with *err */
static int
config_line(const struct config_table *t, void *c, char *line,
    const char **err)
{
	const struct config_param *p;
	char *eq, *key, *val;

	line = trim(line);
	if (*line == 0 || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL)
		return *err = "expected key = value", -1;
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	if ((p = config_find(t, key)) == NULL)
		return *err = "unknown key", -1;
	return config_set(t, c, p, val, err);
}

/*
 * api_header_check - auth_policy_api_header: none, a value, or "Name:
 * value" with neither part empty; required when the door listens on
 * TCP (any local process may connect there; a unix socket has its
 * owner and mode)
 */
static int
api_header_check(const struct config *c, const char **err)
{
	const char *set = c->auth_policy_api_header, *colon, *v;

	if (*set == 0)
		return c->auth_policy_listen.kind == SOCK_INET ? (*err =
		    "auth_policy_listen on inet: needs auth_policy_api_header "
		    "(any local process may connect)", -1) : 0;
	if ((colon = strchr(set, ':')) == NULL)
		return 0;		/* the value of X-API-Key */
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		 /* void */ ;
	if (colon == set || *v == 0)
		return *err = "auth_policy_api_header: want \"Name: value\", "
		    "neither empty", -1;
	return 0;
}

/*
 * notify_check - notify_from goes into From: and after -f: one word of
 * printable ASCII that cannot add a header or a recipient; notify_sendmail
 * is an absolute path and its arguments
 */
static int
notify_check(const struct config *c, const char **err)
{
	const char *f = c->notify_from;

	if (*f == '-' || !notice_from_ok(f))	/* as notice_render takes it */
		return *err = "notify_from: want an address or a local name "
		    "(no space, comma, quote or angle bracket)", -1;
	if (*c->notify_hostname && !notice_rname_ok(c->notify_hostname))
		return *err = "notify_hostname: want a host name", -1;
	if (*c->notify_sendmail != '/')
		return *err = "notify_sendmail: want an absolute path and its "
		    "arguments", -1;
	return 0;
}

/* config_check - what one line cannot tell: keys that go together */
static int
config_check(const void *arg, const char **err)
{
	const struct config *c = arg;
	int cert = *c->redis_tls_cert != 0, key = *c->redis_tls_key != 0;

	if (api_header_check(c, err) < 0 || notify_check(c, err) < 0)
		return -1;

	if ((*c->redis_tls_ca || cert || key) && (c->state_backend.kind !=
	    BACKEND_REDIS || !c->state_backend.tls))
		return *err = "redis_tls_ca, redis_tls_cert and redis_tls_key "
		    "apply to state_backend = rediss:// only", -1;
	if (cert != key)
		return *err = "redis_tls_cert and redis_tls_key go together "
		    "(a client certificate and its private key)", -1;
	return 0;
}

/* conf_parse - text to the structure a table describes */
int
conf_parse(const struct config_table *t, const char *text, size_t len,
    const char *name, void *c, char *errbuf, size_t errlen)
{
	char *copy = xstrndup(text, len), *line, *next;
	const char *err = NULL;
	int lineno = 0, rc = 0;

	if (memchr(text, 0, len) != NULL) {
		snprintf(errbuf, errlen, "%s: NUL byte in configuration", name);
		free(copy);
		return -1;
	}
	config_defaults(t, c);
	for (line = copy; line; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		if (config_line(t, c, line, &err) < 0) {
			snprintf(errbuf, errlen, "%s:%d: %s", name, lineno, err);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && t->check && t->check(c, &err) < 0) {
		snprintf(errbuf, errlen, "%s: %s", name, err);
		rc = -1;
	}
	wipe_free(copy, len + 1);	/* state_backend may hold a password */
	if (rc < 0)
		conf_free(t, c);
	return rc;
}

/* config_parse - text to configuration */
int
config_parse(const char *text, size_t len, const char *name, struct config *c,
    char *errbuf, size_t errlen)
{
	return conf_parse(&config_file, text, len, name, c, errbuf, errlen);
}

/* conf_load - read and parse a file of a table */
int
conf_load(const struct config_table *t, const char *path, void *c,
    char *errbuf, size_t errlen)
{
	char *text;
	FILE *fp;
	size_t n;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = xmalloc((1 << 20) + 1);
	n = fread(text, 1, 1 << 20, fp);
	if (ferror(fp) || !feof(fp)) {
		snprintf(errbuf, errlen, "%s: %s", path,
		    ferror(fp) ? strerror(errno) : "file larger than 1 MiB");
		fclose(fp);
		free(text);
		return -1;
	}
	fclose(fp);
	rc = conf_parse(t, text, n, path, c, errbuf, errlen);
	wipe_free(text, (1 << 20) + 1);
	return rc;
}

/* config_load - read and parse a file */
int
config_load(const char *path, struct config *c, char *errbuf, size_t errlen)
{
	return conf_load(&config_file, path, c, errbuf, errlen);
}

/* conf_free - release what a table's strings and lists hold */
void
conf_free(const struct config_table *t, void *c)
{
	char **text = config_texts(t, c);
	size_t i;
	void *slot;

	for (i = 0; i < t->nrows; i++) {
		slot = (char *)c + t->rows[i].offset;
		if (t->rows[i].type == CT_STRING || t->rows[i].type == CT_FILE)
			wipe_str(*(char **)slot);
		else if (t->rows[i].type == CT_NETLIST)
			netlist_free(slot);
		wipe_str(text[i]);	/* state_backend's holds a password */
	}
	memset(c, 0, t->size);
}

/* config_free - release what the configuration holds */
void
config_free(struct config *c)
{
	conf_free(&config_file, c);
}

/*
 * config_keep_fixed - for a reload: each key that cannot change without a
 * restart gets its running value back in "next"; their names go to
 * "changed" (space-separated, empty if none). -1 if the names did not all
 * fit; every key is kept back all the same.
 */
int
config_keep_fixed(struct config *next, const struct config *running,
    char *changed, size_t len)
{
	const char *err;
	size_t i, used = 0;
	int n, rc = 0;

	*changed = 0;
	for (i = 0; i < NELEM(config_table); i++) {
		if (!config_table[i].restart ||
		    strcmp(next->text[i], running->text[i]) == 0)
			continue;
		if (config_set(&config_file, next, &config_table[i],
		    running->text[i], &err) < 0)
			abort();	/* it was valid when it was loaded */
		n = rc < 0 ? -1 : snprintf(changed + used, len - used, "%s%s",
		    used ? " " : "", config_table[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			changed[used] = 0;	/* names that fit, whole */
			rc = -1;
		} else
			used += (size_t)n;
	}
	return rc;
}
