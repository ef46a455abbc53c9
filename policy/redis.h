/*++
/* NAME
/*	redis 3h
/* SUMMARY
/*	hiredis's asynchronous API driven by the event loop
/*--*/
#ifndef AUTHGUARD_REDIS_H
#define AUTHGUARD_REDIS_H

#include <stddef.h>

#include <hiredis/async.h>

#ifdef HAVE_HIREDIS_SSL
#include <openssl/ssl.h>
#endif

void	redis_attach(redisAsyncContext *);

#ifdef HAVE_HIREDIS_SSL
SSL_CTX *redis_tls_context(const char *, const char *, const char *, char *,
	    size_t);
int	redis_tls_start(redisAsyncContext *, SSL_CTX *, const char *, char *,
	    size_t);
int	redis_tls_failure(char *, size_t);
#endif

#endif
