/* Tests of the device's atomic add: the values it returns, the exclusive access it
 * takes and loses, the errors it passes on, and a counter that a CPU thread and the
 * device add to at the same time. */
#include <pthread.h>
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define ADDS 1000

struct fixture {
    struct mm_struct *mm;
    struct dmirror_device *mdev;
    struct dmirror *d;
    unsigned long addr;                  /* npages of private memory, written */
};

static void setup(struct fixture *f, unsigned long npages, unsigned char fill)
{
    f->mm = sim_mm_create();
    f->mdev = dmirror_device_create(2);
    f->d = dmirror_open(f->mdev, f->mm);
    ck_assert_ptr_nonnull(f->d);
    f->addr = sim_test_map_private(f->mm, npages * P);
    sim_test_memset(f->mm, f->addr, fill, npages * P);
}

static void teardown(struct fixture *f)
{
    dmirror_release(f->d);
    dmirror_device_destroy(f->mdev);
    mmput(f->mm);
}

static uint64_t word_at(struct mm_struct *mm, unsigned long addr)
{
    uint64_t v;

    ck_assert_int_eq(sim_read(mm, addr, &v, sizeof(v)), 0);
    return v;
}

static void set_word(struct mm_struct *mm, unsigned long addr, uint64_t v)
{
    ck_assert_int_eq(sim_write(mm, addr, &v, sizeof(v)), 0);
}

static bool is_exclusive(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);

    return is_swap_pte(pte) && is_device_exclusive_entry(pte_to_swp_entry(pte));
}

/* A missing mirror and a word that is not 8-byte aligned: -EINVAL, and nothing done. */
START_TEST(refuses_bad_input)
{
    struct fixture f;
    uint64_t old = 7;
    pte_t pte;

    setup(&f, 1, 0);
    pte = sim_pte_get(f.mm, f.addr);
    ck_assert_int_eq(dmirror_atomic_add(NULL, f.addr, 1, &old), -EINVAL);
    ck_assert_int_eq(dmirror_atomic_add(f.d, f.addr + 1, 1, &old), -EINVAL);
    ck_assert_int_eq(dmirror_atomic_add(f.d, f.addr + 4, 1, NULL), -EINVAL);
    ck_assert_int_eq(dmirror_atomic_add(f.d, f.addr + P - 2, 1, &old), -EINVAL);
    ck_assert_uint_eq(f.mdev->atomic_rounds, 0);
    ck_assert_uint_eq(sim_pte_get(f.mm, f.addr), pte);
    ck_assert_uint_eq(dpt_load(&f.d->pt, f.addr >> PAGE_SHIFT), 0);
    sim_test_expect_bytes(f.mm, f.addr, 0, P);
    teardown(&f);
}
END_TEST

/* Each add returns the word as it was; 64-bit arithmetic wraps; old may be NULL. */
START_TEST(returns_the_old_value)
{
    struct fixture f;
    unsigned long w;
    uint64_t old = 0;

    setup(&f, 2, 0);
    w = f.addr + P + 40;
    set_word(f.mm, w, 0x1234);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 5, &old), 0);
    ck_assert_uint_eq(old, 0x1234);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 0x100000000ULL, &old), 0);
    ck_assert_uint_eq(old, 0x1239);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 7, NULL), 0);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, UINT64_MAX, &old), 0);   /* minus one */
    ck_assert_uint_eq(old, 0x100001240ULL);
    ck_assert_uint_eq(word_at(f.mm, w), 0x10000123fULL);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, -0x10000123fULL - 2, &old), 0);
    ck_assert_uint_eq(old, 0x10000123fULL);
    ck_assert_uint_eq(word_at(f.mm, w), UINT64_MAX - 1);
    ck_assert_uint_eq(word_at(f.mm, w - 8), 0);
    ck_assert_uint_eq(word_at(f.mm, w + 8), 0);
    teardown(&f);
}
END_TEST

/* The add takes the page for the device: the CPU entry becomes device-exclusive, the
 * device table maps the same page atomically, and further adds need no new fault.  The
 * add changes the word and nothing else of the page. */
