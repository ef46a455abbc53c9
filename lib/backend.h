/*++
/* NAME
/*	backend 3h
/* SUMMARY
/*	state_backend: embedded, or the address of a Redis server
/*--*/
#ifndef AUTHGUARD_BACKEND_H
#define AUTHGUARD_BACKEND_H

enum backend_kind { BACKEND_EMBEDDED, BACKEND_REDIS };

struct backend {
	enum backend_kind kind;
	int		 tls;		/* rediss:// */
	char		 host[256];	/* "" for a unix socket */
	unsigned	 port;
	char		 path[108];	/* unix socket */
	unsigned	 db;
	char		 user[128];	/* "": AUTH with the password only */
	char		 password[256];
};

#define BACKEND_DB_MAX	9999
#define BACKEND_PORT	6379

int	backend_parse(const char *, struct backend *, const char **);
int	backend_describe(const struct backend *, char *, unsigned long);

#endif
