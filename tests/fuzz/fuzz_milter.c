/*++
/* NAME
/*	fuzz_milter 1
/* SUMMARY
/*	libFuzzer target: what the milter parses and writes
/* DESCRIPTION
/*	The input is taken as an incoming Authentication-Results value
/*	(authserv-id parser), as a control socket "session" answer,
/*	and as a user name and TLS macro written into our headers: the
/*	headers must stay one printable line each, folded only with
/*	LF TAB.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "ctlclient.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* one_header - no byte that could end or break a header line */
static void
one_header(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\n' && i + 1 < b->len && b->data[i + 1] == '\t')
			continue;
		if (c < 0x20 ? c != '\t' : c >= 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	char *s = xstrndup((const char *)data, len), id[256];
	struct diag d;
	struct buf b;

	authres_servid(s, id, sizeof(id));
	authres_ours(s, "mx.example.test");
	memset(&d, 0, sizeof(d));
	ctl_session_diag((const char *)data, len, &d);
	if (d.nfailed > DIAG_SHOWN && !d.details)
		abort();
	d.ref = "ABCDEFGH12";
	d.mech = s;
	d.user = s;
	d.tls_version = s;
	d.cipher = s;
	buf_init(&b);
	diag_value(&b, &d);
	one_header(&b);
	buf_reset(&b);
	authres_value(&b, "mx.example.test", s);
	one_header(&b);
	buf_free(&b);
	free(s);
	return 0;
}
