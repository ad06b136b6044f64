/* Chapter 9: why exclusive access matters.  A CPU thread and a device thread add to one
 * 64-bit counter; with exclusive access no increment is lost.  A device without it must
 * read the word, add, and write the sum back through an ordinary mapping; one CPU add
 * forced in between is lost. */
#include <pthread.h>
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define ADDS 2000

struct counter {
    struct mm_struct *mm;
    struct dmirror_device *mdevice;
    struct dmirror *d;
    unsigned long addr;                  /* the counter: word 3 of the page */
    pthread_barrier_t go;
};

static void counter_init(struct counter *c)
{
    c->mm = sim_mm_create();
    c->mdevice = dmirror_device_create(4);
    c->d = dmirror_open(c->mdevice, c->mm);
    c->addr = sim_test_map_private(c->mm, P) + 3 * sizeof(uint64_t);
    sim_test_memset(c->mm, c->addr - 3 * sizeof(uint64_t), 0, P);
    pthread_barrier_init(&c->go, NULL, 2);
}

static void counter_done(struct counter *c)
{
    pthread_barrier_destroy(&c->go);
    dmirror_release(c->d);
    mmput(c->mm);
    dmirror_device_destroy(c->mdevice);
}

static uint64_t counter_value(struct counter *c)
{
    uint64_t v;

    ck_assert_int_eq(sim_read(c->mm, c->addr, &v, sizeof(v)), 0);
    return v;
}

static void *device_adds(void *arg)
{
    struct counter *c = arg;
    long bad = 0;

    pthread_barrier_wait(&c->go);
    for (int i = 0; i < ADDS; i++)
        bad += dmirror_atomic_add(c->d, c->addr, 1, NULL) != 0;
    return (void *)bad;
}

/* Both sides add ADDS times, at the same time: the counter ends at exactly 2 * ADDS. */
START_TEST(no_increment_is_lost)
{
    struct counter c;
    pthread_t dev;
    void *bad;

    counter_init(&c);
    pthread_create(&dev, NULL, device_adds, &c);
    pthread_barrier_wait(&c.go);
    for (int i = 0; i < ADDS; i++)
        ck_assert_int_eq(sim_atomic_fetch_add(c.mm, c.addr, 1, NULL), 0);
    pthread_join(dev, &bad);
    ck_assert_ptr_null(bad);
    ck_assert_uint_eq(counter_value(&c), 2 * ADDS);
    counter_done(&c);
}
END_TEST

/* The device's add works on the page it holds exclusively: the CPU entry is
 * device-exclusive afterwards and the device table's entry is atomic; the CPU's next add
 * takes the page back (the device entry goes) and sees the device's sum. */
START_TEST(the_page_moves_between_them)
{
    struct counter c;
    uint64_t old = 99;
    pte_t pte;

    counter_init(&c);
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr, 5, &old), 0);
    ck_assert_uint_eq(old, 0);
    pte = sim_pte_get(c.mm, c.addr);
    ck_assert(is_swap_pte(pte) && is_device_exclusive_entry(pte_to_swp_entry(pte)));
    ck_assert_uint_eq(dpt_tags(dpt_load(&c.d->pt, c.addr >> PAGE_SHIFT)), DPT_TAG_ATOMIC);
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr, 5, &old), 0);
    ck_assert_uint_eq(old, 5);
    ck_assert_uint_eq(c.mdevice->atomic_rounds, 1);
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, c.addr, 1, &old), 0);
    ck_assert_uint_eq(old, 10);
    ck_assert(pte_present(sim_pte_get(c.mm, c.addr)));
    ck_assert_uint_eq(dpt_load(&c.d->pt, c.addr >> PAGE_SHIFT), 0);
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr, 1, &old), 0);
    ck_assert_uint_eq(old, 11);
    ck_assert_uint_eq(c.mdevice->atomic_rounds, 2);
    ck_assert_uint_eq(counter_value(&c), 12);
    counter_done(&c);
}
END_TEST

/* A device without exclusive access: read the word through an ordinary mapping, add,
 * write it back.  A CPU add between the read and the write is lost. */
