/*++
/* NAME
/*	util 3h
/* SUMMARY
/*	memory, string and secret-wiping helpers
/*--*/
#ifndef AUTHGUARD_UTIL_H
#define AUTHGUARD_UTIL_H

#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	 wipe(void *, size_t);
void	 wipe_free(void *, size_t);
void	 wipe_str(char *);
int	 str_copy(char *, size_t, const char *);
void	 str_lower(char *);
void	 str_upper(char *);
int	 parse_uint(const char *, unsigned long max, unsigned long *);
int	 hex_digit(char);
uint64_t now_ms(void);
uint64_t now_ns(void);
int	 open_private(const char *);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
