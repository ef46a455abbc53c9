/*++
/* NAME
/*	milter 3
/* SUMMARY
/*	authguard-milter's callbacks: headers at end of message, checks at MAIL
/* DESCRIPTION
/*	libmilter calls these from one thread per SMTP connection. The
/*	connection context (what the MTA agreed to in negotiate, client
/*	address and port, when it began) is made in negotiate or connect;
/*	the message context in envfrom; eom and abort share one cleanup;
/*	close frees the rest and clears the private pointer.
/*
/*	At MAIL, from the macros alone: an authenticated session
/*	({auth_type}) without TLS ({tls_version} and {cipher} absent) is
/*	refused as cleartext-auth, and on listeners named in
/*	milter_submission_daemons ({daemon_name}) mail without AUTH is
/*	refused as the policy service would (auth-failed-then-sent when
/*	authguard-policyd knows of a failed AUTH in the session,
/*	no-auth-no-tls, no-auth-attempted).
/*
/*	Headers: every Authentication-Results naming our authserv-id and
/*	every X-Authguard header is counted as it arrives and deleted at
/*	end of message; then, when the session authenticated, ours are
/*	inserted at the top. The session's AUTH story comes from
/*	authguard-policyd's control socket, bounded by
/*	milter_control_timeout: without an answer the header says
/*	details=unavailable and the mail goes on.
/*
/*	One form for what the macros say, whoever wrote it: the client
/*	address is canonical (netaddr_canon: ::ffff:192.0.2.7 is
/*	192.0.2.7; Sendmail's "IPv6:" prefix dropped), as the daemon
/*	logs and counts it, and the mechanism ({auth_type}) is upper
/*	case, as mechanism names are case-blind (RFC 4954) and an MTA
/*	passes on what the client typed: "AUTH plain" shows as PLAIN in
/*	the headers and the log.
/*--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "authres.h"
#include "buf.h"
#include "cause.h"
#include "ctlclient.h"
#include "logline.h"
#include "milter.h"
#include "msg.h"
#include "netaddr.h"
#include "ref.h"
#include "submission.h"
#include "util.h"

struct mlfi_msg {
	char	 ref[REF_LEN + 1];
	char	*mech;			/* {auth_type}, NULL: no AUTH */
	char	*user;			/* {auth_authen} */
	char	*tls_version;
	char	*cipher;
	unsigned ar_seen;		/* Authentication-Results so far */
	unsigned *ar_forged;		/* indexes of ours, ascending */
	size_t	 nar_forged, car_forged;
	unsigned diag_seen;		/* X-Authguard so far */
};

struct mlfi_conn {
	unsigned long pflags;		/* SMFIP_ flags the MTA agreed to */
	char	 addr[NETADDR_CANON_MAX];
	char	 port[8];
	unsigned long since;		/* unix seconds at connect, before AUTH */
	struct mlfi_msg *msg;
};

static const struct config *mlfi_cfg;
static const char *mlfi_servid;

/* macro - a macro's value, NULL when absent or empty */
static const char *
macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v && *v ? v : NULL;
}

/* dup_or_null - strdup, keeping NULL */
static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* mech_dup - the mechanism, upper case; NULL kept */
static char *
mech_dup(const char *s)
{
	char *m = dup_or_null(s);

	if (m)
		str_upper(m);
	return m;
}

/* msg_free - the one cleanup for eom, abort, a new MAIL and close */
static void
msg_free(struct mlfi_conn *c)
{
	struct mlfi_msg *m = c->msg;

	if (m == NULL)
		return;
	free(m->mech);
	free(m->user);
	free(m->tls_version);
	free(m->cipher);
	free(m->ar_forged);
	free(m);
	c->msg = NULL;
}

