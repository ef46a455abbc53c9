/*++
/* NAME
/*	test_spawn 1
/* SUMMARY
/*	unit tests: children on the real event loop (policy/spawn.c)
/* DESCRIPTION
/*	/bin/sh children: exit codes, the input on stdin, a child that
/*	never reads a 64 KiB input, one that outlives its timeout (killed
/*	and reaped: no zombie left), a flood on stdout and stderr (kept
/*	bounded), the environment. The loop keeps firing timers meanwhile:
/*	nothing blocks.
/*--*/
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "../../policy/event.h"
#include "../../policy/spawn.h"
#include "unit.h"

struct outcome {
	int		 done;
	struct spawn_result r;
};

static volatile sig_atomic_t stop;
static unsigned ticks;
static struct ev_timer tick, guard;

/* on_done - keep the result; stop the loop */
static void
on_done(void *arg, const struct spawn_result *r)
{
	struct outcome *o = arg;

	o->done++;
	o->r = *r;
	stop = 1;
}

/* on_tick - the loop is not blocked: it counts every 10 ms */
static void
on_tick(struct ev_timer *t)
{
	ticks++;
	ev_timer_start(t, 10, on_tick);
}

/* on_guard - a test that would hang ends */
static void
on_guard(struct ev_timer *t)
{
	(void)t;
	stop = 1;
}

/* run - one child through the loop, at most 10 s */
static struct spawn *
run(const char *script, const char *input, size_t inlen, unsigned timeout_ms,
    struct outcome *o)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	char err[256];
	struct spawn *sp;

	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	memset(o, 0, sizeof(*o));
	stop = 0;
	ticks = 0;
	ev_init();
	ev_timer_start(&tick, 10, on_tick);
	ev_timer_start(&guard, 10000, on_guard);
	sp = spawn_start(argv, input, inlen, timeout_ms, on_done, o, err,
	    sizeof(err));
	CHECK(sp != NULL);
	CHECK(o->done == 0);		/* never from spawn_start */
	if (sp != NULL)
		ev_run(&stop);
	ev_timer_stop(&tick);
	ev_timer_stop(&guard);
	ev_once(0);			/* the deferred frees */
	ev_shutdown();
	return sp;
}

/* zombies - children of ours in state Z, from /proc */
static int
zombies(void)
{
	char path[64], line[512], *p;
	struct dirent *d;
	int n = 0;
	DIR *dir;
	FILE *fp;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%.20s/stat", d->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), fp) && (p = strrchr(line, ')')) &&
		    p[1] == ' ' && p[2] == 'Z' &&
		    strtol(p + 4, NULL, 10) == (long)getpid())
			n++;
		fclose(fp);
	}
	closedir(dir);
	return n;
}

/* Exit codes come back; stdout and stderr kept apart; stdin delivered. */
TEST(spawn_exit_codes_and_output)
{
	struct outcome o;

	run("cat; echo oops >&2; exit 3", "hello\n", 6, 5000, &o);
	CHECK(o.done == 1);
	CHECK(o.r.exited == 1 && o.r.status == 3 && !o.r.timed_out);
	CHECK_STR(o.r.out, "hello\n");
	CHECK_STR(o.r.err, "oops\n");
	run("exit 0", NULL, 0, 5000, &o);
	CHECK(o.done == 1 && o.r.exited && o.r.status == 0);
	run("kill -TERM $$", NULL, 0, 5000, &o);
	CHECK(o.done == 1 && !o.r.exited && o.r.status == SIGTERM);
	CHECK(spawn_live() == 0);
	CHECK(zombies() == 0);
}

/* The child's environment is PATH alone; our own variables stay ours. */
TEST(spawn_environment_is_minimal)
{
	struct outcome o;

	setenv("AUTHGUARD_SECRET_TEST", "x", 1);
	run("env", NULL, 0, 5000, &o);
	CHECK(o.done == 1 && o.r.status == 0);
	/* the shell adds PWD of its own; nothing else is there */
	CHECK(strstr(o.r.out, SPAWN_PATH "\n") != NULL);
	CHECK(strstr(o.r.out, "AUTHGUARD_SECRET_TEST") == NULL);
	CHECK(strstr(o.r.out, "HOME=") == NULL);
	unsetenv("AUTHGUARD_SECRET_TEST");
}

/*
 * A descriptor of the daemon's without close-on-exec (hiredis's socket is
 * one) stays out of the child: it has 0, 1 and 2 only.
 */
