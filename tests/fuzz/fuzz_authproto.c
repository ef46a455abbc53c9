/*++
/* NAME
/*	fuzz_authproto 1
/* SUMMARY
/*	libFuzzer target: Dovecot auth-client/auth-master lines, both ways
/*--*/
#include <stdlib.h>
#include <string.h>

#include "authproto.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct auth_request ar;
	struct auth_reply rep;
	struct authline al;
	struct auth_mech mech;
	enum userdb_reply_kind kind;
	const char *err, *cmd;
	char *line = xstrndup((const char *)data, len);
	unsigned id, major, minor;

	authproto_overlong_id(line, &cmd, &id);
	if (authline_split(line, len, &al) == 0) {
		if (authproto_parse_auth(&al, &ar, &err) == 0 &&
		    (ar.id == 0 || !authproto_valid_mech(ar.mech)))
			abort();
		authproto_parse_reply(&al, &rep);
		authproto_parse_userdb(&al, &id, &kind);
		authproto_parse_version(&al, &major, &minor);
		if (authproto_parse_mech(&al, &mech) == 0 &&
		    !authproto_valid_mech(mech.name))
			abort();
		authline_param(&al, 1, "resp");
	}
	free(line);
	line = xstrndup((const char *)data, len);
	authproto_unescape(line);
	free(line);
	return 0;
}
