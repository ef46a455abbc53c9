/*++
/* NAME
/*	doctor 3
/* SUMMARY
/*	checks of Postfix and Dovecot settings against authguard's
/* DESCRIPTION
/*	Pure: the texts printed by postconf (every effective main.cf
/*	value), postconf -P (per-service overrides), postconf -M (the
/*	services) and doveconf -n, and authguard's own settings, in;
/*	findings out, each with the line to change.
/*
/*	kvlist_parse() reads "name = value" lines (top level only when
/*	asked: doveconf prints nested blocks). doctor_parse_master()
/*	reads the first fields of each postconf -M line. doctor_check()
/*	looks at every smtpd listening on the network (type inet):
/*
/*	tls-not-enforced: a submission port (587, submission, or one of
/*		submission_ports other than 465) without
/*		smtpd_tls_security_level = encrypt.
/*	auth-before-tls: AUTH enabled where TLS is optional and
/*		smtpd_tls_auth_only is off.
/*	wrapper-mode-off: port 465 (submissions, smtps) without
/*		smtpd_tls_wrappermode = yes.
/*	sasl-not-through-gate: AUTH enabled with smtpd_sasl_type other
/*		than dovecot, or smtpd_sasl_path elsewhere than sasl_listen.
/*	no-policy-service: a submission listener with AUTH whose
/*		restrictions lack check_policy_service for policy_listen, or
/*		without policy_context=submission on a port authguard does not
/*		count as submission.
/*	policy-default-rejects, milter-default-rejects: the action taken
/*		when authguard is down would refuse mail.
/*	milter-macros: a macro authguard-milter reads is not sent.
/*	dovecot-no-plain: auth_mechanisms lacks plain.
/*	dovecot-plaintext-mismatch: Dovecot's disable_plaintext_auth
/*		(2.4: auth_allow_cleartext = no) says no passwords in clear,
/*		but it does not govern Postfix's AUTH (Dovecot's auth server
/*		takes what smtpd sends): where smtpd offers AUTH before TLS
/*		and require_tls_for_auth = no, clear passwords are checked
/*		anyway.
/*	dovecot-userdb-restricted: the listener userdb_upstream names (or,
/*		when none matches, auth-userdb with Dovecot's defaults) has
/*		mode 0666 and authguard runs as neither its user nor its group
/*		nor root: Dovecot then answers only lookups of users whose uid
/*		is authguard's, and every wrong password is bad-credentials.
/*
/*	doctor_parse_dovecot() reads doveconf -n of Dovecot 2.3 or 2.4
/*	(2.4: dovecot_config_version first, named passdb/userdb blocks,
/*	renamed settings): the top-level settings, the version, and the
/*	unix listeners of service auth.
/*--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "submission.h"
#include "util.h"

/* kvlist_add - append a copy */
static void
kvlist_add(struct kvlist *l, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].name = xstrndup(name, nlen);
	l->v[l->n].value = xstrndup(value, vlen);
	l->n++;
}

/* trim - the span without surrounding blanks */
static void
trim(const char **p, const char **end)
{
	while (*p < *end && strchr(" \t\r", **p))
		(*p)++;
	while (*end > *p && strchr(" \t\r", (*end)[-1]))
		(*end)--;
}

/* kvlist_line - one line; depth counts doveconf's nested blocks */
static void
kvlist_line(struct kvlist *l, const char *p, const char *end, int *depth,
    int toplevel)
{
	const char *eq, *ne;

	trim(&p, &end);
	if (p == end || *p == '#')
		return;
	if (end[-1] == '{') {
		(*depth)++;
		return;
	}
	if (*p == '}') {
		*depth -= *depth > 0;
		return;
	}
	if ((toplevel && *depth > 0) ||
	    (eq = memchr(p, '=', (size_t)(end - p))) == NULL)
		return;
	ne = eq;
	trim(&p, &ne);
	eq++;
	trim(&eq, &end);
	if (ne > p)
		kvlist_add(l, p, (size_t)(ne - p), eq, (size_t)(end - eq));
}

/* kvlist_parse - "name = value" lines into l */
void
kvlist_parse(struct kvlist *l, const char *text, int toplevel)
{
	const char *p = text, *nl;
	int depth = 0;

	for (; *p; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		kvlist_line(l, p, nl, &depth, toplevel);
	}
}

