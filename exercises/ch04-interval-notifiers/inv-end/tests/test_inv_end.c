/* Tests of the end-of-invalidation exercise.  A blocking notifier holds an invalidation
 * open while the test inserts, removes and reads around it. */
#include <pthread.h>
#include <stdatomic.h>
#include "testlib.h"

struct held {
    struct mmu_interval_notifier notifier;
    pthread_barrier_t inside, release;   /* the invalidation is inside; let it go */
    atomic_int calls;
    bool hold;
};

static bool held_invalidate(struct mmu_interval_notifier *sub,
                            const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct held *h = (struct held *)sub;

    (void)range;
    mmu_interval_set_seq(sub, cur_seq);
    atomic_fetch_add(&h->calls, 1);
    if (h->hold) {
        pthread_barrier_wait(&h->inside);
        pthread_barrier_wait(&h->release);
    }
    return true;
}

static const struct mmu_interval_notifier_ops held_ops = { .invalidate = held_invalidate };

static bool plain_invalidate(struct mmu_interval_notifier *sub,
                             const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    (void)range;
    mmu_interval_set_seq(sub, cur_seq);
    return true;
}

static const struct mmu_interval_notifier_ops plain_ops = { .invalidate = plain_invalidate };

struct world {
    struct mm_struct *mm;
    unsigned long addr;
    struct held h;
    pthread_t cpu;
};

static void *zap_first_page(void *arg)
{
    struct world *w = arg;

    ck_assert_int_eq(sim_madvise(w->mm, w->addr, PAGE_SIZE, MADV_DONTNEED), 0);
    return NULL;
}

/* Start an invalidation of the first page on another thread and hold it open. */
static void open_invalidation(struct world *w)
{
    memset(w, 0, sizeof(*w));
    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, 4 * PAGE_SIZE);
    pthread_barrier_init(&w->h.inside, NULL, 2);
    pthread_barrier_init(&w->h.release, NULL, 2);
    w->h.hold = true;
    ck_assert_int_eq(mmu_interval_notifier_insert(&w->h.notifier, w->mm, w->addr,
                                                  PAGE_SIZE, &held_ops), 0);
    pthread_create(&w->cpu, NULL, zap_first_page, w);
    pthread_barrier_wait(&w->h.inside);
}

static void close_invalidation(struct world *w)
{
    w->h.hold = false;
    pthread_barrier_wait(&w->h.release);
    pthread_join(w->cpu, NULL);
}

static unsigned long global_seq(struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;
    unsigned long seq;

    pthread_mutex_lock(&subs->lock);
    seq = subs->invalidate_seq;
    pthread_mutex_unlock(&subs->lock);
    return seq;
}

START_TEST(sequence_is_even_after_the_end)
{
    struct world w;

    open_invalidation(&w);
    ck_assert_uint_eq(global_seq(w.mm), 3);
    close_invalidation(&w);
    ck_assert_uint_eq(global_seq(w.mm), 4);
    ck_assert_uint_eq(w.mm->notifier_subscriptions->active_invalidate_ranges, 0);
    mmu_interval_notifier_remove(&w.h.notifier);
    mmput(w.mm);
}
END_TEST

/* An invalidation that hits no notifier leaves the sequence alone. */
START_TEST(miss_leaves_the_sequence_even)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 4 * PAGE_SIZE);
    struct mmu_interval_notifier n;

    ck_assert_int_eq(mmu_interval_notifier_insert(&n, mm, addr, PAGE_SIZE, &plain_ops), 0);
    ck_assert_int_eq(sim_madvise(mm, addr + 2 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_uint_eq(global_seq(mm), 2);
    ck_assert_int_eq(sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_uint_eq(global_seq(mm), 4);
    mmu_interval_notifier_remove(&n);
    mmput(mm);
}
END_TEST

struct reader {
    struct mmu_interval_notifier *n;
    atomic_int returned;
    unsigned long seq;
};

static void *read_begin_thread(void *arg)
{
    struct reader *r = arg;

    r->seq = mmu_interval_read_begin(r->n);
    atomic_store(&r->returned, 1);
    return NULL;
}

/* read_begin sleeps through the invalidation and is woken by its end. */
START_TEST(end_wakes_read_begin)
{
    struct world w;
    struct reader r = { .n = &w.h.notifier };
    pthread_t t;

    open_invalidation(&w);
    pthread_create(&t, NULL, read_begin_thread, &r);
    sim_test_let_others_settle(1000);
    ck_assert_int_eq(atomic_load(&r.returned), 0);
    close_invalidation(&w);
    pthread_join(t, NULL);
    ck_assert_uint_eq(r.seq, 3);
    mmu_interval_notifier_remove(&w.h.notifier);
    mmput(w.mm);
}
END_TEST

/* An insert during the invalidation waits on the deferred list and enters the tree at
 * the end: the next invalidation calls it. */
START_TEST(deferred_insert_is_applied)
{
    struct world w;
    struct mmu_interval_notifier late;

    open_invalidation(&w);
    ck_assert_int_eq(mmu_interval_notifier_insert(&late, w.mm, w.addr, 4 * PAGE_SIZE,
                                                  &plain_ops), 0);
    ck_assert(!late.interval_tree.in_tree);
    close_invalidation(&w);
    ck_assert(late.interval_tree.in_tree);
    ck_assert_ptr_null(w.mm->notifier_subscriptions->deferred_list);
    unsigned long seq = mmu_interval_read_begin(&late);
    ck_assert_int_eq(sim_madvise(w.mm, w.addr + 3 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert(mmu_interval_check_retry(&late, seq));
    mmu_interval_notifier_remove(&late);
    mmu_interval_notifier_remove(&w.h.notifier);
    mmput(w.mm);
}
END_TEST

struct remover {
    struct mmu_interval_notifier *n;
    atomic_int returned;
};

static void *remove_thread(void *arg)
{
    struct remover *r = arg;

    mmu_interval_notifier_remove(r->n);
    atomic_store(&r->returned, 1);
    return NULL;
}

/* A remove while an invalidation that hit the tree is open waits for its end, which
 * takes the node out of the tree. */
START_TEST(remove_waits_for_the_end)
{
    struct world w;
    struct mmu_interval_notifier other;
    struct remover r = { .n = &other };
    pthread_t t;

    open_invalidation(&w);
    ck_assert_int_eq(mmu_interval_notifier_insert(&other, w.mm, w.addr, PAGE_SIZE,
                                                  &plain_ops), 0);
    close_invalidation(&w);
    /* other is in the tree now; hold a new invalidation open and remove it meanwhile */
    w.h.hold = true;
    pthread_create(&w.cpu, NULL, zap_first_page, &w);
    pthread_barrier_wait(&w.h.inside);
    pthread_create(&t, NULL, remove_thread, &r);
    sim_test_let_others_settle(1000);
    ck_assert_int_eq(atomic_load(&r.returned), 0);
    close_invalidation(&w);
    pthread_join(t, NULL);
    ck_assert(!other.interval_tree.in_tree);
    mmu_interval_notifier_remove(&w.h.notifier);
    mmput(w.mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("inv-end");
    TCase *tc = sim_tcase("end", 3);

    tcase_add_test(tc, sequence_is_even_after_the_end);
    tcase_add_test(tc, miss_leaves_the_sequence_even);
    tcase_add_test(tc, end_wakes_read_begin);
    tcase_add_test(tc, deferred_insert_is_applied);
    tcase_add_test(tc, remove_waits_for_the_end);
    suite_add_tcase(s, tc);
    return s;
}
