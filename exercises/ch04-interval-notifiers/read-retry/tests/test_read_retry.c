/* Tests of the sequence-helper exercise. */
#include <pthread.h>
#include "testlib.h"

struct driver {
    struct mmu_interval_notifier notifier;
    pthread_mutex_t lock;
    unsigned long seen_seq;
    int calls;
};

static bool drv_invalidate(struct mmu_interval_notifier *sub,
                           const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct driver *d = (struct driver *)sub;

    (void)range;
    pthread_mutex_lock(&d->lock);
    mmu_interval_set_seq(sub, cur_seq);
    d->seen_seq = cur_seq;
    d->calls++;
    pthread_mutex_unlock(&d->lock);
    return true;
}

static const struct mmu_interval_notifier_ops drv_ops = { .invalidate = drv_invalidate };

static struct mm_struct *mm_with_driver(struct driver *d, unsigned long *addr)
{
    struct mm_struct *mm = sim_mm_create();

    *addr = sim_test_map_private(mm, 4 * PAGE_SIZE);
    sim_test_memset(mm, *addr, 1, 4 * PAGE_SIZE);
    memset(d, 0, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&d->notifier, mm, *addr, 2 * PAGE_SIZE,
                                                  &drv_ops), 0);
    return mm;
}

START_TEST(set_seq_records_the_number)
{
    struct driver d;
    unsigned long addr;
    struct mm_struct *mm = mm_with_driver(&d, &addr);

    mmu_interval_set_seq(&d.notifier, 7);
    ck_assert_uint_eq(d.notifier.invalidate_seq, 7);
    mmu_interval_set_seq(&d.notifier, 1);
    mmu_interval_notifier_remove(&d.notifier);
    mmput(mm);
}
END_TEST

START_TEST(no_invalidation_no_retry)
{
    struct driver d;
    unsigned long addr;
    struct mm_struct *mm = mm_with_driver(&d, &addr);
    unsigned long seq = mmu_interval_read_begin(&d.notifier);

    ck_assert(!mmu_interval_check_retry(&d.notifier, seq));
    ck_assert(!mmu_interval_read_retry(&d.notifier, seq));
    ck_assert_int_eq(sim_madvise(mm, addr + 2 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert(!mmu_interval_read_retry(&d.notifier, seq));
    ck_assert_int_eq(d.calls, 0);
    mmu_interval_notifier_remove(&d.notifier);
    mmput(mm);
}
END_TEST

/* An invalidation of the range between read_begin and the check forces a retry. */
START_TEST(invalidation_forces_retry)
{
    struct driver d;
    unsigned long addr;
    struct mm_struct *mm = mm_with_driver(&d, &addr);
    unsigned long seq = mmu_interval_read_begin(&d.notifier);

    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(d.calls, 1);
    ck_assert(d.seen_seq & 1);
    ck_assert(mmu_interval_check_retry(&d.notifier, seq));
    pthread_mutex_lock(&d.lock);
    ck_assert(mmu_interval_read_retry(&d.notifier, seq));
    pthread_mutex_unlock(&d.lock);
    seq = mmu_interval_read_begin(&d.notifier);
    ck_assert_uint_eq(seq, d.seen_seq);
    ck_assert(!mmu_interval_read_retry(&d.notifier, seq));
    mmu_interval_notifier_remove(&d.notifier);
    mmput(mm);
}
END_TEST

/* The chapter's race, on one thread: snapshot, full invalidation, check. */
START_TEST(stale_snapshot_is_caught)
{
    struct driver d;
    unsigned long addr;
    struct mm_struct *mm = mm_with_driver(&d, &addr);
    unsigned long seq = mmu_interval_read_begin(&d.notifier);
    pte_t snapshot = sim_pte_get(mm, addr);
    bool retry;

    ck_assert(pte_present(snapshot));
    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), 0);
    pthread_mutex_lock(&d.lock);
    retry = mmu_interval_read_retry(&d.notifier, seq);
    pthread_mutex_unlock(&d.lock);
    ck_assert_msg(retry, "a snapshot of a freed page would be mapped");
    mmu_interval_notifier_remove(&d.notifier);
    mmput(mm);
}
END_TEST

/* Two invalidations in a row: the second moves the number again. */
START_TEST(every_invalidation_moves_the_number)
{
    struct driver d;
    unsigned long addr;
    struct mm_struct *mm = mm_with_driver(&d, &addr);

    ck_assert_int_eq(sim_mprotect(mm, addr, PAGE_SIZE, PROT_READ), 0);
    unsigned long seq = mmu_interval_read_begin(&d.notifier);
    ck_assert_int_eq(sim_mprotect(mm, addr, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(d.calls, 2);
    ck_assert(mmu_interval_check_retry(&d.notifier, seq));
    ck_assert_uint_eq(mmu_interval_read_begin(&d.notifier), seq + 2);
    mmu_interval_notifier_remove(&d.notifier);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("read-retry");
    TCase *tc = sim_tcase("seq", 5);

    tcase_add_test(tc, set_seq_records_the_number);
    tcase_add_test(tc, no_invalidation_no_retry);
    tcase_add_test(tc, invalidation_forces_retry);
    tcase_add_test(tc, stale_snapshot_is_caught);
    tcase_add_test(tc, every_invalidation_moves_the_number);
    suite_add_tcase(s, tc);
    return s;
}
