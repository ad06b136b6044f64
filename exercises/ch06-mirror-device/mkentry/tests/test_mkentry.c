/* Tests of the permission-byte exercise: direct answers and whole snapshots. */
#include <stdlib.h>
#include "testlib.h"

#define ORDER(o) ((unsigned long)(o) << HMM_PFN_ORDER_SHIFT)

/* Any pfn of RAM will do for an ordinary page: the encoding does not look at it. */
static const unsigned long normal = SIM_RAM_START_PFN + 7;
#define zero page_to_pfn(sim_zero_page())

static void boot(void)
{
    ck_assert_uint_gt(sim_nr_ram_pages(), 7);
}

START_TEST(errors_and_absent_pages)
{
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_ERROR), HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_ERROR | HMM_PFN_VALID | normal),
                      HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(dmirror_mkentry(NULL, 0), HMM_DMIRROR_PROT_NONE);
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_WRITE | normal), HMM_DMIRROR_PROT_NONE);
}
END_TEST

START_TEST(ordinary_pages)
{
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | normal), HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | HMM_PFN_WRITE | normal),
                      HMM_DMIRROR_PROT_WRITE);
}
END_TEST

START_TEST(the_zero_page)
{
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | zero),
                      HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
}
END_TEST

START_TEST(huge_mappings)
{
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | ORDER(9) | normal),
                      HMM_DMIRROR_PROT_READ | HMM_DMIRROR_PROT_PMD);
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | HMM_PFN_WRITE | ORDER(18) | normal),
                      HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_PUD);
    ck_assert_uint_eq(dmirror_mkentry(NULL, HMM_PFN_VALID | ORDER(3) | normal),
                      HMM_DMIRROR_PROT_READ);
}
END_TEST

/* A whole snapshot through the device: hole, read-only, writable, zero, empty. */
START_TEST(snapshot_through_the_device)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *dev = dmirror_device_create(0);
    struct dmirror *d = dmirror_open(dev, mm);
    unsigned long addr = sim_test_map_private(mm, 5 * PAGE_SIZE);
    unsigned char perm[5];
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)perm, .npages = 5 };
    char x;

    sim_test_memset(mm, addr + PAGE_SIZE, 1, 2 * PAGE_SIZE);
    ck_assert_int_eq(sim_mprotect(mm, addr + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
    ck_assert_int_eq(sim_read(mm, addr + 3 * PAGE_SIZE, &x, 1), 0);
    ck_assert_int_eq(sim_munmap(mm, addr + 4 * PAGE_SIZE, PAGE_SIZE), 0);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_SNAPSHOT, &c), 0);
    ck_assert_uint_eq(c.cpages, 5);
    ck_assert_uint_eq(perm[0], HMM_DMIRROR_PROT_NONE);
    ck_assert_uint_eq(perm[1], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(perm[2], HMM_DMIRROR_PROT_WRITE);
    ck_assert_uint_eq(perm[3], HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(perm[4], HMM_DMIRROR_PROT_ERROR);
    dmirror_release(d);
    dmirror_device_destroy(dev);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mkentry");
    TCase *tc = sim_tcase("mkentry", 5);

    tcase_add_checked_fixture(tc, boot, NULL);

    tcase_add_test(tc, errors_and_absent_pages);
    tcase_add_test(tc, ordinary_pages);
    tcase_add_test(tc, the_zero_page);
    tcase_add_test(tc, huge_mappings);
    tcase_add_test(tc, snapshot_through_the_device);
    suite_add_tcase(s, tc);
    return s;
}
