/*++
/* NAME
/*	authpolicy 3h
/* SUMMARY
/*	Dovecot's auth policy protocol: requests, answers, pwhash
/*--*/
#ifndef AUTHGUARD_AUTHPOLICY_H
#define AUTHGUARD_AUTHPOLICY_H

#include <stddef.h>

#include "proto.h"

#define AUTHPOLICY_BODY_MAX	16384	/* bytes of one request's JSON */
#define AUTHPOLICY_FIELD_MAX	1024	/* bytes of one string field */
#define AUTHPOLICY_HASH_HEX_MAX	64	/* sha256 in hex */

/* ?command= */
enum authpolicy_cmd { AP_CMD_NONE, AP_CMD_ALLOW, AP_CMD_REPORT };

/* Dovecot 2.4's fail_type; AP_FAIL_UNSAID: absent or "" (2.3, success) */
enum authpolicy_fail {
	AP_FAIL_UNSAID,
	AP_FAIL_POLICY,
	AP_FAIL_INTERNAL,
	AP_FAIL_CREDENTIALS,
	AP_FAIL_EXPIRED,
	AP_FAIL_DISABLED,
	AP_FAIL_ACCOUNT,
	AP_FAIL_OTHER,			/* a name this version does not know */
};

/* One request body; strings are "" when absent, owned (authpolicy_free). */
struct authpolicy_req {
	char		*login;
	char		*pwhash;
	char		*remote;
	char		*device_id;
	char		*session_id;
	char		*protocol;	/* as Dovecot sent it */
	char		*mech;		/* if the attributes name it */
	enum proto	 proto;		/* PROTO_SMTP when absent or unknown */
	int		 proto_known;	/* protocol was one proto_parse knows */
	enum authpolicy_fail fail_type;
	int		 success;	/* -1: absent */
	int		 policy_reject;	/* -1: absent */
	int		 tls;		/* -1: absent */
};

enum authpolicy_cmd authpolicy_command(const char *);
const char *authpolicy_command_name(enum authpolicy_cmd);
int	authpolicy_parse(const char *, size_t, struct authpolicy_req *,
	    char *, size_t);
void	authpolicy_free(struct authpolicy_req *);
char	*authpolicy_answer(int, const char *);
int	authpolicy_header_split(const char *, char *, size_t, const char **);
int	authpolicy_key_equal(const char *, const char *);
int	authpolicy_pwhash(const char *, const char *, const char *, unsigned,
	    char *);

#endif