/* kvlist_get - the last value of a name, NULL when absent */
const char *
kvlist_get(const struct kvlist *l, const char *name)
{
	size_t i;

	for (i = l->n; i > 0; i--)
		if (strcmp(l->v[i - 1].name, name) == 0)
			return l->v[i - 1].value;
	return NULL;
}

/* kvlist_free - release */
void
kvlist_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* doctor_parse_master - postconf -M: name type ... command per line */
void
doctor_parse_master(struct doctor_input *in, const char *text)
{
	char *copy = xstrdup(text), *line, *save = NULL, *f[8], *s2;
	int n;

	for (line = strtok_r(copy, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || *line == ' ' || *line == '\t')
			continue;
		for (n = 0, s2 = NULL; n < 8 &&
		    (f[n] = strtok_r(n ? NULL : line, " \t", &s2)) != NULL; n++)
			;
		if (n < 8)
			continue;
		in->svc = xrealloc(in->svc, (in->nsvc + 1) * sizeof(*in->svc));
		in->svc[in->nsvc].name = xstrdup(f[0]);
		in->svc[in->nsvc].type = xstrdup(f[1]);
		in->svc[in->nsvc].command = xstrdup(f[7]);
		in->nsvc++;
	}
	free(copy);
}

/* header - "name args {" without the brace; 0 when not a block */
static int
header(const char *p, const char *end, char *out, size_t len)
{
	trim(&p, &end);
	if (p == end || end[-1] != '{')
		return 0;
	end--;
	trim(&p, &end);
	snprintf(out, len, "%.*s", (int)(end - p), p);
	return 1;
}

/* unquote - a name doveconf may print in double quotes */
static char *
unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return xstrndup(v + 1, n - 2);
	return xstrdup(v);
}

/* listener_set - mode, user or group of the listener being read */
static void
listener_set(struct dv_listener *l, const char *p, const char *end)
{
	const char *eq = memchr(p, '=', (size_t)(end - p)), *ne, *v;
	char *val;

	if (eq == NULL)
		return;
	ne = eq;
	trim(&p, &ne);
	v = eq + 1;
	trim(&v, &end);
	val = xstrndup(v, (size_t)(end - v));
	if ((size_t)(ne - p) == 4 && strncmp(p, "mode", 4) == 0)
		l->mode = *val ? (int)strtol(val, NULL, 8) : -1;
	else if ((size_t)(ne - p) == 4 && strncmp(p, "user", 4) == 0) {
		free(l->user);
		l->user = unquote(val);
	} else if ((size_t)(ne - p) == 5 && strncmp(p, "group", 5) == 0) {
		free(l->group);
		l->group = unquote(val);
	} else if ((size_t)(ne - p) == 4 && strncmp(p, "type", 4) == 0) {
		free(l->type);
		l->type = unquote(val);
	}
	free(val);
}

/* listener_new - service auth gets one more unix listener */
static struct dv_listener *
listener_new(struct doctor_input *in, const char *name)
{
	struct dv_listener *l;

	in->lst = xrealloc(in->lst, (in->nlst + 1) * sizeof(*in->lst));
	l = &in->lst[in->nlst++];
	l->name = unquote(name);
	l->mode = -1;
	l->user = l->group = l->type = NULL;
	return l;
}

/* dovecot_version - 2.4 or later: dovecot_config_version, or the header */
static int
dovecot_version(const struct doctor_input *in, const char *text)
{
	if (kvlist_get(&in->dovecot, "dovecot_config_version") != NULL)
		return 1;
	return strncmp(text, "# 2.", 4) == 0 && text[4] >= '4' &&
	    text[4] <= '9' && (text[5] == '.' || text[5] == ' ');
}

/* doctor_parse_dovecot - doveconf -n: settings, version, auth listeners */
void
doctor_parse_dovecot(struct doctor_input *in, const char *text)
{
	const char *p = text, *nl, *b, *e;
	struct dv_listener *cur = NULL;
	char hd[512];
	int depth = 0, auth = 0;
	size_t i;

	kvlist_parse(&in->dovecot, text, 1);
	in->dovecot24 = dovecot_version(in, text);
	for (; *p; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		b = p;
		e = nl;
		trim(&b, &e);
		if (b == e || *b == '#')
			continue;
		if (header(b, e, hd, sizeof(hd))) {
			depth++;
			if (depth == 1)
				auth = strcmp(hd, "service auth") == 0;
			else if (depth == 2 && auth &&
			    strncmp(hd, "unix_listener ", 14) == 0) {
				for (i = 14; hd[i] == ' '; i++)
					;
				cur = listener_new(in, hd + i);
			}
		} else if (*b == '}') {
			if (depth == 2)
				cur = NULL;
			depth -= depth > 0;
		} else if (cur && depth == 2)
			listener_set(cur, b, e);
	}
}

