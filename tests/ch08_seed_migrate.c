/* Chapter 8, seed 002: the invalidation a device's own migration sends, before and after
 * Linux 5.9.
 *
 * Eight pages: the first four already in the device's memory, all eight mapped by the
 * device after a read.  The device then migrates the whole range to itself; the four
 * system pages move, the four device pages are not selected.  Before 5.9 the collect
 * step's invalidation is an owner-less MMU_NOTIFY_CLEAR, and the device erases all eight
 * entries; only the four that moved are mapped again, and the next read through the
 * device needs a fault round for the other four.  Since 5.9 it is MMU_NOTIFY_MIGRATE
 * with the device's owner: the device keeps its entries and reads with no fault.
 *
 * With SIM_TRACE_DIR set, each run writes its trace there for the ladder diagrams. */
#include <stdio.h>
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define N 8

struct scenario {
    struct mm_struct *mm;
    struct dmirror_device *mdevice;
    struct dmirror *d;
    unsigned long addr;
    unsigned char buf[N * P];
};

static int cmd(struct scenario *s, unsigned int op, unsigned long first, unsigned long n,
               struct hmm_dmirror_cmd *c)
{
    *c = (struct hmm_dmirror_cmd){ .addr = s->addr + first * P, .ptr = (uintptr_t)s->buf,
                                   .npages = n };
    return dmirror_ioctl(s->d, op, c);
}

static int device_entries(struct scenario *s)
{
    int n = 0;

    for (int i = 0; i < N; i++)
        n += dpt_load(&s->d->pt, (s->addr >> PAGE_SHIFT) + i) != 0;
    return n;
}

/* Four pages on the device, all eight mapped by it. */
static void scenario_init(struct scenario *s)
{
    struct hmm_dmirror_cmd c;

    s->mm = sim_mm_create();
    s->mdevice = dmirror_device_create(2 * N);
    s->d = dmirror_open(s->mdevice, s->mm);
    s->addr = sim_test_map_private(s->mm, N * P);
    for (int i = 0; i < N; i++)
        sim_test_memset(s->mm, s->addr + i * P, 0x40 + i, P);
    ck_assert_int_eq(cmd(s, HMM_DMIRROR_MIGRATE_TO_DEV, 0, N / 2, &c), 0);
    ck_assert_uint_eq(c.cpages, N / 2);
    ck_assert_int_eq(cmd(s, HMM_DMIRROR_READ, 0, N, &c), 0);
    ck_assert_uint_eq(c.faults, 1);
    ck_assert_int_eq(device_entries(s), N);
}

static void scenario_done(struct scenario *s)
{
    dmirror_release(s->d);
    mmput(s->mm);
    dmirror_device_destroy(s->mdevice);
}


/* The migration of the whole range, traced; returns the device entries left after it
 * and the fault rounds the next read needs.  The command reads the range back through
 * the device table: ret and cpages are what that read-back found. */
static void migrate_all_and_read(struct scenario *s, int ret, uint64_t cpages, int *entries,
                                 uint64_t *faults)
{
    struct hmm_dmirror_cmd c;

    sim_trace_start();
    sim_trace_actor("KERNEL");
    ck_assert_int_eq(cmd(s, HMM_DMIRROR_MIGRATE_TO_DEV, 0, N, &c), ret);
    ck_assert_uint_eq(c.cpages, cpages);
    *entries = device_entries(s);
    sim_trace_event("device table: %d of %d entries", *entries, N);
    ck_assert_int_eq(cmd(s, HMM_DMIRROR_READ, 0, N, &c), 0);
    *faults = c.faults;
    sim_trace_event("read: %lu fault round%s", (unsigned long)c.faults,
                    c.faults == 1 ? "" : "s");
    sim_trace_stop();
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(sim_bytes_mismatch(s->buf + i * P, P, 0x40 + i), P);
}

START_TEST(before_5_9_the_device_erases_its_own_entries)
{
    struct scenario s;
    int entries;
    uint64_t faults;

    scenario_init(&s);
    s.mdevice->history_migrate_before_5_9 = true;
    /* the command's own read-back stops at page 0, whose entry the device erased */
    migrate_all_and_read(&s, -ENOENT, 0, &entries, &faults);
    ck_assert_int_eq(entries, N / 2);
    ck_assert_uint_eq(faults, 1);
    sim_test_write_trace("seed002-before", "Before 5.9: the collect step sends CLEAR, no owner",
                "FAIL: the device drops 4 entries it still needs; reading them costs a fault round");
    scenario_done(&s);
}
END_TEST

START_TEST(with_the_owner_the_device_keeps_them)
{
    struct scenario s;
    int entries;
    uint64_t faults;

    scenario_init(&s);
    migrate_all_and_read(&s, 0, N, &entries, &faults);
    ck_assert_int_eq(entries, N);
    ck_assert_uint_eq(faults, 0);
    sim_test_write_trace("seed002-owner", "Linux 5.9 on: MMU_NOTIFY_MIGRATE with the owner",
                "OK: the device keeps its 8 entries and reads with no fault");
    scenario_done(&s);
}
END_TEST

/* The record: the device saw the collect step's invalidation, and what it did with it. */
START_TEST(the_trace_shows_what_the_device_did)
{
    struct scenario s;
    int entries, erase = -1, keep = -1, start = -1;
    uint64_t faults;

    scenario_init(&s);
    migrate_all_and_read(&s, 0, N, &entries, &faults);
    for (int i = 0; i < sim_trace_count(); i++) {
        const char *r = sim_trace_record(i);

        if (start < 0 && strstr(r, "invalidate_range_start(MIGRATE"))
            start = i;
        if (keep < 0 && strstr(r, "own migration: keep entries"))
            keep = i;
        if (erase < 0 && strstr(r, "DEVICE\terase"))
            erase = i;
    }
    ck_assert_int_ge(start, 0);
    ck_assert_int_gt(keep, start);
    ck_assert_int_eq(erase, -1);
    scenario_done(&s);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch08 seed 002: the migration owner");
    TCase *tc = sim_tcase("seed002", 10);

    tcase_add_test(tc, before_5_9_the_device_erases_its_own_entries);
    tcase_add_test(tc, with_the_owner_the_device_keeps_them);
    tcase_add_test(tc, the_trace_shows_what_the_device_did);
    suite_add_tcase(s, tc);
    return s;
}
