/*++
/* NAME
/*	cause 3
/* SUMMARY
/*	the catalogue of authentication failure causes
/* DESCRIPTION
/*	One table: each cause's stable id, the text a client may see
/*	in its 535 reply, the remedy for the admin's log and CLI, and
/*	whether the client text is "safe", i.e. says nothing about
/*	whether the account exists or the password was right, so that
/*	client_detail = safe may show it.
/*--*/
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "cause.h"
#include "sasl.h"
#include "util.h"

static const struct cause_info causes[CAUSE_COUNT] = {
	[CAUSE_NONE] = {"none", "", "", 1, CAUSE_COUNTS_NONE, "", ""},
	[CAUSE_BAD_PASSWORD] = {"bad-password",
	    "wrong password for this account",
	    "the account exists and the password is wrong: the user or a "
	    "device has an old or mistyped password; confirm, then reset it or "
	    "update the device", 0, CAUSE_COUNTS_BOTH,
	    "The password was wrong.",
	    "The password is not the right one. Type it again with care "
	    "(mind Caps Lock), or ask us to reset it. If you changed it "
	    "lately, put the new one in every mail app."},
	[CAUSE_UNKNOWN_USER] = {"unknown-user",
	    "no such account: the user name is usually the full email address",
	    "no such account: check the spelling of the user name, and whether "
	    "the client sends the full address or only the local part",
	    0, CAUSE_COUNTS_BOTH,
	    "There is no account with this user name.",
	    "The user name is not right. Use your full email address as the "
	    "user name."},
	[CAUSE_BAD_CREDENTIALS] = {"bad-credentials",
	    "wrong user name or password",
	    "wrong user name or password; configure userdb_upstream to tell an "
	    "unknown user from a wrong password", 0, CAUSE_COUNTS_BOTH,
	    "The user name or the password was wrong.",
	    "The user name or the password is not right. Use your full "
	    "email address as the user name and type the password again."},
	[CAUSE_APP_PASSWORD_REQUIRED] = {"app-password-required",
	    "this account needs an app password, not the account password",
	    "the account uses two-factor authentication: mail clients need an "
	    "app password; have the user create one and enter it in the client",
	    0, CAUSE_COUNTS_BOTH,
	    "This account needs an app password in mail apps.",
	    "Your account uses two-step sign-in, so mail apps need an app "
	    "password, not your usual password. Create an app password in "
	    "your account settings and enter it in the mail app."},
	[CAUSE_APP_PASSWORD_SPACES] = {"app-password-spaces",
	    "app password typed with spaces: enter it without the spaces",
	    "an app password was pasted as displayed, in groups with spaces: "
	    "tell the user to type it without the spaces",
	    1, CAUSE_COUNTS_BOTH,
	    "The app password was typed with its spaces.",
	    "The app password is shown in groups of four letters: type it "
	    "in the mail app as one block, without the spaces."},
	[CAUSE_STALE_PASSWORD] = {"stale-password",
	    "the password this device uses is no longer valid",
	    "the same wrong password again and again: a device still has an "
	    "old password; find the device and update it",
	    0, CAUSE_COUNTS_BOTH,
	    "A device still uses an old password.",
	    "A device or app still uses your old password. Update the "
	    "password in that mail app."},
	[CAUSE_PASSWORD_GUESSING] = {"password-guessing",
	    "too many wrong passwords",
	    "many different wrong passwords: someone is guessing; check the "
	    "addresses involved and consider blocking them",
	    0, CAUSE_COUNTS_BOTH,
	    "Someone tried many different passwords.",
	    "Someone may be trying to guess your password. If these "
	    "attempts were not you, change your password now."},
	[CAUSE_OAUTH_REQUIRED] = {"oauth-required",
	    "this account signs in with OAuth2 only; passwords are not "
	    "accepted",
	    "the account is flagged oauth-only: the client must use "
	    "OAUTHBEARER or XOAUTH2, or the flag must be removed in "
	    "accounts_map", 0, CAUSE_COUNTS_NONE,
	    "This account signs in with a browser login only, not with a "
	    "password.",
	    "Your mail app must sign in through the browser (OAuth). Remove "
	    "the account from the app and add it again, choosing the "
	    "sign-in through the browser."},
	[CAUSE_ACCOUNT_DISABLED] = {"account-disabled",
	    "this account is disabled",
	    "the account is disabled (accounts_map flag or the password "
	    "database): enable it if the user should send mail",
	    0, CAUSE_COUNTS_NONE,
	    "The account is disabled.",
	    "Your mail account is switched off. We will check whether it "
	    "should be on and call you back."},
	[CAUSE_PASSWORD_EXPIRED] = {"password-expired",
	    "the password has expired: change it, then sign in again",
	    "the password database says the password has expired: the user "
	    "must change it", 0, CAUSE_COUNTS_NONE,
	    "The password has expired.",
	    "Your password has expired. Change it, then enter the new "
	    "password in your mail apps."},
	[CAUSE_TLS_REQUIRED] = {"tls-required",
	    "TLS is required before AUTH: use STARTTLS on port 587 or TLS on "
	    "port 465",
	    "the client sent AUTH without TLS; its credentials were not "
	    "checked: set the client to STARTTLS on 587 or SSL/TLS on 465",
	    1, CAUSE_COUNTS_ADDRESS,
	    "The mail app did not use an encrypted connection.",
	    "Your mail app must use an encrypted connection. In its "
	    "outgoing server settings choose STARTTLS on port 587, or "
	    "SSL/TLS on port 465."},
	[CAUSE_MALFORMED_RESPONSE] = {"malformed-response",
	    "malformed AUTH response (invalid base64 or missing fields)",
	    "the client's SASL response could not be decoded: a broken client "
	    "or script; check how it builds AUTH PLAIN (base64 of "
	    "NUL user NUL password)", 1, CAUSE_COUNTS_ADDRESS,
	    "The mail app sent a login the server could not read.",
	    "Your mail app or script sent a broken login. Update the app, "
	    "or remove the account and add it again."},
	[CAUSE_AUTHZID_MISMATCH] = {"authzid-mismatch",
	    "the authorization identity must be empty or equal to the user "
	    "name",
	    "the client asked to act as another user (PLAIN authzid): leave "
	    "the authorization id empty in the client",
	    1, CAUSE_COUNTS_ADDRESS,
	    "The mail app asked to act as another user.",
	    "Your mail app is set to send as another user. Leave the field "
	    "for another user or authorization name empty."},
	[CAUSE_ACCOUNT_LOCKED] = {"account-locked",
	    "too many failed attempts for this account: try again later",
	    "the account is locked after repeated failures "
	    "(account_fail_limit): see who failed with authguard why, then "
	    "wait or authguard unlock", 1, CAUSE_COUNTS_NONE,
	    "The account is locked for a while after too many failed "
	    "logins.",
	    "Your account is locked for a while after too many wrong "
	    "passwords. Wait, or we can unlock it now; then make sure every "
	    "device uses the right password."},
	[CAUSE_IP_BLOCKED] = {"ip-blocked",
	    "too many failed attempts from this address: try again later",
	    "the client address is blocked after repeated failures "
	    "(ip_fail_limit): a misconfigured device or an attack from it; "
	    "authguard unlock ADDRESS lifts it", 1, CAUSE_COUNTS_NONE,
	    "The address the login came from is blocked for a while after "
	    "too many failures.",
	    "Logins from your network are blocked for a while after too "
	    "many failures. Wait, or we can lift the block; then fix the "
	    "device that keeps failing."},
	[CAUSE_AUTH_SERVICE_UNAVAILABLE] = {"auth-service-unavailable",
	    "authentication service temporarily unavailable",
	    "Dovecot's auth service is down, too slow or failing internally: "
	    "check Dovecot; clients were told to retry (454)",
	    1, CAUSE_COUNTS_NONE,
	    "The login service of the mail server did not answer.",
	    "The problem is on our side, not yours. Please try again in a "
	    "few minutes."},
	[CAUSE_NO_AUTH_NO_TLS] = {"no-auth-no-tls",
	    "authentication required: use STARTTLS, then AUTH",
	    "the client sent mail without TLS and without AUTH: set the client "
	    "to STARTTLS on 587 (or SSL/TLS on 465) with authentication on",
	    1, CAUSE_COUNTS_NONE,
	    "The mail app sent mail without logging in and without "
	    "encryption.",
	    "Your mail app must log in to send mail. In its outgoing server "
	    "settings choose STARTTLS on port 587 and turn on "
	    "authentication."},
	[CAUSE_NO_AUTH_ATTEMPTED] = {"no-auth-attempted",
	    "authentication required: enable SMTP authentication in the client",
	    "the client used TLS but never sent AUTH: turn on 'my server "
	    "requires authentication' in the client", 1, CAUSE_COUNTS_NONE,
	    "The mail app sent mail without logging in.",
	    "Your mail app must sign in to send mail. In its outgoing "
	    "(SMTP) server settings, turn on \"my outgoing server requires "
	    "authentication\", with the same user name and password as for "
	    "incoming mail."},
	[CAUSE_AUTH_FAILED_THEN_SENT] = {"auth-failed-then-sent",
	    "authentication failed earlier in this session",
	    "the client's AUTH failed and it tried to send anyway: see the "
	    "failed attempt's ref", 1, CAUSE_COUNTS_NONE,
	    "The mail app's login failed and it tried to send anyway.",
	    "Your mail app could not log in, so the mail was not sent. "
	    "Check the password in the app, then send again."},
	[CAUSE_CLEARTEXT_AUTH] = {"cleartext-auth",
	    "authentication without TLS is not allowed",
	    "the session authenticated without TLS: enforce "
	    "smtpd_tls_auth_only = yes", 1, CAUSE_COUNTS_NONE,
	    "The mail app logged in without encryption.",
	    "Your mail app sends your password unencrypted. In its outgoing "
	    "server settings choose STARTTLS on port 587 or SSL/TLS on port "
	    "465."},
};

