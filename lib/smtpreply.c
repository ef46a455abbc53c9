/*++
/* NAME
/*	smtpreply 3
/* SUMMARY
/*	SMTP replies: reading them, and what a reply to AUTH means
/* DESCRIPTION
/*	smtp_reply_push() is a push parser: one line at a time (without
/*	CR LF), SMTP_DONE on the last line of a reply ("250 x" after
/*	"250-y" lines), SMTP_ERROR on a malformed line or a reply longer
/*	than SMTP_REPLY_LINES_MAX lines; the code, the enhanced status
/*	code of the first line and the texts are kept.
/*
/*	smtp_explain() is pure: a reply to AUTH (or to the command that
/*	stopped the way to AUTH) to what it means, where it comes from
/*	and what to do. First authguard's own replies, known by their
/*	"(ref=...)" and the cause catalogue's client texts; then the big
/*	providers' well-known replies (Gmail, Microsoft 365); then
/*	Postfix's own texts; then RFC 4954 and RFC 3463 by status code.
/*--*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpreply.h"
#include "util.h"

/* smtp_reply_init - empty */
void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
}

/* smtp_reply_reset - ready for the next reply */
void
smtp_reply_reset(struct smtp_reply *r)
{
	buf_reset(&r->text);
	r->code = r->lines = 0;
	r->enhanced[0] = 0;
	r->error = NULL;
}

/* smtp_reply_free - release */
void
smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
}

/* enhanced_len - length of "d.ddd.ddd" at p, 0 when there is none */
static size_t
enhanced_len(const char *p, size_t n)
{
	size_t i = 0, part, parts = 0;

	if (n == 0 || (p[0] != '2' && p[0] != '4' && p[0] != '5'))
		return 0;
	while (parts < 3) {
		for (part = 0; i < n && isdigit((unsigned char)p[i]); i++)
			part++;
		if (part == 0 || part > 3)
			return 0;
		if (++parts < 3) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
	}
	return i < n && p[i] != ' ' ? 0 : i;
}

/* smtp_reply_push - one line; SMTP_DONE at the reply's last line */
enum smtp_push
smtp_reply_push(struct smtp_reply *r, const char *line, size_t n)
{
	int code;
	size_t e;
	char sep;

	if (n < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || (n > 3 && line[3] != ' ' &&
	    line[3] != '-'))
		return r->error = "not an SMTP reply line", SMTP_ERROR;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	if (r->lines && code != r->code)
		return r->error = "reply code changed between lines", SMTP_ERROR;
	if (++r->lines > SMTP_REPLY_LINES_MAX)
		return r->error = "reply too long", SMTP_ERROR;
	r->code = code;
	sep = n > 3 ? line[3] : ' ';
	line += n > 3 ? 4 : 3;
	n -= n > 3 ? 4 : 3;
	if ((e = enhanced_len(line, n)) > 0) {
		if (r->lines == 1 && e < sizeof(r->enhanced)) {
			memcpy(r->enhanced, line, e);
			r->enhanced[e] = 0;
		}
		line += e;
		n -= e;
		while (n && *line == ' ')
			line++, n--;
	}
	if (r->text.len)
		buf_putc(&r->text, '\n');
	buf_append(&r->text, line, n);
	return sep == '-' ? SMTP_MORE : SMTP_DONE;
}

/* smtp_reply_has - case-insensitive substring of the text */
int
smtp_reply_has(const struct smtp_reply *r, const char *s)
{
	return r->text.data && strcasestr(r->text.data, s) != NULL;
}

struct known {
	int		 code;		/* 0: any */
	const char	*enhanced;	/* NULL: any */
	const char	*text;		/* NULL: any; else a substring */
	const char	*source;
	const char	*meaning;
	const char	*remedy;
};

