/*++
/* NAME
/*	state 3h
/* SUMMARY
/*	the state file: limits and recent attempts as versioned text
/*--*/
#ifndef AUTHGUARD_STATE_H
#define AUTHGUARD_STATE_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "history.h"
#include "authlimits.h"

#define STATE_MAGIC	"authguard-state 2"
#define STATE_MAGIC_V1	"authguard-state 1"	/* unkeyed WHO values */
/*
 * The longest line a reader takes, with its newline and NUL: room for a
 * recent attempt whose user name of SASL_FIELD_MAX bytes is escaped whole
 * (3 bytes each), with the longest mechanism, address and server.
 */
#define STATE_LINE_MAX	8192

struct state_loader {
	struct limits	*limits;
	struct history	*history;
	uint32_t	 now;
	struct tracker	*tr;		/* entry being read */
	struct track	*cur;
	unsigned long	 lines;
	unsigned long	 bad;		/* lines ignored */
	int		 header;	/* the magic line was seen */
	int		 v1;		/* the file is version 1 */
	unsigned long	 old_familiar;	/* version 1 familiar records dropped */
};

void	state_escape(FILE *, const char *);
void	state_escape_buf(struct buf *, const char *);
void	state_history_format(struct buf *, const struct hist_rec *);
int	state_history_parse(char *, struct hist_rec *, char **);
int	state_unescape(char *);
int	state_write(FILE *, const struct limits *, const struct history *,
	    uint32_t);
void	state_loader_init(struct state_loader *, struct limits *,
	    struct history *, uint32_t);
int	state_load_line(struct state_loader *, char *);

#endif
