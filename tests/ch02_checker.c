/* Chapter 2: the invariant checker's view of address spaces, and corrupt page-table
 * entries.  Each checker test breaks one rule by hand, expects exactly the complaint it
 * provokes, and repairs the damage before the teardown checks everything again. */
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define P PAGE_SIZE
#define BASE 0x100000000UL

/* Replace the entry for addr (creating the tables if needed); returns the old one. */
static pte_t set_pte(struct mm_struct *mm, unsigned long addr, pte_t pte)
{
    pte_t *ptep, old;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, true);
    ck_assert_ptr_nonnull(ptep);
    old = *ptep;
    *ptep = pte;
    pthread_mutex_unlock(&mm->page_table_lock);
    return old;
}

/* Change the flags of the VMA at addr behind the library's back; returns the old ones. */
static unsigned long set_vm_flags(struct mm_struct *mm, unsigned long addr,
                                  unsigned long flags)
{
    struct vm_area_struct *vma;
    unsigned long old;

    mmap_write_lock(mm);
    vma = vma_lookup(mm, addr);
    ck_assert_ptr_nonnull(vma);
    old = vma->vm_flags;
    vma->vm_flags = flags;
    mmap_write_unlock(mm);
    return old;
}

/* A type-0 swap-style entry: never written by any chapter, so corrupt everywhere. */
static pte_t bogus_entry(void)
{
    return swp_entry_to_pte(swp_entry(SIM_SWP_NONE, 0x1234));
}

/* ------------------------------------------------------------------------------------
 * The checker notices broken address spaces
 */

/* A healthy, busy set of address spaces passes. */
/* Any number of shared objects is counted, each once: 300 of them, each mapped twice
 * (the second time by a fork child), and the books balance. */
START_TEST(test_many_shared_objects_are_counted)
{
    struct mm_struct *mm = sim_mm_create(), *child;

    for (int i = 0; i < 300; i++) {
        unsigned long addr = sim_test_map_shared(mm, P);

        sim_test_memset(mm, addr, (unsigned char)i, P);
    }
    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(child);
    mmput(mm);
}
END_TEST

START_TEST(test_checker_passes_healthy_state)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long priv = sim_test_map_private(mm, 4 * P);
    unsigned long shared = sim_test_map_shared(mm, 4 * P);

    sim_test_memset(mm, priv, 1, 3 * P);
    sim_test_expect_bytes(mm, priv + 3 * P, 0, P);
    sim_test_memset(mm, shared, 2, 4 * P);
    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    sim_test_expect_bytes(child, shared, 2, 2 * P);
    ck_assert_int_eq(sim_mprotect(mm, priv, P, PROT_NONE), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(sim_check_address_spaces(), 0);
    mmput(child);
    mmput(mm);
}
END_TEST

