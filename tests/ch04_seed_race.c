/* Chapter 4, seed 001: the race that defeated the 2019 valid flag, run against that
 * design and against the sequence count.  Two host threads and barriers force the
 * interleaving: CPU0 snapshots, CPU1 invalidates completely, CPU0 checks and maps. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "history.h"
#include "testlib.h"

#define MAX_ROUNDS 8

/* A device with a one-entry page table, guarded by the driver's lock. */
struct device {
    pthread_mutex_t lock;            /* the driver's update lock */
    bool present;
    unsigned long pfn;
};

struct scenario {
    struct mm_struct *mm;
    unsigned long addr;
    struct device dev;
    pthread_barrier_t snapshot_taken, invalidated;
    int rounds;                      /* how many times CPU0 went round its loop */
    /* the 2019 design */
    struct hmm_valid_mirror mirror;
    struct hmm_valid_range range;
    /* the sequence count */
    struct mmu_interval_notifier notifier;
};

static void device_wipe(struct device *dev)
{
    pthread_mutex_lock(&dev->lock);
    dev->present = false;
    sim_trace_msg("DEVICE", "wipe device entry");
    pthread_mutex_unlock(&dev->lock);
}

/* Called with the driver's lock held. */
static void device_map(struct device *dev, pte_t snapshot)
{
    dev->present = pte_present(snapshot);
    dev->pfn = pte_pfn(snapshot);
    if (dev->present)
        sim_trace_msg("DEVICE", "map pfn %#lx", dev->pfn);
    else
        sim_trace_msg("DEVICE", "nothing to map");
}

static pte_t snapshot(struct scenario *s)
{
    pte_t pte;

    mmap_read_lock(s->mm);
    pte = sim_pte_get(s->mm, s->addr);
    mmap_read_unlock(s->mm);
    sim_trace_event("snapshot: %s pfn %#lx", pte_present(pte) ? "present" : "none",
                    pte_pfn(pte));
    return pte;
}

/* CPU1: a complete invalidation of the page, between CPU0's snapshot and its check. */
static void *invalidator(void *arg)
{
    struct scenario *s = arg;

    sim_trace_actor("CPU1");
    pthread_barrier_wait(&s->snapshot_taken);
    ck_assert_int_eq(sim_madvise(s->mm, s->addr, PAGE_SIZE, MADV_DONTNEED), 0);
    sim_trace_event("MADV_DONTNEED done, frame freed");
    pthread_barrier_wait(&s->invalidated);
    return NULL;
}

/* The first round of CPU0 lets CPU1 in between the snapshot and the check. */
static void let_the_invalidation_in(struct scenario *s)
{
    if (s->rounds == 1) {
        pthread_barrier_wait(&s->snapshot_taken);
        pthread_barrier_wait(&s->invalidated);
    }
}

/* --- the 2019 design ------------------------------------------------------------- */

static void valid_sync(void *driver, const struct mmu_notifier_range *range)
{
    (void)range;
    device_wipe(driver);
}

static void fault_with_valid_flag(struct scenario *s)
{
    for (s->rounds = 1; s->rounds <= MAX_ROUNDS; s->rounds++) {
        hmm_valid_range_wait(&s->mirror, &s->range);
        pte_t pte = snapshot(s);

        let_the_invalidation_in(s);
        pthread_mutex_lock(&s->dev.lock);
        if (!hmm_valid_range_valid(&s->mirror, &s->range)) {
            pthread_mutex_unlock(&s->dev.lock);
            continue;
        }
        device_map(&s->dev, pte);
        pthread_mutex_unlock(&s->dev.lock);
        return;
    }
}

/* --- the sequence count ---------------------------------------------------------- */

static bool seq_invalidate(struct mmu_interval_notifier *sub,
                           const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct scenario *s = (struct scenario *)((char *)sub - offsetof(struct scenario, notifier));

    (void)range;
    pthread_mutex_lock(&s->dev.lock);
    mmu_interval_set_seq(sub, cur_seq);
    s->dev.present = false;
    sim_trace_msg("DEVICE", "wipe device entry");
    pthread_mutex_unlock(&s->dev.lock);
    return true;
}

static const struct mmu_interval_notifier_ops seq_ops = { .invalidate = seq_invalidate };

static void fault_with_sequence_count(struct scenario *s)
{
    for (s->rounds = 1; s->rounds <= MAX_ROUNDS; s->rounds++) {
        unsigned long seq = mmu_interval_read_begin(&s->notifier);
        pte_t pte = snapshot(s);

        let_the_invalidation_in(s);
        pthread_mutex_lock(&s->dev.lock);
        if (mmu_interval_read_retry(&s->notifier, seq)) {
            pthread_mutex_unlock(&s->dev.lock);
            continue;
        }
        device_map(&s->dev, pte);
        pthread_mutex_unlock(&s->dev.lock);
        return;
    }
}

