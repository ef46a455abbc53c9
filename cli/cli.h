/*++
/* NAME
/*	cli 3h
/* SUMMARY
/*	the authguard command's parts
/*--*/
#ifndef AUTHGUARD_CLI_H
#define AUTHGUARD_CLI_H

#include "buf.h"
#include "config.h"

int	cli_run(char *const *, struct buf *);
int	cli_doctor(const struct config *, int, char **, int);
int	cli_probe(int, char **, int);
int	cli_analyze(int, char **, int);

#endif
