/*++
/* NAME
/*	test_longnames 1
/* SUMMARY
/*	unit tests: user names of every accepted length
/*--*/
#include "unit.h"
