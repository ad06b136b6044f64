/* Tests of the device-page-table exercise. */
#include <stdlib.h>
#include "testlib.h"

#define TOP ((1UL << 36) - 1)         /* the largest virtual page number */

START_TEST(empty_table_loads_nothing)
{
    struct dmirror_pt pt = { NULL };

    ck_assert_uint_eq(dpt_load(&pt, 0), 0);
    ck_assert_uint_eq(dpt_load(&pt, TOP), 0);
    ck_assert_ptr_null(pt.root);
    dpt_destroy(&pt);
}
END_TEST

START_TEST(stores_load_back)
{
    struct dmirror_pt pt = { NULL };
    unsigned long keys[] = { 0, 1, 511, 512, 0x12345, 1UL << 27, TOP - 1, TOP };

    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_int_eq(dpt_store(&pt, keys[i], 0x1000 * (i + 1) | DPT_TAG_WRITE), 0);
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_uint_eq(dpt_load(&pt, keys[i]), 0x1000 * (i + 1) | DPT_TAG_WRITE);
    ck_assert_uint_eq(dpt_load(&pt, 2), 0);
    ck_assert_uint_eq(dpt_load(&pt, 513), 0);
    ck_assert_uint_eq(dpt_load(&pt, (1UL << 27) + 1), 0);
    dpt_destroy(&pt);
    ck_assert_ptr_null(pt.root);
}
END_TEST

/* Erase is inclusive at both ends and leaves the neighbours. */
START_TEST(erase_is_exact)
{
    struct dmirror_pt pt = { NULL };

    for (unsigned long k = 500; k < 1100; k++)
        ck_assert_int_eq(dpt_store(&pt, k, k << 4), 0);
    dpt_erase_range(&pt, 510, 1030);
    for (unsigned long k = 500; k < 1100; k++)
        ck_assert_uint_eq(dpt_load(&pt, k), (k >= 510 && k <= 1030) ? 0 : k << 4);
    dpt_destroy(&pt);
}
END_TEST

/* Erasing the whole space visits only what exists (this test has a short timeout). */
START_TEST(erase_everything_quickly)
{
    struct dmirror_pt pt = { NULL };

    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(dpt_store(&pt, (unsigned long)i << 29, 0x4000 + i), 0);
    for (int round = 0; round < 100; round++)
        dpt_erase_range(&pt, 0, TOP);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(dpt_load(&pt, (unsigned long)i << 29), 0);
    dpt_destroy(&pt);
}
END_TEST

/* Through the device: a read fills the table, an munmap empties part of it. */
START_TEST(the_device_uses_it)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *dev = dmirror_device_create(0);
    struct dmirror *d = dmirror_open(dev, mm);
    unsigned long addr = sim_test_map_private(mm, 8 * PAGE_SIZE);
    char *buf = malloc(8 * PAGE_SIZE);
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = 8 };

    sim_test_memset(mm, addr, 0x3c, 8 * PAGE_SIZE);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_READ, &c), 0);
    ck_assert_uint_eq(c.cpages, 8);
    ck_assert_uint_eq(c.faults, 1);
    ck_assert_int_eq(buf[5 * PAGE_SIZE + 17], 0x3c);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_READ, &c), 0);
    ck_assert_uint_eq(c.faults, 0);
    ck_assert_int_eq(sim_madvise(mm, addr, 4 * PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_READ, &c), 0);
    ck_assert_uint_eq(c.faults, 1);
    ck_assert_int_eq(buf[0], 0);
    ck_assert_int_eq(buf[5 * PAGE_SIZE], 0x3c);
    free(buf);
    dmirror_release(d);
    dmirror_device_destroy(dev);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("device-table");
    TCase *tc = sim_tcase("table", 2);

    tcase_add_test(tc, empty_table_loads_nothing);
    tcase_add_test(tc, stores_load_back);
    tcase_add_test(tc, erase_is_exact);
    tcase_add_test(tc, erase_everything_quickly);
    tcase_add_test(tc, the_device_uses_it);
    suite_add_tcase(s, tc);
    return s;
}
