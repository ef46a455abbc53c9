/*++
/* NAME
/*	daemon 3
/* SUMMARY
/*	what both daemons do at start: no core dumps, drop privileges
/* DESCRIPTION
/*	daemon_no_core_dumps() keeps memory that held a password out of
/*	core files. daemon_drop_privileges() becomes the configured user
/*	(and its groups) once the sockets are bound; as root without a
/*	user it warns; it is fatal when the change cannot be made or
/*	could be undone.
/*--*/
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon.h"
#include "msg.h"

/* daemon_no_core_dumps - passwords live in this process's memory */
void
daemon_no_core_dumps(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* daemon_drop_privileges - become "user" once the sockets are bound */
void
daemon_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (*user == 0) {
		if (geteuid() == 0)
			msg_warn("running as root: set \"user\" in the "
			    "configuration to drop privileges");
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		msg_fatal("user = %s: no such user", user);
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			msg_fatal("user = %s: only root can become that user",
			    user);
		return;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		msg_fatal("cannot become %s: %s", user, strerror(errno));
	if (pw->pw_uid != 0 && setuid(0) == 0)
		msg_fatal("privileges could be regained after dropping them");
}
