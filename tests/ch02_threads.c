/* Chapter 2: several host threads (the process's CPUs) faulting, reading and writing
 * one address space at once, with munmap, mprotect, madvise and fork racing them.  Every
 * check holds for every interleaving; barriers and joins order the phases. */
#include <pthread.h>
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define P PAGE_SIZE
#define NR_THREADS 4

struct shared_state {
    struct mm_struct *mm;
    unsigned long addr;
    pthread_barrier_t start;
    atomic_int errors;
    atomic_bool done;
};

struct thread_arg {
    struct shared_state *s;
    int id;
    unsigned char last[2];       /* the value this thread last wrote to each page */
};

static void run_threads(struct thread_arg *args, int n, void *(*fn)(void *))
{
    pthread_t threads[16];

    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, fn, &args[i]), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
}

static void init_state(struct shared_state *s, struct thread_arg *args, int n)
{
    pthread_barrier_init(&s->start, NULL, n);
    atomic_init(&s->errors, 0);
    atomic_init(&s->done, false);
    for (int i = 0; i < n; i++)
        args[i] = (struct thread_arg){ .s = s, .id = i };
}

#define error_if(s, cond) \
    do { \
        if (cond) \
            atomic_fetch_add(&(s)->errors, 1); \
    } while (0)

/* ------------------------------------------------------------------------------------
 * Disjoint pages
 */

#define DISJOINT_PAGES 64

static void *disjoint_writer(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned char buf[P];

    pthread_barrier_wait(&s->start);
    for (int pg = a->id; pg < DISJOINT_PAGES; pg += NR_THREADS) {
        sim_fill_pattern(buf, P, pg);
        error_if(s, sim_write(s->mm, s->addr + pg * P, buf, P) != 0);
    }
    for (int pg = a->id; pg < DISJOINT_PAGES; pg += NR_THREADS) {
        memset(buf, 0, P);
        error_if(s, sim_read(s->mm, s->addr + pg * P, buf, P) != 0);
        error_if(s, sim_pattern_mismatch(buf, P, pg) != P);
    }
    return NULL;
}

/* Threads writing interleaved pages of one mapping (sharing page tables) each fault in
 * their own frames; every byte is right afterwards and exactly one frame per page. */
START_TEST(test_threads_write_disjoint_pages)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS];
    unsigned char buf[P];

    init_state(&s, args, NR_THREADS);
    s.mm = sim_mm_create();
    s.addr = sim_test_map_private(s.mm, DISJOINT_PAGES * P);
    run_threads(args, NR_THREADS, disjoint_writer);
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), DISJOINT_PAGES);
    for (int pg = 0; pg < DISJOINT_PAGES; pg++) {
        struct page *page = sim_test_mapped_page(s.mm, s.addr + pg * P);

        ck_assert(pte_write(sim_pte_get(s.mm, s.addr + pg * P)));
        ck_assert_int_eq(page_ref_count(page), 1);
        ck_assert_int_eq(page_mapcount(page), 1);
        ck_assert_int_eq(sim_read(s.mm, s.addr + pg * P, buf, P), 0);
        ck_assert_uint_eq(sim_pattern_mismatch(buf, P, pg), P);
    }
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * The same pages, distinct bytes
 */

#define SAME_PAGES 8
#define SAME_ROUNDS 60
#define STRIPE (P / NR_THREADS)

static unsigned char stripe_value(int id, int round)
{
    return (unsigned char)(1 + (id * 61 + round) % 250);
}

/* Every stripe of a page snapshot is uniform: another thread's stripe write is never
 * seen half done. */
static bool stripes_uniform(const unsigned char *page)
{
    for (int t = 0; t < NR_THREADS; t++)
        if (sim_bytes_mismatch(page + t * STRIPE, STRIPE, page[t * STRIPE]) != STRIPE)
            return false;
    return true;
}