/* cause_info - the catalogue entry */
const struct cause_info *
cause_info(enum cause c)
{
	if ((unsigned)c >= CAUSE_COUNT)
		c = CAUSE_NONE;
	return &causes[c];
}

/* cause_id - the stable id */
const char *
cause_id(enum cause c)
{
	return cause_info(c)->id;
}

/* cause_by_id - reverse lookup; CAUSE_COUNT when unknown */
enum cause
cause_by_id(const char *id)
{
	int i;

	for (i = 0; i < CAUSE_COUNT; i++)
		if (strcmp(causes[i].id, id) == 0)
			return (enum cause)i;
	return CAUSE_COUNT;
}

/* cause_client_text - the text to show, or NULL for the ref alone */
const char *
cause_client_text(enum cause c, enum client_detail detail)
{
	const struct cause_info *ci = cause_info(c);

	if (detail == DETAIL_NONE)
		return NULL;
	if (detail == DETAIL_FULL || ci->safe)
		return ci->client_text;
	return CAUSE_GENERIC_TEXT;
}

/*
 * cause_refusal_text - the text a client is given with its ref: the
 * client text, and for a lockout when to try again (wait: seconds left);
 * NULL for the ref alone. buf holds a lockout's text.
 */
const char *
cause_refusal_text(enum cause c, enum client_detail detail, uint32_t wait,
    char *buf, size_t len)
{
	const char *text = cause_client_text(c, detail);
	const char *what = c == CAUSE_ACCOUNT_LOCKED ? "this account" :
	    "this address";

	if (text == NULL || (c != CAUSE_ACCOUNT_LOCKED && c != CAUSE_IP_BLOCKED))
		return text;
	if (wait == 0)
		wait = 1;
	if (wait >= 120)
		snprintf(buf, len, "too many failed attempts for %s: try again "
		    "in %u minutes", what, (unsigned)((wait + 59) / 60));
	else
		snprintf(buf, len, "too many failed attempts for %s: try again "
		    "in %u seconds", what, (unsigned)wait);
	return buf;
}

