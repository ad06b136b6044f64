/* Tests of the fault-decision exercise. */
#include "testlib.h"

#define F HMM_PFN_REQ_FAULT
#define W HMM_PFN_REQ_WRITE
#define NF HMM_NEED_FAULT
#define NW (HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT)

static const unsigned long reqs[] = { 0, F, F | W };
static const unsigned long cpus[] = { 0, HMM_PFN_VALID, HMM_PFN_VALID | HMM_PFN_WRITE };

/* expected[request][cpu] for an effective request of none, read, write */
static const unsigned int expected[3][3] = {
    { 0, 0, 0 },
    { NF, 0, 0 },
    { NW, NW, 0 },
};

static int class_of(unsigned long req)
{
    return !(req & F) ? 0 : (req & W) ? 2 : 1;
}

/* Every default, mask and input against every CPU state. */
START_TEST(every_combination)
{
    for (int d = 0; d < 3; d++)
        for (int m = 0; m < 3; m++)
            for (int in = 0; in < 3; in++)
                for (int c = 0; c < 3; c++) {
                    struct hmm_range r = { .default_flags = reqs[d], .pfn_flags_mask = reqs[m] };
                    int cls = class_of((reqs[in] & reqs[m]) | reqs[d]);

                    ck_assert_msg(hmm_pte_need_fault(&r, reqs[in], cpus[c]) == expected[cls][c],
                                  "default %d mask %d input %d cpu %d", d, m, in, c);
                }
}
END_TEST

/* Bits outside the request bits are ignored on input. */
START_TEST(pfn_bits_in_the_input_are_ignored)
{
    struct hmm_range r = { .pfn_flags_mask = ~0UL };

    ck_assert_uint_eq(hmm_pte_need_fault(&r, 0x12345, 0), 0);
    ck_assert_uint_eq(hmm_pte_need_fault(&r, 0x12345 | F, HMM_PFN_VALID), 0);
    ck_assert_uint_eq(hmm_pte_need_fault(&r, 0x12345 | F, 0), NF);
}
END_TEST

START_TEST(range_ors_the_pages)
{
    unsigned long pfns[4] = { 0, F, 0, F | W };
    struct hmm_range r = { .pfn_flags_mask = F | W };

    ck_assert_uint_eq(hmm_range_need_fault(&r, pfns, 1, 0), 0);
    ck_assert_uint_eq(hmm_range_need_fault(&r, pfns, 2, 0), NF);
    ck_assert_uint_eq(hmm_range_need_fault(&r, pfns, 4, HMM_PFN_VALID), NW);
    ck_assert_uint_eq(hmm_range_need_fault(&r, pfns, 4, HMM_PFN_VALID | HMM_PFN_WRITE), 0);
}
END_TEST

/* Neither defaults nor mask admit REQ_FAULT: no page is even looked at. */
START_TEST(snapshot_range_never_looks)
{
    struct hmm_range r = { .pfn_flags_mask = W };

    ck_assert_uint_eq(hmm_range_need_fault(&r, NULL, 1000, 0), 0);
}
END_TEST

/* Through hmm_range_fault: read-fault three pages and write-fault only the middle one. */
START_TEST(one_writable_page_through_the_walk)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * PAGE_SIZE), pfns[3] = { 0, W, 0 };
    struct mmu_interval_notifier n;
    struct hmm_range r = { .notifier = &n, .start = addr, .end = addr + 3 * PAGE_SIZE,
                           .hmm_pfns = pfns, .default_flags = F, .pfn_flags_mask = W };

    int ret;

    /* A read of page 2 makes the table of PTEs exist, so the walk answers entry by entry
     * (a range without a table is one hole, faulted whole with its strongest request). */
    ck_assert_int_eq(sim_read(mm, addr + 2 * PAGE_SIZE, &ret, 1), 0);
    ck_assert_int_eq(mmu_interval_notifier_insert(&n, mm, addr, 3 * PAGE_SIZE, &sim_test_seq_only_ops), 0);
    /* The write fault replaces a zero page, which invalidates the range: -EBUSY, and the
     * caller starts over with its requests filled in again, as a driver would. */
    do {
        pfns[0] = pfns[2] = 0;
        pfns[1] = W;
        r.notifier_seq = mmu_interval_read_begin(&n);
        mmap_read_lock(mm);
        ret = hmm_range_fault(&r);
        mmap_read_unlock(mm);
    } while (ret == -EBUSY);
    ck_assert_int_eq(ret, 0);
    ck_assert_uint_eq(pfns[0] & HMM_PFN_FLAGS, HMM_PFN_VALID);
    ck_assert_uint_eq(pfns[1] & HMM_PFN_FLAGS, HMM_PFN_VALID | HMM_PFN_WRITE);
    /* The write fault for page 1 covers the rest of its segment, as in the kernel: page 2
     * was write-faulted too, and so comes back writable. */
    ck_assert_uint_eq(pfns[2] & HMM_PFN_FLAGS, HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert(is_zero_pfn(pfns[0] & ~HMM_PFN_FLAGS));
    ck_assert(!is_zero_pfn(pfns[1] & ~HMM_PFN_FLAGS));
    mmu_interval_notifier_remove(&n);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("need-fault");
    TCase *tc = sim_tcase("need-fault", 5);

    tcase_add_test(tc, every_combination);
    tcase_add_test(tc, pfn_bits_in_the_input_are_ignored);
    tcase_add_test(tc, range_ors_the_pages);
    tcase_add_test(tc, snapshot_range_never_looks);
    tcase_add_test(tc, one_writable_page_through_the_walk);
    suite_add_tcase(s, tc);
    return s;
}