static void *stripe_thread(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned char buf[P], mine[STRIPE];

    pthread_barrier_wait(&s->start);
    /* Everyone reads the untouched pages at once (zero page, or the shared object's
     * frame), then writes them at once. */
    for (int pg = 0; pg < SAME_PAGES; pg++) {
        error_if(s, sim_read(s->mm, s->addr + pg * P, buf, P) != 0);
        error_if(s, !stripes_uniform(buf));
        error_if(s, buf[a->id * STRIPE] != 0);
    }
    for (int r = 0; r < SAME_ROUNDS; r++) {
        for (int pg = 0; pg < SAME_PAGES; pg++) {
            unsigned long mine_addr = s->addr + pg * P + a->id * STRIPE;
            unsigned char expect = r ? stripe_value(a->id, r - 1) : 0;

            error_if(s, sim_read(s->mm, mine_addr, mine, STRIPE) != 0);
            error_if(s, sim_bytes_mismatch(mine, STRIPE, expect) != STRIPE);
            memset(mine, stripe_value(a->id, r), STRIPE);
            error_if(s, sim_write(s->mm, mine_addr, mine, STRIPE) != 0);
            if ((r + pg) % 8 == 0) {
                error_if(s, sim_read(s->mm, s->addr + pg * P, buf, P) != 0);
                error_if(s, !stripes_uniform(buf));
                error_if(s, buf[a->id * STRIPE] != stripe_value(a->id, r));
            }
        }
    }
    return NULL;
}

/* Threads reading and writing their own bytes of the same pages: the racing first-touch
 * faults (zero page then copy, or shared object) lose no write, every access is atomic
 * per page, and there is exactly one frame per page at the end.  _i: 0 private, 1
 * shared. */
START_TEST(test_threads_share_pages)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS];
    unsigned char buf[P];

    init_state(&s, args, NR_THREADS);
    s.mm = sim_mm_create();
    s.addr = _i ? sim_test_map_shared(s.mm, SAME_PAGES * P)
                : sim_test_map_private(s.mm, SAME_PAGES * P);
    run_threads(args, NR_THREADS, stripe_thread);
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), SAME_PAGES);
    for (int pg = 0; pg < SAME_PAGES; pg++) {
        struct page *page = sim_test_mapped_page(s.mm, s.addr + pg * P);

        ck_assert(pte_write(sim_pte_get(s.mm, s.addr + pg * P)));
        ck_assert_int_eq(page_mapcount(page), 1);
        ck_assert_int_eq(page_ref_count(page), _i ? 2 : 1);
        ck_assert_int_eq(sim_read(s.mm, s.addr + pg * P, buf, P), 0);
        for (int t = 0; t < NR_THREADS; t++)
            ck_assert_uint_eq(sim_bytes_mismatch(buf + t * STRIPE, STRIPE,
                                                 stripe_value(t, SAME_ROUNDS - 1)),
                              STRIPE);
    }
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Copy-on-write races
 */

static void *cow_writer(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned char mine[STRIPE];

    pthread_barrier_wait(&s->start);
    for (int r = 0; r < 20; r++) {
        for (int pg = 0; pg < SAME_PAGES; pg++) {
            unsigned long mine_addr = s->addr + pg * P + a->id * STRIPE;

            memset(mine, stripe_value(a->id, r), STRIPE);
            error_if(s, sim_write(s->mm, mine_addr, mine, STRIPE) != 0);
            error_if(s, sim_read(s->mm, mine_addr, mine, STRIPE) != 0);
            error_if(s, sim_bytes_mismatch(mine, STRIPE, stripe_value(a->id, r)) != STRIPE);
        }
    }
    return NULL;
}

/* After fork, the parent's threads all write the shared-on-fork pages at once: racing
 * copy-on-write faults install one copy per page (the losers' copies are freed), no
 * write is lost, and the child keeps the original data. */
