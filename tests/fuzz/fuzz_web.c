/*++
/* NAME
/*	fuzz_web 1
/* SUMMARY
/*	libFuzzer target: what a browser sends authguard-web, and its files
/* DESCRIPTION
/*	The first byte chooses the parser, the rest is its input: a
/*	form body, a Cookie header, an Authorization header, htpasswd
/*	lines, an authguard-web.conf, a host_names list and a Host header
/*	(split at the first newline). Each answer is checked for what
/*	must hold whatever the input (fields NUL-terminated and within
/*	their buffers, names that web_name_ok() accepts).
/*--*/
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "webconf.h"
#include "webform.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* fuzz_form - fields of a form body */
static void
fuzz_form(const char *p, size_t n)
{
	char out[64];
	int rc;

	rc = form_get(p, n, "target", out, sizeof(out));
	if (rc > 0 && strlen(out) >= sizeof(out))
		abort();
	(void)form_get(p, n, "csrf", out, sizeof(out));
}

/* fuzz_header - a Cookie or Authorization header */
static void
fuzz_header(const char *p, size_t n, int basic)
{
	char *h = xstrndup(p, n), out[40], user[WEB_NAME_MAX + 1];
	char pass[WEB_PASS_MAX + 1];

	if (basic) {
		if (basic_parse(h, user, sizeof(user), pass, sizeof(pass)) == 0
		    && !web_name_ok(user))
			abort();
	} else if (cookie_get(h, "authguard_csrf", out, sizeof(out)) > 0 &&
	    strlen(out) >= sizeof(out))
		abort();
	free(h);
}

/* fuzz_htpasswd - each line of a file */
static void
fuzz_htpasswd(const char *p, size_t n)
{
	char user[WEB_NAME_MAX + 1], hash[WEB_HASH_MAX];
	const char *end = p + n, *nl, *err;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (htpasswd_line(p, (size_t)(nl - p), user, sizeof(user), hash,
		    sizeof(hash), &err) > 0 && (!web_name_ok(user) ||
		    *hash != '$'))
			abort();
	}
}

/* fuzz_conf - an authguard-web.conf */
static void
fuzz_conf(const char *p, size_t n)
{
	struct webconf c;
	char err[512];

	if (webconf_parse(p, n, "fuzz", &c, err, sizeof(err)) == 0) {
		if (c.web_listen.kind == SOCK_NONE)
			abort();
		webconf_free(&c);
	}
}

/* fuzz_host - a Host header against a host_names list */
static void
fuzz_host(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	char *list, *host;

	if (nl == NULL)
		return;
	list = xstrndup(p, (size_t)(nl - p));
	host = xstrndup(nl + 1, n - (size_t)(nl - p) - 1);
	/* A listed host is a word of the list: no blank, not empty. */
	if (webconf_host_listed(list, host) && (*host == 0 || *host == ':' ||
	    strcspn(host, " \t") < strcspn(host, host[0] == '[' ? "]" : ":")))
		abort();
	free(list);
	free(host);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	const char *p = (const char *)data + 1;

	if (len == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_form(p, len - 1);
		break;
	case 1:
		fuzz_header(p, len - 1, 0);
		break;
	case 2:
		fuzz_header(p, len - 1, 1);
		break;
	case 3:
		fuzz_htpasswd(p, len - 1);
		break;
	case 5:
		fuzz_host(p, len - 1);
		break;
	default:
		fuzz_conf(p, len - 1);
		break;
	}
	return 0;
}
