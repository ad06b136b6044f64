/* Chapter 7, seed 003: hmm_range_fault before and after the owner check (Linux 5.7).
 *
 * A process has four pages in the memory of device A (a test driver with its own owner).
 * Device B, a mirror device with another owner, reads them through its device table.
 * Before 5.7 every device-private entry was answered as a valid pfn, whoever asked: B maps
 * four pfns of A's memory, which B cannot use.  With the owner check B's fault request
 * becomes four CPU faults, A's migrate_to_ram brings the pages home, and B maps system
 * pages holding the process's bytes. */
#include <stdlib.h>
#include "history.h"
#include "testdev.h"

#define P PAGE_SIZE
#define N 4

struct scenario {
    struct mm_struct *mm;
    struct testdev *a;
    struct dmirror_device *mb;
    struct dmirror *b;
    unsigned long addr;
    unsigned char buf[N * P];
    struct hmm_dmirror_cmd cmd;
};

static void scenario_init(struct scenario *s)
{
    s->mm = sim_mm_create();
    s->a = testdev_create(N);
    s->mb = dmirror_device_create(N);
    s->b = dmirror_open(s->mb, s->mm);
    s->addr = sim_test_map_private(s->mm, N * P);
    for (int i = 0; i < N; i++) {
        sim_test_memset(s->mm, s->addr + i * P, 0x30 + i, P);
        testdev_move_to_device(s->a, s->mm, s->addr + i * P);
    }
    s->cmd = (struct hmm_dmirror_cmd){ .addr = s->addr, .ptr = (uintptr_t)s->buf, .npages = N };
}

static void scenario_done(struct scenario *s)
{
    dmirror_release(s->b);
    mmput(s->mm);
    dmirror_device_destroy(s->mb);
    testdev_destroy(s->a);
}

/* The page that B's device table maps at page i of the buffer. */
static struct page *b_maps(struct scenario *s, int i)
{
    return dpt_page(dpt_load(&s->b->pt, (s->addr >> PAGE_SHIFT) + i));
}

START_TEST(before_5_7_b_is_handed_pages_of_a)
{
    struct scenario s;

    scenario_init(&s);
    sim_hmm_answer_device_private = hmm_answer_device_private_before_5_7;
    ck_assert_int_eq(dmirror_ioctl(s.b, HMM_DMIRROR_READ, &s.cmd), 0);
    ck_assert_uint_eq(s.cmd.cpages, N);
    ck_assert_uint_eq(s.cmd.faults, 1);
    ck_assert_int_eq(s.a->migrations, 0);
    for (int i = 0; i < N; i++) {
        struct page *page = b_maps(&s, i);

        /* B's table points into memory that belongs to A: B cannot use these pfns. */
        ck_assert(is_device_private_page(page));
        ck_assert_ptr_eq(page_pgmap(page)->owner, s.a);
        ck_assert_ptr_ne(page_pgmap(page)->owner, dmirror_device_owner(s.mb));
        ck_assert_ptr_eq(page, pfn_swap_entry_to_page(pte_to_swp_entry(
                                   sim_pte_get(s.mm, s.addr + i * P))));
    }
    sim_hmm_answer_device_private = hmm_answer_device_private;
    scenario_done(&s);
}
END_TEST

START_TEST(with_the_owner_check_b_faults_them_home)
{
    struct scenario s;

    scenario_init(&s);
    ck_assert_int_eq(dmirror_ioctl(s.b, HMM_DMIRROR_READ, &s.cmd), 0);
    ck_assert_uint_eq(s.cmd.cpages, N);
    ck_assert_uint_eq(s.cmd.faults, 1);
    ck_assert_int_eq(s.a->migrations, N);
    ck_assert_int_eq(s.a->page_frees, N);
    for (int i = 0; i < N; i++) {
        struct page *page = b_maps(&s, i);

        ck_assert(!is_device_private_page(page));
        ck_assert_ptr_eq(page, sim_test_mapped_page(s.mm, s.addr + i * P));
        ck_assert_uint_eq(sim_bytes_mismatch(s.buf + i * P, P, 0x30 + i), P);
    }
    scenario_done(&s);
}
END_TEST

/* The snapshot side of the same fix: B sees A's pages as not present, not as valid. */
START_TEST(b_snapshots_a_pages_as_none)
{
    struct scenario s;
    unsigned char perm[N];

    scenario_init(&s);
    s.cmd.ptr = (uintptr_t)perm;
    sim_hmm_answer_device_private = hmm_answer_device_private_before_5_7;
    ck_assert_int_eq(dmirror_ioctl(s.b, HMM_DMIRROR_SNAPSHOT, &s.cmd), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(perm[i], HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE | HMM_DMIRROR_PROT_WRITE);
    sim_hmm_answer_device_private = hmm_answer_device_private;
    ck_assert_int_eq(dmirror_ioctl(s.b, HMM_DMIRROR_SNAPSHOT, &s.cmd), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(perm[i], HMM_DMIRROR_PROT_NONE);
    ck_assert_int_eq(s.a->migrations, 0);
    scenario_done(&s);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch07 seed 003: the device-private owner");
    TCase *tc = sim_tcase("seed003", 10);

    tcase_add_test(tc, before_5_7_b_is_handed_pages_of_a);
    tcase_add_test(tc, with_the_owner_check_b_faults_them_home);
    tcase_add_test(tc, b_snapshots_a_pages_as_none);
    suite_add_tcase(s, tc);
    return s;
}
