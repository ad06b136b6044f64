/* Tests of the MAP_POPULATE extension. */
#include "testlib.h"

#define N 16
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static long map(struct mm_struct *mm, unsigned long len, int prot, int flags)
{
    return sim_mmap(mm, 0, len, prot, flags);
}

static int count_present(struct mm_struct *mm, unsigned long addr, unsigned long n)
{
    int present = 0;

    for (unsigned long i = 0; i < n; i++)
        present += pte_present(sim_pte_get(mm, addr + i * PAGE_SIZE));
    return present;
}

START_TEST(private_writable_gets_its_own_frames)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long in_use = sim_nr_pages_in_use(), pfns[N];
    long addr = map(mm, N * PAGE_SIZE, RW, ANON | MAP_POPULATE);

    ck_assert_int_gt(addr, 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use + N);
    for (int i = 0; i < N; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * PAGE_SIZE);

        ck_assert_msg(pte_present(pte) && pte_write(pte), "page %d not populated writable", i);
        pfns[i] = pte_pfn(pte);
        ck_assert_uint_ne(pfns[i], page_to_pfn(sim_zero_page()));
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(pfns[i], pfns[j]);
    }
    sim_test_expect_bytes(mm, addr, 0, N * PAGE_SIZE);
    mmput(mm);
}
END_TEST

START_TEST(private_read_only_maps_the_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long in_use = sim_nr_pages_in_use();
    long addr = map(mm, N * PAGE_SIZE, PROT_READ, ANON | MAP_POPULATE);

    ck_assert_int_gt(addr, 0);
    for (int i = 0; i < N; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * PAGE_SIZE);

        ck_assert_msg(pte_present(pte), "page %d not populated", i);
        ck_assert(!pte_write(pte));
        ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(sim_zero_page()));
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);
    mmput(mm);
}
END_TEST

START_TEST(without_the_flag_nothing_is_populated)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map(mm, N * PAGE_SIZE, RW, ANON);

    ck_assert_int_gt(addr, 0);
    ck_assert_int_eq(count_present(mm, addr, N), 0);
    mmput(mm);
}
END_TEST

START_TEST(unknown_flags_are_still_refused)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_int_eq(map(mm, PAGE_SIZE, RW, ANON | MAP_POPULATE | MAP_GROWSDOWN), -EINVAL);
    ck_assert_int_eq(map(mm, PAGE_SIZE, RW, MAP_PRIVATE | MAP_POPULATE), -EINVAL);
    ck_assert_int_eq(map(mm, 0, RW, ANON | MAP_POPULATE), -EINVAL);
    mmput(mm);
}
END_TEST

START_TEST(shared_memory_is_populated)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map(mm, N * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE);

    ck_assert_int_gt(addr, 0);
    ck_assert_int_eq(count_present(mm, addr, N), N);
    sim_test_memset(mm, addr, 0x3c, N * PAGE_SIZE);
    sim_test_expect_bytes(mm, addr, 0x3c, N * PAGE_SIZE);
    mmput(mm);
}
END_TEST

START_TEST(prot_none_is_not_populated)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long in_use = sim_nr_pages_in_use();
    long addr = map(mm, N * PAGE_SIZE, PROT_NONE, ANON | MAP_POPULATE);

    ck_assert_int_gt(addr, 0);
    ck_assert_int_eq(count_present(mm, addr, N), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);
    mmput(mm);
}
END_TEST

/* With RAM for 64 frames, populating 128 pages fills what it can, from the start, and
 * the mapping is still returned. */
START_TEST(out_of_memory_still_returns_the_mapping)
{
    struct mm_struct *mm;
    long addr;
    int present;

    ck_assert_int_eq(sim_ram_configure(64), 0);
    mm = sim_mm_create();
    addr = map(mm, 128 * PAGE_SIZE, RW, ANON | MAP_POPULATE);
    ck_assert_int_gt(addr, 0);
    present = count_present(mm, addr, 128);
    ck_assert_int_gt(present, 0);
    ck_assert_int_lt(present, 128);
    ck_assert_int_eq(count_present(mm, addr, present), present);
    ck_assert_ptr_nonnull(vma_lookup(mm, addr + 127 * PAGE_SIZE));
    mmput(mm);
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("map-populate");
    TCase *tc = sim_tcase("populate", 5);

    tcase_add_test(tc, private_writable_gets_its_own_frames);
    tcase_add_test(tc, private_read_only_maps_the_zero_page);
    tcase_add_test(tc, without_the_flag_nothing_is_populated);
    tcase_add_test(tc, unknown_flags_are_still_refused);
    tcase_add_test(tc, shared_memory_is_populated);
    tcase_add_test(tc, prot_none_is_not_populated);
    tcase_add_test(tc, out_of_memory_still_returns_the_mapping);
    suite_add_tcase(s, tc);
    return s;
}