/* add - one finding */
static void
add(struct doctor_report *r, const char *id, const char *where,
    const char *fix, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->f = xrealloc(r->f, r->cap * sizeof(*r->f));
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->f[r->n].id = id;
	r->f[r->n].where = xstrdup(where);
	r->f[r->n].problem = xstrdup(text);
	r->f[r->n].fix = xstrdup(fix);
	r->n++;
}

/* eff - a parameter's value for a service: override, else main.cf */
static const char *
eff(const struct doctor_input *in, const struct pf_service *s,
    const char *param)
{
	char key[512];
	const char *v;

	snprintf(key, sizeof(key), "%s/%s/%s", s->name, s->type, param);
	if ((v = kvlist_get(&in->overrides, key)) != NULL)
		return v;
	v = kvlist_get(&in->main, param);
	return v ? v : "";
}

/* yes - a Postfix or Dovecot boolean */
static int
yes(const char *v)
{
	return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0;
}

/* port_of - the port a service name stands for */
static const char *
port_of(const struct pf_service *s)
{
	const char *p = strrchr(s->name, ':');

	p = p ? p + 1 : s->name;
	if (strcmp(p, "submission") == 0)
		return "587";
	if (strcmp(p, "submissions") == 0 || strcmp(p, "smtps") == 0)
		return "465";
	if (strcmp(p, "smtp") == 0)
		return "25";
	return p;
}

/* resolve - a Postfix socket path, relative ones under queue_directory */
static void
resolve(const struct doctor_input *in, const char *path, char *out,
    size_t len)
{
	const char *q = kvlist_get(&in->main, "queue_directory");

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	if (*path == '/' || q == NULL)
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "%s/%s", q, path);
}

/* has_policy - do the restrictions ask our policy service? */
static int
has_policy(const struct doctor_input *in, const struct pf_service *s)
{
	static const char *const lists[] = {"smtpd_client_restrictions",
	    "smtpd_helo_restrictions", "smtpd_sender_restrictions",
	    "smtpd_relay_restrictions", "smtpd_recipient_restrictions"};
	char *copy, *w, *save, path[1024];
	size_t i;
	int found = 0, next = 0;

	for (i = 0; i < NELEM(lists) && !found; i++) {
		copy = xstrdup(eff(in, s, lists[i]));
		for (w = strtok_r(copy, " ,\t", &save); w && !found;
		    w = strtok_r(NULL, " ,\t", &save)) {
			if (next) {
				resolve(in, w, path, sizeof(path));
				found = !*in->policy_path ||
				    strcmp(path, in->policy_path) == 0;
			}
			next = strcmp(w, "check_policy_service") == 0;
		}
		free(copy);
	}
	return found;
}

/* check_tls - TLS on submission, 465 wrapper mode, AUTH before TLS */
static int
check_tls(const struct doctor_input *in, const struct pf_service *s,
    const char *where, struct doctor_report *r)
{
	const char *port = port_of(s);
	int wrapper = yes(eff(in, s, "smtpd_tls_wrappermode"));
	int encrypt = strcmp(eff(in, s, "smtpd_tls_security_level"),
	    "encrypt") == 0 || yes(eff(in, s, "smtpd_enforce_tls"));
	int submission = strcmp(port, "587") == 0 || (strcmp(port, "465") &&
	    word_in(port, in->submission_ports));

	if (strcmp(port, "465") == 0 && !wrapper)
		add(r, "wrapper-mode-off", where,
		    "-o smtpd_tls_wrappermode=yes", "port 465 speaks TLS from "
		    "the first byte (implicit TLS), but smtpd waits for "
		    "plaintext: clients set to SSL/TLS time out");
	if (submission && !wrapper && !encrypt)
		add(r, "tls-not-enforced", where,
		    "-o smtpd_tls_security_level=encrypt",
		    "submission listener where TLS is optional: mail and "
		    "passwords may travel in clear");
	if (yes(eff(in, s, "smtpd_sasl_auth_enable")) && !wrapper && !encrypt &&
	    !yes(eff(in, s, "smtpd_tls_auth_only"))) {
		add(r, "auth-before-tls", where, "smtpd_tls_auth_only = yes",
		    "AUTH is offered before STARTTLS: clients may send "
		    "passwords in clear (%s)", in->require_tls_for_auth ?
		    "authguard refuses them as tls-required, but they were on "
		    "the wire" : "and require_tls_for_auth = no lets them be "
		    "checked");
		return 1;
	}
	return 0;
}

