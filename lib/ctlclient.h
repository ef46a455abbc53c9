/*++
/* NAME
/*	ctlclient 3h
/* SUMMARY
/*	asking authguard-policyd over its control socket
/*--*/
#ifndef AUTHGUARD_CTLCLIENT_H
#define AUTHGUARD_CTLCLIENT_H

#include <stddef.h>

#include "authres.h"
#include "buf.h"
#include "sasl.h"

#define CTL_ANSWER_MAX	(1 << 20)
/*
 * The longest request line: a command, its format, an argument of
 * SASL_FIELD_MAX bytes (a user name) and every option, an actor= of
 * 128 bytes (CTL_ACTOR_MAX) among them, with room.
 */
#define CTL_REQUEST_MAX	(SASL_FIELD_MAX + 256)

int	ctl_connect(const char *, char *, size_t);
int	ctl_ask(const char *, const char *, int, struct buf *, char *, size_t);
int	ctl_session_diag(const char *, size_t, struct diag *);

#endif
