/* Tests of the one-entry exercise, through hmm_range_fault. */
#include "testlib.h"

#define NPAGES 4

struct world {
    struct mm_struct *mm;
    unsigned long addr, pfns[NPAGES];
    struct mmu_interval_notifier n;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, NPAGES * PAGE_SIZE);
    ck_assert_int_eq(mmu_interval_notifier_insert(&w->n, w->mm, w->addr, NPAGES * PAGE_SIZE,
                                                  &sim_test_seq_only_ops), 0);
}

/* One pass of hmm_range_fault with these flags; -EBUSY is returned as is. */
static int walk(struct world *w, unsigned long default_flags)
{
    struct hmm_range r = { .notifier = &w->n, .start = w->addr,
                           .end = w->addr + NPAGES * PAGE_SIZE, .hmm_pfns = w->pfns,
                           .default_flags = default_flags };
    int ret;

    r.notifier_seq = mmu_interval_read_begin(&w->n);
    mmap_read_lock(w->mm);
    ret = hmm_range_fault(&r);
    mmap_read_unlock(w->mm);
    return ret;
}

static unsigned long cpu_pfn(struct world *w, int i)
{
    return pte_pfn(sim_pte_get(w->mm, w->addr + i * PAGE_SIZE));
}

START_TEST(flags_of_cpu_entries)
{
    ck_assert_uint_eq(pte_to_hmm_pfn_flags(0), 0);
    ck_assert_uint_eq(pte_to_hmm_pfn_flags(pfn_pte(0x1234, _PAGE_PRESENT)), HMM_PFN_VALID);
    ck_assert_uint_eq(pte_to_hmm_pfn_flags(pfn_pte(0x1234, _PAGE_PRESENT | _PAGE_RW)),
                      HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert_uint_eq(pte_to_hmm_pfn_flags(pfn_pte(0x1234, _PAGE_PROTNONE)), 0);
    ck_assert_uint_eq(pte_to_hmm_pfn_flags(swp_entry_to_pte(swp_entry(SIM_SWP_NONE, 5))), 0);
}
END_TEST

/* A snapshot of a mixed range: empty, zero page, written. */
START_TEST(snapshot_of_mixed_entries)
{
    struct world w;
    char c;

    world_init(&w);
    ck_assert_int_eq(sim_read(w.mm, w.addr + PAGE_SIZE, &c, 1), 0);
    ck_assert_int_eq(sim_write(w.mm, w.addr + 2 * PAGE_SIZE, "x", 1), 0);
    for (int i = 0; i < NPAGES; i++)
        w.pfns[i] = 0xdead;                 /* inputs without REQ_FAULT are overwritten */
    ck_assert_int_eq(walk(&w, 0), 0);
    ck_assert_uint_eq(w.pfns[0], 0);
    ck_assert_uint_eq(w.pfns[1], cpu_pfn(&w, 1) | HMM_PFN_VALID);
    ck_assert(is_zero_pfn(w.pfns[1] & ~HMM_PFN_FLAGS));
    ck_assert_uint_eq(w.pfns[2], cpu_pfn(&w, 2) | HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert_uint_eq(w.pfns[3], 0);
    ck_assert_ptr_eq(hmm_pfn_to_page(w.pfns[2]), pfn_to_page(cpu_pfn(&w, 2)));
    mmu_interval_notifier_remove(&w.n);
    mmput(w.mm);
}
END_TEST

/* Faulting for reading: every page comes back valid. */
START_TEST(read_fault_makes_everything_valid)
{
    struct world w;

    world_init(&w);
    ck_assert_int_eq(walk(&w, HMM_PFN_REQ_FAULT), 0);
    for (int i = 0; i < NPAGES; i++) {
        ck_assert_uint_eq(w.pfns[i], cpu_pfn(&w, i) | HMM_PFN_VALID);
        ck_assert(is_zero_pfn(cpu_pfn(&w, i)));
    }
    mmu_interval_notifier_remove(&w.n);
    mmput(w.mm);
}
END_TEST

/* Faulting for writing: every page gets a writable frame of its own. */
START_TEST(write_fault_makes_everything_writable)
{
    struct world w;

    world_init(&w);
    ck_assert_int_eq(walk(&w, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE), 0);
    for (int i = 0; i < NPAGES; i++) {
        ck_assert_uint_eq(w.pfns[i], cpu_pfn(&w, i) | HMM_PFN_VALID | HMM_PFN_WRITE);
        ck_assert(!is_zero_pfn(cpu_pfn(&w, i)));
    }
    mmu_interval_notifier_remove(&w.n);
    mmput(w.mm);
}
END_TEST

/* A read-only entry asked for writing: the COW break invalidates the range. */
START_TEST(read_only_entry_asked_for_writing)
{
    struct world w;
    struct mm_struct *child;
    unsigned long old;
    int ret;

    world_init(&w);
    ck_assert_int_eq(sim_write(w.mm, w.addr, "x", 1), 0);
    child = sim_fork(w.mm);
    old = cpu_pfn(&w, 0);
    ck_assert_int_eq(walk(&w, 0), 0);
    ck_assert_uint_eq(w.pfns[0], old | HMM_PFN_VALID);
    ret = walk(&w, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    ck_assert_int_eq(ret, -EBUSY);
    ck_assert_int_eq(walk(&w, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE), 0);
    ck_assert_uint_ne(cpu_pfn(&w, 0), old);
    ck_assert_uint_eq(w.pfns[0], cpu_pfn(&w, 0) | HMM_PFN_VALID | HMM_PFN_WRITE);
    mmput(child);
    mmu_interval_notifier_remove(&w.n);
    mmput(w.mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("handle-pte");
    TCase *tc = sim_tcase("pte", 5);

    tcase_add_test(tc, flags_of_cpu_entries);
    tcase_add_test(tc, snapshot_of_mixed_entries);
    tcase_add_test(tc, read_fault_makes_everything_valid);
    tcase_add_test(tc, write_fault_makes_everything_writable);
    tcase_add_test(tc, read_only_entry_asked_for_writing);
    suite_add_tcase(s, tc);
    return s;
}
