/* Tests of the restored-entry exercise: the rule on entries made by hand, then the
 * entries that CPU faults and fork leave after a real conversion. */
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define X_DIRTY SIM_SWP_EXCLUSIVE_DIRTY

/* The device-exclusive entry of page, dirty or clean. */
static pte_t exclusive_pte(struct page *page, bool dirty)
{
    swp_entry_t entry = make_device_exclusive_entry(page_to_pfn(page));

    if (dirty)
        entry.val |= X_DIRTY;
    return swp_entry_to_pte(entry);
}

/* Convert the page at addr for an anonymous device, and let it go at once: the entry
 * stays device-exclusive until something takes the page back.  Returns the page. */
static struct page *convert(struct mm_struct *mm, unsigned long addr)
{
    struct page *page;

    mmap_read_lock(mm);
    page = make_device_exclusive(mm, addr, NULL);
    mmap_read_unlock(mm);
    ck_assert(!IS_ERR(page));
    unlock_page(page);
    put_page(page);
    return page;
}

/* A writable VMA and a page that was clean: present and writable, neither young nor
 * dirty; nothing about the page changes. */
START_TEST(a_clean_page_in_a_writable_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct vm_area_struct *vma = vma_lookup(mm, addr);
    struct page *page = alloc_page();
    pte_t orig = exclusive_pte(page, false);

    ck_assert_uint_eq(sim_restore_exclusive_pte(vma, page, orig),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert(!PageLocked(page));
    ck_assert_uint_eq(vma->vm_flags & VM_ACCESS_FLAGS, VM_READ | VM_WRITE);
    put_page(page);
    mmput(mm);
}
END_TEST

/* The conversion's record of a dirty page makes the entry dirty again. */
START_TEST(a_dirty_page_in_a_writable_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page = alloc_page(), *other = alloc_page();

    ck_assert_uint_eq(sim_restore_exclusive_pte(vma_lookup(mm, addr), page,
                                                exclusive_pte(page, true)),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY));
    /* the page passed in is the one mapped, whatever pfn the entry carries */
    ck_assert_uint_eq(sim_restore_exclusive_pte(vma_lookup(mm, addr), other,
                                                exclusive_pte(page, true)),
                      pfn_pte(page_to_pfn(other), _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY));
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
    put_page(other);
    mmput(mm);
}
END_TEST

/* A VMA that cannot be written gets a read-only, clean entry, dirty page or not. */
START_TEST(a_read_only_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long ro = sim_test_mmap(mm, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    unsigned long rw = sim_test_map_private(mm, P);
    struct page *page = alloc_page();

    ck_assert_uint_eq(sim_restore_exclusive_pte(vma_lookup(mm, ro), page,
                                                exclusive_pte(page, false)),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT));
    ck_assert_uint_eq(sim_restore_exclusive_pte(vma_lookup(mm, ro), page,
                                                exclusive_pte(page, true)),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT));
    ck_assert_int_eq(sim_mprotect(mm, rw, P, PROT_READ), 0);
    ck_assert_uint_eq(sim_restore_exclusive_pte(vma_lookup(mm, rw), page,
                                                exclusive_pte(page, true)),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT));
    put_page(page);
    mmput(mm);
}
END_TEST

/* A written page converted, then read by the CPU: the fault restores it writable and
 * dirty, the read makes it young, and the page is mapped and held exactly once. */
START_TEST(a_cpu_read_after_a_write)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x3c, P);
    page = convert(mm, addr);
    ck_assert_uint_eq(sim_pte_get(mm, addr), exclusive_pte(page, true));
    sim_test_expect_bytes(mm, addr, 0x3c, P);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page),
                              _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmput(mm);
}
END_TEST

/* A page that came home from device memory is mapped writable but clean, and so is its
 * device-exclusive entry: a CPU read brings it back clean. */
START_TEST(a_clean_page_comes_back_clean)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdev = dmirror_device_create(2);
    struct dmirror *d = dmirror_open(mdev, mm);
    unsigned long addr = sim_test_map_private(mm, P);
    unsigned char buf[P];
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = 1 };
    struct page *page;

    sim_test_memset(mm, addr, 0x6b, P);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_DEV, &c), 0);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_SYS, &c), 0);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW));
    ck_assert_ptr_eq(convert(mm, addr), page);
    ck_assert_uint_eq(sim_pte_get(mm, addr), exclusive_pte(page, false));
    sim_test_expect_bytes(mm, addr, 0x6b, P);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    dmirror_release(d);
    dmirror_device_destroy(mdev);
    mmput(mm);
}
END_TEST

/* The kernel selftest exclusive_mprotect: made read-only after the conversion, the page
 * comes back read-only and clean on a read, keeps its data, and refuses a write. */
START_TEST(read_only_after_the_conversion)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *page;
    char c = 1;

    sim_test_memset(mm, addr, 0x47, 2 * P);
    page = convert(mm, addr + P);
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, PROT_READ), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), exclusive_pte(page, true));
    sim_test_expect_bytes(mm, addr + P, 0x47, P);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_ACCESSED));
    ck_assert_int_eq(sim_write(mm, addr + P, &c, 1), -EFAULT);
    sim_test_expect_bytes(mm, addr, 0x47, 2 * P);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmput(mm);
}
END_TEST

/* fork restores the parent's entry before copying it: the page, written before, is then
 * shared read-only and dirty by both; each side's write gets a page of its own. */
START_TEST(fork_restores_before_it_copies)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x15, P);
    page = convert(mm, addr);
    child = sim_fork(mm);
    ck_assert_ptr_nonnull(child);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_DIRTY));
    ck_assert_uint_eq(sim_pte_get(child, addr), sim_pte_get(mm, addr));
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 2);
    sim_test_memset(child, addr, 0x16, P);
    sim_test_expect_bytes(mm, addr, 0x15, P);
    sim_test_expect_bytes(child, addr, 0x16, P);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmput(child);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("restore-exclusive");
    TCase *tc = sim_tcase("restore", 5);

    tcase_add_test(tc, a_clean_page_in_a_writable_vma);
    tcase_add_test(tc, a_dirty_page_in_a_writable_vma);
    tcase_add_test(tc, a_read_only_vma);
    tcase_add_test(tc, a_cpu_read_after_a_write);
    tcase_add_test(tc, a_clean_page_comes_back_clean);
    tcase_add_test(tc, read_only_after_the_conversion);
    tcase_add_test(tc, fork_restores_before_it_copies);
    suite_add_tcase(s, tc);
    return s;
}
