/*++
/* NAME
/*	web 3h
/* SUMMARY
/*	authguard-web's pages: the routes, what a user may do, the answers
/*--*/
#ifndef AUTHGUARD_WEB_H
#define AUTHGUARD_WEB_H

struct webconf;

void	web_init(const struct webconf *, int);
void	web_shutdown(void);

#endif
