/*++
/* NAME
/*	redis 3
/* SUMMARY
/*	hiredis's asynchronous API driven by the event loop
/* DESCRIPTION
/*	redis_attach() gives a redisAsyncContext the hooks hiredis asks
/*	of an event library (see hiredis/adapters/): it watches the
/*	connection's descriptor in our epoll loop for what hiredis wants
/*	to read or write, and hands readiness back to it. hiredis calls
/*	cleanup when it frees the context, possibly from inside one of
/*	our callbacks: the watcher is released after the loop's turn.
/*
/*	With hiredis_ssl (rediss://), redis_tls_context() makes the TLS
/*	client context from state_backend's companions: the server's
/*	certificate is always verified, against redis_tls_ca or else the
/*	system's CAs, TLS 1.2 at least, and redis_tls_cert with
/*	redis_tls_key is the client certificate if given. It reads the
/*	files when it is called (at start and at each reload); a key
/*	with a passphrase is refused (OpenSSL would ask on the terminal).
/*	redis_tls_start() puts TLS on a connection that is still being
/*	made: hiredis does the handshake as the loop reads and writes,
/*	so that nothing waits. hiredis sends the server name (SNI) but
/*	does not check it: here the certificate must name HOST, the host
/*	name or address that state_backend gives, in its subjectAltName
/*	(never in its subject's common name). redis_tls_failure()
/*	says why a handshake failed (the verification error and the
/*	certificate's subject, or OpenSSL's reason).
/*--*/
#include <stdlib.h>

#ifdef HAVE_HIREDIS_SSL
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <hiredis/hiredis_ssl.h>
#include <hiredis/read.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#endif

#include "event.h"
#include "redis.h"
#include "util.h"

struct redis_ev {
	struct ev_io	 io;		/* first: the callback casts back */
	redisAsyncContext *ac;		/* NULL once hiredis let go */
	unsigned	 want;
	int		 started;
};

/* redis_ready - the descriptor can be read or written */
static void
redis_ready(struct ev_io *io, unsigned what)
{
	struct redis_ev *re = (struct redis_ev *)io;

	if ((what & EV_READ) && re->ac)
		redisAsyncHandleRead(re->ac);
	if ((what & EV_WRITE) && re->ac)
		redisAsyncHandleWrite(re->ac);
}

/* redis_want - watch for what hiredis wants now */
static void
redis_want(struct redis_ev *re, unsigned want)
{
	if (re->ac == NULL)
		return;
	re->want = want;
	if (!re->started) {
		ev_io_start(&re->io, re->ac->c.fd, want, redis_ready);
		re->started = 1;
	} else
		ev_io_want(&re->io, want);
}

/* redis_add_read - hiredis hook */
static void
redis_add_read(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want | EV_READ);
}

/* redis_del_read - hiredis hook */
static void
redis_del_read(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want & ~EV_READ);
}

/* redis_add_write - hiredis hook */
static void
redis_add_write(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want | EV_WRITE);
}

/* redis_del_write - hiredis hook */
static void
redis_del_write(void *p)
{
	struct redis_ev *re = p;

	redis_want(re, re->want & ~EV_WRITE);
}

/* redis_cleanup - hiredis frees the context (it closes the descriptor) */
static void
redis_cleanup(void *p)
{
	struct redis_ev *re = p;

	if (re->started)
		ev_io_stop(&re->io);
	re->ac = NULL;
	ev_defer_free(free, re);
}

/* redis_attach - drive a new context from the event loop */
void
redis_attach(redisAsyncContext *ac)
{
	struct redis_ev *re = xcalloc(1, sizeof(*re));

	re->ac = ac;
	re->io.fd = -1;
	ac->ev.data = re;
	ac->ev.addRead = redis_add_read;
	ac->ev.delRead = redis_del_read;
	ac->ev.addWrite = redis_add_write;
	ac->ev.delWrite = redis_del_write;
	ac->ev.cleanup = redis_cleanup;
}

#ifdef HAVE_HIREDIS_SSL

/* The last verification failure of the handshake under way. */
static int tls_verify_error;
static char tls_verify_subject[256];

/* tls_verify - OpenSSL: remember the first reason a certificate failed */
static int
tls_verify(int ok, X509_STORE_CTX *x)
{
	X509 *cert;

	if (ok || tls_verify_error)
		return ok;
	tls_verify_error = X509_STORE_CTX_get_error(x);
	tls_verify_subject[0] = 0;
	if ((cert = X509_STORE_CTX_get_current_cert(x)) != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert),	/* escapes */
		    tls_verify_subject, sizeof(tls_verify_subject));
	return ok;
}

