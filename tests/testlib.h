/* Shared helpers of the workbook's Check suites. */
#ifndef HMMWB_TESTLIB_H
#define HMMWB_TESTLIB_H

#include <check.h>
#include "hmmwb.h"

/* Each tests/chNN_*.c defines the suite its program runs. */
Suite *test_suite(void);

/* A test case with the suite's conventions: a timeout (seconds) and a teardown that
 * runs the invariant checker and demands that every frame handed out came back. */
TCase *sim_tcase(const char *name, double timeout);

/* The teardown itself, for suites that build their own fixtures. */
void sim_test_teardown(void);

#endif
