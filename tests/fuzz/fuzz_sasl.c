/*++
/* NAME
/*	fuzz_sasl 1
/* SUMMARY
/*	libFuzzer target: base64, SASL PLAIN and LOGIN decoding
/*--*/
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "sasl.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct sasl_plain sp;
	unsigned char *out = xmalloc(BASE64_DECODED_MAX(len) + 1);
	size_t n;
	struct buf b;
	char *v;

	/* decoding then encoding gives back the input when it was canonical */
	if (base64_decode((const char *)data, len, out, &n) == 0) {
		buf_init(&b);
		base64_encode(&b, out, n);
		if (len % 4 == 0 && (b.len != len || memcmp(b.data, data, len)))
			abort();
		buf_free(&b);
	}
	free(out);
	if (sasl_plain_decode((const char *)data, len, &sp) == SASL_OK) {
		if (!*sp.user || !*sp.pass)
			abort();
		sasl_app_password_spaced(sp.pass);
		sasl_plain_wipe(&sp);
	}
	if (sasl_login_decode((const char *)data, len, 1, &v) == SASL_OK) {
		if (!*v)
			abort();
		wipe_str(v);
	}
	return 0;
}
