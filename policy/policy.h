/*++
/* NAME
/*	policy 3h
/* SUMMARY
/*	the Postfix policy service
/*--*/
#ifndef AUTHGUARD_POLICY_H
#define AUTHGUARD_POLICY_H

#include "config.h"

void	policy_init(const struct config *, int);
void	policy_shutdown(void);

#endif
