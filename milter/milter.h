/*++
/* NAME
/*	milter 3h
/* SUMMARY
/*	authguard-milter's callbacks
/*--*/
#ifndef AUTHGUARD_MILTER_H
#define AUTHGUARD_MILTER_H

#include "config.h"

int	milter_register(const struct config *, const char *);

#endif
