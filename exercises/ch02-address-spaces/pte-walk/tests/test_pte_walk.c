/* Tests of the page-table walk exercise. */
#include <string.h>
#include "testlib.h"

#define BASE 0x40000000UL       /* 1 GiB: a PGD, PUD and PMD boundary */

static pte_t *walk(struct mm_struct *mm, unsigned long addr, bool alloc)
{
    pte_t *pte;

    pthread_mutex_lock(&mm->page_table_lock);
    pte = sim_pte_offset(mm, addr, alloc);
    pthread_mutex_unlock(&mm->page_table_lock);
    return pte;
}

START_TEST(missing_table_without_alloc_is_null)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_ptr_null(walk(mm, BASE, false));
    mmput(mm);
}
END_TEST

START_TEST(alloc_gives_an_empty_stable_slot)
{
    struct mm_struct *mm = sim_mm_create();
    pte_t *pte = walk(mm, BASE, true);

    ck_assert_ptr_nonnull(pte);
    ck_assert_uint_eq(*pte, 0);
    ck_assert_ptr_eq(walk(mm, BASE, true), pte);
    ck_assert_ptr_eq(walk(mm, BASE, false), pte);
    mmput(mm);
}
END_TEST

/* Nine bits a level: neighbouring pages share a table, slots in address order. */
START_TEST(neighbours_share_a_table)
{
    struct mm_struct *mm = sim_mm_create();
    pte_t *first = walk(mm, BASE, true);

    ck_assert_ptr_eq(walk(mm, BASE + PAGE_SIZE, false), first + 1);
    ck_assert_ptr_eq(walk(mm, BASE + 511 * PAGE_SIZE, false), first + 511);
    ck_assert_ptr_eq(walk(mm, BASE + 17 * PAGE_SIZE + 123, false), first + 17);
    mmput(mm);
}
END_TEST

/* The next 2 MiB needs a table of its own; so does the next 1 GiB and the next 512 GiB. */
START_TEST(each_level_indexes_its_own_bits)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long far[] = { BASE + PMD_SIZE, BASE + (1UL << PUD_SHIFT),
                            BASE + (1UL << PGDIR_SHIFT) };
    pte_t *first = walk(mm, BASE, true);

    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_null(walk(mm, far[i], false));
        pte_t *pte = walk(mm, far[i], true);
        ck_assert_ptr_nonnull(pte);
        ck_assert_ptr_ne(pte, first);
        *pte = 0x1000 * (i + 1);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(*walk(mm, far[i], false), 0x1000 * (i + 1));
    ck_assert_uint_eq(*first, 0);
    for (int i = 0; i < 3; i++)
        *walk(mm, far[i], false) = 0;
    mmput(mm);
}
END_TEST

/* The slot the walk finds is the entry the fault handler filled in. */
START_TEST(walk_finds_the_faulted_entry)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = sim_mmap(mm, 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS);
    pte_t *pte;

    ck_assert_int_eq(sim_write(mm, addr + PAGE_SIZE, "x", 1), 0);
    pte = walk(mm, addr + PAGE_SIZE, false);
    ck_assert_ptr_nonnull(pte);
    ck_assert(pte_present(*pte) && pte_write(*pte));
    ck_assert_uint_eq(*pte, sim_pte_get(mm, addr + PAGE_SIZE));
    ck_assert_uint_eq(*walk(mm, addr, true), 0);
    mmput(mm);
}
END_TEST

/* Data written across a 2 MiB boundary reads back: two PTE tables, one buffer. */
START_TEST(data_round_trip_across_tables)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = sim_mmap(mm, BASE - 2 * PAGE_SIZE, 4 * PAGE_SIZE,
                         PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    char out[3 * PAGE_SIZE], in[3 * PAGE_SIZE];

    ck_assert_int_eq(addr, (long)(BASE - 2 * PAGE_SIZE));
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (char)(i * 7 + 3);
    ck_assert_int_eq(sim_write(mm, addr + 100, out, sizeof(out)), 0);
    ck_assert_int_eq(sim_read(mm, addr + 100, in, sizeof(in)), 0);
    ck_assert_int_eq(memcmp(in, out, sizeof(in)), 0);
    ck_assert_ptr_ne(walk(mm, BASE - PAGE_SIZE, false) + 1, walk(mm, BASE, false));
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("pte-walk");
    TCase *tc = sim_tcase("walk", 5);

    tcase_add_test(tc, missing_table_without_alloc_is_null);
    tcase_add_test(tc, alloc_gives_an_empty_stable_slot);
    tcase_add_test(tc, neighbours_share_a_table);
    tcase_add_test(tc, each_level_indexes_its_own_bits);
    tcase_add_test(tc, walk_finds_the_faulted_entry);
    tcase_add_test(tc, data_round_trip_across_tables);
    suite_add_tcase(s, tc);
    return s;
}
