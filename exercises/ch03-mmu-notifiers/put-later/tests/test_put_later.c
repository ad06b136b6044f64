/* Tests of the deferred-put exercise: the last mmu_notifier_put() returns at once, even
 * from a callback, and the subscription is freed after the callbacks in progress, by the
 * time mmu_notifier_synchronize() returns. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "testlib.h"

#define P PAGE_SIZE

/* The exercise's function: no header declares it. */
void mmu_notifier_synchronize(void);

/* A subscription that counts what happens to it, and puts itself when told to. */
struct counted {
    struct mmu_notifier mn;
    atomic_int *allocs, *frees, *starts;
    atomic_int put_in_release, put_in_start;
    atomic_int in_start, let_go;         /* a start callback that waits to be let go */
    atomic_int *start_done_before_free;  /* set by free_notifier if no start is running */
};

static atomic_int n_allocs, n_frees, n_starts, order_ok;
static struct counted *last_counted;
static pthread_t freed_by;             /* the thread that ran the last free */

static struct mmu_notifier *counted_alloc(struct mm_struct *mm)
{
    struct counted *c = calloc(1, sizeof(*c));

    (void)mm;
    if (!c)
        return ERR_PTR(-ENOMEM);
    c->allocs = &n_allocs;
    c->frees = &n_frees;
    c->starts = &n_starts;
    c->start_done_before_free = &order_ok;
    atomic_fetch_add(c->allocs, 1);
    last_counted = c;
    return &c->mn;
}

static void counted_free(struct mmu_notifier *sub)
{
    struct counted *c = (struct counted *)sub;

    atomic_store(c->start_done_before_free, !atomic_load(&c->in_start));
    freed_by = pthread_self();
    atomic_fetch_add(c->frees, 1);
    free(c);
}

static void counted_release(struct mmu_notifier *sub, struct mm_struct *mm)
{
    struct counted *c = (struct counted *)sub;

    (void)mm;
    if (atomic_exchange(&c->put_in_release, 0))
        mmu_notifier_put(sub);
}

static int counted_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct counted *c = (struct counted *)sub;

    (void)range;
    atomic_fetch_add(c->starts, 1);
    if (atomic_exchange(&c->put_in_start, 0))
        mmu_notifier_put(sub);
    if (atomic_load(&c->let_go) == 0) {
        atomic_store(&c->in_start, 1);
        while (!atomic_load(&c->let_go))
            sched_yield();
        atomic_store(&c->in_start, 0);
    }
    return 0;
}

static const struct mmu_notifier_ops counted_ops = {
    .release = counted_release,
    .invalidate_range_start = counted_start,
    .alloc_notifier = counted_alloc,
    .free_notifier = counted_free,
};

static void reset_counts(void)
{
    atomic_store(&n_allocs, 0);
    atomic_store(&n_frees, 0);
    atomic_store(&n_starts, 0);
    atomic_store(&order_ok, 0);
}

static struct counted *get_counted(struct mm_struct *mm)
{
    struct mmu_notifier *sub = mmu_notifier_get(&counted_ops, mm);

    ck_assert(!IS_ERR_OR_NULL(sub));
    ((struct counted *)sub)->let_go = 1;  /* start callbacks return at once */
    return (struct counted *)sub;
}

/* The documented case: the release callback puts the last reference while the address
 * space is torn down.  mmput() returns; the subscription is freed once. */
START_TEST(put_from_release_returns)
{
    struct mm_struct *mm = sim_mm_create();
    struct counted *c;

    reset_counts();
    c = get_counted(mm);
    atomic_store(&c->put_in_release, 1);
    mmput(mm);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_allocs), 1);
    ck_assert_int_eq(atomic_load(&n_frees), 1);
    ck_assert_uint_eq(sim_warn_count(), 0);
}
END_TEST

/* An invalidation callback puts the last reference: the munmap returns, the
 * subscription is freed, and later changes call nobody. */