TEST(spawn_other_descriptors_stay_out)
{
	struct outcome o;
	int fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */

	CHECK(fd > 2);
	run("cd /proc/self/fd && for f in *; do [ \"$f\" -gt 2 ] && "
	    "[ -e \"$f\" ] && echo \"open $f\"; done; exit 0", NULL, 0, 5000,
	    &o);
	CHECK(o.done == 1 && o.r.exited && o.r.status == 0);
	CHECK(strstr(o.r.out, "open ") == NULL);
	if (strstr(o.r.out, "open "))
		fprintf(stderr, "# child: %s", o.r.out);
	close(fd);
}

/* A child that never reads a 64 KiB input: no block; its end is told. */
TEST(spawn_unread_input_does_not_block)
{
	static char big[64 * 1024];
	struct outcome o;

	memset(big, 'm', sizeof(big));
	run("exec 0<&-; sleep 0.3; exit 7", big, sizeof(big), 5000, &o);
	CHECK(o.done == 1 && o.r.exited && o.r.status == 7);
	CHECK(ticks >= 10);		/* the loop ran while it slept */
	run("sleep 0.3; exit 0", big, sizeof(big), 5000, &o);
	CHECK(o.done == 1 && o.r.exited && o.r.status == 0);
	run("wc -c", big, sizeof(big), 5000, &o);	/* all of it, in pieces */
	CHECK(o.done == 1 && strtol(o.r.out, NULL, 10) == (long)sizeof(big));
	CHECK(zombies() == 0);
}

/* A child past its timeout: killed, reaped, no zombie; the loop went on. */
TEST(spawn_timeout_kills_and_reaps)
{
	struct outcome o;

	run("echo started; sleep 30", NULL, 0, 300, &o);
	CHECK(o.done == 1 && o.r.timed_out);
	CHECK(!o.r.exited && o.r.status == SIGKILL);
	CHECK_STR(o.r.out, "started\n");
	CHECK(ticks >= 20);
	CHECK(spawn_live() == 0);
	CHECK(zombies() == 0);
}

/* A flood on stdout and stderr: the child ends, SPAWN_KEEP bytes kept. */
TEST(spawn_flood_is_bounded)
{
	struct outcome o;

	run("head -c 4000000 /dev/zero | tr '\\0' a; "
	    "head -c 1000000 /dev/zero | tr '\\0' b >&2; exit 1", NULL, 0,
	    10000, &o);
	CHECK(o.done == 1 && o.r.exited && o.r.status == 1);
	CHECK(o.r.outlen == SPAWN_KEEP && o.r.errlen == SPAWN_KEEP);
	CHECK(o.r.out[0] == 'a' && o.r.out[SPAWN_KEEP] == 0);
	CHECK(o.r.err[SPAWN_KEEP - 1] == 'b');
}

/* No program: an error at once, and no callback. */
TEST(spawn_missing_program)
{
	char *argv[] = {"/nonexistent/sendmail", NULL};
	char *rel[] = {"sendmail", NULL};
	struct outcome o;
	char err[256];

	memset(&o, 0, sizeof(o));
	ev_init();
	CHECK(spawn_start(argv, "x", 1, 1000, on_done, &o, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/sendmail") != NULL);
	CHECK(spawn_start(rel, "x", 1, 1000, on_done, &o, err,
	    sizeof(err)) == NULL);
	CHECK(o.done == 0 && spawn_live() == 0);
	ev_shutdown();
}

/* A cancelled child is killed and reaped without a callback. */
TEST(spawn_cancel_reaps_quietly)
{
	char *argv[] = {"/bin/sleep", "30", NULL};
	struct outcome o;
	char err[256];
	struct spawn *sp;
	int i;

	memset(&o, 0, sizeof(o));
	ev_init();
	sp = spawn_start(argv, NULL, 0, 60000, on_done, &o, err, sizeof(err));
	CHECK(sp != NULL);
	if (sp != NULL)
		spawn_cancel(sp);
	for (i = 0; i < 200 && spawn_live() > 0; i++)
		ev_once(10);
	CHECK(spawn_live() == 0 && o.done == 0);
	CHECK(zombies() == 0);
	sp = spawn_start(argv, NULL, 0, 60000, on_done, &o, err, sizeof(err));
	spawn_shutdown();
	CHECK(spawn_live() == 0 && o.done == 0 && zombies() == 0);
	ev_once(0);
	ev_shutdown();
}
