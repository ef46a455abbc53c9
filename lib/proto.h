/*++
/* NAME
/*	proto 3h
/* SUMMARY
/*	the door a login came through: smtp, imap, pop3, sieve
/*--*/
#ifndef AUTHGUARD_PROTO_H
#define AUTHGUARD_PROTO_H

/* In this order in lines, metrics and history; PROTO_SMTP is 0. */
enum proto {
	PROTO_SMTP,
	PROTO_IMAP,
	PROTO_POP3,
	PROTO_SIEVE,
	PROTO_COUNT
};

const char *proto_name(enum proto);
int	proto_parse(const char *, enum proto *);

#endif
