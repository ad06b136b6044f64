/* Tests of the owner-check exercise. */
#include "testdev.h"

#define P PAGE_SIZE

struct world {
    struct mm_struct *mm;
    struct testdev *dev;
    unsigned long addr;
    struct page *dpage;
};

static void world_init(struct world *w)
{
    w->mm = sim_mm_create();
    w->dev = testdev_create(2);
    w->addr = sim_test_map_private(w->mm, P);
    sim_test_memset(w->mm, w->addr, 0x3c, P);
    w->dpage = testdev_move_to_device(w->dev, w->mm, w->addr);
}

static void world_done(struct world *w)
{
    mmput(w->mm);
    testdev_destroy(w->dev);
}

static swp_entry_t entry_of(struct world *w)
{
    return pte_to_swp_entry(sim_pte_get(w->mm, w->addr));
}

static int fault_one(struct world *w, void *owner, unsigned long flags, unsigned long *pfn)
{
    struct mmu_interval_notifier mni;
    struct hmm_range range = { .notifier = &mni, .start = w->addr, .end = w->addr + P,
                               .hmm_pfns = pfn, .default_flags = flags,
                               .dev_private_owner = owner };
    int ret;

    ck_assert_int_eq(mmu_interval_notifier_insert(&mni, w->mm, w->addr, P, &sim_test_seq_only_ops), 0);
    do {
        range.notifier_seq = mmu_interval_read_begin(&mni);
        mmap_read_lock(w->mm);
        ret = hmm_range_fault(&range);
        mmap_read_unlock(w->mm);
    } while (ret == -EBUSY);
    mmu_interval_notifier_remove(&mni);
    return ret;
}

START_TEST(own_writable_page_is_valid_and_writable)
{
    struct world w;
    struct hmm_range range = { .dev_private_owner = NULL };
    unsigned long pfn = 0x1234;

    world_init(&w);
    range.dev_private_owner = w.dev;
    ck_assert(hmm_answer_device_private(&range, entry_of(&w), &pfn));
    ck_assert_uint_eq(pfn, page_to_pfn(w.dpage) | HMM_PFN_VALID | HMM_PFN_WRITE);
    world_done(&w);
}
END_TEST

START_TEST(own_readable_page_is_valid_only)
{
    struct world w;
    unsigned long pfn = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;

    world_init(&w);
    /* a change of protection makes the entry readable; changing it back does not undo it */
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, P, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(fault_one(&w, w.dev, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE, &pfn), 0);
    ck_assert_uint_eq(pfn, page_to_pfn(w.dpage) | HMM_PFN_VALID);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

START_TEST(other_owner_is_not_answered)
{
    struct world w;
    int other;
    struct hmm_range range = { .dev_private_owner = &other };
    unsigned long pfn = 0x1234;

    world_init(&w);
    ck_assert(!hmm_answer_device_private(&range, entry_of(&w), &pfn));
    ck_assert_uint_eq(pfn, 0x1234);
    world_done(&w);
}
END_TEST

START_TEST(snapshot_of_other_owner_reads_zero)
{
    struct world w;
    int other;
    unsigned long pfn = 0;

    world_init(&w);
    ck_assert_int_eq(fault_one(&w, &other, 0, &pfn), 0);
    ck_assert_uint_eq(pfn, 0);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

START_TEST(fault_from_other_owner_migrates_home)
{
    struct world w;
    int other;
    unsigned long pfn = 0;

    world_init(&w);
    ck_assert_int_eq(fault_one(&w, &other, HMM_PFN_REQ_FAULT, &pfn), 0);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert(!is_device_private_page(hmm_pfn_to_page(pfn)));
    ck_assert_ptr_eq(hmm_pfn_to_page(pfn), sim_test_mapped_page(w.mm, w.addr));
    ck_assert_int_eq(((unsigned char *)sim_page_address(hmm_pfn_to_page(pfn)))[7], 0x3c);
    world_done(&w);
}
END_TEST

START_TEST(null_owner_matches_no_device)
{
    struct world w;
    unsigned long pfn = 0;

    world_init(&w);
    ck_assert_int_eq(fault_one(&w, NULL, 0, &pfn), 0);
    ck_assert_uint_eq(pfn, 0);
    world_done(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("owner-check");
    TCase *tc = sim_tcase("owner-check", 5);

    tcase_add_test(tc, own_writable_page_is_valid_and_writable);
    tcase_add_test(tc, own_readable_page_is_valid_only);
    tcase_add_test(tc, other_owner_is_not_answered);
    tcase_add_test(tc, snapshot_of_other_owner_reads_zero);
    tcase_add_test(tc, fault_from_other_owner_migrates_home);
    tcase_add_test(tc, null_owner_matches_no_device);
    suite_add_tcase(s, tc);
    return s;
}
