/*++
/* NAME
/*	store 3h
/* SUMMARY
/*	the daemon's state: limits, recent attempts, the secret, on disk
/*--*/
#ifndef AUTHGUARD_STORE_H
#define AUTHGUARD_STORE_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "fingerprint.h"
#include "history.h"
#include "authlimits.h"

extern struct limits store_limits;
extern struct history store_history;
extern unsigned char store_secret[FINGERPRINT_KEY_LEN];

int	store_init(const struct config *);
int	store_check(const struct config *, int);

#define STORE_CHECK_KEY		1	/* the fingerprint key file */
#define STORE_CHECK_STATE	2	/* the state file, state_dir/secret */
void	store_reconfigure(const struct config *);
void	store_dirty(void);
void	store_history_add(struct hist_rec *, const char *);
void	store_shutdown(void);
uint32_t store_now(void);
pid_t	store_writer(void);

#endif
