/*++
/* NAME
/*	msg 3h
/* SUMMARY
/*	diagnostics to syslog (facility mail) or stderr
/*--*/
#ifndef AUTHGUARD_MSG_H
#define AUTHGUARD_MSG_H

void	msg_open(const char *name, int to_stderr);
void	msg_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	msg_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	msg_event(int warning, const char *line);
char	*msg_printable(char *);
void	msg_batch_stderr(void);
void	msg_reopen(void);
void	msg_flush(void);
void	msg_set_sink(void (*)(int, const char *, const char *));

extern int msg_verbose;

#endif
