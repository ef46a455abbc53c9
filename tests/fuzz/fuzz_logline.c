/*++
/* NAME
/*	fuzz_logline 1
/* SUMMARY
/*	libFuzzer target: log line escaping, and the line reader
/* DESCRIPTION
/*	Whatever bytes a value holds, the event stays one line with
/*	no control characters; the line reader never hands out a line
/*	longer than its cap.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "linereader.h"
#include "logline.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* check_line - one line, no control bytes */
static void
check_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct linereader lr;
	struct logline l;
	enum log_format f;
	size_t off, n, chunk;
	char *line;

	for (f = LOG_FORMAT_LOGFMT; f <= LOG_FORMAT_JSON; f++) {
		logline_begin(&l, f);
		logline_str(&l, "event", "auth");
		logline_mem(&l, "user", (const char *)data, len);
		check_line(logline_end(&l));
		logline_free(&l);
	}
	lr_init(&lr, 64);
	for (off = 0; off < len; off += chunk) {
		chunk = 1 + data[off] % 37;
		if (chunk > len - off)
			chunk = len - off;
		lr_push(&lr, (const char *)data + off, chunk);
		while (lr_next(&lr, &line, &n) != LR_NONE)
			if (n > 64 || strlen(line) > n)
				abort();
	}
	lr_free(&lr);
	return 0;
}