START_TEST(the_device_holds_the_page)
{
    struct fixture f;
    unsigned long w;
    unsigned char *expect = malloc(P), *buf = malloc(P);
    struct page *page;
    uintptr_t entry;
    uint64_t old = 0, v;

    setup(&f, 1, 0);
    sim_fill_pattern(expect, P, 21);
    ck_assert_int_eq(sim_write(f.mm, f.addr, expect, P), 0);
    page = sim_test_mapped_page(f.mm, f.addr);
    w = f.addr + P - 8;
    memcpy(&v, expect + P - 8, 8);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 3, &old), 0);
    ck_assert_uint_eq(old, v);
    ck_assert(is_exclusive(f.mm, f.addr));
    ck_assert_ptr_eq(pfn_swap_entry_to_page(pte_to_swp_entry(sim_pte_get(f.mm, f.addr))),
                     page);
    entry = dpt_load(&f.d->pt, f.addr >> PAGE_SHIFT);
    ck_assert_ptr_eq(dpt_page(entry), page);
    ck_assert_uint_eq(dpt_tags(entry), DPT_TAG_ATOMIC);
    ck_assert_uint_eq(f.mdev->atomic_rounds, 1);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(dmirror_atomic_add(f.d, w, 1, &old), 0);
        ck_assert_uint_eq(old, v + 3 + i);
    }
    ck_assert_uint_eq(f.mdev->atomic_rounds, 1);
    ck_assert(is_exclusive(f.mm, f.addr));
    v += 13;
    memcpy(expect + P - 8, &v, 8);
    ck_assert_int_eq(sim_read(f.mm, f.addr, buf, P), 0);
    ck_assert_int_eq(memcmp(buf, expect, P), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    free(expect);
    free(buf);
    teardown(&f);
}
END_TEST

/* The CPU's atomic add takes the page back and erases the device's entry; the device's
 * next add takes it again, with a second fault, and each sees the other's sums. */
START_TEST(the_cpu_takes_it_back)
{
    struct fixture f;
    unsigned long w;
    uint64_t old = 0;

    setup(&f, 1, 0);
    w = f.addr + 8;
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 10, &old), 0);
    ck_assert_uint_eq(old, 0);
    ck_assert_int_eq(sim_atomic_fetch_add(f.mm, w, 100, &old), 0);
    ck_assert_uint_eq(old, 10);
    ck_assert(pte_present(sim_pte_get(f.mm, f.addr)));
    ck_assert_uint_eq(dpt_load(&f.d->pt, f.addr >> PAGE_SHIFT), 0);
    ck_assert_int_eq(dmirror_atomic_add(f.d, w, 1000, &old), 0);
    ck_assert_uint_eq(old, 110);
    ck_assert_uint_eq(f.mdev->atomic_rounds, 2);
    ck_assert(is_exclusive(f.mm, f.addr));
    ck_assert_int_eq(sim_atomic_fetch_add(f.mm, w, 1, &old), 0);
    ck_assert_uint_eq(old, 1110);
    ck_assert_uint_eq(word_at(f.mm, w), 1111);
    ck_assert_uint_eq(word_at(f.mm, f.addr), 0);
    teardown(&f);
}
END_TEST

/* What exclusive access refuses is the add's error: a VMA that cannot be written, no
 * VMA, shared memory.  The memory is left as it was. */
START_TEST(errors_from_the_fault)
{
    struct fixture f;
    unsigned long ro, shared;
    uint64_t old = 42;

    setup(&f, 1, 0);
    ro = sim_test_map_private(f.mm, P);
    set_word(f.mm, ro, 5);
    ck_assert_int_eq(sim_mprotect(f.mm, ro, P, PROT_READ), 0);
    shared = sim_test_map_shared(f.mm, P);
    set_word(f.mm, shared, 6);
    ck_assert_int_eq(dmirror_atomic_add(f.d, ro, 1, &old), -EFAULT);
    ck_assert_int_eq(dmirror_atomic_add(f.d, 0x1000, 1, &old), -EFAULT);
    ck_assert_int_eq(dmirror_atomic_add(f.d, shared, 1, &old), -EOPNOTSUPP);
    ck_assert_uint_eq(word_at(f.mm, ro), 5);
    ck_assert_uint_eq(word_at(f.mm, shared), 6);
    ck_assert(pte_present(sim_pte_get(f.mm, ro)));
    ck_assert(pte_present(sim_pte_get(f.mm, shared)));
    ck_assert_uint_eq(dpt_load(&f.d->pt, ro >> PAGE_SHIFT), 0);
    ck_assert_uint_eq(dpt_load(&f.d->pt, shared >> PAGE_SHIFT), 0);
    teardown(&f);
}
END_TEST

/* An ordinary device mapping is not exclusive access: pages the device mirrors, one
 * after a device read and one after a device write, are taken exclusively first. */
