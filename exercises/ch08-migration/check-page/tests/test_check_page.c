/* Tests of the pin-check exercise: the rule on its own, then inside migrations. */
#include <stdlib.h>
#include "testdev.h"

#define P PAGE_SIZE
#define M MIGRATE_PFN_MIGRATE
#define W MIGRATE_PFN_WRITE

/* A page that only the migration holds may move, whoever faulted on what. */
START_TEST(only_the_migration_holds_it)
{
    struct page *page = alloc_page(), *other = alloc_page();

    ck_assert_ptr_nonnull(page);
    ck_assert_ptr_nonnull(other);
    ck_assert(migrate_vma_check_page(page, NULL));
    ck_assert(migrate_vma_check_page(page, other));
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
    put_page(other);
}
END_TEST

/* Every reference beyond the migration's is a pin. */
START_TEST(a_pin_keeps_it)
{
    struct page *page = alloc_page();

    get_page(page);
    ck_assert(!migrate_vma_check_page(page, NULL));
    get_page(page);
    ck_assert(!migrate_vma_check_page(page, NULL));
    ck_assert_int_eq(page_ref_count(page), 3);
    put_page(page);
    put_page(page);
    put_page(page);
}
END_TEST

/* The fault page carries the fault path's reference as well: exactly two. */
START_TEST(the_fault_page)
{
    struct testdev *dev = testdev_create(2);
    struct page *page = testdev_alloc(dev);

    ck_assert(!migrate_vma_check_page(page, page));
    get_page(page);
    ck_assert(migrate_vma_check_page(page, page));
    ck_assert(!migrate_vma_check_page(page, NULL));
    get_page(page);
    ck_assert(!migrate_vma_check_page(page, page));
    put_page(page);
    put_page(page);
    unlock_page(page);
    put_page(page);
    ck_assert_int_eq(dev->page_frees, 1);
    testdev_destroy(dev);
}
END_TEST

/* A page still mapped somewhere cannot move, even when its references look right. */
START_TEST(a_mapping_keeps_it)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x31, P);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert(!migrate_vma_check_page(page, NULL));
    get_page(page);
    ck_assert(!migrate_vma_check_page(page, page));
    put_page(page);
    mmput(mm);
}
END_TEST

/* Four pages go to the device; the one pinned by someone else stays, mapped as it was,
 * and every byte is still there after. */
START_TEST(a_pinned_page_stays_in_ram)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(4);
    unsigned long addr = sim_test_map_private(mm, 4 * P), src[4], dst[4] = { 0 };
    unsigned char *buf = malloc(4 * P);
    struct page *pinned;
    pte_t pinned_pte;
    struct migrate_vma args;

    sim_fill_pattern(buf, 4 * P, 8);
    ck_assert_int_eq(sim_write(mm, addr, buf, 4 * P), 0);
    pinned = sim_test_mapped_page(mm, addr + P);
    pinned_pte = sim_pte_get(mm, addr + P);
    get_page(pinned);

    mmap_read_lock(mm);
    args = (struct migrate_vma){ .vma = vma_lookup(mm, addr), .src = src, .dst = dst,
                                 .start = addr, .end = addr + 4 * P, .pgmap_owner = dev,
                                 .flags = MIGRATE_VMA_SELECT_SYSTEM };
    ck_assert_int_eq(migrate_vma_setup(&args), 0);
    ck_assert_uint_eq(args.cpages, 3);
    ck_assert_uint_eq(src[1], 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), pinned_pte);
    for (int i = 0; i < 4; i++) {
        struct page *spage = migrate_pfn_to_page(src[i]), *dpage;

        if (!(src[i] & M))
            continue;
        ck_assert_uint_eq(src[i] & W, W);
        dpage = testdev_alloc(dev);
        memcpy(sim_page_address(dpage), sim_page_address(spage), P);
        dst[i] = migrate_pfn(page_to_pfn(dpage)) | W;
    }
    migrate_vma_pages(&args);
    migrate_vma_finalize(&args);
    mmap_read_unlock(mm);

    ck_assert_uint_eq(sim_pte_get(mm, addr + P), pinned_pte);
    ck_assert_int_eq(page_ref_count(pinned), 2);
    for (int i = 0; i < 4; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);

        if (i == 1)
            continue;
        ck_assert(is_swap_pte(pte));
        ck_assert(is_writable_device_private_entry(pte_to_swp_entry(pte)));
    }
    put_page(pinned);
    memset(buf, 0, 4 * P);
    ck_assert_int_eq(sim_read(mm, addr, buf, 4 * P), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(buf, 4 * P, 8), 4 * P);
    ck_assert_int_eq(dev->migrations, 3);
    free(buf);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

/* What a migrate_to_ram handler does: the page the CPU faulted on is locked and
 * referenced by the fault path, and still moves. */
START_TEST(the_fault_page_moves_home)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(2);
    unsigned long addr = sim_test_map_private(mm, P), src = 0, dst = 0;
    struct page *dpage, *rpage;
    struct migrate_vma args;

    sim_test_memset(mm, addr, 0x4d, P);
    dpage = testdev_move_to_device(dev, mm, addr);
    mmap_read_lock(mm);
    get_page(dpage);                            /* what the fault path holds */
    lock_page(dpage);
    args = (struct migrate_vma){ .vma = vma_lookup(mm, addr), .src = &src, .dst = &dst,
                                 .start = addr, .end = addr + P, .pgmap_owner = dev,
                                 .flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
                                 .fault_page = dpage };
    ck_assert_int_eq(migrate_vma_setup(&args), 0);
    ck_assert_uint_eq(args.cpages, 1);
    ck_assert_uint_eq(src, migrate_pfn(page_to_pfn(dpage)) | M | W);
    rpage = alloc_page();
    lock_page(rpage);
    memcpy(sim_page_address(rpage), sim_page_address(dpage), P);
    dst = migrate_pfn(page_to_pfn(rpage)) | W;
    migrate_vma_pages(&args);
    ck_assert_uint_eq(src & M, M);
    migrate_vma_finalize(&args);
    unlock_page(dpage);
    put_page(dpage);
    mmap_read_unlock(mm);

    ck_assert_int_eq(dev->page_frees, 1);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(rpage), _PAGE_PRESENT | _PAGE_RW));
    sim_test_expect_bytes(mm, addr, 0x4d, P);
    ck_assert_int_eq(dev->migrations, 0);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("check-page");
    TCase *tc = sim_tcase("check", 5);

    tcase_add_test(tc, only_the_migration_holds_it);
    tcase_add_test(tc, a_pin_keeps_it);
    tcase_add_test(tc, the_fault_page);
    tcase_add_test(tc, a_mapping_keeps_it);
    tcase_add_test(tc, a_pinned_page_stays_in_ram);
    tcase_add_test(tc, the_fault_page_moves_home);
    suite_add_tcase(s, tc);
    return s;
}
