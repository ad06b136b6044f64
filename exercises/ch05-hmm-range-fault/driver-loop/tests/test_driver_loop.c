/* Tests of the driver-loop exercise. */
#include <pthread.h>
#include "testlib.h"

#define NPAGES 4

struct drv {
    struct mmu_interval_notifier n;
    pthread_mutex_t lock;
    unsigned long table[NPAGES];       /* the device's copy of the answers */
    int updates, invalidations;
    bool lock_held_in_update;
};

static bool drv_invalidate(struct mmu_interval_notifier *sub,
                           const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct drv *d = (struct drv *)sub;

    (void)range;
    pthread_mutex_lock(&d->lock);
    mmu_interval_set_seq(sub, cur_seq);
    memset(d->table, 0, sizeof(d->table));
    d->invalidations++;
    pthread_mutex_unlock(&d->lock);
    return true;
}

static const struct mmu_interval_notifier_ops drv_ops = { .invalidate = drv_invalidate };

static int drv_update(void *ctx, struct hmm_range *range)
{
    struct drv *d = ctx;

    d->lock_held_in_update = pthread_mutex_trylock(&d->lock) == EBUSY;
    memcpy(d->table, range->hmm_pfns, sizeof(d->table));
    d->updates++;
    return 0;
}

struct world {
    struct mm_struct *mm;
    unsigned long addr, pfns[NPAGES];
    struct drv d;
    struct hmm_range r;
};

static void world_init(struct world *w, unsigned long flags)
{
    memset(w, 0, sizeof(*w));
    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, NPAGES * PAGE_SIZE);
    sim_test_memset(w->mm, w->addr, 7, NPAGES * PAGE_SIZE);
    pthread_mutex_init(&w->d.lock, NULL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&w->d.n, w->mm, w->addr,
                                                  NPAGES * PAGE_SIZE, &drv_ops), 0);
    w->r = (struct hmm_range){ .notifier = &w->d.n, .start = w->addr,
                               .end = w->addr + NPAGES * PAGE_SIZE, .hmm_pfns = w->pfns,
                               .default_flags = flags };
}

static void world_done(struct world *w)
{
    mmu_interval_notifier_remove(&w->d.n);
    mmput(w->mm);
}

START_TEST(quiet_range_is_mapped_under_the_lock)
{
    struct world w;

    world_init(&w, HMM_PFN_REQ_FAULT);
    ck_assert_int_eq(sim_hmm_driver_fault(&w.r, &w.d.lock, drv_update, &w.d), 0);
    ck_assert_int_eq(w.d.updates, 1);
    ck_assert(w.d.lock_held_in_update);
    for (int i = 0; i < NPAGES; i++)
        ck_assert_uint_eq(w.d.table[i], pte_pfn(sim_pte_get(w.mm, w.addr + i * PAGE_SIZE)) |
                                            HMM_PFN_VALID | HMM_PFN_WRITE);
    world_done(&w);
}
END_TEST

/* An invalidation already done before the loop starts does not matter. */
START_TEST(earlier_invalidation_needs_no_retry)
{
    struct world w;

    world_init(&w, 0);
    ck_assert_int_eq(sim_madvise(w.mm, w.addr, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&w.r, &w.d.lock, drv_update, &w.d), 0);
    ck_assert_int_eq(w.d.updates, 1);
    ck_assert_uint_eq(w.d.table[0], 0);
    world_done(&w);
}
END_TEST

static struct world *hooked;
static int hook_calls;

/* Between two steps of the first walk, throw the last page away, as MADV_DONTNEED
 * would: with the notification (the walk holds the mmap lock, so call the pieces). */
static void zap_with_notification(struct hmm_range *range, unsigned long addr)
{
    struct mmu_notifier_range nr;

    (void)range;
    (void)addr;
    if (hook_calls++)
        return;
    mmu_notifier_range_init(&nr, MMU_NOTIFY_CLEAR, 0, hooked->mm,
                            hooked->addr + 3 * PAGE_SIZE, hooked->addr + 4 * PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&nr);
    sim_zap_range(vma_lookup(hooked->mm, hooked->addr), nr.start, nr.end);
    mmu_notifier_invalidate_range_end(&nr);
}

/* The invalidation lands in the middle of the first walk: the loop must retry and hand
 * update the data as it is afterwards. */
START_TEST(mid_walk_invalidation_is_retried)
{
    struct world w;

    world_init(&w, 0);
    /* Two segments: put the last page on the far side of a 2 MiB boundary. */
    ck_assert_int_eq(sim_munmap(w.mm, w.addr, NPAGES * PAGE_SIZE), 0);
    mmu_interval_notifier_remove(&w.d.n);
    w.addr = sim_test_mmap(w.mm, 0x40000000UL - 3 * PAGE_SIZE, NPAGES * PAGE_SIZE,
                           PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    sim_test_memset(w.mm, w.addr, 9, NPAGES * PAGE_SIZE);
    ck_assert_int_eq(mmu_interval_notifier_insert(&w.d.n, w.mm, w.addr, NPAGES * PAGE_SIZE,
                                                  &drv_ops), 0);
    w.r.start = w.addr;
    w.r.end = w.addr + NPAGES * PAGE_SIZE;
    w.d.invalidations = 0;
    hooked = &w;
    hook_calls = 0;
    sim_hmm_walk_hook = zap_with_notification;
    ck_assert_int_eq(sim_hmm_driver_fault(&w.r, &w.d.lock, drv_update, &w.d), 0);
    sim_hmm_walk_hook = NULL;
    ck_assert_int_eq(w.d.invalidations, 1);
    ck_assert_int_eq(w.d.updates, 1);
    ck_assert_uint_eq(w.d.table[3], 0);
    for (int i = 0; i < 3; i++)
        ck_assert(w.d.table[i] & HMM_PFN_VALID);
    world_done(&w);
}
END_TEST

/* Errors other than -EBUSY come straight back, and update never runs. */
START_TEST(errors_are_returned)
{
    struct world w;

    world_init(&w, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, NPAGES * PAGE_SIZE, PROT_READ), 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&w.r, &w.d.lock, drv_update, &w.d), -EPERM);
    ck_assert_int_eq(w.d.updates, 0);
    ck_assert_int_eq(sim_munmap(w.mm, w.addr, PAGE_SIZE), 0);
    w.r.default_flags = HMM_PFN_REQ_FAULT;
    ck_assert_int_eq(sim_hmm_driver_fault(&w.r, &w.d.lock, drv_update, &w.d), -EFAULT);
    ck_assert_int_eq(w.d.updates, 0);
    ck_assert_int_eq(pthread_mutex_trylock(&w.d.lock), 0);
    pthread_mutex_unlock(&w.d.lock);
    world_done(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("driver-loop");
    TCase *tc = sim_tcase("loop", 5);

    tcase_add_test(tc, quiet_range_is_mapped_under_the_lock);
    tcase_add_test(tc, earlier_invalidation_needs_no_retry);
    tcase_add_test(tc, mid_walk_invalidation_is_retried);
    tcase_add_test(tc, errors_are_returned);
    suite_add_tcase(s, tc);
    return s;
}
