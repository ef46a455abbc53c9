/*++
/* NAME
/*	relay 3h
/* SUMMARY
/*	the gate's relayed mechanisms: the account read on the way
/*--*/
#ifndef AUTHGUARD_RELAY_H
#define AUTHGUARD_RELAY_H

#include "request.h"

void	req_relay_start(struct gate_req *);
void	req_relay_cont(struct gate_req *, const char *);

#endif
