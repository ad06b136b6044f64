/* Tests of the selection exercise: one entry at a time, then a whole collect step. */
#include <stdlib.h>
#include "testdev.h"

#define P PAGE_SIZE
#define SYS MIGRATE_VMA_SELECT_SYSTEM
#define DEV MIGRATE_VMA_SELECT_DEVICE_PRIVATE
#define M MIGRATE_PFN_MIGRATE
#define W MIGRATE_PFN_WRITE

static struct page poison;          /* what *pagep holds before a call */

static struct migrate_vma args_for(struct mm_struct *mm, unsigned long addr,
                                   unsigned long flags, void *owner)
{
    return (struct migrate_vma){ .vma = vma_lookup(mm, addr), .start = addr,
                                 .end = addr + P, .pgmap_owner = owner, .flags = flags };
}

/* migrate_vma_select for the entry at addr of mm; *pagep starts as the poison. */
static unsigned long select_at(struct mm_struct *mm, unsigned long addr, unsigned long flags,
                               void *owner, struct page **pagep)
{
    struct migrate_vma args = args_for(mm, addr, flags, owner);

    *pagep = &poison;
    return migrate_vma_select(&args, sim_pte_get(mm, addr), pagep);
}

/* An empty entry of private anonymous memory is a hole, whichever pages are selected. */
START_TEST(holes_in_private_memory)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *page;
    int owner;

    sim_test_memset(mm, addr + P, 0x11, P);       /* a page table exists for addr too */
    ck_assert_uint_eq(select_at(mm, addr, SYS, &owner, &page), M);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, DEV, &owner, &page), M);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, SYS | DEV, NULL, &page), M);
    ck_assert_ptr_null(page);
    mmput(mm);
}
END_TEST

/* A page of RAM: its pfn, MIGRATE, and WRITE exactly when its entry is writable. */
START_TEST(pages_of_ram)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long rw = sim_test_map_private(mm, P), ro = sim_test_map_private(mm, P);
    struct page *page, *rw_page, *ro_page;
    int owner;

    sim_test_memset(mm, rw, 0x22, P);
    sim_test_memset(mm, ro, 0x33, P);
    ck_assert_int_eq(sim_mprotect(mm, ro, P, PROT_READ), 0);
    rw_page = sim_test_mapped_page(mm, rw);
    ro_page = sim_test_mapped_page(mm, ro);
    ck_assert_uint_eq(select_at(mm, rw, SYS, &owner, &page),
                      migrate_pfn(page_to_pfn(rw_page)) | M | W);
    ck_assert_ptr_eq(page, rw_page);
    ck_assert_uint_eq(select_at(mm, ro, SYS | DEV, &owner, &page),
                      migrate_pfn(page_to_pfn(ro_page)) | M);
    ck_assert_ptr_eq(page, ro_page);
    /* Selecting is only looking: nothing was taken. */
    ck_assert_int_eq(page_ref_count(rw_page), 1);
    ck_assert_int_eq(page_mapcount(rw_page), 1);
    mmput(mm);
}
END_TEST

/* The zero page has nothing to copy: a hole when system pages are selected, else 0. */
START_TEST(the_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;
    char x;
    int owner;

    ck_assert_int_eq(sim_read(mm, addr, &x, 1), 0);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert_uint_eq(select_at(mm, addr, SYS, &owner, &page), M);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, DEV, &owner, &page), 0);
    ck_assert_ptr_null(page);
    mmput(mm);
}
END_TEST

/* Pages of RAM move only when system pages are selected. */
START_TEST(ram_needs_select_system)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;
    int owner;

    sim_test_memset(mm, addr, 0x44, P);
    ck_assert_uint_eq(select_at(mm, addr, DEV, &owner, &page), 0);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, 0, &owner, &page), 0);
    ck_assert_ptr_null(page);
    mmput(mm);
}
END_TEST

/* Shared memory moves nowhere: neither its holes nor its pages. */
START_TEST(shared_memory_stays)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 2 * P);
    struct page *page;
    int owner;

    sim_test_memset(mm, addr, 0x55, P);
    ck_assert_uint_eq(select_at(mm, addr, SYS, &owner, &page), 0);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr + P, SYS, &owner, &page), 0);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr + P, DEV, &owner, &page), 0);
    ck_assert_ptr_null(page);
    mmput(mm);
}
END_TEST

/* A device page of the caller's owner comes back with its pfn, WRITE from its entry. */
START_TEST(device_pages_of_the_owner)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(4);
    unsigned long rw = sim_test_map_private(mm, P), ro = sim_test_map_private(mm, P);
    struct page *page, *rw_page, *ro_page;

    sim_test_memset(mm, rw, 0x66, P);
    sim_test_memset(mm, ro, 0x77, P);
    ck_assert_int_eq(sim_mprotect(mm, ro, P, PROT_READ), 0);
    rw_page = testdev_move_to_device(dev, mm, rw);
    ro_page = testdev_move_to_device(dev, mm, ro);
    ck_assert_uint_eq(select_at(mm, rw, DEV, dev, &page),
                      migrate_pfn(page_to_pfn(rw_page)) | M | W);
    ck_assert_ptr_eq(page, rw_page);
    ck_assert_uint_eq(select_at(mm, ro, DEV | SYS, dev, &page),
                      migrate_pfn(page_to_pfn(ro_page)) | M);
    ck_assert_ptr_eq(page, ro_page);
    ck_assert_int_eq(page_ref_count(rw_page), 1);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

