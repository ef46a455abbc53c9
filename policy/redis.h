/*++
/* NAME
/*	redis 3h
/* SUMMARY
/*	hiredis's asynchronous API driven by the event loop
/*--*/
#ifndef AUTHGUARD_REDIS_H
#define AUTHGUARD_REDIS_H

#include <hiredis/async.h>

void	redis_attach(redisAsyncContext *);

#endif
