/* Chapter 9, seed 004: the invalidation a device's own conversion sends.
 *
 * One device atomic add to each of four pages, run three ways:
 *   - Linux 5.14 on: the conversion announces MMU_NOTIFY_EXCLUSIVE with the device's
 *     owner; the device ignores it and maps each page in one round;
 *   - the 2021 series with its check pass: the conversion is an owner-less CLEAR that the
 *     device must process as an invalidation; a second walk of the page table decides;
 *   - the same conversion with the read-retry check a driver would otherwise use: every
 *     round collides with itself, and the device gives up with -EBUSY.
 * With SIM_TRACE_DIR set, the first two runs write their traces for the ladder diagrams. */
#include <stdio.h>
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define N 4

struct scenario {
    struct mm_struct *mm;
    struct dmirror_device *mdevice;
    struct dmirror *d;
    unsigned long addr;
};

static void scenario_init(struct scenario *s, bool before_owner, bool check_pass)
{
    s->mm = sim_mm_create();
    s->mdevice = dmirror_device_create(N);
    s->mdevice->history_exclusive_before_owner = before_owner;
    s->mdevice->history_check_pass = check_pass;
    s->d = dmirror_open(s->mdevice, s->mm);
    s->addr = sim_test_map_private(s->mm, N * P);
    sim_test_memset(s->mm, s->addr, 0, N * P);
}

static void scenario_done(struct scenario *s)
{
    dmirror_release(s->d);
    mmput(s->mm);
    dmirror_device_destroy(s->mdevice);
}


/* The add to page 0 is traced; the others run untraced. */
static int add_to_each_page(struct scenario *s, const char *trace)
{
    int ret = 0;

    for (int i = 0; i < N && !ret; i++) {
        if (i == 0 && trace) {
            sim_trace_start();
            sim_trace_actor("KERNEL");
        }
        ret = dmirror_atomic_add(s->d, s->addr + i * P, 1, NULL);
        if (i == 0 && trace)
            sim_trace_stop();
    }
    return ret;
}

START_TEST(with_the_owner_one_round_a_page)
{
    struct scenario s;
    int checks = 0;

    scenario_init(&s, false, false);
    ck_assert_int_eq(add_to_each_page(&s, "seed004-owner"), 0);
    ck_assert_uint_eq(s.mdevice->atomic_rounds, N);
    ck_assert_uint_eq(s.mdevice->atomic_own_events, 0);
    for (int i = 0; i < sim_trace_count(); i++)
        checks += strstr(sim_trace_record(i), "check pass") != NULL;
    ck_assert_int_eq(checks, 0);
    sim_test_write_trace("seed004-owner", "Linux 5.14 on: MMU_NOTIFY_EXCLUSIVE with the owner",
                "OK: the device ignores its own conversion; read_retry passes in one round");
    scenario_done(&s);
}
END_TEST

START_TEST(the_2021_check_pass_walks_again)
{
    struct scenario s;
    int checks = 0;

    scenario_init(&s, true, true);
    ck_assert_int_eq(add_to_each_page(&s, "seed004-check-pass"), 0);
    ck_assert_uint_eq(s.mdevice->atomic_rounds, N);
    ck_assert_uint_eq(s.mdevice->atomic_own_events, N);
    for (int i = 0; i < sim_trace_count(); i++)
        checks += strstr(sim_trace_record(i), "check pass") != NULL;
    ck_assert_int_eq(checks, 1);
    sim_test_write_trace("seed004-check-pass", "2021 series: an owner-less CLEAR and a check pass",
                "FAIL: the device processes its own conversion and walks the page table again");
    scenario_done(&s);
}
END_TEST

/* Without the owner, a read-retry check sees the conversion as a collision, every round. */
START_TEST(without_the_owner_read_retry_never_passes)
{
    struct scenario s;
    uint64_t v;

    scenario_init(&s, true, false);
    ck_assert_int_eq(dmirror_atomic_add(s.d, s.addr, 1, NULL), -EBUSY);
    ck_assert_uint_ge(s.mdevice->atomic_rounds, 2);
    ck_assert_uint_eq(s.mdevice->atomic_own_events, 2 * s.mdevice->atomic_rounds - 1);
    ck_assert_int_eq(sim_read(s.mm, s.addr, &v, sizeof(v)), 0);
    ck_assert_uint_eq(v, 0);
    scenario_done(&s);
}
END_TEST

/* All three leave the counters right where they succeed. */
START_TEST(the_adds_land)
{
    struct scenario s;

    for (int design = 0; design < 2; design++) {
        scenario_init(&s, design, design);
        ck_assert_int_eq(add_to_each_page(&s, NULL), 0);
        for (int i = 0; i < N; i++) {
            uint64_t v;

            ck_assert_int_eq(sim_read(s.mm, s.addr + i * P, &v, sizeof(v)), 0);
            ck_assert_uint_eq(v, 1);
        }
        scenario_done(&s);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch09 seed 004: the conversion's owner");
    TCase *tc = sim_tcase("seed004", 10);

    tcase_add_test(tc, with_the_owner_one_round_a_page);
    tcase_add_test(tc, the_2021_check_pass_walks_again);
    tcase_add_test(tc, without_the_owner_read_retry_never_passes);
    tcase_add_test(tc, the_adds_land);
    suite_add_tcase(s, tc);
    return s;
}
