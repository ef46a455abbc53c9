/*++
/* NAME
/*	nullmilter 1
/* SUMMARY
/*	benchmark baseline: a libmilter filter that decides nothing
/* SYNOPSIS
/*	nullmilter unix:/path
/* DESCRIPTION
/*	The same callbacks and protocol negotiation as authguard-milter
/*	(no reply for connect, HELO and headers; no RCPT, DATA, EOH or
/*	body), each returning at once, and no header changes: what
/*	libmilter and the MTA's milter protocol cost by themselves.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

static sfsistat
nm_noreply(SMFICTX *ctx)
{
	return SMFIS_NOREPLY;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	return nm_noreply(ctx);
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	return nm_noreply(ctx);
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	return nm_noreply(ctx);
}

static sfsistat
nm_continue(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR |
	    SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOBODY |
	    SMFIP_NOUNKNOWN;

	if ((f1 & want) != want)
		return SMFIS_REJECT;	/* the NOREPLY answers need all of it */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = want;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d = {
		.xxfi_name = "nullmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
		.xxfi_connect = nm_connect,
		.xxfi_helo = nm_helo,
		.xxfi_envfrom = nm_envfrom,
		.xxfi_header = nm_header,
		.xxfi_eom = nm_continue,
		.xxfi_abort = nm_continue,
		.xxfi_close = nm_continue,
		.xxfi_negotiate = nm_negotiate,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter unix:/path\n");
		return 2;
	}
	umask(0);
	if (smfi_register(d) != MI_SUCCESS || smfi_setconn(argv[1]) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
