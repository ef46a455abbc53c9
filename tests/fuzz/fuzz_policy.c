/*++
/* NAME
/*	fuzz_policy 1
/* SUMMARY
/*	libFuzzer target: policy requests, the decision, state file lines
/*--*/
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "history.h"
#include "authlimits.h"
#include "policyproto.h"
#include "proto.h"
#include "state.h"
#include "submission.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* fuzz_requests - the input as policy request lines */
static void
fuzz_requests(const char *data, size_t len)
{
	struct submission_cfg cfg = {"587 465", 1, NULL};
	struct policy_req r;
	const char *p = data, *end = data + len, *nl;

	policy_req_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (policy_req_line(&r, p, nl ? (size_t)(nl - p) :
		    (size_t)(end - p)) == POLICY_DONE) {
			submission_decide(&r, &cfg, 0);
			submission_decide(&r, &cfg, 1);
			policy_req_reset(&r);
		}
		p = nl ? nl + 1 : end;
	}
	policy_req_free(&r);
}

/* fuzz_state - the input as a state file */
static void
fuzz_state(const char *data, size_t len)
{
	struct limits_config cfg;
	struct limits l;
	struct history h;
	struct state_loader ld;
	char *copy = xstrndup(data, len), *line, *save = NULL;
	char magic[] = STATE_MAGIC;

	memset(&cfg, 0, sizeof(cfg));
	limit_parse("3/10m", &cfg.account);
	limit_parse("5/10m", &cfg.address);
	cfg.lockout_time = 60;
	cfg.lockout_max = 600;
	cfg.familiar_ttl = 86400;
	cfg.guess_distinct = 3;
	cfg.max_tracked = 64;
	limits_init(&l, &cfg);
	history_init(&h, 16);
	state_loader_init(&ld, &l, &h, 1000000);
	if (len == 0 || data[0] != '!')	/* '!': its own first line */
		state_load_line(&ld, magic);
	for (line = strtok_r(copy, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		state_load_line(&ld, line);
	if (l.acct.count > 64 || l.addr.count > 64 || h.n > 16)
		abort();
	limits_free(&l);
	history_free(&h);
	free(copy);
}

/* fuzz_record - the input as one shared recent attempt (from Redis) */
static void
fuzz_record(const char *data, size_t len)
{
	struct hist_rec r, first;
	struct buf b;
	char *copy = xstrndup(data, len), *user, *again;

	if (state_history_parse(copy, &r, &user) == 0) {
		first = r;			/* what parses, formats back */
		buf_init(&b);
		state_history_format(&b, &r);
		buf_putc(&b, 0);
		again = xstrdup(b.data);
		if (state_history_parse(again, &r, &user) < 0 ||
		    r.proto != first.proto || r.proto >= PROTO_COUNT ||
		    strcmp(r.server, first.server) != 0)
			abort();
		free(again);
		buf_free(&b);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	fuzz_requests((const char *)data, len);
	fuzz_state((const char *)data, len);
	fuzz_record((const char *)data, len);
	return 0;
}