/* Another owner's device page, a device page without SELECT_DEVICE_PRIVATE, and a
 * migration entry (someone else's migration) all give 0. */
START_TEST(everything_else_stays)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(2);
    unsigned long addr = sim_test_map_private(mm, P);
    struct migrate_vma args;
    struct page *page, *dpage;
    int other;

    sim_test_memset(mm, addr, 0x12, P);
    dpage = testdev_move_to_device(dev, mm, addr);
    ck_assert_uint_eq(select_at(mm, addr, DEV, &other, &page), 0);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, DEV, NULL, &page), 0);
    ck_assert_ptr_null(page);
    ck_assert_uint_eq(select_at(mm, addr, SYS, dev, &page), 0);
    ck_assert_ptr_null(page);
    args = args_for(mm, addr, SYS | DEV, dev);
    page = &poison;
    ck_assert_uint_eq(migrate_vma_select(&args, swp_entry_to_pte(
                          make_writable_migration_entry(page_to_pfn(dpage))), &page), 0);
    ck_assert_ptr_null(page);
    page = &poison;
    ck_assert_uint_eq(migrate_vma_select(&args, swp_entry_to_pte(
                          make_readable_migration_entry(SIM_RAM_START_PFN)), &page), 0);
    ck_assert_ptr_null(page);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

/* The whole collect step, twice over one range: hole, zero page, page, device page, page,
 * hole.  With the migration given no destinations, every entry comes back as it was. */
START_TEST(setup_collects_by_the_rule)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(2);
    unsigned long addr = sim_test_map_private(mm, 6 * P), src[6], dst[6] = { 0 };
    pte_t before[6];
    struct page *p2, *p4, *dpage;
    struct migrate_vma args;
    char x;

    ck_assert_int_eq(sim_read(mm, addr + P, &x, 1), 0);
    sim_test_memset(mm, addr + 2 * P, 0x21, 3 * P);
    dpage = testdev_move_to_device(dev, mm, addr + 3 * P);
    p2 = sim_test_mapped_page(mm, addr + 2 * P);
    p4 = sim_test_mapped_page(mm, addr + 4 * P);
    for (int i = 0; i < 6; i++)
        before[i] = sim_pte_get(mm, addr + i * P);

    mmap_read_lock(mm);
    args = (struct migrate_vma){ .vma = vma_lookup(mm, addr), .src = src, .dst = dst,
                                 .start = addr, .end = addr + 6 * P, .pgmap_owner = dev,
                                 .flags = SYS };
    ck_assert_int_eq(migrate_vma_setup(&args), 0);
    ck_assert_uint_eq(args.npages, 6);
    ck_assert_uint_eq(args.cpages, 5);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(src[1], M);
    ck_assert_uint_eq(src[2], migrate_pfn(page_to_pfn(p2)) | M | W);
    ck_assert_uint_eq(src[3], 0);
    ck_assert_uint_eq(src[4], migrate_pfn(page_to_pfn(p4)) | M | W);
    ck_assert_uint_eq(src[5], M);
    ck_assert(is_migration_entry(pte_to_swp_entry(sim_pte_get(mm, addr + 2 * P))));
    ck_assert_uint_eq(sim_pte_get(mm, addr + 3 * P), before[3]);
    migrate_vma_pages(&args);
    migrate_vma_finalize(&args);

    args = (struct migrate_vma){ .vma = vma_lookup(mm, addr), .src = src, .dst = dst,
                                 .start = addr, .end = addr + 6 * P, .pgmap_owner = dev,
                                 .flags = DEV };
    ck_assert_int_eq(migrate_vma_setup(&args), 0);
    ck_assert_uint_eq(args.cpages, 3);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(src[1], 0);
    ck_assert_uint_eq(src[2], 0);
    ck_assert_uint_eq(src[3], migrate_pfn(page_to_pfn(dpage)) | M | W);
    ck_assert_uint_eq(src[4], 0);
    ck_assert_uint_eq(src[5], M);
    migrate_vma_pages(&args);
    migrate_vma_finalize(&args);
    mmap_read_unlock(mm);

    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(sim_pte_get(mm, addr + i * P), before[i]);
    sim_test_expect_bytes(mm, addr + 2 * P, 0x21, 3 * P);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("migrate-select");
    TCase *tc = sim_tcase("select", 5);

    tcase_add_test(tc, holes_in_private_memory);
    tcase_add_test(tc, pages_of_ram);
    tcase_add_test(tc, the_zero_page);
    tcase_add_test(tc, ram_needs_select_system);
    tcase_add_test(tc, shared_memory_stays);
    tcase_add_test(tc, device_pages_of_the_owner);
    tcase_add_test(tc, everything_else_stays);
    tcase_add_test(tc, setup_collects_by_the_rule);
    suite_add_tcase(s, tc);
    return s;
}
