/* Tests of the shared-subscription exercise. */
#include <stdlib.h>
#include "recorder.h"

struct counted {
    struct recorder rec;
    int id;
};

static int nr_alloc, nr_free;

static struct mmu_notifier *counted_alloc(struct mm_struct *mm)
{
    struct counted *c = malloc(sizeof(*c));

    (void)mm;
    recorder_init(&c->rec);
    c->id = ++nr_alloc;
    return &c->rec.mn;
}

static void counted_free(struct mmu_notifier *sub)
{
    nr_free++;
    free(sub);
}

static struct mmu_notifier *failing_alloc(struct mm_struct *mm)
{
    (void)mm;
    return ERR_PTR(-ENOMEM);
}

static const struct mmu_notifier_ops ops_a = {
    .release = rec_release, .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
    .alloc_notifier = counted_alloc, .free_notifier = counted_free,
};
static const struct mmu_notifier_ops ops_b = {
    .alloc_notifier = counted_alloc, .free_notifier = counted_free,
};

START_TEST(get_creates_and_registers)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *sub = mmu_notifier_get(&ops_a, mm);
    unsigned long addr = sim_test_map_private(mm, PAGE_SIZE);

    ck_assert(!IS_ERR(sub));
    ck_assert_int_eq(nr_alloc, 1);
    ck_assert_ptr_eq(sub->ops, &ops_a);
    ck_assert_ptr_eq(sub->mm, mm);
    ck_assert_int_eq(sim_munmap(mm, addr, PAGE_SIZE), 0);
    ck_assert_int_eq(((struct recorder *)sub)->n, 2);
    mmu_notifier_put(sub);
    mmput(mm);
}
END_TEST

START_TEST(get_shares_per_ops)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *a1 = mmu_notifier_get(&ops_a, mm);
    struct mmu_notifier *a2 = mmu_notifier_get(&ops_a, mm);
    struct mmu_notifier *b = mmu_notifier_get(&ops_b, mm);
    struct mm_struct *other = sim_mm_create();
    struct mmu_notifier *a3 = mmu_notifier_get(&ops_a, other);

    ck_assert_ptr_eq(a1, a2);
    ck_assert_ptr_ne(a1, b);
    ck_assert_ptr_ne(a1, a3);
    ck_assert_int_eq(nr_alloc, 3);
    mmu_notifier_put(a1);
    mmu_notifier_put(a2);
    mmu_notifier_put(b);
    mmu_notifier_put(a3);
    mmput(other);
    mmput(mm);
}
END_TEST

/* Only the last put frees, it does not call release, and afterwards nothing arrives. */
START_TEST(last_put_frees_without_release)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *a1 = mmu_notifier_get(&ops_a, mm);
    struct mmu_notifier *a2 = mmu_notifier_get(&ops_a, mm);
    struct recorder *r = (struct recorder *)a1;
    unsigned long addr = sim_test_map_private(mm, PAGE_SIZE);

    mmu_notifier_put(a1);
    ck_assert_int_eq(nr_free, 0);
    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(r->n, 2);
    for (int i = 0; i < r->n; i++)
        ck_assert_int_ne(r->log[i].kind, REC_RELEASE);
    mmu_notifier_put(a2);
    ck_assert_int_eq(nr_free, 1);
    ck_assert_int_eq(sim_munmap(mm, addr, PAGE_SIZE), 0);
    mmput(mm);
}
END_TEST

/* Freed and got again: a new subscription. */
START_TEST(get_after_last_put_creates_anew)
{
    struct mm_struct *mm = sim_mm_create();

    mmu_notifier_put(mmu_notifier_get(&ops_b, mm));
    mmu_notifier_put(mmu_notifier_get(&ops_b, mm));
    ck_assert_int_eq(nr_alloc, 2);
    ck_assert_int_eq(nr_free, 2);
    mmput(mm);
}
END_TEST

START_TEST(get_rejects_bad_input)
{
    static const struct mmu_notifier_ops no_free = { .alloc_notifier = counted_alloc };
    static const struct mmu_notifier_ops fails = {
        .alloc_notifier = failing_alloc, .free_notifier = counted_free,
    };
    struct mm_struct *mm = sim_mm_create();

    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(NULL, mm)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&no_free, mm)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&ops_a, NULL)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&fails, mm)), -ENOMEM);
    mmgrab(mm);
    mmput(mm);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&ops_a, mm)), -EINVAL);
    mmdrop(mm);
    ck_assert_int_eq(nr_alloc, 0);
}
END_TEST

/* A subscription may outlive its address space; the put still frees it. */
START_TEST(put_after_teardown)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *sub = mmu_notifier_get(&ops_a, mm);

    mmput(mm);
    ck_assert_int_eq(((struct recorder *)sub)->n, 1);
    mmu_notifier_put(sub);
    ck_assert_int_eq(nr_free, 1);
}
END_TEST

START_TEST(put_without_reference_warns)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder r;
    unsigned long warnings = sim_warn_count();

    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, mm), 0);
    mmu_notifier_put(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    mmu_notifier_unregister(&r.mn, mm);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("get-put");
    TCase *tc = sim_tcase("get-put", 5);
    TCase *warn = sim_tcase_unchecked("warnings", 5);

    tcase_add_test(tc, get_creates_and_registers);
    tcase_add_test(tc, get_shares_per_ops);
    tcase_add_test(tc, last_put_frees_without_release);
    tcase_add_test(tc, get_after_last_put_creates_anew);
    tcase_add_test(tc, get_rejects_bad_input);
    tcase_add_test(tc, put_after_teardown);
    tcase_add_test(warn, put_without_reference_warns);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, warn);
    return s;
}
