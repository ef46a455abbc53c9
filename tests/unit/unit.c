/*++
/* NAME
/*	unit 1
/* SUMMARY
/*	runs the registered unit tests
/* SYNOPSIS
/*	unit-tests [name ...]
/*--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "unit.h"
#include "util.h"

#define UNIT_MAX 512

static struct {
	const char *name;
	void	(*fn)(void);
} unit_tests[UNIT_MAX];
static int unit_count, unit_failed_now;

/* unit_register - called by TEST() constructors */
void
unit_register(const char *name, void (*fn)(void))
{
	if (unit_count == UNIT_MAX)
		abort();
	unit_tests[unit_count].name = name;
	unit_tests[unit_count++].fn = fn;
}

/* unit_fail - a CHECK did not hold */
void
unit_fail(const char *file, int line, const char *what)
{
	if (!unit_failed_now)
		printf("# %s:%d: %s\n", file, line, what);
	unit_failed_now++;
}

/* unit_fixture - the text of tests/fixtures/NAME, or "" and a failure */
char *
unit_fixture(const char *name)
{
	const char *top = getenv("AUTHGUARD_TOP");
	char path[4096], chunk[4096], *text;
	struct buf b;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
	    top && *top ? top : ".", name);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("# fixture %s: %s\n", path, strerror(errno));
		unit_fail(__FILE__, __LINE__, "fixture readable");
		return xstrdup("");
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(fp))
		unit_fail(__FILE__, __LINE__, "fixture read");
	fclose(fp);
	text = xstrdup(buf_str(&b));
	buf_free(&b);
	return text;
}

/* selected - run this test? */
static int
selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/* run_forked - one test in a child: a crash or an abort fails it alone */
static int
run_forked(int i)
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		unit_failed_now = 0;
		unit_tests[i].fn();
		fflush(stdout);
		exit(unit_failed_now ? 1 : 0);	/* LeakSanitizer looks */
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	if (WIFSIGNALED(status))
		printf("unit/%s: died with signal %d\n", unit_tests[i].name,
		    WTERMSIG(status));
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* main - run the selected tests (all without names); --fork: each in a child */
int
main(int argc, char **argv)
{
	int i, failed = 0, forked = argc > 1 && strcmp(argv[1], "--fork") == 0;
	int now;

	msg_open("unit-tests", 1);
	if (forked) {
		argc--;
		argv++;
	}
	for (i = 0; i < unit_count; i++) {
		if (!selected(unit_tests[i].name, argc, argv))
			continue;
		if (forked)
			now = run_forked(i);
		else {
			unit_failed_now = 0;
			unit_tests[i].fn();
			now = unit_failed_now;
		}
		printf("%s - unit/%s\n", now ? "not ok" : "ok",
		    unit_tests[i].name);
		fflush(stdout);
		if (now)
			failed++;
	}
	return failed ? 1 : 0;
}
