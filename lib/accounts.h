/*++
/* NAME
/*	accounts 3h
/* SUMMARY
/*	per-account flags from a cdb map
/*--*/
#ifndef AUTHGUARD_ACCOUNTS_H
#define AUTHGUARD_ACCOUNTS_H

#include <sys/types.h>
#include <time.h>

#define ACCT_APP_PASSWORD_REQUIRED	(1u << 0)
#define ACCT_OAUTH_ONLY			(1u << 1)
#define ACCT_DISABLED			(1u << 2)
#define ACCT_NO_LIMIT			(1u << 3)

struct accounts_map {
	char	*path;
	int	 fd;
	dev_t	 dev;
	ino_t	 ino;
	struct timespec mtime;
	int	 open_ok;
	int	 warned;
	void	*cdb;		/* struct cdb */
};

int	accounts_flags_parse(const char *, size_t, unsigned *, const char **);
void	accounts_open(struct accounts_map *, const char *);
int	accounts_lookup(struct accounts_map *, const char *, unsigned *);
void	accounts_close(struct accounts_map *);

#endif
