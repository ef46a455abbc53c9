/*++
/* NAME
/*	netaddr 3h
/* SUMMARY
/*	IP addresses, network lists, socket specifications
/*--*/
#ifndef AUTHGUARD_NETADDR_H
#define AUTHGUARD_NETADDR_H

#include <stddef.h>

/* An address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct ipaddr {
	unsigned char	b[16];
};

struct netmask {
	struct ipaddr	addr;
	unsigned	prefix;		/* 0..128, in the mapped space */
};

struct netlist {
	struct netmask	*v;
	size_t		 n;
};

enum sock_kind { SOCK_NONE, SOCK_UNIX, SOCK_INET };

#define SOCKSPEC_PATH_MAX	108

struct sockspec {
	enum sock_kind	 kind;
	char		 path[SOCKSPEC_PATH_MAX];	/* unix */
	char		 host[64];			/* inet, numeric */
	unsigned	 port;
};

#define NETADDR_CANON_MAX 64	/* room for any canonical text, with its NUL */
#define NETADDR_ZONE_MAX 15	/* longest zone kept (an interface name) */

/* netaddr_canon - the one text form of an address; in unchanged if it is none */
const char *netaddr_canon(const char *in, char *out, size_t len);
int	netaddr_valid(const char *);
int	ipaddr_parse(const char *, struct ipaddr *);
int	netlist_parse(const char *, struct netlist *, const char **);
int	netlist_match(const struct netlist *, const struct ipaddr *);
int	netlist_match_str(const struct netlist *, const char *);
void	netlist_free(struct netlist *);
int	sockspec_parse(const char *, struct sockspec *, const char **);

#endif
