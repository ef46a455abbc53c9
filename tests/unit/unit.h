/*++
/* NAME
/*	unit 3h
/* SUMMARY
/*	minimal unit test registry
/* DESCRIPTION
/*	TEST(name) { ... CHECK(cond); ... } registers a test; the
/*	runner prints "ok - name" or "not ok - name: where what" for
/*	each, as tests/run.sh counts them.
/*
/*	unit_fixture(name) reads tests/fixtures/NAME below the source tree
/*	($AUTHGUARD_TOP, else the current directory), the texts captured
/*	from the real programs; the caller frees it. A file that cannot be
/*	read fails the test and gives an empty string.
/*--*/
#ifndef AUTHGUARD_UNIT_H
#define AUTHGUARD_UNIT_H

#include <string.h>

void	unit_register(const char *, void (*)(void));
void	unit_fail(const char *, int, const char *);
char	*unit_fixture(const char *);

#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void reg_##name(void) \
	{ unit_register(#name, name); } \
	static void name(void)

#define CHECK(c) do { if (!(c)) unit_fail(__FILE__, __LINE__, #c); } while (0)
#define CHECK_STR(a, b) CHECK((a) != NULL && strcmp((a), (b)) == 0)

#endif