START_TEST(test_threads_cow_race_after_fork)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS];
    struct mm_struct *child;
    unsigned char buf[SAME_PAGES * P];

    init_state(&s, args, NR_THREADS);
    s.mm = sim_mm_create();
    s.addr = sim_test_map_private(s.mm, SAME_PAGES * P);
    sim_fill_pattern(buf, sizeof(buf), 42);
    ck_assert_int_eq(sim_write(s.mm, s.addr, buf, sizeof(buf)), 0);
    child = sim_fork(s.mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    run_threads(args, NR_THREADS, cow_writer);
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2 * SAME_PAGES);
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(sim_read(child, s.addr, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(buf, sizeof(buf), 42), sizeof(buf));
    for (int pg = 0; pg < SAME_PAGES; pg++) {
        struct page *mine = sim_test_mapped_page(s.mm, s.addr + pg * P);
        struct page *theirs = sim_test_mapped_page(child, s.addr + pg * P);

        ck_assert_ptr_ne(mine, theirs);
        ck_assert_int_eq(page_ref_count(mine), 1);
        ck_assert_int_eq(page_mapcount(mine), 1);
        ck_assert_int_eq(page_ref_count(theirs), 1);
        ck_assert_int_eq(page_mapcount(theirs), 1);
        ck_assert_int_eq(sim_read(s.mm, s.addr + pg * P, buf, P), 0);
        for (int t = 0; t < NR_THREADS; t++)
            ck_assert_uint_eq(sim_bytes_mismatch(buf + t * STRIPE, STRIPE,
                                                 stripe_value(t, 19)),
                              STRIPE);
    }
    mmput(child);
    ck_assert_uint_eq(sim_nr_pages_in_use(), SAME_PAGES);
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * madvise and mprotect racing the accesses
 */

#define DISRUPT_ROUNDS 150
#define FINAL_VALUE 0xf1

static void *disruptor(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned long len = 2 * NR_THREADS * P;

    pthread_barrier_wait(&s->start);
    for (int r = 0; r < DISRUPT_ROUNDS; r++) {
        error_if(s, sim_madvise(s->mm, s->addr, len, MADV_DONTNEED) != 0);
        error_if(s, sim_mprotect(s->mm, s->addr, len, PROT_READ) != 0);
        if (r % 3 == 0)
            error_if(s, sim_mprotect(s->mm, s->addr, len, PROT_NONE) != 0);
        error_if(s, sim_mprotect(s->mm, s->addr, len, RW) != 0);
    }
    atomic_store(&s->done, true);
    return NULL;
}

/* One access by a writer: a whole-page write that either lands or is refused, then a
 * read that is refused with the buffer untouched or sees the page whole, holding
 * either the last value this thread wrote or zeroes (a zap). */
static void disrupted_access(struct thread_arg *a, int which, unsigned char v)
{
    struct shared_state *s = a->s;
    unsigned long addr = s->addr + (2 * a->id + which) * P;
    unsigned char buf[P];
    int ret;

    memset(buf, v, P);
    ret = sim_write(s->mm, addr, buf, P);
    error_if(s, ret != 0 && ret != -EFAULT);
    if (ret == 0)
        a->last[which] = v;
    memset(buf, 0xee, P);
    ret = sim_read(s->mm, addr, buf, P);
    error_if(s, ret != 0 && ret != -EFAULT);
    if (ret == 0)
        error_if(s, sim_bytes_mismatch(buf, P, buf[0]) != P ||
                        (buf[0] != 0 && buf[0] != a->last[which]));
    else
        error_if(s, sim_bytes_mismatch(buf, P, 0xee) != P);
}

static void *disrupted_writer(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;

    pthread_barrier_wait(&s->start);
    for (int i = 0; !atomic_load(&s->done); i++)
        disrupted_access(a, i % 2, (unsigned char)(1 + i % 200));
    /* The disruptor has finished, with everything read-write again: these land. */
    for (int which = 0; which < 2; which++) {
        unsigned char buf[P];

        memset(buf, FINAL_VALUE - which, P);
        error_if(s, sim_write(s->mm, s->addr + (2 * a->id + which) * P, buf, P) != 0);
    }
    return NULL;
}

/* Writers and readers run while another thread zaps the range and flips its protection
 * (read-only, none, read-write) over and over: every access either completes whole or
 * is refused whole, nothing crashes, the books balance, and the final writes made after
 * the last change are what the pages hold. */
START_TEST(test_threads_race_madvise_and_mprotect)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS + 1];

    init_state(&s, args, NR_THREADS + 1);
    s.mm = sim_mm_create();
    s.addr = sim_test_map_private(s.mm, 2 * NR_THREADS * P);
    {
        pthread_t threads[NR_THREADS + 1];

        for (int i = 0; i < NR_THREADS; i++)
            ck_assert_int_eq(pthread_create(&threads[i], NULL, disrupted_writer, &args[i]),
                             0);
        ck_assert_int_eq(pthread_create(&threads[NR_THREADS], NULL, disruptor,
                                        &args[NR_THREADS]),
                         0);
        for (int i = 0; i <= NR_THREADS; i++)
            ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    }
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(s.mm->map_count, 1);
    for (int t = 0; t < NR_THREADS; t++)
        for (int which = 0; which < 2; which++)
            sim_test_expect_bytes(s.mm, s.addr + (2 * t + which) * P, FINAL_VALUE - which,
                                  P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2 * NR_THREADS);
    ck_assert_int_eq(sim_madvise(s.mm, s.addr, 2 * NR_THREADS * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * mmap and munmap racing each other
 */

static void *map_unmap_thread(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned char buf[3 * P], out[3 * P];

    pthread_barrier_wait(&s->start);
    for (int r = 0; r < 40; r++) {
        long addr = sim_mmap(s->mm, 0, 3 * P, RW, (r % 2) ? SHARED : PRIV);

        error_if(s, addr <= 0 || !PAGE_ALIGNED((unsigned long)addr));
        if (addr <= 0)
            continue;
        sim_fill_pattern(buf, sizeof(buf), a->id * 1000 + r);
        error_if(s, sim_write(s->mm, addr, buf, sizeof(buf)) != 0);
        error_if(s, sim_read(s->mm, addr, out, sizeof(out)) != 0);
        error_if(s, memcmp(buf, out, sizeof(buf)) != 0);
        error_if(s, sim_mprotect(s->mm, addr + P, P, PROT_READ) != 0);
        error_if(s, sim_write(s->mm, addr + P, buf, 1) != -EFAULT);
        error_if(s, sim_madvise(s->mm, addr, P, MADV_DONTNEED) != 0);
        error_if(s, sim_read(s->mm, addr + P, out, P) != 0);
        error_if(s, memcmp(buf + P, out, P) != 0);
        error_if(s, sim_munmap(s->mm, addr, 3 * P) != 0);
    }
    return NULL;
}

/* Threads mapping, using, reprotecting and unmapping their own regions of one address
 * space at once never see each other's data, and leave nothing behind. */
START_TEST(test_threads_map_and_unmap)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS];

    init_state(&s, args, NR_THREADS);
    s.mm = sim_mm_create();
    run_threads(args, NR_THREADS, map_unmap_thread);
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    ck_assert_int_eq(s.mm->map_count, 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * fork racing the writers
 */

#define FORK_WRITES 200

static void *counting_writer(void *p)
{
    struct thread_arg *a = p;
    struct shared_state *s = a->s;
    unsigned char buf[P];

    pthread_barrier_wait(&s->start);
    for (int i = 1; i <= FORK_WRITES; i++) {
        memset(buf, i, P);
        error_if(s, sim_write(s->mm, s->addr + a->id * P, buf, P) != 0);
    }
    return NULL;
}

/* fork while the parent's threads write: each child sees, for every page, one whole
 * write (never a torn page), no later than what the parent ends with; children's
 * frames all go away with them. */
START_TEST(test_threads_fork_while_writing)
{
    struct shared_state s;
    struct thread_arg args[NR_THREADS + 1];
    pthread_t threads[NR_THREADS];
    unsigned char buf[P];
    unsigned char seen[NR_THREADS] = { 0 };

    init_state(&s, args, NR_THREADS + 1);
    s.mm = sim_mm_create();
    s.addr = sim_test_map_private(s.mm, NR_THREADS * P);
    for (int i = 0; i < NR_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, counting_writer, &args[i]), 0);
    pthread_barrier_wait(&s.start);
    for (int f = 0; f < 10; f++) {
        struct mm_struct *child = sim_fork(s.mm);

        ck_assert(!IS_ERR_OR_NULL(child));
        for (int t = 0; t < NR_THREADS; t++) {
            ck_assert_int_eq(sim_read(child, s.addr + t * P, buf, P), 0);
            ck_assert_uint_eq(sim_bytes_mismatch(buf, P, buf[0]), P);
            /* Each child is forked after the previous one: its snapshot is no older. */
            ck_assert_uint_ge(buf[0], seen[t]);
            seen[t] = buf[0];
        }
        mmput(child);
    }
    for (int i = 0; i < NR_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&s.errors), 0);
    for (int t = 0; t < NR_THREADS; t++)
        sim_test_expect_bytes(s.mm, s.addr + t * P, FORK_WRITES, P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), NR_THREADS);
    mmput(s.mm);
    pthread_barrier_destroy(&s.start);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch02_threads");
    TCase *tc = sim_tcase("threads", 30);

    tcase_add_test(tc, test_threads_write_disjoint_pages);
    tcase_add_loop_test(tc, test_threads_share_pages, 0, 2);
    tcase_add_test(tc, test_threads_cow_race_after_fork);
    tcase_add_test(tc, test_threads_race_madvise_and_mprotect);
    tcase_add_test(tc, test_threads_map_and_unmap);
    tcase_add_test(tc, test_threads_fork_while_writing);
    suite_add_tcase(s, tc);
    return s;
}
