/*++
/* NAME
/*	daemon 3h
/* SUMMARY
/*	what both daemons do at start: no core dumps, drop privileges
/*--*/
#ifndef AUTHGUARD_DAEMON_H
#define AUTHGUARD_DAEMON_H

void	daemon_no_core_dumps(void);
void	daemon_drop_privileges(const char *);

#endif
