/*++
/* NAME
/*	test_netaddr 1
/* SUMMARY
/*	unit tests: canonical address forms
/*--*/
#include "unit.h"