/* conn_addr - the client's address and port from the connect packet */
static void
conn_addr(struct mlfi_conn *c, const struct sockaddr *sa)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	str_copy(c->addr, sizeof(c->addr), "unknown");
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, c->addr, sizeof(c->addr));
		snprintf(c->port, sizeof(c->port), "%u", ntohs(s4->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, c->addr, sizeof(c->addr));
		snprintf(c->port, sizeof(c->port), "%u", ntohs(s6->sin6_port));
	}
}

/* addr_canon - the client address in its one form (see DESCRIPTION) */
static void
addr_canon(struct mlfi_conn *c)
{
	char text[NETADDR_CANON_MAX];
	const char *bare = c->addr;

	if (strncasecmp(bare, "IPv6:", 5) == 0)
		bare += 5;
	if (netaddr_canon(bare, text, sizeof(text)) == text)
		str_copy(c->addr, sizeof(c->addr), text);
}

/* conn_get - the connection context, made by negotiate or here */
static struct mlfi_conn *
conn_get(SMFICTX *ctx)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}
	return c;
}

/* reply - SMFIS_NOREPLY where the MTA agreed to wait for none */
static sfsistat
reply(const struct mlfi_conn *c, unsigned long nr_flag)
{
	return c && (c->pflags & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_connect - the connection context */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct mlfi_conn *c = conn_get(ctx);
	const char *v;

	conn_addr(c, sa);
	/* Macros win: behind a proxy they name the real client. */
	if ((v = macro(ctx, "{client_addr}")) != NULL)
		str_copy(c->addr, sizeof(c->addr), v);
	addr_canon(c);
	if ((v = macro(ctx, "{client_port}")) != NULL &&
	    str_copy(c->port, sizeof(c->port), v) < 0)
		c->port[0] = 0;
	if (strcmp(c->port, "0") == 0)
		c->port[0] = 0;
	c->since = (unsigned long)time(NULL);
	return SMFIS_CONTINUE;		/* awaited: see mlfi_negotiate */
}

/* mlfi_helo - registered so that the MTA sends the HELO macros (TLS) */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	return reply(smfi_getpriv(ctx), SMFIP_NR_HELO);
}

/* ask_session - this session's attempts from authguard-policyd */
static void
ask_session(const struct mlfi_conn *c, struct diag *d)
{
	static _Atomic unsigned long last_warn;
	unsigned long now = (unsigned long)time(NULL), prev;
	char req[160], err[256] = "request too long";
	struct ipaddr ip;
	struct buf answer;
	int rc = -1;

	d->details = 0;
	/* Only an address and a number go into the request line. */
	if (mlfi_cfg->control_listen.kind != SOCK_UNIX ||
	    ipaddr_parse(c->addr, &ip) < 0 ||
	    strspn(c->port, "0123456789") != strlen(c->port))
		return;
	buf_init(&answer);
	if (snprintf(req, sizeof(req), "session\ttext\t%s %s %lu\n", c->addr,
	    *c->port ? c->port : "-", c->since) < (int)sizeof(req) &&
	    (rc = ctl_ask(mlfi_cfg->control_listen.path, req,
	    (int)mlfi_cfg->milter_control_timeout, &answer, err,
	    sizeof(err))) == 0 &&
	    (rc = ctl_session_diag(answer.data, answer.len, d)) < 0)
		str_copy(err, sizeof(err), "unexpected answer");
	buf_free(&answer);
	prev = last_warn;
	if (rc < 0 && now - prev >= 60 &&
	    atomic_compare_exchange_strong(&last_warn, &prev, now))
		msg_warn("session details unavailable (warned once a "
		    "minute): %s", err);
}

/* mlfi_log - the decision's one line, like the daemon's */
static void
mlfi_log(SMFICTX *ctx, const struct mlfi_conn *c, const char *action,
    enum cause cause, const struct diag *d)
{
	const struct mlfi_msg *m = c->msg;
	struct logline l;

