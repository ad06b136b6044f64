/* Tests of the copy-on-write exercise. */
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIVATE (MAP_PRIVATE | MAP_ANONYMOUS)

struct family {
    struct mm_struct *parent, *child;
    long addr;
};

/* A parent with "old" written at addr, and a child forked from it. */
static struct family fork_with_data(int flags)
{
    struct family f = { .parent = sim_mm_create() };

    f.addr = sim_mmap(f.parent, 0, 2 * PAGE_SIZE, RW, flags);
    ck_assert_int_eq(sim_write(f.parent, f.addr, "old", 4), 0);
    f.child = sim_fork(f.parent);
    ck_assert(!IS_ERR(f.child));
    return f;
}

static void read_str(struct mm_struct *mm, long addr, char *buf)
{
    ck_assert_int_eq(sim_read(mm, addr, buf, 4), 0);
}

START_TEST(parent_write_is_private)
{
    struct family f = fork_with_data(PRIVATE);
    char buf[4];

    ck_assert_int_eq(sim_write(f.parent, f.addr, "new", 4), 0);
    read_str(f.parent, f.addr, buf);
    ck_assert_str_eq(buf, "new");
    read_str(f.child, f.addr, buf);
    ck_assert_str_eq(buf, "old");
    mmput(f.child);
    mmput(f.parent);
}
END_TEST

START_TEST(child_write_is_private)
{
    struct family f = fork_with_data(PRIVATE);
    char buf[4];

    ck_assert_int_eq(sim_write(f.child, f.addr, "kid", 4), 0);
    read_str(f.parent, f.addr, buf);
    ck_assert_str_eq(buf, "old");
    read_str(f.child, f.addr, buf);
    ck_assert_str_eq(buf, "kid");
    mmput(f.parent);
    mmput(f.child);
}
END_TEST

/* The copy is a new frame; the mapping moves off the old one. */
START_TEST(copy_moves_one_mapping)
{
    struct family f = fork_with_data(PRIVATE);
    unsigned long old_pfn = pte_pfn(sim_pte_get(f.parent, f.addr)), new_pfn;
    struct page *old = pfn_to_page(old_pfn);

    ck_assert_int_eq(page_mapcount(old), 2);
    ck_assert_int_eq(page_ref_count(old), 2);
    ck_assert_int_eq(sim_write(f.parent, f.addr, "new", 4), 0);
    new_pfn = pte_pfn(sim_pte_get(f.parent, f.addr));
    ck_assert_uint_ne(new_pfn, old_pfn);
    ck_assert(pte_write(sim_pte_get(f.parent, f.addr)));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(f.child, f.addr)), old_pfn);
    ck_assert_int_eq(page_mapcount(old), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    ck_assert_int_eq(page_mapcount(pfn_to_page(new_pfn)), 1);
    ck_assert_int_eq(page_ref_count(pfn_to_page(new_pfn)), 1);
    mmput(f.child);
    mmput(f.parent);
}
END_TEST

/* Once the other process has its copy, the last mapper writes in place. */
START_TEST(last_mapper_reuses_its_frame)
{
    struct family f = fork_with_data(PRIVATE);
    unsigned long child_pfn = pte_pfn(sim_pte_get(f.child, f.addr));
    unsigned long in_use;

    ck_assert_int_eq(sim_write(f.parent, f.addr, "new", 4), 0);
    in_use = sim_nr_pages_in_use();
    ck_assert_int_eq(sim_write(f.child, f.addr, "kid", 4), 0);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(f.child, f.addr)), child_pfn);
    ck_assert(pte_write(sim_pte_get(f.child, f.addr)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);
    mmput(f.child);
    mmput(f.parent);
}
END_TEST

/* Writing over the zero page gives a private frame and leaves the zero page zero. */
START_TEST(zero_page_write_gets_a_private_frame)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = sim_mmap(mm, 0, 2 * PAGE_SIZE, RW, PRIVATE);
    char buf[4] = "xyz";

    ck_assert_int_eq(sim_read(mm, addr, buf, 4), 0);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert_int_eq(sim_write(mm, addr, "new", 4), 0);
    ck_assert(!is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert_int_eq(sim_read(mm, addr + PAGE_SIZE, buf, 4), 0);
    ck_assert_int_eq(memcmp(buf, "\0\0\0\0", 4), 0);
    ck_assert_int_eq(memcmp(sim_page_address(sim_zero_page()), "\0\0\0\0", 4), 0);
    mmput(mm);
}
END_TEST

/* Shared memory is never copied: back to read-write, its entry is writable at once (Linux
 * rewrites it with the shared VMA's protection), and a write lands in the shared frame. */
START_TEST(shared_memory_is_written_in_place)
{
    struct family f = fork_with_data(MAP_SHARED | MAP_ANONYMOUS);
    unsigned long pfn = pte_pfn(sim_pte_get(f.parent, f.addr));
    char buf[4];

    ck_assert_int_eq(sim_mprotect(f.parent, f.addr, PAGE_SIZE, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(f.parent, f.addr, PAGE_SIZE, RW), 0);
    ck_assert(pte_write(sim_pte_get(f.parent, f.addr)));
    ck_assert_int_eq(sim_write(f.parent, f.addr, "new", 4), 0);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(f.parent, f.addr)), pfn);
    read_str(f.child, f.addr, buf);
    ck_assert_str_eq(buf, "new");
    mmput(f.child);
    mmput(f.parent);
}
END_TEST

/* Out of memory during the copy: -ENOMEM, both processes keep their data. */
START_TEST(out_of_memory_changes_nothing)
{
    struct family f;
    char buf[4];

    ck_assert_int_eq(sim_ram_configure(8), 0);
    f = fork_with_data(PRIVATE);
    long filler = sim_mmap(f.parent, 0, 16 * PAGE_SIZE, RW, PRIVATE);
    for (int i = 0; i < 16 && sim_write(f.parent, filler + i * PAGE_SIZE, "f", 1) == 0; i++)
        ;
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    ck_assert_int_eq(sim_write(f.parent, f.addr, "new", 4), -ENOMEM);
    read_str(f.parent, f.addr, buf);
    ck_assert_str_eq(buf, "old");
    read_str(f.child, f.addr, buf);
    ck_assert_str_eq(buf, "old");
    mmput(f.child);
    mmput(f.parent);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cow-break");
    TCase *tc = sim_tcase("cow", 5);

    tcase_add_test(tc, parent_write_is_private);
    tcase_add_test(tc, child_write_is_private);
    tcase_add_test(tc, copy_moves_one_mapping);
    tcase_add_test(tc, last_mapper_reuses_its_frame);
    tcase_add_test(tc, zero_page_write_gets_a_private_frame);
    tcase_add_test(tc, shared_memory_is_written_in_place);
    tcase_add_test(tc, out_of_memory_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