/* --- running it ------------------------------------------------------------------ */

static void scenario_init(struct scenario *s)
{
    memset(s, 0, sizeof(*s));
    s->mm = sim_mm_create();
    s->addr = sim_test_map_private(s->mm, PAGE_SIZE);
    sim_test_memset(s->mm, s->addr, 0x42, PAGE_SIZE);
    pthread_mutex_init(&s->dev.lock, NULL);
    pthread_barrier_init(&s->snapshot_taken, NULL, 2);
    pthread_barrier_init(&s->invalidated, NULL, 2);
}

static void run(struct scenario *s, void (*fault)(struct scenario *))
{
    pthread_t cpu1;

    sim_trace_start();
    sim_trace_actor("CPU0");
    pthread_create(&cpu1, NULL, invalidator, s);
    fault(s);
    pthread_join(cpu1, NULL);
    sim_trace_stop();
}

/* Does the device map something the CPU does not? */
static bool device_is_stale(struct scenario *s)
{
    pte_t pte = sim_pte_get(s->mm, s->addr);

    return s->dev.present && (!pte_present(pte) || pte_pfn(pte) != s->dev.pfn);
}


/* The 2019 design fails: the flag is true again by the time CPU0 checks it, and the
 * device maps the frame that MADV_DONTNEED freed. */
START_TEST(test_seed001_valid_flag_maps_a_freed_page)
{
    struct scenario s;

    scenario_init(&s);
    ck_assert_int_eq(hmm_valid_mirror_register(&s.mirror, s.mm, valid_sync, &s.dev), 0);
    hmm_valid_range_register(&s.mirror, &s.range, s.addr, s.addr + PAGE_SIZE);
    run(&s, fault_with_valid_flag);
    ck_assert_int_eq(s.rounds, 1);
    ck_assert_msg(device_is_stale(&s), "the 2019 design should have mapped a stale page");
    ck_assert(!pte_present(sim_pte_get(s.mm, s.addr)));
    sim_test_write_trace("seed001-valid", "2019: a valid flag per range",
                "FAIL: the device maps a frame the CPU has already freed");
    hmm_valid_mirror_unregister(&s.mirror, s.mm);
    mmput(s.mm);
}
END_TEST

/* The sequence count catches it: one retry, and the device agrees with the CPU. */
START_TEST(test_seed001_sequence_count_retries)
{
    struct scenario s;

    scenario_init(&s);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.notifier, s.mm, s.addr, PAGE_SIZE,
                                                  &seq_ops), 0);
    run(&s, fault_with_sequence_count);
    ck_assert_int_eq(s.rounds, 2);
    ck_assert(!device_is_stale(&s));
    ck_assert(!s.dev.present);
    sim_test_write_trace("seed001-seq", "Linux 5.5 on: mmu_interval_read_begin / read_retry",
                "OK: read_retry sees the collision; the device maps nothing stale");
    mmu_interval_notifier_remove(&s.notifier);
    mmput(s.mm);
}
END_TEST

/* The record itself: the interleaving the figures show really happened. */
START_TEST(test_seed001_trace_shows_the_interleaving)
{
    struct scenario s;
    int snap = -1, start = -1, end = -1, retry = -1;

    scenario_init(&s);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.notifier, s.mm, s.addr, PAGE_SIZE,
                                                  &seq_ops), 0);
    run(&s, fault_with_sequence_count);
    for (int i = 0; i < sim_trace_count(); i++) {
        const char *r = sim_trace_record(i);

        if (snap < 0 && strstr(r, "CPU0\t-\tsnapshot: present"))
            snap = i;
        if (start < 0 && strstr(r, "CPU1\t-\tinvalidate_range_start(CLEAR"))
            start = i;
        if (end < 0 && strstr(r, "CPU1\t-\tinvalidate_range_end"))
            end = i;
        if (retry < 0 && strstr(r, "CPU0\t-\tread_retry(") && strstr(r, "= true"))
            retry = i;
    }
    ck_assert_int_ge(snap, 0);
    ck_assert_int_gt(start, snap);
    ck_assert_int_gt(end, start);
    ck_assert_int_gt(retry, end);
    mmu_interval_notifier_remove(&s.notifier);
    mmput(s.mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch04_seed_race");
    TCase *tc = sim_tcase("seed001", 10);

    tcase_add_test(tc, test_seed001_valid_flag_maps_a_freed_page);
    tcase_add_test(tc, test_seed001_sequence_count_retries);
    tcase_add_test(tc, test_seed001_trace_shows_the_interleaving);
    suite_add_tcase(s, tc);
    return s;
}
