/*++
/* NAME
/*	reload 3h
/* SUMMARY
/*	a new configuration for the running daemon
/*--*/
#ifndef AUTHGUARD_RELOAD_H
#define AUTHGUARD_RELOAD_H

#include "accounts.h"
#include "config.h"

int	reload_config(const char *, struct config *, struct accounts_map *);

#endif