START_TEST(without_exclusive_access_an_add_is_lost)
{
    struct counter c;
    unsigned long page = 0;
    unsigned char buf[P];
    struct hmm_dmirror_cmd cmd;
    uint64_t *word;

    counter_init(&c);
    page = c.addr & PAGE_MASK;
    word = (uint64_t *)(buf + (c.addr - page));
    cmd = (struct hmm_dmirror_cmd){ .addr = page, .ptr = (uintptr_t)buf, .npages = 1 };
    ck_assert_int_eq(dmirror_ioctl(c.d, HMM_DMIRROR_READ, &cmd), 0);   /* device reads 0 */
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, c.addr, 1, NULL), 0);   /* CPU: 0 -> 1 */
    *word += 1;                                                          /* device: 0 + 1 */
    cmd = (struct hmm_dmirror_cmd){ .addr = page, .ptr = (uintptr_t)buf, .npages = 1 };
    ck_assert_int_eq(dmirror_ioctl(c.d, HMM_DMIRROR_WRITE, &cmd), 0);   /* writes back 1 */
    ck_assert_uint_eq(counter_value(&c), 1);                             /* not 2 */
    counter_done(&c);
}
END_TEST

/* The copy-on-write break after fork, and the page coming home from device memory, are
 * invalidations; they happen before a round's window opens, so each add takes one
 * round.  (Inside the window they would collide, and so would every later round, whose
 * conversion would first revoke the entry the earlier one left.) */
START_TEST(a_colliding_round_does_not_livelock)
{
    struct counter c;
    struct mm_struct *child;
    struct hmm_dmirror_cmd cmd;
    unsigned char buf[P];
    uint64_t old = 77;

    counter_init(&c);
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, c.addr, 3, NULL), 0);
    child = sim_fork(c.mm);
    ck_assert(!IS_ERR(child));
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr, 1, &old), 0);
    ck_assert_uint_eq(old, 3);
    ck_assert_uint_eq(c.mdevice->atomic_rounds, 1);  /* the break happened before the window */
    mmput(child);

    /* a device-exclusive entry does not migrate: the CPU takes the page back first */
    ck_assert_uint_eq(counter_value(&c), 4);
    cmd = (struct hmm_dmirror_cmd){ .addr = c.addr & PAGE_MASK, .ptr = (uintptr_t)buf,
                                    .npages = 1 };
    ck_assert_int_eq(dmirror_ioctl(c.d, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd), 0);
    ck_assert(is_device_private_entry(pte_to_swp_entry(sim_pte_get(c.mm, c.addr))));
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr, 1, &old), 0);
    ck_assert_uint_eq(old, 4);
    ck_assert_uint_eq(c.mdevice->atomic_rounds, 2);
    ck_assert_uint_eq(counter_value(&c), 5);
    counter_done(&c);
}
END_TEST

START_TEST(atomics_refuse_bad_input)
{
    struct counter c;
    unsigned long ro;

    counter_init(&c);
    ck_assert_int_eq(dmirror_atomic_add(c.d, c.addr + 1, 1, NULL), -EINVAL);
    ck_assert_int_eq(dmirror_atomic_add(NULL, c.addr, 1, NULL), -EINVAL);
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, c.addr + 4, 1, NULL), -EINVAL);
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, 0x1000, 1, NULL), -EFAULT);
    ro = sim_test_mmap(c.mm, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    ck_assert_int_eq(sim_atomic_fetch_add(c.mm, ro, 1, NULL), -EFAULT);
    ck_assert_int_eq(dmirror_atomic_add(c.d, ro, 1, NULL), -EFAULT);
    ck_assert_int_eq(dmirror_atomic_add(c.d, 0x1000, 1, NULL), -EFAULT);
    ck_assert_uint_eq(counter_value(&c), 0);
    counter_done(&c);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch09 atomics");
    TCase *tc = sim_tcase("atomics", 30);

    tcase_add_test(tc, no_increment_is_lost);
    tcase_add_test(tc, the_page_moves_between_them);
    tcase_add_test(tc, without_exclusive_access_an_add_is_lost);
    tcase_add_test(tc, a_colliding_round_does_not_livelock);
    tcase_add_test(tc, atomics_refuse_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