START_TEST(put_from_an_invalidation_returns)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 4 * P);
    struct counted *c;

    reset_counts();
    sim_test_memset(mm, addr, 1, 4 * P);
    c = get_counted(mm);
    atomic_store(&c->put_in_start, 1);
    ck_assert_int_eq(sim_munmap(mm, addr, P), 0);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 1);
    ck_assert_int_eq(atomic_load(&n_starts), 1);
    ck_assert_int_eq(sim_munmap(mm, addr + P, P), 0);
    ck_assert_int_eq(atomic_load(&n_starts), 1);
    mmput(mm);
    ck_assert_uint_eq(sim_warn_count(), 0);
}
END_TEST

/* Outside any callback: freed by the time synchronize returns, and, as Linux frees from
 * an SRCU callback, not by the put itself even though no callback runs: by another
 * thread.  The mm's reference is dropped (the invariant checker finds nothing left). */
START_TEST(put_outside_callbacks_frees_after_synchronize)
{
    struct mm_struct *mm = sim_mm_create();
    struct counted *c;

    reset_counts();
    c = get_counted(mm);
    mmu_notifier_put(&c->mn);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 1);
    ck_assert(!pthread_equal(freed_by, pthread_self()));
    mmput(mm);
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

/* Two users: the first put frees nothing, the second frees once. */
START_TEST(a_put_that_is_not_the_last_frees_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    struct counted *a, *b;

    reset_counts();
    a = get_counted(mm);
    b = get_counted(mm);
    ck_assert_ptr_eq(a, b);
    mmu_notifier_put(&a->mn);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 0);
    mmu_notifier_put(&b->mn);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 1);
    ck_assert_int_eq(atomic_load(&n_allocs), 1);
    mmput(mm);
}
END_TEST

static void *munmap_thread(void *arg)
{
    struct mm_struct *mm = arg;

    ck_assert_int_eq(sim_munmap(mm, 0x100000000UL, P), 0);
    return NULL;
}

/* A callback is running on another thread when the last put comes: the put returns
 * while it still runs, and the free waits for it. */
START_TEST(put_does_not_wait_for_callbacks)
{
    struct mm_struct *mm = sim_mm_create();
    struct counted *c;
    pthread_t t;

    reset_counts();
    ck_assert_uint_eq(sim_test_mmap(mm, 0x100000000UL, P, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), 0x100000000UL);
    c = get_counted(mm);
    atomic_store(&c->let_go, 0);
    ck_assert_int_eq(pthread_create(&t, NULL, munmap_thread, mm), 0);
    while (!atomic_load(&c->in_start))
        sched_yield();
    mmu_notifier_put(&c->mn);                  /* must return: the callback still runs */
    ck_assert_int_eq(atomic_load(&n_frees), 0);
    atomic_store(&c->let_go, 1);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 1);
    ck_assert_int_eq(atomic_load(&order_ok), 1);
    mmput(mm);
}
END_TEST

/* After the last put, get makes a new subscription even before the old one is freed. */
START_TEST(get_after_the_last_put_makes_a_new_one)
{
    struct mm_struct *mm = sim_mm_create();
    struct counted *a, *b;

    reset_counts();
    a = get_counted(mm);
    mmu_notifier_put(&a->mn);
    b = get_counted(mm);
    ck_assert_int_eq(atomic_load(&n_allocs), 2);
    ck_assert_ptr_eq(b, last_counted);
    mmu_notifier_put(&b->mn);
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 2);
    mmput(mm);
}
END_TEST

START_TEST(synchronize_with_nothing_pending_returns)
{
    reset_counts();
    mmu_notifier_synchronize();
    mmu_notifier_synchronize();
    ck_assert_int_eq(atomic_load(&n_frees), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("put-later");
    TCase *tc = sim_tcase("put", 5);

    tcase_add_test(tc, put_from_release_returns);
    tcase_add_test(tc, put_from_an_invalidation_returns);
    tcase_add_test(tc, put_outside_callbacks_frees_after_synchronize);
    tcase_add_test(tc, a_put_that_is_not_the_last_frees_nothing);
    tcase_add_test(tc, put_does_not_wait_for_callbacks);
    tcase_add_test(tc, get_after_the_last_put_makes_a_new_one);
    tcase_add_test(tc, synchronize_with_nothing_pending_returns);
    suite_add_tcase(s, tc);
    return s;
}
