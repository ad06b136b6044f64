/* Chapter 1: physical memory. */
#include "testlib.h"

START_TEST(test_alloc_page_is_zeroed_and_referenced)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch01_physical_memory");
    TCase *tc = sim_tcase("alloc", 5);

    tcase_add_test(tc, test_alloc_page_is_zeroed_and_referenced);
    suite_add_tcase(s, tc);
    return s;
}