/* check_sasl - AUTH goes through the gate, and the policy service is asked */
static void
check_sasl(const struct doctor_input *in, const struct pf_service *s,
    const char *where, struct doctor_report *r)
{
	const char *port = port_of(s), *ctx;
	char path[1024], fix[1200];

	if (!yes(eff(in, s, "smtpd_sasl_auth_enable")))
		return;
	resolve(in, eff(in, s, "smtpd_sasl_path"), path, sizeof(path));
	if (strcmp(eff(in, s, "smtpd_sasl_type"), "dovecot") != 0)
		add(r, "sasl-not-through-gate", where,
		    "smtpd_sasl_type = dovecot", "smtpd_sasl_type is %s: AUTH "
		    "does not reach authguard", eff(in, s, "smtpd_sasl_type"));
	else if (*in->sasl_path && strcmp(path, in->sasl_path) != 0) {
		snprintf(fix, sizeof(fix), "smtpd_sasl_path = %s",
		    in->sasl_path);
		add(r, "sasl-not-through-gate", where, fix, "smtpd_sasl_path "
		    "is %s, authguard listens on %s: AUTH bypasses it", path,
		    in->sasl_path);
	}
	if (strcmp(port, "587") && strcmp(port, "465") &&
	    !word_in(port, in->submission_ports))
		return;
	ctx = eff(in, s, "smtpd_policy_service_policy_context");
	if (!has_policy(in, s)) {
		snprintf(fix, sizeof(fix), "-o smtpd_relay_restrictions="
		    "check_policy_service,unix:%s,permit_sasl_authenticated,"
		    "reject", *in->policy_path ? in->policy_path :
		    "private/authguard-policy");
		add(r, "no-policy-service", where, fix, "no "
		    "check_policy_service for authguard here: mail without "
		    "AUTH is refused without its reason");
	} else if (strcmp(ctx, "submission") != 0 && !word_in(port,
	    in->submission_ports))
		add(r, "no-policy-service", where,
		    "-o smtpd_policy_service_policy_context=submission",
		    "the policy service cannot tell this is a submission "
		    "listener");
}

/* rejects_when_down - a default action that refuses mail */
static int
rejects_when_down(const char *v)
{
	return *v == '4' || *v == '5' || strncmp(v, "defer", 5) == 0 ||
	    strncmp(v, "reject", 6) == 0 || strcmp(v, "tempfail") == 0;
}

/* has_macro - is a macro in a list? */
static int
has_macro(const struct doctor_input *in, const char *list, const char *m)
{
	const char *v = kvlist_get(&in->main, list);

	return v && word_in(m, v);
}

/* check_milter - default action and macros, when a milter is configured */
static void
check_milter(const struct doctor_input *in, struct doctor_report *r)
{
	const char *milters = kvlist_get(&in->main, "smtpd_milters");
	const char *def = kvlist_get(&in->main, "milter_default_action");
	static const char *const mail[] = {"{auth_type}", "{auth_authen}"};
	size_t i;
	char fix[256];

	if (milters == NULL || *milters == 0)
		return;
	if (def && rejects_when_down(def))
		add(r, "milter-default-rejects", "main.cf",
		    "milter_default_action = accept", "milter_default_action = "
		    "%s: when a milter is down, mail is refused", def);
	for (i = 0; i < NELEM(mail); i++)
		if (!has_macro(in, "milter_mail_macros", mail[i])) {
			snprintf(fix, sizeof(fix), "milter_mail_macros = i "
			    "{auth_type} {auth_authen} {auth_author} "
			    "{mail_addr} {tls_version} {cipher}");
			add(r, "milter-macros", "main.cf", fix, "%s is not in "
			    "milter_mail_macros: authguard-milter cannot see "
			    "the authentication", mail[i]);
		}
	if (!(has_macro(in, "milter_helo_macros", "{tls_version}") ||
	    has_macro(in, "milter_mail_macros", "{tls_version}")) &&
	    !(has_macro(in, "milter_helo_macros", "{cipher}") ||
	    has_macro(in, "milter_mail_macros", "{cipher}")))
		add(r, "milter-macros", "main.cf", "milter_helo_macros = "
		    "{tls_version} {cipher} {cipher_bits} {cert_subject} "
		    "{cert_issuer}", "neither {tls_version} nor {cipher} is "
		    "sent: authguard-milter takes every session for cleartext");
	if (*in->submission_daemons && !has_macro(in, "milter_connect_macros",
	    "{daemon_name}"))
		add(r, "milter-macros", "main.cf", "milter_connect_macros = j "
		    "{daemon_name} {daemon_addr} v _ {client_addr} "
		    "{client_port}", "{daemon_name} is not sent: "
		    "milter_submission_daemons cannot apply");
}

