/* Shared helpers of the workbook's Check suites. */
#include "testlib.h"

void sim_test_teardown(void)
{
    ck_assert_msg(sim_check_invariants() == 0,
                  "the invariant checker found problems (see stderr)");
    ck_assert_msg(sim_nr_pages_in_use() == 0, "%lu frames still in use at teardown",
                  sim_nr_pages_in_use());
}

TCase *sim_tcase(const char *name, double timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    tcase_add_checked_fixture(tc, NULL, sim_test_teardown);
    return tc;
}
