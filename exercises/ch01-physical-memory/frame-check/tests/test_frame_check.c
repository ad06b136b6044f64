/* Tests of the frame-check exercise.  Each test damages a frame on purpose, checks the
 * exact number of broken rules, and repairs the frame before teardown. */
#include "testlib.h"

static const unsigned long buddy = 1UL << PG_buddy;
static const unsigned long locked = 1UL << PG_locked;

/* A frame freed back to the allocator: listed, PG_buddy, no counts. */
static struct page *free_frame(void)
{
    struct page *page = alloc_page();

    put_page(page);
    return page;
}

START_TEST(healthy_frame_in_use)
{
    struct page *page = alloc_page();

    ck_assert_int_eq(sim_check_frame(page, false), 0);
    atomic_store(&page->_mapcount, 1);
    ck_assert_int_eq(sim_check_frame(page, false), 0);
    atomic_store(&page->_mapcount, 0);
    put_page(page);
}
END_TEST

START_TEST(healthy_free_frame)
{
    ck_assert_int_eq(sim_check_frame(free_frame(), true), 0);
}
END_TEST

START_TEST(listed_frame_without_buddy_flag)
{
    struct page *page = free_frame();

    atomic_store(&page->flags, 0);
    ck_assert_int_eq(sim_check_frame(page, true), 1);
    atomic_store(&page->flags, buddy);
}
END_TEST

START_TEST(listed_frame_with_reference)
{
    struct page *page = free_frame();

    atomic_store(&page->_refcount, 1);
    ck_assert_int_eq(sim_check_frame(page, true), 1);
    atomic_store(&page->_refcount, 0);
}
END_TEST

START_TEST(listed_frame_locked)
{
    struct page *page = free_frame();

    atomic_store(&page->flags, buddy | locked);
    ck_assert_int_eq(sim_check_frame(page, true), 1);
    atomic_store(&page->flags, buddy);
}
END_TEST

START_TEST(unlisted_frame_with_buddy_flag)
{
    struct page *page = alloc_page();

    atomic_store(&page->flags, buddy);
    ck_assert_int_eq(sim_check_frame(page, false), 1);
    atomic_store(&page->flags, 0);
    put_page(page);
}
END_TEST

START_TEST(mapped_more_than_referenced)
{
    struct page *page = alloc_page();

    atomic_store(&page->_mapcount, 2);
    ck_assert_int_eq(sim_check_frame(page, false), 1);
    atomic_store(&page->_mapcount, 0);
    put_page(page);
}
END_TEST

START_TEST(negative_counts)
{
    struct page *page = alloc_page();

    atomic_store(&page->_mapcount, -1);
    ck_assert_int_eq(sim_check_frame(page, false), 1);
    atomic_store(&page->_mapcount, 0);
    atomic_store(&page->_refcount, -1);
    ck_assert_int_eq(sim_check_frame(page, false), 1);
    atomic_store(&page->_refcount, 1);
    put_page(page);
}
END_TEST

/* Two rules broken at once count twice: a listed frame that is mapped but has no
 * reference breaks rule 1 and rule 3. */
START_TEST(two_rules_count_twice)
{
    struct page *page = free_frame();

    atomic_store(&page->_mapcount, 1);
    ck_assert_int_eq(sim_check_frame(page, true), 2);
    atomic_store(&page->_mapcount, 0);
}
END_TEST

/* The whole checker finds a damaged frame through the exercise's function. */
START_TEST(checker_uses_the_frame_check)
{
    struct page *page = alloc_page();

    ck_assert_int_eq(sim_check_invariants(), 0);
    atomic_store(&page->_mapcount, 5);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_store(&page->_mapcount, 0);
    put_page(page);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("frame-check");
    TCase *tc = sim_tcase("frame", 5);

    tcase_add_test(tc, healthy_frame_in_use);
    tcase_add_test(tc, healthy_free_frame);
    tcase_add_test(tc, listed_frame_without_buddy_flag);
    tcase_add_test(tc, listed_frame_with_reference);
    tcase_add_test(tc, listed_frame_locked);
    tcase_add_test(tc, unlisted_frame_with_buddy_flag);
    tcase_add_test(tc, mapped_more_than_referenced);
    tcase_add_test(tc, negative_counts);
    tcase_add_test(tc, two_rules_count_twice);
    tcase_add_test(tc, checker_uses_the_frame_check);
    suite_add_tcase(s, tc);
    return s;
}
