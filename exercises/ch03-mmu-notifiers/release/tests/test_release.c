/* Tests of the release exercise. */
#include "recorder.h"

START_TEST(teardown_calls_release_once)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder r;

    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, mm), 0);
    mmput(mm);
    ck_assert_int_eq(r.n, 1);
    ck_assert_rec(&r, 0, REC_RELEASE, 0, 0, 0, 0, NULL, mm);
    mmu_notifier_unregister(&r.mn, mm);
    ck_assert_int_eq(r.n, 1);
}
END_TEST

/* Released while the pages are still mapped. */
static pte_t seen;
static unsigned long watched;

static void look_at_page(struct mmu_notifier *sub, struct mm_struct *mm)
{
    (void)sub;
    seen = sim_pte_get(mm, watched);
}

START_TEST(release_runs_before_the_unmap)
{
    static const struct mmu_notifier_ops ops = { .release = look_at_page };
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier mn = { .ops = &ops };

    watched = sim_test_map_private(mm, PAGE_SIZE);
    sim_test_memset(mm, watched, 9, PAGE_SIZE);
    ck_assert_int_eq(mmu_notifier_register(&mn, mm), 0);
    mmput(mm);
    ck_assert(pte_present(seen));
    mmu_notifier_unregister(&mn, mm);
}
END_TEST

/* After release nobody hears the teardown's unmap. */
START_TEST(teardown_unmap_reaches_nobody)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder r[2];

    for (int i = 0; i < 2; i++) {
        recorder_init(&r[i]);
        ck_assert_int_eq(mmu_notifier_register(&r[i].mn, mm), 0);
    }
    sim_test_map_private(mm, 2 * PAGE_SIZE);
    mmput(mm);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r[i].n, 1);
        ck_assert_int_eq(r[i].log[0].kind, REC_RELEASE);
        mmu_notifier_unregister(&r[i].mn, mm);
    }
}
END_TEST

/* A subscriber without a release op is still unlinked. */
START_TEST(subscriber_without_release_is_unlinked)
{
    static const struct mmu_notifier_ops ops = { .invalidate_range_start = rec_start };
    struct mm_struct *mm = sim_mm_create();
    struct recorder r;

    recorder_init(&r);
    r.mn.ops = &ops;
    ck_assert_int_eq(mmu_notifier_register(&r.mn, mm), 0);
    sim_test_map_private(mm, PAGE_SIZE);
    mmput(mm);
    ck_assert_int_eq(r.n, 0);
    ck_assert_ptr_null(r.mn.pprev);
    mmu_notifier_unregister(&r.mn, mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("release");
    TCase *tc = sim_tcase("release", 5);

    tcase_add_test(tc, teardown_calls_release_once);
    tcase_add_test(tc, release_runs_before_the_unmap);
    tcase_add_test(tc, teardown_unmap_reaches_nobody);
    tcase_add_test(tc, subscriber_without_release_is_unlinked);
    suite_add_tcase(s, tc);
    return s;
}
