/* Tests of the MADV_DONTNEED exercise. */
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)

/* An mm with npages written with the bytes 1, 2, 3 ... (one per page). */
static long map_filled(struct mm_struct *mm, int npages, int flags)
{
    long addr = sim_mmap(mm, 0, npages * PAGE_SIZE, RW, flags | MAP_ANONYMOUS);

    for (int i = 0; i < npages; i++) {
        char c = (char)(i + 1);

        ck_assert_int_eq(sim_write(mm, addr + i * PAGE_SIZE, &c, 1), 0);
    }
    return addr;
}

static char byte_at(struct mm_struct *mm, unsigned long addr)
{
    char c = 0x55;

    ck_assert_int_eq(sim_read(mm, addr, &c, 1), 0);
    return c;
}

START_TEST(private_pages_read_zero_and_are_freed)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map_filled(mm, 4, MAP_PRIVATE);

    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    ck_assert_int_eq(sim_madvise(mm, addr, 4 * PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(byte_at(mm, addr + i * PAGE_SIZE), 0);
    mmput(mm);
}
END_TEST

START_TEST(shared_pages_keep_their_data)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map_filled(mm, 3, MAP_SHARED);

    ck_assert_int_eq(sim_madvise(mm, addr, 3 * PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(byte_at(mm, addr + i * PAGE_SIZE), i + 1);
    mmput(mm);
}
END_TEST

/* Only the pages of the range go; unaligned lengths round up to whole pages. */
START_TEST(only_the_range_is_zapped)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map_filled(mm, 6, MAP_PRIVATE);

    ck_assert_int_eq(sim_madvise(mm, addr + 2 * PAGE_SIZE, PAGE_SIZE + 1, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    ck_assert_int_eq(byte_at(mm, addr + 1 * PAGE_SIZE), 2);
    ck_assert_int_eq(byte_at(mm, addr + 2 * PAGE_SIZE), 0);
    ck_assert_int_eq(byte_at(mm, addr + 3 * PAGE_SIZE), 0);
    ck_assert_int_eq(byte_at(mm, addr + 4 * PAGE_SIZE), 5);
    mmput(mm);
}
END_TEST

START_TEST(bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map_filled(mm, 2, MAP_PRIVATE);

    ck_assert_int_eq(sim_madvise(mm, addr + 1, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED + 1000), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, addr, -PAGE_SIZE, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, addr, 0, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(byte_at(mm, addr), 1);
    mmgrab(mm);
    mmput(mm);
    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
    mmdrop(mm);
}
END_TEST

/* A hole: the mapped parts on both sides are zapped, and the call reports -ENOMEM. */
START_TEST(hole_is_enomem_after_zapping)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = map_filled(mm, 3, MAP_PRIVATE);

    ck_assert_int_eq(sim_munmap(mm, addr + PAGE_SIZE, PAGE_SIZE), 0);
    ck_assert_int_eq(sim_madvise(mm, addr, 3 * PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_madvise(mm, addr + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
    mmput(mm);
}
END_TEST

/* After fork, throwing away the parent's copy leaves the child's untouched. */
START_TEST(other_process_keeps_its_pages)
{
    struct mm_struct *parent = sim_mm_create(), *child;
    long addr = map_filled(parent, 2, MAP_PRIVATE);

    child = sim_fork(parent);
    ck_assert_int_eq(sim_madvise(parent, addr, 2 * PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(byte_at(parent, addr + PAGE_SIZE), 0);
    ck_assert_int_eq(byte_at(child, addr + PAGE_SIZE), 2);
    ck_assert_int_eq(page_mapcount(pfn_to_page(pte_pfn(sim_pte_get(child, addr)))), 1);
    mmput(child);
    mmput(parent);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("dontneed");
    TCase *tc = sim_tcase("dontneed", 5);

    tcase_add_test(tc, private_pages_read_zero_and_are_freed);
    tcase_add_test(tc, shared_pages_keep_their_data);
    tcase_add_test(tc, only_the_range_is_zapped);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, hole_is_enomem_after_zapping);
    tcase_add_test(tc, other_process_keeps_its_pages);
    suite_add_tcase(s, tc);
    return s;
}