/* cleartext_off - Dovecot refuses passwords in clear on its own logins */
static int
cleartext_off(const struct doctor_input *in, const char **setting)
{
	const char *v;

	if (in->dovecot24) {
		v = kvlist_get(&in->dovecot, "auth_allow_cleartext");
		*setting = "auth_allow_cleartext = no";
		return v == NULL || !yes(v);
	}
	v = kvlist_get(&in->dovecot, "disable_plaintext_auth");
	*setting = "disable_plaintext_auth = yes";
	return v == NULL || yes(v);
}

/* internal_user - a listener's user or group, $default_internal_* resolved */
static const char *
internal_user(const struct doctor_input *in, const char *v, int group)
{
	const char *d;

	if (v == NULL || *v == 0)
		return "";
	if (strcmp(v, group ? "$default_internal_group" :
	    "$default_internal_user") == 0 || strcmp(v, group ?
	    "$SET:default_internal_group" :
	    "$SET:default_internal_user") == 0) {
		d = kvlist_get(&in->dovecot, group ? "default_internal_group" :
		    "default_internal_user");
		return d && *d ? d : "dovecot";
	}
	return v;
}

/* basename_of - the last path component */
static const char *
basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ends_with - does s end with tail? */
static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* lookup_listener - one Dovecot restricts: its userdb and master types */
static int
lookup_listener(const struct dv_listener *l)
{
	const char *n = basename_of(l->name);

	if (l->type && *l->type)
		return strcmp(l->type, "userdb") == 0 ||
		    strcmp(l->type, "master") == 0;
	return ends_with(n, "-userdb") || ends_with(n, "-master");
}

/* has_listener - is a listener of this name configured? */
static int
has_listener(const struct doctor_input *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nlst; i++)
		if (strcmp(basename_of(in->lst[i].name), name) == 0)
			return 1;
	return 0;
}

/* userdb_listener - the listener userdb_upstream connects to, NULL if none */
static const struct dv_listener *
userdb_listener(const struct doctor_input *in)
{
	const char *base = kvlist_get(&in->dovecot, "base_dir");
	char path[1024];
	size_t i;

	if (base == NULL || *base == 0)
		base = "/run/dovecot";
	for (i = 0; i < in->nlst; i++) {
		const char *n = in->lst[i].name;

		if (*n == '/')
			snprintf(path, sizeof(path), "%s", n);
		else
			snprintf(path, sizeof(path), "%s/%s", base, n);
		if (strcmp(path, in->userdb_path) == 0)
			return lookup_listener(&in->lst[i]) ? &in->lst[i] :
			    NULL;
	}
	for (i = 0; i < in->nlst; i++)	/* another base_dir spelling */
		if (*in->lst[i].name != '/' && strcmp(in->lst[i].name,
		    basename_of(in->userdb_path)) == 0)
			return lookup_listener(&in->lst[i]) ? &in->lst[i] :
			    NULL;
	return NULL;
}

