/*++
/* NAME
/*	fuzz_config 1
/* SUMMARY
/*	libFuzzer target: configuration files, account flag values and
/*	address texts (netaddr_canon: its form is stable)
/*--*/
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "backend.h"
#include "config.h"
#include "netaddr.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* canon_stable - the canonical form of an address is its own */
static void
canon_stable(const char *s)
{
	char once[NETADDR_CANON_MAX], twice[NETADDR_CANON_MAX];
	const char *c = netaddr_canon(s, once, sizeof(once));

	if (c != s && (netaddr_canon(c, twice, sizeof(twice)) != twice ||
	    strcmp(twice, c) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct config c;
	struct netlist nl;
	char err[CONFIG_ERR_MAX];
	const char *e;
	unsigned flags;
	struct backend b;
	char *s, text[512], unknown[256];

	if (config_parse((const char *)data, len, "fuzz", &c, err,
	    sizeof(err)) == 0)
		config_free(&c);
	accounts_flags_parse((const char *)data, len, &flags, &e);
	(void)accounts_flags_unknown((const char *)data, len, unknown,
	    sizeof(unknown));
	s = xstrndup((const char *)data, len);
	if (backend_parse(s, &b, &e) == 0 &&
	    backend_describe(&b, text, sizeof(text)) < 0 && !b.path[0])
		abort();	/* a parsed TCP address always fits */
	if (netlist_parse(s, &nl, &e) == 0) {
		netlist_match_str(&nl, "192.0.2.1");
		netlist_free(&nl);
	}
	canon_stable(s);
	free(s);
	return 0;
}
