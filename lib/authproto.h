/*++
/* NAME
/*	authproto 3h
/* SUMMARY
/*	Dovecot auth-client and auth-master protocol lines
/*--*/
#ifndef AUTHGUARD_AUTHPROTO_H
#define AUTHGUARD_AUTHPROTO_H

#include <stddef.h>

#include "buf.h"

#define AUTHPROTO_MAX_FIELDS	64
#define AUTHPROTO_LINE_MAX	16384

/* A line split in place on TABs. */
struct authline {
	int	 argc;
	char	*argv[AUTHPROTO_MAX_FIELDS];
};

/* An AUTH request from the client side (Postfix). */
struct auth_request {
	unsigned	 id;
	const char	*mech;
	const char	*resp;		/* NULL: no initial response */
	const char	*rip;
	const char	*lip;
	int		 secured;
	int		 first_param;	/* argv index of the first parameter */
};

/* A reply from the server side (Dovecot). */
enum auth_reply_kind { AUTH_REPLY_OK, AUTH_REPLY_CONT, AUTH_REPLY_FAIL };

struct auth_reply {
	enum auth_reply_kind kind;
	unsigned	 id;
	const char	*data;		/* CONT: the base64 challenge */
	const char	*user;
	const char	*code;
	const char	*reason;
	int		 temp;
};

/* A MECH line of the server's handshake. */
#define AUTH_MECH_PRIVATE	(1u << 0)
#define AUTH_MECH_ANONYMOUS	(1u << 1)
#define AUTH_MECH_PLAINTEXT	(1u << 2)
#define AUTH_MECH_DICTIONARY	(1u << 3)
#define AUTH_MECH_ACTIVE	(1u << 4)
#define AUTH_MECH_FORWARD_SECRECY (1u << 5)
#define AUTH_MECH_MUTUAL_AUTH	(1u << 6)
#define AUTH_MECH_CHANNEL_BINDING (1u << 7)	/* Dovecot 2.4, protocol 1.3 */

struct auth_mech {
	const char	*name;
	unsigned	 flags;		/* AUTH_MECH_*; unknown flags ignored */
};

/* A reply on the auth-master (auth-userdb) socket. */
enum userdb_reply_kind { USERDB_FOUND, USERDB_NOTFOUND, USERDB_FAIL };

int	 authline_split(char *, size_t, struct authline *);
const char *authline_param(const struct authline *, int, const char *);
int	 authline_id(const char *, unsigned *);
int	 authproto_parse_auth(struct authline *, struct auth_request *,
	    const char **);
int	 authproto_parse_reply(const struct authline *, struct auth_reply *);
int	 authproto_parse_userdb(const struct authline *, unsigned *,
	    enum userdb_reply_kind *);
int	 authproto_parse_version(const struct authline *, unsigned *,
	    unsigned *);
int	 authproto_parse_mech(const struct authline *, struct auth_mech *);
int	 authproto_valid_mech(const char *);
void	 authproto_escape(struct buf *, const char *);
void	 authproto_unescape(char *);
int	 authproto_overlong_id(const char *, const char **, unsigned *);

#endif