	if (cause == CAUSE_NONE && !mlfi_cfg->policy_log)
		return;
	logline_begin(&l, mlfi_cfg->log_format);
	logline_str(&l, "event", "milter");
	logline_str(&l, "ref", m->ref);
	logline_str(&l, "action", action);
	if (cause != CAUSE_NONE)
		logline_str(&l, "cause", cause_id(cause));
	logline_str(&l, "queue_id", macro(ctx, "i"));
	logline_str(&l, "client_address", c->addr);
	logline_str(&l, "client_port", c->port);
	logline_str(&l, "daemon", macro(ctx, "{daemon_name}"));
	logline_str(&l, "sasl_method", m->mech);
	logline_str(&l, "sasl_username", m->user);
	logline_str(&l, "tls", m->tls_version);
	logline_str(&l, "cipher", m->cipher);
	if (d && d->details) {
		logline_str(&l, "auth_ref", *d->auth_ref ? d->auth_ref : NULL);
		logline_str(&l, "proto", *d->proto ? d->proto : NULL);
		logline_uint(&l, "failed", d->nfailed);
	} else if (d)
		logline_str(&l, "details", "unavailable");
	if (cause != CAUSE_NONE)
		logline_str(&l, "hint", cause_info(cause)->hint);
	msg_event(0, logline_end(&l));
	logline_free(&l);
}

/* mail_cause - refuse this MAIL? (see DESCRIPTION) */
static enum cause
mail_cause(SMFICTX *ctx, struct mlfi_conn *c)
{
	struct submission_cfg sc = {NULL, mlfi_cfg->require_tls_for_auth,
	    &mlfi_cfg->tls_exempt_networks};
	const char *daemon = macro(ctx, "{daemon_name}");
	struct submission_view v;
	struct diag d;
	int failed = 0;

	v.user = c->msg->mech ? (c->msg->user ? c->msg->user : "?") : NULL;
	v.tls = c->msg->tls_version ? c->msg->tls_version : c->msg->cipher;
	v.client = c->addr;
	v.submission = daemon && word_in(daemon,
	    mlfi_cfg->milter_submission_daemons);
	if (v.user == NULL && v.submission) {
		memset(&d, 0, sizeof(d));
		ask_session(c, &d);
		failed = d.details && d.nfailed > 0;
	}
	return submission_check(&v, &sc, failed);
}

/* mlfi_envfrom - the message context, and the MAIL checks */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);
	struct mlfi_msg *m;
	enum cause cause;
	const char *text;
	char reply[512];

	if (c == NULL)
		return SMFIS_ACCEPT;
	msg_free(c);
	c->msg = m = xcalloc(1, sizeof(*m));
	ref_new(m->ref);
	m->mech = mech_dup(macro(ctx, "{auth_type}"));
	m->user = dup_or_null(macro(ctx, "{auth_authen}"));
	m->tls_version = dup_or_null(macro(ctx, "{tls_version}"));
	m->cipher = dup_or_null(macro(ctx, "{cipher}"));
	if ((cause = mail_cause(ctx, c)) == CAUSE_NONE)
		return SMFIS_CONTINUE;
	text = cause_client_text(cause, mlfi_cfg->client_detail);
	snprintf(reply, sizeof(reply), "%s%s(ref=%s)", text ? text : "",
	    text ? " " : "", m->ref);
	smfi_setreply(ctx, "530", "5.7.0", reply);
	mlfi_log(ctx, c, "reject", cause, NULL);
	msg_free(c);
	return SMFIS_REJECT;
}

/* mlfi_header - count the headers we may have to delete */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);
	struct mlfi_msg *m = c ? c->msg : NULL;

	if (m == NULL)
		return reply(c, SMFIP_NR_HDR);
	if (strcasecmp(name, AR_HEADER) == 0) {
		m->ar_seen++;
		if (authres_ours(value, mlfi_servid)) {
			if (m->nar_forged == m->car_forged) {
				m->car_forged = m->car_forged ?
				    2 * m->car_forged : 4;
				m->ar_forged = xrealloc(m->ar_forged,
				    m->car_forged * sizeof(*m->ar_forged));
			}
			m->ar_forged[m->nar_forged++] = m->ar_seen;
		}
	} else if (strcasecmp(name, DIAG_HEADER) == 0)
		m->diag_seen++;
	return reply(c, SMFIP_NR_HDR);
}

