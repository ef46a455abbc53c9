/*++
/* NAME
/*	reload 3
/* SUMMARY
/*	a new configuration for the running daemon
/* SYNOPSIS
/*	#include "reload.h"
/*
/*	int	reload_config(path, cfg, accounts)
/*	const char *path;
/*	struct config *cfg;
/*	struct accounts_map *accounts;
/* DESCRIPTION
/*	reload_config() reads path and opens the accounts_map it names
/*	(read through, as at start). When both are good it replaces *cfg
/*	in place (every module points to it), keeping the keys that take
/*	a restart at their running values with a warning, hands the new
/*	values to the modules that copy them, puts the new map in place
/*	of *accounts, and decides the attempts waiting at the limits
/*	against the new limits. When the file is not valid, or the map
/*	is missing, unreadable or not a cdb map, nothing changes: the
/*	running configuration and map stay, and the error is logged. The
/*	whole reload is refused, not only the map: a configuration that
/*	is half the new file and half the old is neither the one that
/*	was checked nor the one that was asked for. The result is 0, or
/*	-1 when the reload was refused.
/*
/*	authguard-policyd calls it on SIGHUP; the simulation (sim 3)
/*	calls it as a schedule's reload.
/*--*/
#include <errno.h>
#include <unistd.h>

#include "accounts.h"
#include "config.h"
#include "gate.h"
#include "msg.h"
#include "notify.h"
#include "reload.h"
#include "shared.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

/* reload_config - a new configuration, or the running one kept */
int
reload_config(const char *path, struct config *cfg,
    struct accounts_map *accounts)
{
	char err[CONFIG_ERR_MAX + 4096], fixed[512];
	struct accounts_map map;
	struct config next;

	if (config_load(path, &next, err, sizeof(err)) < 0) {
		msg_error("reload refused: %s; the running configuration "
		    "stays%s", err, access(path, R_OK) < 0 && errno == EACCES ?
		    " (the file must be readable by \"user\": chgrp it to "
		    "that user's group, mode 0640)" : "");
		return -1;
	}
	if (accounts_open(&map, next.accounts_map) < 0) {
		msg_error("reload refused: accounts_map %s: %s; the running "
		    "configuration and accounts map stay", next.accounts_map,
		    map.err);
		accounts_close(&map);
		config_free(&next);
		return -1;
	}
	if (config_keep_fixed(&next, cfg, fixed, sizeof(fixed)) < 0)
		str_copy(fixed, sizeof(fixed), "several keys");
	if (*fixed)
		msg_warn("reload: %s changed: that takes a restart; running "
		    "with the old value until then", fixed);
	config_free(cfg);
	*cfg = next;
	store_reconfigure(cfg);
	shared_reconfigure(cfg, &store_limits.cfg);
	upstream_set_timeout(cfg->upstream_timeout);
	notify_reconfigure(cfg);
	accounts_close(accounts);
	*accounts = map;		/* the gate points to *accounts */
	gate_limits_changed(NULL, NULL);	/* waiting attempts, new limits */
	msg_info("reloaded %s", path);
	return 0;
}
