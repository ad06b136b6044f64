/* Tests of the table-shrinking exercise: after an erase, the device page table holds
 * exactly the tables its remaining entries need, as an xarray does. */
#include <stdlib.h>
#include "testlib.h"

#define TOP ((1UL << 36) - 1)         /* the largest virtual page number */
#define ENTRY(k) ((uintptr_t)0x1000 * ((k) % 1000 + 1) | DPT_TAG_WRITE)

/* Tables reachable from table (at level), counting it. */
static unsigned long count_tables(const uintptr_t *table, int level)
{
    unsigned long n = 1;

    for (int slot = 0; level && slot < 512; slot++)
        if (table[slot])
            n += count_tables((const uintptr_t *)table[slot], level - 1);
    return n;
}

static unsigned long tables(const struct dmirror_pt *pt)
{
    return pt->root ? count_tables(pt->root, DPT_LEVELS - 1) : 0;
}

/* The tables a set of entries needs: one top table, and one table per distinct prefix
 * of the virtual page numbers at each lower level. */
static unsigned long tables_needed(const unsigned long *keys, const bool *live, int n)
{
    unsigned long total = 0;

    for (int level = DPT_LEVELS - 1; level >= 0; level--) {
        int shift = 9 * (level + 1);

        for (int i = 0; i < n; i++) {
            bool first = live[i];

            for (int j = 0; first && j < i; j++)
                if (live[j] && keys[j] >> shift == keys[i] >> shift)
                    first = false;
            total += first;
        }
    }
    return total;
}

START_TEST(erasing_everything_frees_every_table)
{
    struct dmirror_pt pt = { NULL };
    unsigned long keys[] = { 0, 1, 511, 512, 0x12345, 1UL << 27, TOP - 1, TOP };

    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_int_eq(dpt_store(&pt, keys[i], ENTRY(i)), 0);
    ck_assert_uint_gt(tables(&pt), 4);
    dpt_erase_range(&pt, 0, TOP);
    ck_assert_ptr_null(pt.root);
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_uint_eq(dpt_load(&pt, keys[i]), 0);
    dpt_destroy(&pt);
}
END_TEST

/* Erasing one of two neighbours keeps the four tables the other needs, and it. */
START_TEST(a_table_with_entries_stays)
{
    struct dmirror_pt pt = { NULL };

    ck_assert_int_eq(dpt_store(&pt, 7, ENTRY(7)), 0);
    ck_assert_int_eq(dpt_store(&pt, 8, ENTRY(8)), 0);
    dpt_erase_range(&pt, 8, 8);
    ck_assert_uint_eq(tables(&pt), 4);
    ck_assert_uint_eq(dpt_load(&pt, 7), ENTRY(7));
    ck_assert_uint_eq(dpt_load(&pt, 8), 0);
    dpt_destroy(&pt);
}
END_TEST

/* Two entries under different top-level slots: erasing one frees its three lower
 * tables and clears its top-level slot; the other's branch is whole. */
START_TEST(an_emptied_branch_goes_its_sibling_stays)
{
    struct dmirror_pt pt = { NULL };
    unsigned long far = 5UL << 27;

    ck_assert_int_eq(dpt_store(&pt, 3, ENTRY(3)), 0);
    ck_assert_int_eq(dpt_store(&pt, far, ENTRY(far)), 0);
    ck_assert_uint_eq(tables(&pt), 7);
    dpt_erase_range(&pt, 0, 511);
    ck_assert_uint_eq(tables(&pt), 4);
    ck_assert_ptr_null((void *)pt.root[0]);
    ck_assert_ptr_nonnull((void *)pt.root[5]);
    ck_assert_uint_eq(dpt_load(&pt, far), ENTRY(far));
    dpt_destroy(&pt);
}
END_TEST

START_TEST(stores_after_an_erase_work)
{
    struct dmirror_pt pt = { NULL };

    ck_assert_int_eq(dpt_store(&pt, 100, ENTRY(100)), 0);
    dpt_erase_range(&pt, 0, TOP);
    ck_assert_ptr_null(pt.root);
    ck_assert_int_eq(dpt_store(&pt, 100, ENTRY(101)), 0);
    ck_assert_uint_eq(dpt_load(&pt, 100), ENTRY(101));
    ck_assert_uint_eq(tables(&pt), 4);
    dpt_destroy(&pt);
    ck_assert_ptr_null(pt.root);
}
END_TEST

#define NKEYS 200

/* Random stores and erases: after each erase the table count is exactly what the live
 * entries need, and every live entry loads back. */
START_TEST(tables_match_the_entries_at_every_step)
{
    struct dmirror_pt pt = { NULL };
    unsigned long keys[NKEYS], rng = 0x2545F4914F6CDD1DUL;
    bool live[NKEYS] = { false };

    for (int i = 0; i < NKEYS; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        /* clustered keys, so that tables are shared and emptied partly */
        keys[i] = ((rng % 4) << 27) | (((rng >> 8) % 3) << 18) | (((rng >> 16) % 4) << 9) |
                  ((rng >> 40) & 511);
    }
    for (int round = 0; round < 40; round++) {
        for (int k = 0; k < 10; k++) {
            int i = (round * 37 + k * 11) % NKEYS;

            ck_assert_int_eq(dpt_store(&pt, keys[i], ENTRY(keys[i])), 0);
            live[i] = true;
        }
        unsigned long first = keys[(round * 7) % NKEYS], last = first + (round % 5) * 400;

        dpt_erase_range(&pt, first, last);
        for (int i = 0; i < NKEYS; i++)
            if (keys[i] >= first && keys[i] <= last)
                live[i] = false;
        ck_assert_uint_eq(tables(&pt), tables_needed(keys, live, NKEYS));
        for (int i = 0; i < NKEYS; i++)
            if (live[i])
                ck_assert_uint_eq(dpt_load(&pt, keys[i]), ENTRY(keys[i]));
    }
    dpt_destroy(&pt);
}
END_TEST

/* An erase of a range with no entry frees nothing, not even tables it could reach. */
START_TEST(a_range_that_misses_frees_nothing)
{
    struct dmirror_pt pt = { NULL };

    ck_assert_int_eq(dpt_store(&pt, 1000, ENTRY(1000)), 0);
    ck_assert_int_eq(dpt_store(&pt, 3UL << 27, ENTRY(3)), 0);
    dpt_erase_range(&pt, 2000, 3000);
    dpt_erase_range(&pt, 1UL << 27, (2UL << 27) + 5);
    ck_assert_uint_eq(tables(&pt), 7);
    ck_assert_uint_eq(dpt_load(&pt, 1000), ENTRY(1000));
    ck_assert_uint_eq(dpt_load(&pt, 3UL << 27), ENTRY(3));
    dpt_destroy(&pt);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("table-shrink");
    TCase *tc = sim_tcase("shrink", 5);

    tcase_add_test(tc, erasing_everything_frees_every_table);
    tcase_add_test(tc, a_table_with_entries_stays);
    tcase_add_test(tc, an_emptied_branch_goes_its_sibling_stays);
    tcase_add_test(tc, stores_after_an_erase_work);
    tcase_add_test(tc, tables_match_the_entries_at_every_step);
    tcase_add_test(tc, a_range_that_misses_frees_nothing);
    suite_add_tcase(s, tc);
    return s;
}
