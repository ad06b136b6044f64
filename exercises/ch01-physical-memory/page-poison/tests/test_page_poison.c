/* Tests of the page-poisoning extension. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"

#define POISON 0xaa

/* A frame that has been freed once: allocated, written, put back. */
static struct page *freed_frame(void)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    memset(sim_page_address(page), 0x5c, PAGE_SIZE);
    put_page(page);
    return page;
}

START_TEST(freed_frame_is_poisoned)
{
    struct page *page = freed_frame();

    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(page), PAGE_SIZE, POISON),
                      PAGE_SIZE);
}
END_TEST

/* The frame comes back from the free list untouched: no warning, and zeroed. */
START_TEST(clean_reuse_is_silent)
{
    struct page *page = freed_frame(), *again;
    unsigned long warnings = sim_warn_count();

    again = alloc_page();
    ck_assert_ptr_eq(again, page);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(again), PAGE_SIZE, 0), PAGE_SIZE);
    put_page(again);
}
END_TEST

START_TEST(write_after_free_is_reported)
{
    struct page *page = freed_frame(), *again;
    unsigned long warnings = sim_warn_count();

    ((unsigned char *)sim_page_address(page))[100] = 1;
    again = alloc_page();
    ck_assert_ptr_eq(again, page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(again), PAGE_SIZE, 0), PAGE_SIZE);
    put_page(again);
    ck_assert_int_eq(sim_check_invariants(), 1);     /* the warning, nothing else */
}
END_TEST

/* Poisoning changes no count: frames still come and go as the book's allocator has it. */
START_TEST(allocator_still_balances)
{
    struct page *pages[64];
    unsigned long free_before = sim_nr_free_pages();

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 64; i++) {
            pages[i] = alloc_page();
            ck_assert_ptr_nonnull(pages[i]);
        }
        ck_assert_uint_eq(sim_nr_free_pages(), free_before - 64);
        for (int i = 0; i < 64; i++)
            put_page(pages[i]);
        ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    }
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

/* The warning names the frame and the first byte that changed, as the statement says. */
START_TEST(the_report_names_pfn_and_offset)
{
    struct page *page = freed_frame(), *again;
    char text[512], want[64];
    int pipefd[2], saved = dup(STDERR_FILENO);
    ssize_t n;

    ck_assert_int_eq(pipe(pipefd), 0);
    ((unsigned char *)sim_page_address(page))[0x123] = 0;
    ((unsigned char *)sim_page_address(page))[0x200] = 0;
    fflush(stderr);
    dup2(pipefd[1], STDERR_FILENO);
    again = alloc_page();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(pipefd[1]);
    n = read(pipefd[0], text, sizeof(text) - 1);
    close(pipefd[0]);
    text[n > 0 ? n : 0] = '\0';
    snprintf(want, sizeof(want), "pfn %#lx", page_to_pfn(page));
    ck_assert_msg(strstr(text, want), "no '%s' in the warning: %s", want, text);
    ck_assert_msg(strstr(text, "offset 0x123"), "no 'offset 0x123' in the warning: %s", text);
    put_page(again);
    ck_assert_int_eq(sim_check_invariants(), 1);     /* the warning, nothing else */
}
END_TEST

/* Many bytes changed in one frame are one report; two frames are two. */
START_TEST(one_warning_per_frame)
{
    struct page *a = alloc_page(), *b = alloc_page(), *x, *y;
    unsigned long warnings;

    put_page(a);
    put_page(b);
    memset(sim_page_address(a), 0, PAGE_SIZE);
    memset(sim_page_address(b) + 2048, 0x55, 16);
    warnings = sim_warn_count();
    x = alloc_page();
    y = alloc_page();
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    put_page(x);
    put_page(y);
    ck_assert_int_eq(sim_check_invariants(), 1);     /* the warning, nothing else */
}
END_TEST

START_TEST(last_byte_is_checked)
{
    struct page *page = freed_frame(), *again;
    unsigned long warnings = sim_warn_count();

    ((unsigned char *)sim_page_address(page))[PAGE_SIZE - 1] = POISON ^ 1;
    again = alloc_page();
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    put_page(again);
    ck_assert_int_eq(sim_check_invariants(), 1);     /* the warning, nothing else */
}
END_TEST

/* A frame never freed holds zeroes, not poison: that is no corruption. */
START_TEST(fresh_frames_are_not_checked)
{
    unsigned long warnings = sim_warn_count();
    struct page *pages[8];

    for (int i = 0; i < 8; i++)
        pages[i] = alloc_page();
    ck_assert_uint_eq(sim_warn_count(), warnings);
    for (int i = 0; i < 8; i++)
        put_page(pages[i]);
}
END_TEST

/* A frame whose host memory went back reads as zeroes: no poison, and no corruption. */
START_TEST(given_back_frames_are_not_checked)
{
    enum { N = SIM_TRIM_KEEP + SIM_TRIM_BATCH };
    static struct page *pages[N];
    unsigned long warnings, before = sim_nr_host_pages_returned();

    for (int i = 0; i < N; i++)
        pages[i] = alloc_page();
    for (int i = 0; i < N; i++)
        put_page(pages[i]);
    ck_assert_uint_gt(sim_nr_host_pages_returned(), before);
    warnings = sim_warn_count();
    for (int i = 0; i < N; i++)
        pages[i] = alloc_page();
    ck_assert_uint_eq(sim_warn_count(), warnings);
    for (int i = 0; i < N; i++)
        put_page(pages[i]);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("page-poison");
    TCase *tc = sim_tcase("poison", 5);
    TCase *warn = sim_tcase_unchecked("reports", 5);

    tcase_add_test(tc, freed_frame_is_poisoned);
    tcase_add_test(tc, clean_reuse_is_silent);
    tcase_add_test(tc, allocator_still_balances);
    tcase_add_test(tc, fresh_frames_are_not_checked);
    tcase_add_test(tc, given_back_frames_are_not_checked);
    /* These provoke the warning on purpose; each checks the books itself: the checker
     * must find exactly one problem, the warning. */
    tcase_add_test(warn, write_after_free_is_reported);
    tcase_add_test(warn, the_report_names_pfn_and_offset);
    tcase_add_test(warn, one_warning_per_frame);
    tcase_add_test(warn, last_byte_is_checked);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, warn);
    return s;
}
