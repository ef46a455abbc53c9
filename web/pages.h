/*++
/* NAME
/*	pages 3h
/* SUMMARY
/*	the HTML pages of authguard-web
/*--*/
#ifndef AUTHGUARD_PAGES_H
#define AUTHGUARD_PAGES_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

struct page_ctx {
	const char	*user;		/* the acting user, shown in the header */
	int		 can_admin;	/* show lock/unlock forms */
	const char	*csrf;		/* the forms' hidden field */
	const char	*flash;		/* "unlocked KEY" after a redirect, or NULL */
};

void	 page_search(struct buf *, const struct page_ctx *);
void	 page_why(struct buf *, const struct page_ctx *, const char *,
	    const json_t *);
void	 page_why_error(struct buf *, const struct page_ctx *, const char *,
	    const char *);
void	 page_overview(struct buf *, const struct page_ctx *, const json_t *);
void	 page_error(struct buf *, const struct page_ctx *, unsigned,
	    const char *);

extern const char page_css[];
extern const size_t page_css_len;

#endif