/* Providers and Postfix, most specific first. */
static const struct known known[] = {
	{534, "5.7.9", "Application-specific password required", "Gmail",
	    "the Google account has 2-Step Verification: the account password "
	    "is not accepted for SMTP",
	    "create an app password in the Google account and use it instead"},
	{535, "5.7.8", "Username and Password not accepted", "Gmail",
	    "wrong user name or password",
	    "use the full address as user name; check the password or the "
	    "app password"},
	{534, "5.7.14", NULL, "Gmail",
	    "Google wants a sign-in through a web browser first (a new device "
	    "or a suspicious sign-in)",
	    "sign in at accounts.google.com from this device, then retry; or "
	    "use an app password"},
	{535, "5.7.139", "SmtpClientAuthentication is disabled", "Microsoft 365",
	    "SMTP AUTH is turned off for the tenant or the mailbox",
	    "the Microsoft 365 admin enables Authenticated SMTP for the "
	    "mailbox (or the tenant)"},
	{535, "5.7.139", "security defaults", "Microsoft 365",
	    "security defaults block basic authentication (SMTP AUTH with a "
	    "password)",
	    "use OAuth2 in the client, or the admin changes the policy"},
	{535, "5.7.139", "did not meet the criteria", "Microsoft 365",
	    "conditional access or MFA refused the sign-in",
	    "use OAuth2, or the admin reviews the conditional access policy"},
	{535, "5.7.139", NULL, "Microsoft 365",
	    "authentication unsuccessful: the credentials were wrong, or "
	    "basic authentication is disabled",
	    "check the password; the admin checks that Authenticated SMTP is "
	    "enabled for the mailbox"},
	{535, "5.7.3", NULL, "Microsoft 365",
	    "authentication unsuccessful (wrong credentials, or SMTP AUTH not "
	    "allowed for the account)",
	    "check the user name (full address) and the password"},
	{530, "5.7.57", NULL, "Microsoft 365",
	    "the client sent mail without authenticating",
	    "turn on 'my outgoing server requires authentication'"},
	{503, "5.5.1", "authentication not enabled", "Postfix",
	    "this listener does not offer AUTH on this connection: usually "
	    "AUTH before STARTTLS where smtpd_tls_auth_only = yes",
	    "set the client to STARTTLS (587) or SSL/TLS (465)"},
	{503, "5.5.1", "already authenticated", "Postfix",
	    "AUTH was sent twice in one session", "a client bug: send AUTH once"},
	{530, "5.7.0", "Must issue a STARTTLS command first", "Postfix",
	    "this listener requires TLS before anything else",
	    "set the client to STARTTLS on 587, or SSL/TLS on 465"},
	{535, "5.7.8", "(reason unavailable)", "Postfix",
	    "the password check failed and Postfix does not know why",
	    "authguard on this server would say why; check user name and "
	    "password"},
	{454, "4.7.0", "Connection lost to authentication server", "Postfix",
	    "smtpd lost its SASL connection: the SASL service is down or too "
	    "slow (with authguard: Dovecot is, and authguard logged "
	    "auth-service-unavailable)",
	    "retry later; the admin checks Dovecot (authguard why ADDRESS "
	    "shows the attempt)"},
	{454, "4.7.0", "Temporary authentication failure", "Postfix",
	    "the authentication service (Dovecot, Cyrus) is unreachable or "
	    "failing", "retry later; the admin checks the SASL service"},
};

/* Status codes alone (RFC 4954, RFC 3463). */
static const struct known by_code[] = {
	{235, NULL, NULL, "RFC 4954", "authentication succeeded", ""},
	{432, "4.7.12", NULL, "RFC 4954",
	    "a password transition is needed", "change the password, then retry"},
	{454, NULL, NULL, "RFC 4954",
	    "temporary authentication failure", "retry later"},
	{500, "5.5.6", NULL, "RFC 4954",
	    "the authentication exchange line was too long", "a client bug"},
	{504, NULL, NULL, "RFC 4954",
	    "the server does not support this mechanism",
	    "choose a mechanism the server lists in EHLO"},
	{530, NULL, NULL, "RFC 4954",
	    "authentication is required before this command",
	    "turn on authentication in the client"},
	{534, NULL, NULL, "RFC 4954",
	    "the mechanism is too weak for this account or server policy",
	    "use TLS, or a stronger mechanism"},
	{535, NULL, NULL, "RFC 4954",
	    "the credentials are invalid", "check user name and password"},
	{538, NULL, NULL, "RFC 4954",
	    "encryption is required for this mechanism", "use TLS first"},
	{0, NULL, NULL, "RFC 5321", "a reply this tool does not know", ""},
};

/* ref_in - authguard's "(ref=XXXXXXXXXX)" in the text */
static int
ref_in(const struct smtp_reply *r, char *ref)
{
	const char *p = r->text.data;

	while (p && (p = strstr(p, "(ref=")) != NULL) {
		p += 5;
		if (strlen(p) > REF_LEN && p[REF_LEN] == ')') {
			memcpy(ref, p, REF_LEN);
			ref[REF_LEN] = 0;
			if (ref_valid(ref))
				return 1;
		}
	}
	ref[0] = 0;
	return 0;
}

/* authguard_cause - the catalogue entry whose client text is in the reply */
static enum cause
authguard_cause(const struct smtp_reply *r)
{
	size_t best = 0;
	int i, found = CAUSE_NONE;
	const char *t;

	for (i = 1; i < CAUSE_COUNT; i++) {
		t = cause_info((enum cause)i)->client_text;
		if (*t && strlen(t) > best && smtp_reply_has(r, t)) {
			best = strlen(t);
			found = i;
		}
	}
	return (enum cause)found;
}

/* matches - does a table row fit the reply? */
static int
matches(const struct known *k, const struct smtp_reply *r)
{
	if (k->code && k->code != r->code)
		return 0;
	if (k->enhanced && strcmp(k->enhanced, r->enhanced) != 0)
		return 0;
	return k->text == NULL || smtp_reply_has(r, k->text);
}

/* smtp_explain - what the reply means, and what to do */
void
smtp_explain(const struct smtp_reply *r, struct smtp_meaning *m)
{
	const struct known *k;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (ref_in(r, m->ref)) {
		m->source = "authguard";
		m->cause = authguard_cause(r);
		if (m->cause != CAUSE_NONE) {
			m->meaning = cause_info(m->cause)->client_text;
			m->remedy = cause_info(m->cause)->hint;
		} else {
			m->meaning = "authguard refused without details for the "
			    "client (client_detail = safe or none)";
			m->remedy = "give the ref to the admin: authguard why REF "
			    "says the cause";
		}
		return;
	}
	for (i = 0; i < NELEM(known); i++)
		if (matches(&known[i], r))
			break;
	if (i < NELEM(known))
		k = &known[i];
	else {
		for (i = 0; i < NELEM(by_code) - 1; i++)
			if (matches(&by_code[i], r))
				break;
		k = &by_code[i];
	}
	m->source = k->source;
	m->meaning = k->meaning;
	m->remedy = k->remedy;
}