/* cause_from_code - Dovecot's FAIL code=; CAUSE_NONE when it says nothing */
enum cause
cause_from_code(const char *code)
{
	static const struct {
		const char *code;
		enum cause cause;
	} codes[] = {
		{"temp_fail", CAUSE_AUTH_SERVICE_UNAVAILABLE},
		{"user_disabled", CAUSE_ACCOUNT_DISABLED},
		{"pass_expired", CAUSE_PASSWORD_EXPIRED},
		{"authz_fail", CAUSE_AUTHZID_MISMATCH},
		{"invalid_base64", CAUSE_MALFORMED_RESPONSE},
	};
	size_t i;

	for (i = 0; code && i < NELEM(codes); i++)
		if (strcmp(code, codes[i].code) == 0)
			return codes[i].cause;
	return CAUSE_NONE;
}

/*
 * cause_after_fail - why Dovecot said no, when it did not say.
 * pass: the password tried (NULL when the mechanism hides it); flags:
 * accounts_map flags; known: 1 the user exists, 0 it does not, -1 no
 * answer. The spaced app password comes first: it depends on the
 * password's shape alone, so showing it to the client reveals nothing
 * about the account.
 */
enum cause
cause_after_fail(const char *pass, unsigned flags, int known)
{
	if (pass && sasl_app_password_spaced(pass))
		return CAUSE_APP_PASSWORD_SPACES;
	if (known == 0)
		return CAUSE_UNKNOWN_USER;
	if (pass && (flags & ACCT_APP_PASSWORD_REQUIRED) &&
	    !sasl_app_password_shaped(pass))
		return CAUSE_APP_PASSWORD_REQUIRED;
	return known == 1 ? CAUSE_BAD_PASSWORD : CAUSE_BAD_CREDENTIALS;
}

/* cause_overlay - what the limits learned: a repeat, or guessing */
enum cause
cause_overlay(enum cause c, int stale, int guessing)
{
	int wrong_pw = c == CAUSE_BAD_PASSWORD || c == CAUSE_BAD_CREDENTIALS;

	if (stale && wrong_pw)
		return CAUSE_STALE_PASSWORD;
	if (guessing && (wrong_pw || c == CAUSE_UNKNOWN_USER))
		return CAUSE_PASSWORD_GUESSING;
	return c;
}
