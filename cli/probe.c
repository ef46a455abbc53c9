/*++
/* NAME
/*	probe 3
/* SUMMARY
/*	authguard probe: a user's submission session, from the outside, explained
/* SYNOPSIS
/*	authguard [--json] probe HOST[:PORT] --user USER [--tls starttls|implicit|none]
/*		[--mech plain|login] [--timeout SECONDS] [--ca FILE] [--insecure]
/* DESCRIPTION
/*	What "openssl s_client -starttls smtp" is used for by hand: connect,
/*	EHLO, STARTTLS (587, 25) or TLS from the first byte (465), the
/*	certificate and TLS version, the AUTH mechanisms offered before and
/*	after TLS, then AUTH, and what the answer means (lib/smtpreply.c).
/*	The password comes from AUTHGUARD_PASSWORD or is asked on the
/*	terminal without echo; it is never printed (the transcript shows
/*	"<credentials hidden>"), and every copy of it (the environment's,
/*	the AUTH line) is wiped after use. Core dumps are off.
/*
/*	The server's certificate is verified (the system's CAs, or --ca
/*	FILE; the name or address given must match it): when it is not
/*	trusted, the probe stops after the handshake and sends no
/*	credentials. --insecure skips the check, with a warning.
/*
/*	Exit status: 0 authenticated; 1 AUTH refused (5xx); 2 usage;
/*	3 no connection, or the server broke the dialog; 4 TLS could not be
/*	started; 5 AUTH (or the mechanism) not offered; 6 temporary failure
/*	(4xx).
/*--*/
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/types.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base64.h"
#include "buf.h"
#include "cause.h"
#include "cli.h"
#include "daemon.h"
#include "logline.h"
#include "sasl.h"
#include "smtpreply.h"
#include "util.h"

#define PROBE_LINE_MAX	4096

enum probe_exit {
	PX_OK = 0, PX_REFUSED = 1, PX_USAGE = 2, PX_CONNECT = 3, PX_TLS = 4,
	PX_NO_AUTH = 5, PX_TEMP = 6
};

struct probe {
	const char *host, *port, *user, *tls, *mech;
	const char *ca;			/* NULL: the system's CAs */
	int	 timeout, json;
	int	 insecure;		/* --insecure: no certificate check */
	int	 untrusted;		/* the handshake failed on it */
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 rbuf[PROBE_LINE_MAX * 2];
	size_t	 rlen;
	struct buf out;			/* the report, text or JSON fields */
	int	 first;
	char	 auth_before[256], auth_after[256];
};

/* field - one line of the report: "key: value" or a JSON member */
static void
field(struct probe *p, const char *key, const char *val)
{
	if (!p->json) {
		buf_printf(&p->out, "%-16s %s\n", key, val);
		return;
	}
	buf_printf(&p->out, "%s\"%s\":", p->first ? "" : ",", key);
	escaped_value(&p->out, LOG_FORMAT_JSON, val);
	p->first = 0;
}

/* finish - print the report, give the exit status */
static int
finish(struct probe *p, int rc, const char *result)
{
	char num[8];

	field(p, "result", result);
	snprintf(num, sizeof(num), "%d", rc);
	field(p, "exit", num);
	if (p->json)
		printf("{%s}\n", buf_str(&p->out));
	else
		fputs(buf_str(&p->out), stdout);
	return rc;
}