/* check_userdb - a 0666 auth-userdb listener restricts authguard's lookups */
static void
check_userdb(const struct doctor_input *in, struct doctor_report *r)
{
	static const struct dv_listener dflt = {"auth-userdb", -1,
	    "$default_internal_user", NULL, NULL};
	const struct dv_listener *l;
	const char *user, *group, *name;
	char fix[600];
	int mode;

	if (!*in->userdb_path || !*in->run_user ||
	    strcmp(in->run_user, "root") == 0)
		return;
	if ((l = userdb_listener(in)) == NULL) {
		if (strcmp(basename_of(in->userdb_path), "auth-userdb") != 0 ||
		    has_listener(in, "auth-userdb"))
			return;
		l = &dflt;		/* not in doveconf -n: the default */
	}
	name = basename_of(l->name);
	mode = l->mode >= 0 ? l->mode : strcmp(name, "auth-userdb") == 0 ?
	    0666 : 0600;
	user = internal_user(in, l->user ? l->user : strcmp(name,
	    "auth-userdb") == 0 ? dflt.user : NULL, 0);
	group = internal_user(in, l->group ? l->group : in->dovecot24 &&
	    strcmp(name, "auth-userdb") == 0 ? "$default_internal_group" :
	    NULL, 1);
	if (mode != 0666 || strcmp(user, in->run_user) == 0 ||
	    (*group && strcmp(group, in->run_group) == 0))
		return;
	snprintf(fix, sizeof(fix), "service auth { unix_listener %s { mode = "
	    "0660  user = %s } }", l->name, in->run_user);
	add(r, "dovecot-userdb-restricted", "dovecot.conf service auth", fix,
	    "unix_listener %s has mode 0666%s and authguard runs as %s, "
	    "neither its user (%s) nor its group: Dovecot answers authguard's "
	    "lookups only for users whose uid is authguard's, so every wrong "
	    "password is reported as bad-credentials", l->name, l->mode < 0 ?
	    " (Dovecot's default)" : "", in->run_user, *user ? user : "root");
}

/* check_dovecot - mechanisms, plaintext policy, the userdb listener */
static void
check_dovecot(const struct doctor_input *in, int auth_in_clear,
    struct doctor_report *r)
{
	const char *mech = kvlist_get(&in->dovecot, "auth_mechanisms");
	const char *setting;

	if (!in->have_dovecot)
		return;
	if (mech && !word_in("plain", mech) && !word_in("PLAIN", mech))
		add(r, "dovecot-no-plain", "dovecot.conf",
		    "auth_mechanisms = plain login", "auth_mechanisms = %s: "
		    "authguard forwards PLAIN and LOGIN as PLAIN", mech);
	if (auth_in_clear && !in->require_tls_for_auth &&
	    cleartext_off(in, &setting))
		add(r, "dovecot-plaintext-mismatch", "authguard.conf",
		    "require_tls_for_auth = yes", "Dovecot's %s does not apply "
		    "to Postfix's AUTH: with AUTH before TLS and "
		    "require_tls_for_auth = no, passwords sent in clear are "
		    "checked", setting);
	check_userdb(in, r);
}

/* doctor_check - every finding */
void
doctor_check(const struct doctor_input *in, struct doctor_report *r)
{
	const char *pdef = kvlist_get(&in->main,
	    "smtpd_policy_service_default_action");
	size_t i;
	int policy = 0, clear = 0;

	for (i = 0; i < in->nsvc; i++) {
		const struct pf_service *s = &in->svc[i];
		char where[300];

		if (strcmp(s->type, "inet") || strcmp(s->command, "smtpd"))
			continue;
		snprintf(where, sizeof(where), "master.cf %s/%s", s->name,
		    s->type);
		clear |= check_tls(in, s, where, r);
		check_sasl(in, s, where, r);
		policy |= has_policy(in, s);
	}
	if (policy && pdef && rejects_when_down(pdef))
		add(r, "policy-default-rejects", "main.cf",
		    "smtpd_policy_service_default_action = DUNNO",
		    "smtpd_policy_service_default_action = %s: when "
		    "authguard-policyd is down, mail is refused", pdef);
	check_milter(in, r);
	check_dovecot(in, clear, r);
}

/* doctor_input_free - release */
void
doctor_input_free(struct doctor_input *in)
{
	size_t i;

	kvlist_free(&in->main);
	kvlist_free(&in->overrides);
	kvlist_free(&in->dovecot);
	for (i = 0; i < in->nlst; i++) {
		free(in->lst[i].name);
		free(in->lst[i].user);
		free(in->lst[i].group);
		free(in->lst[i].type);
	}
	free(in->lst);
	in->lst = NULL;
	in->nlst = 0;
	for (i = 0; i < in->nsvc; i++) {
		free(in->svc[i].name);
		free(in->svc[i].type);
		free(in->svc[i].command);
	}
	free(in->svc);
	in->svc = NULL;
	in->nsvc = 0;
}

/* doctor_report_free - release */
void
doctor_report_free(struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->f[i].where);
		free(r->f[i].problem);
		free(r->f[i].fix);
	}
	free(r->f);
	memset(r, 0, sizeof(*r));
}
