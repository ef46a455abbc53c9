/*++
/* NAME
/*	html 3h
/* SUMMARY
/*	escaped HTML text, attributes and URL query values
/*--*/
#ifndef AUTHGUARD_HTML_H
#define AUTHGUARD_HTML_H

#include <stddef.h>

#include "buf.h"

void	 html_escn(struct buf *, const char *, size_t);
void	 html_esc(struct buf *, const char *);
void	 html_attr(struct buf *, const char *, const char *);
void	 html_el(struct buf *, const char *, const char *, const char *);
void	 html_urlenc(struct buf *, const char *);
void	 html_href_q(struct buf *, const char *, const char *);
size_t	 html_utf8_seq(const unsigned char *, size_t);

#endif