/* p_write - all of it, through TLS when started */
static int
p_write(struct probe *p, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = p->ssl ? SSL_write(p->ssl, s, (int)n) : write(p->fd, s, n);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* p_line - one line (bounded), without CR LF; -1 on EOF or error */
static int
p_line(struct probe *p, char *line, size_t cap)
{
	char *nl;
	ssize_t n;
	size_t len;

	while ((nl = memchr(p->rbuf, '\n', p->rlen)) == NULL) {
		if (p->rlen >= PROBE_LINE_MAX)
			return -1;	/* a line longer than any reply line */
		n = p->ssl ? SSL_read(p->ssl, p->rbuf + p->rlen,
		    (int)(sizeof(p->rbuf) - p->rlen)) : read(p->fd,
		    p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen);
		if (n <= 0)
			return -1;
		p->rlen += (size_t)n;
	}
	len = (size_t)(nl - p->rbuf);
	if (len && p->rbuf[len - 1] == '\r')
		len--;
	if (len >= cap)
		return -1;
	memcpy(line, p->rbuf, len);
	line[len] = 0;
	p->rlen -= (size_t)(nl + 1 - p->rbuf);
	memmove(p->rbuf, nl + 1, p->rlen);
	return (int)len;
}

/* p_reply - one whole reply; -1 when the dialog broke */
static int
p_reply(struct probe *p, struct smtp_reply *r)
{
	char line[PROBE_LINE_MAX];
	int n;
	enum smtp_push st;

	smtp_reply_reset(r);
	do {
		if ((n = p_line(p, line, sizeof(line))) < 0)
			return -1;
		st = smtp_reply_push(r, line, (size_t)n);
	} while (st == SMTP_MORE);
	return st == SMTP_DONE ? 0 : -1;
}

/* p_cmd - send a command line, read the reply */
static int
p_cmd(struct probe *p, const char *cmd, struct smtp_reply *r)
{
	char line[PROBE_LINE_MAX];
	int rc;

	snprintf(line, sizeof(line), "%s\r\n", cmd);
	rc = p_write(p, line, strlen(line));
	wipe(line, sizeof(line));	/* it may be an AUTH line */
	if (rc < 0)
		return -1;
	return p_reply(p, r);
}

/* reply_line - "535 5.7.8 text" for the report (texts joined by " / ") */
static const char *
reply_line(const struct smtp_reply *r, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%d%s%s %s", r->code, *r->enhanced ? " " : "",
	    r->enhanced, r->text.data ? r->text.data : "");
	for (i = 0; buf[i]; i++)
		if (buf[i] == '\n' || (unsigned char)buf[i] < 0x20)
			buf[i] = buf[i] == '\n' ? '|' : '?';
	return buf;
}

/* capabilities - the AUTH mechanisms and STARTTLS of an EHLO reply */
static int
capabilities(const struct smtp_reply *r, char *auth, size_t len)
{
	const char *t = r->text.data ? r->text.data : "", *l;
	int starttls = 0;

	auth[0] = 0;
	for (l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n");

		if (n >= 5 && strncasecmp(l, "AUTH ", 5) == 0 && !*auth)
			snprintf(auth, len, "%.*s", (int)(n - 5), l + 5);
		if (n == 8 && strncasecmp(l, "STARTTLS", 8) == 0)
			starttls = 1;
	}
	return starttls;
}

/* p_connect - TCP to host:port with the timeout */
static int
p_connect(struct probe *p)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = {p->timeout, 0};
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(p->host, p->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return p->fd = fd;
}

/*
 * p_tls_setup - the context and connection: verify against the system's
 * CAs or --ca, the host name (or address) given; -1 if --ca is unusable
 */
