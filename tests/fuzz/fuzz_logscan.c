/*++
/* NAME
/*	fuzz_logscan 1
/* SUMMARY
/*	libFuzzer target: the mail log lines authguard analyze reads
/*--*/
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "logscan.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *nl;
	struct logscan ls;
	struct log_failure *f;
	size_t n, i;

	logscan_init(&ls);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		logscan_add(&ls, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	n = logscan_join(&ls, &f);
	for (i = 0; i < n; i++)
		if ((unsigned)f[i].cause >= CAUSE_COUNT || f[i].user == NULL)
			abort();
	free(f);
	logscan_free(&ls);
	return 0;
}