START_TEST(a_mirrored_page_is_not_enough)
{
    struct fixture f;
    unsigned char buf[2 * P];
    struct hmm_dmirror_cmd c;
    unsigned long second;
    uint64_t old = 0;

    setup(&f, 2, 0);
    second = f.addr + P + 16;
    set_word(f.mm, f.addr, 50);
    set_word(f.mm, second, 60);
    c = (struct hmm_dmirror_cmd){ .addr = f.addr, .ptr = (uintptr_t)buf, .npages = 2 };
    ck_assert_int_eq(dmirror_ioctl(f.d, HMM_DMIRROR_READ, &c), 0);
    c = (struct hmm_dmirror_cmd){ .addr = f.addr + P, .ptr = (uintptr_t)(buf + P),
                                  .npages = 1 };
    ck_assert_int_eq(dmirror_ioctl(f.d, HMM_DMIRROR_WRITE, &c), 0);  /* writes back 60 */
    ck_assert_uint_ne(dpt_load(&f.d->pt, f.addr >> PAGE_SHIFT), 0);
    ck_assert_uint_eq(dpt_tags(dpt_load(&f.d->pt, (f.addr + P) >> PAGE_SHIFT)),
                      DPT_TAG_WRITE);

    ck_assert_int_eq(dmirror_atomic_add(f.d, f.addr, 1, &old), 0);
    ck_assert_uint_eq(old, 50);
    ck_assert(is_exclusive(f.mm, f.addr));
    ck_assert_uint_eq(dpt_tags(dpt_load(&f.d->pt, f.addr >> PAGE_SHIFT)), DPT_TAG_ATOMIC);
    ck_assert_int_eq(dmirror_atomic_add(f.d, second, 2, &old), 0);
    ck_assert_uint_eq(old, 60);
    ck_assert(is_exclusive(f.mm, f.addr + P));
    ck_assert_uint_eq(dpt_tags(dpt_load(&f.d->pt, (f.addr + P) >> PAGE_SHIFT)),
                      DPT_TAG_ATOMIC);
    ck_assert_uint_eq(f.mdev->atomic_rounds, 2);
    ck_assert_uint_eq(word_at(f.mm, f.addr), 51);
    ck_assert_uint_eq(word_at(f.mm, second), 62);
    teardown(&f);
}
END_TEST

/* A CPU thread and the device thread each add 1 to one counter ADDS times, at the same
 * time.  Every add returns a different old value, together exactly 0 .. 2 * ADDS - 1,
 * and the counter ends at 2 * ADDS. */
struct counter {
    struct fixture f;
    unsigned long addr;
    pthread_barrier_t go;
    uint64_t olds[2][ADDS];
    int errors[2];
};

static void *cpu_adds(void *arg)
{
    struct counter *c = arg;

    pthread_barrier_wait(&c->go);
    for (int i = 0; i < ADDS; i++)
        c->errors[0] += sim_atomic_fetch_add(c->f.mm, c->addr, 1, &c->olds[0][i]) != 0;
    return NULL;
}

static void *device_adds(void *arg)
{
    struct counter *c = arg;

    pthread_barrier_wait(&c->go);
    for (int i = 0; i < ADDS; i++)
        c->errors[1] += dmirror_atomic_add(c->f.d, c->addr, 1, &c->olds[1][i]) != 0;
    return NULL;
}

START_TEST(cpu_and_device_share_a_counter)
{
    struct counter *c = calloc(1, sizeof(*c));
    unsigned char *seen = calloc(2 * ADDS, 1);
    pthread_t cpu, dev;

    setup(&c->f, 1, 0);
    c->addr = c->f.addr + 3 * sizeof(uint64_t);
    pthread_barrier_init(&c->go, NULL, 2);
    pthread_create(&cpu, NULL, cpu_adds, c);
    pthread_create(&dev, NULL, device_adds, c);
    pthread_join(cpu, NULL);
    pthread_join(dev, NULL);
    pthread_barrier_destroy(&c->go);
    ck_assert_int_eq(c->errors[0], 0);
    ck_assert_int_eq(c->errors[1], 0);
    ck_assert_uint_eq(word_at(c->f.mm, c->addr), 2 * ADDS);
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < ADDS; i++) {
            uint64_t o = c->olds[side][i];

            ck_assert_uint_lt(o, 2 * ADDS);
            ck_assert_msg(!seen[o], "old value %llu returned twice", (unsigned long long)o);
            seen[o] = 1;
            if (i > 0)
                ck_assert_uint_gt(o, c->olds[side][i - 1]);
        }
    ck_assert_uint_eq(word_at(c->f.mm, c->f.addr), 0);
    teardown(&c->f);
    free(seen);
    free(c);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("atomic-add");
    TCase *tc = sim_tcase("atomic", 5);

    tcase_add_test(tc, refuses_bad_input);
    tcase_add_test(tc, returns_the_old_value);
    tcase_add_test(tc, the_device_holds_the_page);
    tcase_add_test(tc, the_cpu_takes_it_back);
    tcase_add_test(tc, errors_from_the_fault);
    tcase_add_test(tc, a_mirrored_page_is_not_enough);
    tcase_add_test(tc, cpu_and_device_share_a_counter);
    suite_add_tcase(s, tc);
    return s;
}