static int
p_tls_setup(struct probe *p)
{
	unsigned char addr[16];
	char buf[1024];
	int ip = inet_pton(AF_INET, p->host, addr) == 1 ||
	    inet_pton(AF_INET6, p->host, addr) == 1;

	p->ctx = SSL_CTX_new(TLS_client_method());
	if (p->ca ? SSL_CTX_load_verify_locations(p->ctx, p->ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(p->ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		field(p, "tls", buf);
		return -1;
	}
	SSL_CTX_set_verify(p->ctx, p->insecure ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	p->ssl = SSL_new(p->ctx);
	SSL_set_fd(p->ssl, p->fd);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(p->ssl), p->host);
	else {
		SSL_set_tlsext_host_name(p->ssl, p->host);
		SSL_set1_host(p->ssl, p->host);
	}
	return 0;
}

/* p_tls - handshake; report version, cipher and certificate */
static int
p_tls(struct probe *p)
{
	char name[512], buf[1024];
	X509 *cert;
	long v;

	if (p_tls_setup(p) < 0)
		return -1;
	if (SSL_connect(p->ssl) != 1) {
		v = SSL_get_verify_result(p->ssl);
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		field(p, "tls", buf);
		if ((p->untrusted = v != X509_V_OK))
			field(p, "verify", X509_verify_cert_error_string(v));
		SSL_free(p->ssl);
		p->ssl = NULL;
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s %s", SSL_get_version(p->ssl),
	    SSL_get_cipher_name(p->ssl));
	field(p, "tls", buf);
	if ((cert = SSL_get1_peer_certificate(p->ssl)) != NULL) {
		X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
		snprintf(buf, sizeof(buf), "%s", name);
		field(p, "certificate", buf);
		X509_NAME_oneline(X509_get_issuer_name(cert), name, sizeof(name));
		field(p, "issuer", name);
		X509_free(cert);
	}
	v = SSL_get_verify_result(p->ssl);
	field(p, "verify", v == X509_V_OK ? "ok: trusted, and the name matches" :
	    X509_verify_cert_error_string(v));
	if (v != X509_V_OK && !p->insecure)
		return -1;	/* never reached: SSL_VERIFY_PEER failed it */
	if (v != X509_V_OK)
		field(p, "tls warning", "the certificate is not verified "
		    "(--insecure): the credentials go to whoever answered");
	return 0;
}

/* password - from AUTHGUARD_PASSWORD, or asked without echo */
static char *
password(void)
{
	struct termios old, quiet;
	char line[1024], *nl;
	char *env = getenv("AUTHGUARD_PASSWORD");
	FILE *tty;

	if (env) {
		nl = xstrdup(env);
		wipe(env, strlen(env));	/* the environment's copy */
		return nl;
	}
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return NULL;
	setvbuf(tty, NULL, _IONBF, 0);	/* no copy in a stdio buffer */
	fputs("Password: ", tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	nl = fgets(line, sizeof(line), tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	if (nl == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	nl = xstrdup(line);
	wipe(line, sizeof(line));
	return nl;
}

/* b64_cmd - "PREFIX base64(data)" as a command, then wiped */
static int
b64_cmd(struct probe *p, const char *prefix, const char *data, size_t n,
    struct smtp_reply *r)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_puts(&b, prefix);
	base64_encode(&b, (const unsigned char *)data, n);
	rc = p_cmd(p, buf_str(&b), r);
	wipe(b.data, b.len);
	buf_free(&b);
	return rc;
}

/* p_auth - AUTH PLAIN or LOGIN; the final reply in r */
static int
p_auth(struct probe *p, const char *pass, struct smtp_reply *r)
{
	size_t ul = strlen(p->user), pl = strlen(pass);
	char *plain;
	int rc;

	if (strcasecmp(p->mech, "login") == 0) {
		if (p_cmd(p, "AUTH LOGIN", r) < 0 || r->code != 334)
			return r->code ? 0 : -1;
		if (b64_cmd(p, "", p->user, ul, r) < 0 || r->code != 334)
			return r->code ? 0 : -1;
		return b64_cmd(p, "", pass, pl, r);
	}
	plain = xcalloc(1, ul + pl + 2);
	memcpy(plain + 1, p->user, ul);
	memcpy(plain + 2 + ul, pass, pl);
	rc = b64_cmd(p, "AUTH PLAIN ", plain, ul + pl + 2, r);
	wipe(plain, ul + pl + 2);
	free(plain);
	return rc;
}

/* explain - the reply's meaning into the report */
static void
explain(struct probe *p, const struct smtp_reply *r)
{
	struct smtp_meaning m;
	char buf[256];

	smtp_explain(r, &m);
	field(p, "source", m.source);
	if (m.cause != CAUSE_NONE)
		field(p, "cause", cause_id(m.cause));
	if (*m.ref) {
		field(p, "ref", m.ref);
		snprintf(buf, sizeof(buf), "authguard why %s (on the server)",
		    m.ref);
		field(p, "ask", buf);
	}
	field(p, "meaning", m.meaning);
	if (m.remedy && *m.remedy)
		field(p, "what to do", m.remedy);
}

/* outcome - exit status of a final reply */
static int
outcome(struct probe *p, const struct smtp_reply *r, const char *what)
{
	char buf[PROBE_LINE_MAX + 32];

	field(p, what, reply_line(r, buf, sizeof(buf)));
	explain(p, r);
	if (r->code / 100 == 2)
		return finish(p, PX_OK, "authenticated");
	if (r->code == 503 || r->code == 504)
		return finish(p, PX_NO_AUTH, "AUTH or this mechanism not offered");
	if (r->code == 530 && smtp_reply_has(r, "STARTTLS"))
		return finish(p, PX_TLS, "TLS required first");
	if (r->code / 100 == 4)
		return finish(p, PX_TEMP, "temporary failure");
	return finish(p, PX_REFUSED, "refused");
}

/* greet - banner and EHLO; the EHLO reply in r */
static int
greet(struct probe *p, struct smtp_reply *r, const char *label)
{
	char buf[PROBE_LINE_MAX + 32];

	if (strcmp(label, "banner") == 0) {
		if (p_reply(p, r) < 0)
			return -1;
		field(p, "banner", reply_line(r, buf, sizeof(buf)));
		if (r->code != 220)
			return 1;
	}
	return p_cmd(p, "EHLO probe.authguard.invalid", r) < 0 ? -1 : 0;
}

/* tls_failed - the result when TLS did not start: no credentials sent */
static const char *
tls_failed(const struct probe *p)
{
	return p->untrusted ?
	    "the server's certificate is not trusted: no credentials sent "
	    "(--ca FILE, or --insecure to skip the check)" :
	    "TLS handshake failed";
}

/* session - the dialog up to the final AUTH reply */
static int
session(struct probe *p, struct smtp_reply *r)
{
	int implicit = strcmp(p->tls, "implicit") == 0, starttls, rc;
	char *pass;

	if (implicit && p_tls(p) < 0)
		return finish(p, PX_TLS, tls_failed(p));
	if ((rc = greet(p, r, "banner")) != 0)
		return rc < 0 ? finish(p, PX_CONNECT, "the server closed or "
		    "broke the dialog") : outcome(p, r, "refused at connect");
	starttls = capabilities(r, p->auth_before, sizeof(p->auth_before));
	if (!implicit) {
		field(p, "auth before TLS", *p->auth_before ? p->auth_before :
		    "not offered");
		field(p, "starttls", starttls ? "offered" : "not offered");
	}
	if (strcmp(p->tls, "starttls") == 0) {
		if (!starttls)
			return finish(p, PX_TLS, "STARTTLS not offered");
		if (p_cmd(p, "STARTTLS", r) < 0 || r->code != 220)
			return r->code ? outcome(p, r, "starttls reply") :
			    finish(p, PX_CONNECT, "no answer to STARTTLS");
		if (p_tls(p) < 0)
			return finish(p, PX_TLS, tls_failed(p));
		if (greet(p, r, "ehlo") < 0)
			return finish(p, PX_CONNECT, "no answer to EHLO");
	}
	capabilities(r, p->auth_after, sizeof(p->auth_after));
	if (strcmp(p->tls, "none") != 0)
		field(p, "auth after TLS", *p->auth_after ? p->auth_after :
		    "not offered");
	if ((pass = password()) == NULL)
		return finish(p, PX_USAGE, "no password (set AUTHGUARD_PASSWORD "
		    "or run on a terminal)");
	if (sasl_app_password_spaced(pass))
		field(p, "warning", "the password looks like an app password "
		    "typed with its spaces: app passwords are entered without "
		    "the spaces");
	rc = p_auth(p, pass, r);
	wipe_str(pass);		/* and frees it */
	if (rc < 0)
		return finish(p, PX_CONNECT, "the server closed the dialog "
		    "during AUTH");
	rc = outcome(p, r, "auth reply");
	p_write(p, "QUIT\r\n", 6);
	return rc;
}

/* probe_args - the command line; -1 on usage errors */
static int
probe_args(struct probe *p, int argc, char **argv)
{
	static char host[256];
	char *colon;
	int i;

	if (argc < 1 || argv[0][0] == '-' || strlen(argv[0]) >= sizeof(host))
		return -1;
	strcpy(host, argv[0]);
	p->host = host;
	p->port = "587";
	if (host[0] == '[' && (colon = strchr(host, ']')) != NULL) {
		*colon = 0;
		p->host = host + 1;
		if (colon[1] == ':')
			p->port = colon + 2;
	} else if ((colon = strrchr(host, ':')) != NULL &&
	    strchr(host, ':') == colon) {
		*colon = 0;
		p->port = colon + 1;
	}
	p->tls = strcmp(p->port, "465") == 0 ? "implicit" : "starttls";
	p->mech = "plain";
	p->timeout = 15;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--insecure") == 0) {
			p->insecure = 1;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--user") == 0)
			p->user = argv[i + 1];
		else if (strcmp(argv[i], "--ca") == 0)
			p->ca = argv[i + 1];
		else if (strcmp(argv[i], "--tls") == 0)
			p->tls = argv[i + 1];
		else if (strcmp(argv[i], "--mech") == 0)
			p->mech = argv[i + 1];
		else if (strcmp(argv[i], "--timeout") == 0)
			p->timeout = atoi(argv[i + 1]);
		else
			return -1;
		i++;
	}
	if (i != argc || p->user == NULL || p->timeout <= 0 ||
	    (strcmp(p->tls, "starttls") && strcmp(p->tls, "implicit") &&
	    strcmp(p->tls, "none")) || (strcasecmp(p->mech, "plain") &&
	    strcasecmp(p->mech, "login")))
		return -1;
	return 0;
}

/* cli_probe - the command; argv after "probe" */
int
cli_probe(int argc, char **argv, int json)
{
	struct probe p;
	struct smtp_reply r;
	char where[400];
	int rc;

	daemon_no_core_dumps();		/* a password will be in memory */
	memset(&p, 0, sizeof(p));
	p.json = json;
	p.first = 1;
	p.fd = -1;
	if (probe_args(&p, argc, argv) < 0) {
		fprintf(stderr, "usage: authguard probe HOST[:PORT] --user USER "
		    "[--tls starttls|implicit|none] [--mech plain|login] "
		    "[--timeout SECONDS] [--ca FILE] [--insecure]\n");
		return PX_USAGE;
	}
	if (p.insecure)
		fprintf(stderr, "authguard probe: warning: --insecure: the "
		    "server's certificate is not verified\n");
	buf_init(&p.out);
	smtp_reply_init(&r);
	snprintf(where, sizeof(where), "%s port %s (%s)", p.host, p.port,
	    strcmp(p.tls, "implicit") == 0 ? "TLS from the first byte" :
	    strcmp(p.tls, "starttls") == 0 ? "STARTTLS" : "no TLS");
	field(&p, "server", where);
	field(&p, "user", p.user);
	if (p_connect(&p) < 0)
		rc = finish(&p, PX_CONNECT, "cannot connect");
	else
		rc = session(&p, &r);
	if (p.ssl) {
		SSL_shutdown(p.ssl);
		SSL_free(p.ssl);
	}
	SSL_CTX_free(p.ctx);
	if (p.fd >= 0)
		close(p.fd);
	smtp_reply_free(&r);
	buf_free(&p.out);
	return rc;
}
