/*++
/* NAME
/*	accounts 3h
/* SUMMARY
/*	per-account flags from a cdb map
/*--*/
#ifndef AUTHGUARD_ACCOUNTS_H
#define AUTHGUARD_ACCOUNTS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define ACCT_APP_PASSWORD_REQUIRED	(1u << 0)
#define ACCT_OAUTH_ONLY			(1u << 1)
#define ACCT_DISABLED			(1u << 2)
#define ACCT_NO_LIMIT			(1u << 3)

#define ACCOUNTS_ERR_MAX	512

/* which file: a rebuilt map (postmap renames it into place) is another */
struct accounts_id {
	dev_t	 dev;
	ino_t	 ino;
	off_t	 size;
	struct timespec mtime;
};

struct accounts_map {
	char	*path;			/* NULL: no map configured */
	int	 fd;
	void	*cdb;			/* struct cdb; NULL: no map in use */
	struct accounts_id cur;		/* the file in use */
	struct accounts_id bad;		/* the last file that could not be used */
	int	 have_bad;
	int	 gone;			/* the path was missing (said once) */
	char	 err[ACCOUNTS_ERR_MAX];	/* why accounts_open() failed */
};

int	accounts_flags_parse(const char *, size_t, unsigned *, const char **);
size_t	accounts_flags_unknown(const char *, size_t, char *, size_t);
void	accounts_flags_format(unsigned, char *, size_t);
int	accounts_open(struct accounts_map *, const char *);
int	accounts_check(const char *);
int	accounts_lookup(struct accounts_map *, const char *, unsigned *);
void	accounts_close(struct accounts_map *);

#endif
