/*++
/* NAME
/*	fuzz_authpolicy 1
/* SUMMARY
/*	libFuzzer target: Dovecot's auth policy request bodies and settings
/*--*/
#include <stdlib.h>
#include <string.h>

#include "authpolicy.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct authpolicy_req r;
	char err[256], name[64], hex[AUTHPOLICY_HASH_HEX_MAX + 1];
	char *text = xstrndup((const char *)data, len), *answer;
	const char *value;

	if (authpolicy_parse((const char *)data, len, &r, err, sizeof(err)) == 0) {
		if (r.login == NULL || r.pwhash == NULL || r.remote == NULL ||
		    r.session_id == NULL || (unsigned)r.proto >= PROTO_COUNT ||
		    strlen(r.login) > AUTHPOLICY_FIELD_MAX)
			abort();
		if (authpolicy_pwhash(r.pwhash, r.login, r.remote,
		    (unsigned)len % 300, hex) < 0 ||
		    strlen(hex) > AUTHPOLICY_HASH_HEX_MAX)
			abort();
	} else if (*err == 0)
		abort();
	authpolicy_free(&r);
	answer = authpolicy_answer(-1, text);
	if (strncmp(answer, "{\"status\":-1", 12) != 0)
		abort();
	free(answer);
	if (authpolicy_header_split(text, name, sizeof(name), &value) == 0)
		(void)authpolicy_key_equal(value, text);
	authpolicy_command(text);
	free(text);
	return 0;
}