/* delete_forged - last index first, so the others keep theirs */
static void
delete_forged(SMFICTX *ctx, struct mlfi_msg *m)
{
	size_t i;

	for (i = m->nar_forged; i > 0; i--)
		smfi_chgheader(ctx, AR_HEADER, (int)m->ar_forged[i - 1], NULL);
	for (i = m->diag_seen; i > 0; i--)
		smfi_chgheader(ctx, DIAG_HEADER, (int)i, NULL);
}

/* add_headers - ours, at the top */
static void
add_headers(SMFICTX *ctx, struct mlfi_conn *c, struct diag *d)
{
	struct mlfi_msg *m = c->msg;
	struct buf b;

	buf_init(&b);
	if (mlfi_cfg->milter_diag_header) {
		diag_value(&b, d);
		smfi_insheader(ctx, 0, DIAG_HEADER, (char *)buf_str(&b));
		buf_reset(&b);
	}
	if (mlfi_cfg->milter_auth_results) {
		authres_value(&b, mlfi_servid, m->user);
		smfi_insheader(ctx, 0, AR_HEADER, (char *)buf_str(&b));
	}
	buf_free(&b);
}

/* mlfi_eom - delete forged headers, add ours */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);
	struct mlfi_msg *m = c ? c->msg : NULL;
	struct diag d;

	if (m == NULL)
		return SMFIS_CONTINUE;
	delete_forged(ctx, m);
	memset(&d, 0, sizeof(d));
	if (m->mech) {
		d.ref = m->ref;
		d.mech = m->mech;
		d.user = mlfi_cfg->milter_header_user ? m->user : NULL;
		d.tls_version = m->tls_version;
		d.cipher = m->cipher;
		if (mlfi_cfg->milter_diag_header)
			ask_session(c, &d);
		add_headers(ctx, c, &d);
	}
	mlfi_log(ctx, c, "accept", CAUSE_NONE, m->mech &&
	    mlfi_cfg->milter_diag_header ? &d : NULL);
	msg_free(c);
	return SMFIS_CONTINUE;
}

/* mlfi_abort - the message is gone; the connection stays */
static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);

	if (c)
		msg_free(c);
	return SMFIS_CONTINUE;
}

/* mlfi_close - free everything */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct mlfi_conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	msg_free(c);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/*
 * mlfi_negotiate - ask the MTA for no more than is used: no replies to
 * HELO and each header (no decision is made there), and none of RCPT,
 * DATA, EOH, body or unknown commands. Each saved round trip is one
 * less wait in smtpd or cleanup for every message. Connect does get its
 * reply: the MTA waits for it before it greets the client, so the time
 * mlfi_connect takes as the session's start comes before any AUTH of
 * the session, however late a busy milter gets to the connection.
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long skip = SMFIP_NR_HELO | SMFIP_NR_HDR |
	    SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOBODY |
	    SMFIP_NOUNKNOWN;

	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) !=
	    (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
		msg_warn("the MTA does not let milters add and change "
		    "headers: forged headers cannot be removed");
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & skip;
	conn_get(ctx)->pflags = *pf1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc mlfi_desc = {
	.xxfi_name = "authguard-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_header = mlfi_header,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
};

/* milter_register - hand the callbacks to libmilter */
int
milter_register(const struct config *cfg, const char *servid)
{
	mlfi_cfg = cfg;
	mlfi_servid = servid;
	return smfi_register(mlfi_desc) == MI_SUCCESS ? 0 : -1;
}
