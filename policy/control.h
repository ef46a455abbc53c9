/*++
/* NAME
/*	control 3h
/* SUMMARY
/*	the control socket: a request, its command's handler, the answer
/*--*/
#ifndef AUTHGUARD_CONTROL_H
#define AUTHGUARD_CONTROL_H

#include "buf.h"
#include "config.h"

void	control_init(const struct config *, int);
void	control_shutdown(void);
int	control_command(const char *, struct buf *);
void	control_fit(struct buf *);

#endif
