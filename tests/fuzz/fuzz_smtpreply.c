/*++
/* NAME
/*	fuzz_smtpreply 1
/* SUMMARY
/*	libFuzzer target: the SMTP replies authguard probe reads
/*--*/
#include <stdlib.h>
#include <string.h>

#include "smtpreply.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *nl;
	struct smtp_reply r;
	struct smtp_meaning m;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (smtp_reply_push(&r, p, nl ? (size_t)(nl - p) :
		    (size_t)(end - p)) != SMTP_MORE) {
			smtp_explain(&r, &m);
			if (m.source == NULL || m.meaning == NULL)
				abort();
			smtp_reply_reset(&r);
		}
		p = nl ? nl + 1 : end;
	}
	smtp_reply_free(&r);
	return 0;
}
