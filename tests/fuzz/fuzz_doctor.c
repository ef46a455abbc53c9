/*++
/* NAME
/*	fuzz_doctor 1
/* SUMMARY
/*	libFuzzer target: postconf and doveconf output as doctor reads it
/* DESCRIPTION
/*	The input, cut at the first three form feeds, is taken as
/*	postconf (main.cf values), postconf -P, postconf -M and
/*	doveconf -n (Dovecot 2.3 or 2.4); all of it then goes through
/*	the checks, with authguard running unprivileged and userdb_upstream
/*	on Dovecot's auth-userdb.
/*--*/
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	char *text = xstrndup((const char *)data, len), *part[4], *p = text;
	struct doctor_input in;
	struct doctor_report r;
	int i;

	for (i = 0; i < 4; i++) {
		part[i] = p;
		if (i < 3 && (p = strchr(p, '\f')) != NULL)
			*p++ = 0;
		else if (i < 3)
			p = text + strlen(text);
	}
	memset(&in, 0, sizeof(in));
	memset(&r, 0, sizeof(r));
	kvlist_parse(&in.main, part[0], 0);
	kvlist_parse(&in.overrides, part[1], 0);
	doctor_parse_master(&in, part[2]);
	doctor_parse_dovecot(&in, part[3]);
	in.have_dovecot = 1;
	in.sasl_path = "/var/spool/postfix/private/authguard";
	in.policy_path = "";
	in.milter_path = "";
	in.submission_ports = "587 465";
	in.submission_daemons = "MSA";
	in.userdb_path = "/run/dovecot/auth-userdb";
	in.run_user = "authguard";
	in.run_group = "authguard";
	doctor_check(&in, &r);
	doctor_report_free(&r);
	doctor_input_free(&in);
	free(text);
	return 0;
}
