/*++
/* NAME
/*	test_accounts 1
/* SUMMARY
/*	unit tests: the accounts_map flags and how the map fails
/*--*/
#include "unit.h"
