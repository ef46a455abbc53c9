/*++
/* NAME
/*	proto 3
/* SUMMARY
/*	the door a login came through: smtp, imap, pop3, sieve
/* SYNOPSIS
/*	#include "proto.h"
/*
/*	const char *proto_name(enum proto p)
/*
/*	int proto_parse(const char *name, enum proto *p)
/* DESCRIPTION
/*	proto_name() gives the name that lines, metrics labels and the
/*	control socket's answers carry ("smtp", "imap", "pop3", "sieve");
/*	"unknown" for a value out of range.
/*
/*	proto_parse() reads Dovecot's %{protocol} (the service that asked:
/*	"imap", "pop3", "sieve" for ManageSieve, "smtp" for Postfix's
/*	smtpd, "submission" for Dovecot's own submission service) or one of
/*	authguard's own names, in any case. It returns 0, or -1 for a name
/*	it does not know.
/*--*/
#include <stddef.h>
#include <strings.h>

#include "proto.h"
#include "util.h"

static const char *const proto_names[PROTO_COUNT] = {
	[PROTO_SMTP] = "smtp",
	[PROTO_IMAP] = "imap",
	[PROTO_POP3] = "pop3",
	[PROTO_SIEVE] = "sieve",
};

/* Dovecot's service names that are not authguard's own. */
static const struct {
	const char	*name;
	enum proto	 proto;
} proto_alias[] = {
	{"submission", PROTO_SMTP},
	{"managesieve", PROTO_SIEVE},
};

/* proto_name - the door's name */
const char *
proto_name(enum proto p)
{
	return (unsigned)p < PROTO_COUNT ? proto_names[p] : "unknown";
}

/* proto_parse - Dovecot's protocol name, or ours */
int
proto_parse(const char *s, enum proto *p)
{
	size_t i;

	for (i = 0; i < PROTO_COUNT; i++)
		if (strcasecmp(s, proto_names[i]) == 0) {
			*p = (enum proto)i;
			return 0;
		}
	for (i = 0; i < NELEM(proto_alias); i++)
		if (strcasecmp(s, proto_alias[i].name) == 0) {
			*p = proto_alias[i].proto;
			return 0;
		}
	return -1;
}
