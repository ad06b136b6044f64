/* Tests of the invalidation-start exercise. */
#include "recorder.h"

#define NONBLOCK 0

static struct mm_struct *mm_with(struct recorder *r, int n)
{
    struct mm_struct *mm = sim_mm_create();

    /* Registered last to first, so that r[0] is first on the list. */
    for (int i = n - 1; i >= 0; i--)
        ck_assert_int_eq(mmu_notifier_register(&r[i].mn, mm), 0);
    return mm;
}

static void done(struct mm_struct *mm, struct recorder *r, int n)
{
    for (int i = 0; i < n; i++)
        mmu_notifier_unregister(&r[i].mn, mm);
    mmput(mm);
}

START_TEST(every_subscriber_starts)
{
    struct recorder r[3];
    struct mm_struct *mm;
    struct mmu_notifier_range range;

    for (int i = 0; i < 3; i++)
        recorder_init(&r[i]);
    mm = mm_with(r, 3);
    mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, 0x10000, 0x30000);
    mmu_notifier_invalidate_range_start(&range);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].n, 1);
        ck_assert_rec(&r[i], 0, REC_START, MMU_NOTIFY_UNMAP, 0x10000, 0x30000,
                      MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, mm);
    }
    mmu_notifier_invalidate_range_end(&range);
    done(mm, r, 3);
}
END_TEST

/* A subscriber without the op is skipped, not called through NULL. */
START_TEST(subscriber_without_start_is_skipped)
{
    static const struct mmu_notifier_ops end_only = { .invalidate_range_end = rec_end };
    struct recorder r[2];
    struct mm_struct *mm;
    struct mmu_notifier_range range;

    recorder_init(&r[0]);
    recorder_init(&r[1]);
    r[0].mn.ops = &end_only;
    mm = mm_with(r, 2);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, 0x10000, 0x11000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), 0);
    ck_assert_int_eq(r[0].n, 0);
    ck_assert_int_eq(r[1].n, 1);
    done(mm, r, 2);
}
END_TEST

START_TEST(nonblock_refusal_is_returned)
{
    struct recorder r[1];
    struct mm_struct *mm;
    struct mmu_notifier_range range;

    recorder_init(&r[0]);
    r[0].fail_start = -EAGAIN;
    mm = mm_with(r, 1);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, 0x10000, 0x11000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
    done(mm, r, 1);
}
END_TEST

/* The walk stops at the refusal; those before it get their end, the rest nothing. */
START_TEST(refusal_backs_out_the_started_ones)
{
    struct recorder r[4];
    struct mm_struct *mm;
    struct mmu_notifier_range range;

    for (int i = 0; i < 4; i++)
        recorder_init(&r[i]);
    r[2].fail_start = -EAGAIN;
    mm = mm_with(r, 4);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, 0x10000, 0x12000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r[i].n, 2);
        ck_assert_rec(&r[i], 0, REC_START, MMU_NOTIFY_CLEAR, 0x10000, 0x12000, 0, NULL, mm);
        ck_assert_rec(&r[i], 1, REC_END, MMU_NOTIFY_CLEAR, 0x10000, 0x12000, 0, NULL, mm);
    }
    ck_assert_int_eq(r[2].n, 1);
    ck_assert_int_eq(r[3].n, 0);
    done(mm, r, 4);
}
END_TEST

/* A blockable refusal: one warning, every subscriber started, success for the caller. */
START_TEST(blockable_refusal_warns_and_goes_on)
{
    struct recorder r[3];
    struct mm_struct *mm;
    struct mmu_notifier_range range;
    unsigned long warnings = sim_warn_count();

    for (int i = 0; i < 3; i++)
        recorder_init(&r[i]);
    r[1].fail_start = -EAGAIN;
    mm = mm_with(r, 3);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, 0x10000, 0x11000);
    mmu_notifier_invalidate_range_start(&range);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r[i].n, 1);
    mmu_notifier_invalidate_range_end(&range);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r[i].n, 2);
    done(mm, r, 3);
}
END_TEST

/* The whole path: a refusal only of non-blockable ranges leaves munmap unaffected. */
START_TEST(core_paths_still_notify)
{
    struct recorder r[1];
    struct mm_struct *mm;
    unsigned long addr;

    recorder_init(&r[0]);
    r[0].fail_start = -EAGAIN;
    r[0].fail_only_nonblock = 1;
    mm = mm_with(r, 1);
    addr = sim_test_map_private(mm, 2 * PAGE_SIZE);
    ck_assert_int_eq(sim_munmap(mm, addr, 2 * PAGE_SIZE), 0);
    ck_assert_int_eq(r[0].n, 2);
    ck_assert_pair(&r[0], 0, MMU_NOTIFY_UNMAP, addr, addr + 2 * PAGE_SIZE, mm);
    done(mm, r, 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("hlist-start");
    TCase *tc = sim_tcase("start", 5);
    TCase *warn = sim_tcase_unchecked("warnings", 5);

    tcase_add_test(tc, every_subscriber_starts);
    tcase_add_test(tc, subscriber_without_start_is_skipped);
    tcase_add_test(tc, nonblock_refusal_is_returned);
    tcase_add_test(tc, refusal_backs_out_the_started_ones);
    tcase_add_test(tc, core_paths_still_notify);
    tcase_add_test(warn, blockable_refusal_warns_and_goes_on);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, warn);
    return s;
}