/* Set when OpenSSL asked for a key's passphrase. */
static int tls_passphrase_asked;

/* tls_no_passphrase - OpenSSL's password callback: none */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	/*
	 * OpenSSL's own would ask on the terminal, and a daemon (or -t, or a
	 * reload) would wait there.
	 */
	tls_passphrase_asked = 1;
	return 0;
}

/* tls_file_error - why a file did not load: the system's or OpenSSL's word */
static void
tls_file_error(const char *key, const char *path, const char *what,
    char *err, size_t len)
{
	FILE *fp = fopen(path, "r");
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	if (fp == NULL)
		snprintf(err, len, "%s %s: %s", key, path, strerror(errno));
	else if (tls_passphrase_asked)
		snprintf(err, len, "%s %s: it is protected by a passphrase: it "
		    "must be a PEM private key without a passphrase", key,
		    path);
	else
		snprintf(err, len, "%s %s: not %s (%s)", key, path, what,
		    why ? why : "unknown error");
	if (fp)
		fclose(fp);
	ERR_clear_error();
}

/* tls_key_mismatch - the key loaded but is not the certificate's */
static int
tls_key_mismatch(void)
{
	unsigned long e = ERR_peek_last_error();

	/* OpenSSL says so from X509_check_private_key() */
	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
}

/* redis_tls_context - a client context that verifies the server; NULL, err */
SSL_CTX *
redis_tls_context(const char *ca, const char *cert, const char *key,
    char *err, size_t len)
{
	SSL_CTX *ctx;

	/* CA file or the system's; client certificate and key, or none. */
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, len, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	tls_passphrase_asked = 0;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify);
	if (*ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		tls_file_error("redis_tls_ca", ca,
		    "a PEM file of CA certificates", err, len);
	else if (*ca == 0 && SSL_CTX_set_default_verify_paths(ctx) != 1)
		snprintf(err, len, "cannot load the system's CA certificates");
	else if (*cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		tls_file_error("redis_tls_cert", cert, "a PEM certificate", err,
		    len);
	else if (*key && SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1 && !tls_key_mismatch())
		tls_file_error("redis_tls_key", key, "a PEM private key "
		    "(without a passphrase)", err, len);
	else if (*key && SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, len, "redis_tls_key %s is not the key of "
		    "redis_tls_cert %s", key, cert);
	else
		return ctx;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

/* redis_tls_start - TLS on a new connection; the certificate must name host */
int
redis_tls_start(redisAsyncContext *ac, SSL_CTX *ctx, const char *host,
    char *err, size_t len)
{
	unsigned char addr[16];
	int ok;
	SSL *ssl;

	/* A name is also sent as SNI; an address is checked as one. */
	ERR_clear_error();
	tls_verify_error = 0;
	if ((ssl = SSL_new(ctx)) == NULL) {
		snprintf(err, len, "TLS: out of memory");
		return -1;
	}
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),	/* SAN only */
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else
		ok = SSL_set_tlsext_host_name(ssl, host) == 1 &&
		    SSL_set1_host(ssl, host) == 1;
	if (!ok) {
		snprintf(err, len, "TLS: cannot check the name %s", host);
		SSL_free(ssl);
		return -1;
	}
	/* A quick server can refuse the handshake here already. */
	if (redisInitiateSSL(&ac->c, ssl) != REDIS_OK) {
		if (!redis_tls_failure(err, len))
			snprintf(err, len, "%s", ac->c.errstr);
		SSL_free(ssl);		/* hiredis took it only on success */
		return -1;
	}
	return 0;
}

/* redis_tls_failure - why the handshake failed, if OpenSSL knows; 0 if not */
int
redis_tls_failure(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	if (tls_verify_error)
		snprintf(buf, len, "TLS: the server's certificate is refused: "
		    "%s (%s)", X509_verify_cert_error_string(tls_verify_error),
		    tls_verify_subject[0] ? tls_verify_subject : "no subject");
	else if (why)
		snprintf(buf, len, "TLS: %s", why);
	ERR_clear_error();
	if (tls_verify_error == 0 && why == NULL)
		return 0;
	tls_verify_error = 0;
	return 1;
}

#endif