/* A VMA whose end is not page aligned. */
START_TEST(test_checker_flags_unaligned_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct vm_area_struct *vma;

    mmap_write_lock(mm);
    vma = vma_lookup(mm, addr);
    vma->vm_end += 1;
    mmap_write_unlock(mm);
    ck_assert_int_eq(sim_check_invariants(), 1);
    mmap_write_lock(mm);
    vma->vm_end -= 1;
    mmap_write_unlock(mm);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A VMA count that disagrees with the list. */
START_TEST(test_checker_flags_wrong_map_count)
{
    struct mm_struct *mm = sim_mm_create();

    sim_test_map_private(mm, P);
    mmap_write_lock(mm);
    mm->map_count++;
    mmap_write_unlock(mm);
    ck_assert_int_eq(sim_check_invariants(), 1);
    mmap_write_lock(mm);
    mm->map_count--;
    mmap_write_unlock(mm);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A writable entry in a VMA without VM_WRITE. */
START_TEST(test_checker_flags_writable_entry_in_read_only_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P), flags;

    sim_test_memset(mm, addr, 3, P);
    flags = set_vm_flags(mm, addr, VM_READ);
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_vm_flags(mm, addr, flags);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A protnone entry in a readable VMA. */
START_TEST(test_checker_flags_protnone_entry_in_readable_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P), flags;

    sim_test_memset(mm, addr, 4, P);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_NONE), 0);
    flags = set_vm_flags(mm, addr, VM_READ);
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_vm_flags(mm, addr, flags);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A writable mapping of the zero page. */
START_TEST(test_checker_flags_writable_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    pte_t pte;

    sim_test_expect_bytes(mm, addr, 0, P);
    pte = sim_pte_get(mm, addr);
    ck_assert(is_zero_pfn(pte_pfn(pte)));
    set_pte(mm, addr, pte | _PAGE_RW);
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_pte(mm, addr, pte);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* An entry that maps a free frame, and one that maps a pfn with no frame at all. */
START_TEST(test_checker_flags_entry_to_free_or_missing_frame)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page = alloc_page();
    unsigned long pfn;

    ck_assert_ptr_nonnull(page);
    pfn = page_to_pfn(page);
    put_page(page);
    set_pte(mm, addr, pfn_pte(pfn, _PAGE_PRESENT));
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_pte(mm, addr, pfn_pte(SIM_RAM_START_PFN + sim_nr_ram_pages() + 5, _PAGE_PRESENT));
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_pte(mm, addr, 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* An entry outside every VMA. */
START_TEST(test_checker_flags_entry_outside_vmas)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);

    sim_test_expect_bytes(mm, addr, 0, P);
    set_pte(mm, BASE, sim_pte_get(mm, addr));
    ck_assert_int_eq(sim_check_invariants(), 1);
    set_pte(mm, BASE, 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A map count that disagrees with the entries mapping the frame. */
START_TEST(test_checker_flags_wrong_mapcount)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 5, P);
    page = sim_test_mapped_page(mm, addr);
    get_page(page);
    atomic_fetch_add(&page->_mapcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_fetch_sub(&page->_mapcount, 1);
    put_page(page);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A reference count below the mappings plus the shared object's own reference. */
START_TEST(test_checker_flags_refcount_below_holders)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 6, P);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_int_eq(page_ref_count(page), 2);
    atomic_fetch_sub(&page->_refcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_fetch_add(&page->_refcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Corrupt entries: chapter 2 writes no non-present entry, so any it finds is a bug that
 * it reports with one warning per encounter, without crashing.
 */

/* A CPU access to a corrupt entry is SIGBUS: -EFAULT, buffer and entry unchanged, one
 * warning each time. */
START_TEST(test_corrupt_entry_faults_with_sigbus)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P), warnings;
    char buf[8] = "intact";

    set_pte(mm, addr, bogus_entry());
    warnings = sim_warn_count();
    ck_assert_int_eq(sim_read(mm, addr, buf, sizeof(buf)), -EFAULT);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_str_eq(buf, "intact");
    ck_assert_int_eq(sim_write(mm, addr + 5, buf, 1), -EFAULT);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    ck_assert_uint_eq(sim_pte_get(mm, addr), bogus_entry());
    mmap_read_lock(mm);
    ck_assert_uint_eq(handle_mm_fault(vma_lookup(mm, addr), addr, 0), VM_FAULT_SIGBUS);
    mmap_read_unlock(mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    /* The neighbouring page works as usual. */
    sim_test_memset(mm, addr + P, 7, P);
    set_pte(mm, addr, 0);
    sim_test_expect_bytes(mm, addr, 0, P);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* munmap of a corrupt entry clears it with one warning. */
START_TEST(test_corrupt_entry_zapped_with_warning)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P), warnings;

    sim_test_memset(mm, addr + P, 8, P);
    set_pte(mm, addr, bogus_entry());
    warnings = sim_warn_count();
    ck_assert_int_eq(sim_munmap(mm, addr, 2 * P), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* fork does not copy a corrupt entry: one warning, and the child has no entry there. */
START_TEST(test_corrupt_entry_not_copied_by_fork)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, 2 * P), warnings;

    sim_test_memset(mm, addr + P, 9, P);
    set_pte(mm, addr, bogus_entry());
    warnings = sim_warn_count();
    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_uint_eq(sim_pte_get(child, addr), 0);
    sim_test_expect_bytes(child, addr + P, 9, P);
    set_pte(mm, addr, 0);
    mmput(child);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch02_checker");
    TCase *tc;

    tc = sim_tcase("checker", 5);
    tcase_add_test(tc, test_many_shared_objects_are_counted);
    tcase_add_test(tc, test_checker_passes_healthy_state);
    tcase_add_test(tc, test_checker_flags_unaligned_vma);
    tcase_add_test(tc, test_checker_flags_wrong_map_count);
    tcase_add_test(tc, test_checker_flags_writable_entry_in_read_only_vma);
    tcase_add_test(tc, test_checker_flags_protnone_entry_in_readable_vma);
    tcase_add_test(tc, test_checker_flags_writable_zero_page);
    tcase_add_test(tc, test_checker_flags_entry_to_free_or_missing_frame);
    tcase_add_test(tc, test_checker_flags_entry_outside_vmas);
    tcase_add_test(tc, test_checker_flags_wrong_mapcount);
    tcase_add_test(tc, test_checker_flags_refcount_below_holders);
    suite_add_tcase(s, tc);

    tc = sim_tcase_unchecked("corrupt_entries", 5);
    tcase_add_test(tc, test_corrupt_entry_faults_with_sigbus);
    tcase_add_test(tc, test_corrupt_entry_zapped_with_warning);
    tcase_add_test(tc, test_corrupt_entry_not_copied_by_fork);
    suite_add_tcase(s, tc);
    return s;
}
