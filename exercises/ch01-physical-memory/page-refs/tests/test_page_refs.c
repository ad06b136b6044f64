/* Tests of the reference-count exercise. */
#include <pthread.h>
#include "testlib.h"

START_TEST(get_page_adds_one)
{
    struct page *page = alloc_page();

    get_page(page);
    ck_assert_int_eq(page_ref_count(page), 2);
    get_page(page);
    ck_assert_int_eq(page_ref_count(page), 3);
    put_page(page);
    put_page(page);
    put_page(page);
}
END_TEST

START_TEST(put_page_drops_one_without_freeing)
{
    struct page *page = alloc_page();
    unsigned long free_before;

    get_page(page);
    free_before = sim_nr_free_pages();
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    put_page(page);
}
END_TEST

START_TEST(last_put_frees_the_frame)
{
    unsigned long free_before = sim_nr_free_pages();
    struct page *page = alloc_page();

    ck_assert_uint_eq(sim_nr_free_pages(), free_before - 1);
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

START_TEST(reserved_frame_is_never_freed)
{
    struct page *page = alloc_page();
    unsigned long free_before = sim_nr_free_pages();

    sim_page_reserve(page);
    get_page(page);
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
}
END_TEST

/* A put on a free frame must warn and must not free it a second time: the checker then
 * reports exactly one problem, the warning itself. */
START_TEST(put_on_free_frame_is_refused)
{
    struct page *page = alloc_page();
    unsigned long free_before, warnings = sim_warn_count();

    put_page(page);
    free_before = sim_nr_free_pages();
    put_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

START_TEST(get_on_free_frame_is_refused)
{
    struct page *page = alloc_page();
    unsigned long warnings = sim_warn_count();

    put_page(page);
    get_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

START_TEST(null_page_warns)
{
    unsigned long warnings = sim_warn_count();

    get_page(NULL);
    put_page(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
}
END_TEST

#define REF_THREADS 4
#define REF_ROUNDS 20000

static void *take_and_drop(void *arg)
{
    struct page *page = arg;

    for (int i = 0; i < REF_ROUNDS; i++) {
        get_page(page);
        put_page(page);
    }
    return NULL;
}

/* Lost updates from a non-atomic count show up as a final count other than 1. */
START_TEST(concurrent_references_balance)
{
    struct page *page = alloc_page();
    pthread_t threads[REF_THREADS];

    for (int i = 0; i < REF_THREADS; i++)
        pthread_create(&threads[i], NULL, take_and_drop, page);
    for (int i = 0; i < REF_THREADS; i++)
        pthread_join(threads[i], NULL);
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("page-refs");
    TCase *tc = sim_tcase("refs", 5);
    TCase *warn = tcase_create("warnings");

    tcase_add_test(tc, get_page_adds_one);
    tcase_add_test(tc, put_page_drops_one_without_freeing);
    tcase_add_test(tc, last_put_frees_the_frame);
    tcase_add_test(tc, reserved_frame_is_never_freed);
    tcase_add_test(tc, concurrent_references_balance);
    tcase_set_timeout(warn, 5);
    tcase_add_test(warn, put_on_free_frame_is_refused);
    tcase_add_test(warn, get_on_free_frame_is_refused);
    tcase_add_test(warn, null_page_warns);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, warn);
    return s;
}
