/* Tests of the invalidate-callback exercise. */
#include <stdlib.h>
#include "testlib.h"

#define N 8

struct world {
    struct mm_struct *mm;
    struct dmirror_device *dev;
    struct dmirror *d;
    unsigned long addr;
    char *buf;
    struct hmm_dmirror_cmd c;
};

static void world_init(struct world *w)
{
    w->mm = sim_mm_create();
    w->dev = dmirror_device_create(0);
    w->d = dmirror_open(w->dev, w->mm);
    w->addr = sim_test_map_private(w->mm, N * PAGE_SIZE);
    w->buf = malloc(N * PAGE_SIZE);
    sim_test_memset(w->mm, w->addr, 0x11, N * PAGE_SIZE);
    w->c = (struct hmm_dmirror_cmd){ .addr = w->addr, .ptr = (uintptr_t)w->buf, .npages = N };
    ck_assert_int_eq(dmirror_ioctl(w->d, HMM_DMIRROR_READ, &w->c), 0);
    ck_assert_uint_eq(w->c.faults, 1);
}

static void world_done(struct world *w)
{
    free(w->buf);
    dmirror_release(w->d);
    dmirror_device_destroy(w->dev);
    mmput(w->mm);
}

/* After MADV_DONTNEED the device must fault again and read zeroes, not the old data. */
START_TEST(dontneed_erases_the_device_entries)
{
    struct world w;

    world_init(&w);
    ck_assert_int_eq(sim_madvise(w.mm, w.addr + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
    ck_assert_int_eq(dmirror_ioctl(w.d, HMM_DMIRROR_READ, &w.c), 0);
    ck_assert_uint_eq(w.c.faults, 1);
    ck_assert_int_eq(w.buf[0], 0x11);
    ck_assert_int_eq(w.buf[PAGE_SIZE], 0);
    ck_assert_int_eq(w.buf[2 * PAGE_SIZE], 0x11);
    world_done(&w);
}
END_TEST

/* Only the range is erased: a second read of the rest needs no fault. */
/* The erase runs through end >> PAGE_SHIFT, inclusive, as test_hmm's xa_for_each_range():
 * the page just past the range goes too, and nothing beyond it. */
START_TEST(erase_stops_one_page_past_the_range)
{
    struct world w;
    struct hmm_dmirror_cmd rest;

    world_init(&w);
    ck_assert_int_eq(sim_madvise(w.mm, w.addr, PAGE_SIZE, MADV_DONTNEED), 0);
    rest = (struct hmm_dmirror_cmd){ .addr = w.addr + 2 * PAGE_SIZE, .ptr = (uintptr_t)w.buf,
                                     .npages = N - 2 };
    ck_assert_int_eq(dmirror_ioctl(w.d, HMM_DMIRROR_READ, &rest), 0);
    ck_assert_uint_eq(rest.faults, 0);
    rest = (struct hmm_dmirror_cmd){ .addr = w.addr + PAGE_SIZE, .ptr = (uintptr_t)w.buf,
                                     .npages = 1 };
    ck_assert_int_eq(dmirror_ioctl(w.d, HMM_DMIRROR_READ, &rest), 0);
    ck_assert_uint_eq(rest.faults, 1);
    world_done(&w);
}
END_TEST

/* After a copy-on-write break by the CPU, the device reads the new frame. */
START_TEST(cow_break_is_seen_by_the_device)
{
    struct world w;
    struct mm_struct *child;

    world_init(&w);
    child = sim_fork(w.mm);
    ck_assert_int_eq(sim_write(w.mm, w.addr, "\x22", 1), 0);
    ck_assert_int_eq(dmirror_ioctl(w.d, HMM_DMIRROR_READ, &w.c), 0);
    ck_assert_int_eq(w.buf[0], 0x22);
    mmput(child);
    world_done(&w);
}
END_TEST

/* The device's own migration is ignored: its entries stay. */
START_TEST(own_migration_is_ignored)
{
    struct world w;
    struct mmu_notifier_range r;
    struct hmm_dmirror_cmd rest;

    world_init(&w);
    mmu_notifier_range_init_owner(&r, MMU_NOTIFY_MIGRATE, MMU_NOTIFIER_RANGE_BLOCKABLE,
                                  w.mm, w.addr, w.addr + N * PAGE_SIZE, w.dev);
    ck_assert(dmirror_interval_invalidate(&w.d->notifier, &r, 3));
    rest = w.c;
    ck_assert_int_eq(dmirror_ioctl(w.d, HMM_DMIRROR_READ, &rest), 0);
    ck_assert_uint_eq(rest.faults, 0);
    world_done(&w);
}
END_TEST

/* Someone else's migration is not. */
START_TEST(foreign_migration_erases)
{
    struct world w;
    struct mmu_notifier_range r;
    int other;

    world_init(&w);
    mmu_notifier_range_init_owner(&r, MMU_NOTIFY_MIGRATE, MMU_NOTIFIER_RANGE_BLOCKABLE,
                                  w.mm, w.addr, w.addr + N * PAGE_SIZE, &other);
    ck_assert(dmirror_interval_invalidate(&w.d->notifier, &r, 3));
    ck_assert_uint_eq(w.d->notifier.invalidate_seq, 3);
    ck_assert_uint_eq(dpt_load(&w.d->pt, w.addr >> PAGE_SHIFT), 0);
    mmu_interval_set_seq(&w.d->notifier, 1);
    world_done(&w);
}
END_TEST

/* A non-blockable range while the mutex is held: refuse, change nothing. */
START_TEST(nonblocking_refuses_when_busy)
{
    struct world w;
    struct mmu_notifier_range r;

    world_init(&w);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, w.mm, w.addr, w.addr + PAGE_SIZE);
    pthread_mutex_lock(&w.d->mutex);
    ck_assert(!dmirror_interval_invalidate(&w.d->notifier, &r, 5));
    pthread_mutex_unlock(&w.d->mutex);
    ck_assert_uint_ne(dpt_load(&w.d->pt, w.addr >> PAGE_SHIFT), 0);
    ck_assert_uint_ne(w.d->notifier.invalidate_seq, 5);
    ck_assert(dmirror_interval_invalidate(&w.d->notifier, &r, 5));
    ck_assert_uint_eq(dpt_load(&w.d->pt, w.addr >> PAGE_SHIFT), 0);
    ck_assert_uint_eq(dpt_load(&w.d->pt, (w.addr >> PAGE_SHIFT) + 1), 0);
    ck_assert_uint_ne(dpt_load(&w.d->pt, (w.addr >> PAGE_SHIFT) + 2), 0);
    mmu_interval_set_seq(&w.d->notifier, 1);
    world_done(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("invalidate");
    TCase *tc = sim_tcase("invalidate", 5);

    tcase_add_test(tc, dontneed_erases_the_device_entries);
    tcase_add_test(tc, erase_stops_one_page_past_the_range);
    tcase_add_test(tc, cow_break_is_seen_by_the_device);
    tcase_add_test(tc, own_migration_is_ignored);
    tcase_add_test(tc, foreign_migration_erases);
    tcase_add_test(tc, nonblocking_refuses_when_busy);
    suite_add_tcase(s, tc);
    return s;
}
