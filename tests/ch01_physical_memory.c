/* Chapter 1: physical memory. */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"

/* ------------------------------------------------------------------------------------
 * Allocation, translation and the free count
 */

/* A fresh page: zeroed, one reference, no mapping, no flags, a RAM pfn, and the free and
 * in-use counts move by exactly one. */
START_TEST(test_alloc_page_is_zeroed_and_referenced)
{
    unsigned long free_before = sim_nr_free_pages();
    struct page *page = alloc_page();
    unsigned char *data;

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert(!PageLocked(page));
    ck_assert(!PageReserved(page));
    ck_assert_uint_ge(page_to_pfn(page), SIM_RAM_START_PFN);
    ck_assert_uint_lt(page_to_pfn(page), SIM_RAM_START_PFN + sim_nr_ram_pages());
    ck_assert_uint_eq(sim_nr_free_pages(), free_before - 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    data = sim_page_address(page);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(sim_bytes_mismatch(data, PAGE_SIZE, 0), PAGE_SIZE);
    put_page(page);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
}
END_TEST

/* The default machine is 256 MiB, all of it free and none of it in use. */
START_TEST(test_default_ram_size)
{
    ck_assert_uint_eq(sim_nr_ram_pages(), 256UL * 1024 * 1024 / PAGE_SIZE);
    ck_assert_uint_eq(sim_nr_ram_pages(), SIM_RAM_DEFAULT_PAGES);
    ck_assert_uint_eq(sim_nr_free_pages(), SIM_RAM_DEFAULT_PAGES);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* pfn_to_page and page_to_pfn are inverse over all of RAM and nowhere else: pfn 0, the
 * pfn below RAM, the pfn just past it and absurd pfns have no page. */
START_TEST(test_pfn_page_round_trip)
{
    unsigned long first = SIM_RAM_START_PFN, n = sim_nr_ram_pages();
    struct page *page = alloc_page();
    unsigned long pfn;

    ck_assert_ptr_nonnull(page);
    pfn = page_to_pfn(page);
    ck_assert_ptr_eq(pfn_to_page(pfn), page);
    ck_assert_ptr_nonnull(pfn_to_page(first));
    ck_assert_uint_eq(page_to_pfn(pfn_to_page(first)), first);
    ck_assert_ptr_nonnull(pfn_to_page(first + n - 1));
    ck_assert_uint_eq(page_to_pfn(pfn_to_page(first + n - 1)), first + n - 1);
    for (unsigned long p = first; p < first + n; p += 4093)
        ck_assert_uint_eq(page_to_pfn(pfn_to_page(p)), p);
    ck_assert_ptr_null(pfn_to_page(0));
    ck_assert_ptr_null(pfn_to_page(first - 1));
    ck_assert_ptr_null(pfn_to_page(first + n));
    ck_assert_ptr_null(pfn_to_page(first + 2 * n));
    ck_assert_ptr_null(pfn_to_page(ULONG_MAX));
    /* Looking pages up takes no reference and frees nothing. */
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    put_page(page);
}
END_TEST

#define NR_ADDR_PAGES 16

/* Each page has its own 4 KiB of host memory: the addresses do not overlap, and writing
 * every page with its own pattern leaves every other page's pattern intact. */
START_TEST(test_page_address_distinct_and_writable)
{
    struct page *pages[NR_ADDR_PAGES];
    unsigned char *data[NR_ADDR_PAGES];

    for (int i = 0; i < NR_ADDR_PAGES; i++) {
        pages[i] = alloc_page();
        ck_assert_ptr_nonnull(pages[i]);
        data[i] = sim_page_address(pages[i]);
        ck_assert_ptr_nonnull(data[i]);
        ck_assert_ptr_eq(sim_page_address(pages[i]), data[i]);
        for (int j = 0; j < i; j++) {
            ck_assert_ptr_ne(pages[j], pages[i]);
            ck_assert_uint_ne(page_to_pfn(pages[j]), page_to_pfn(pages[i]));
            ck_assert(data[i] + PAGE_SIZE <= data[j] || data[j] + PAGE_SIZE <= data[i]);
        }
    }
    for (int i = 0; i < NR_ADDR_PAGES; i++)
        sim_fill_pattern(data[i], PAGE_SIZE, i);
    for (int i = 0; i < NR_ADDR_PAGES; i++) {
        ck_assert_uint_eq(sim_pattern_mismatch(data[i], PAGE_SIZE, i), PAGE_SIZE);
        put_page(pages[i]);
    }
}
END_TEST

/* Extra references keep the frame: only the last put_page frees it, and the free count
 * moves exactly then. */
START_TEST(test_get_put_counts)
{
    struct page *page = alloc_page();
    unsigned long free_after_alloc = sim_nr_free_pages();

    ck_assert_ptr_nonnull(page);
    get_page(page);
    get_page(page);
    get_page(page);
    ck_assert_int_eq(page_ref_count(page), 4);
    ck_assert_int_eq(page_mapcount(page), 0);
    put_page(page);
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_uint_eq(sim_nr_free_pages(), free_after_alloc);
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_free_pages(), free_after_alloc);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    put_page(page);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_after_alloc + 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* On a one-frame machine the second allocation must return the frame the first one
 * dirtied, and it must come back zeroed. */
START_TEST(test_reallocated_frame_is_zeroed)
{
    struct page *page, *again;
    unsigned long pfn;

    ck_assert_int_eq(sim_ram_configure(1), 0);
    page = alloc_page();
    ck_assert_ptr_nonnull(page);
    pfn = page_to_pfn(page);
    ck_assert_ptr_null(alloc_page());
    memset(sim_page_address(page), 0xa5, PAGE_SIZE);
    put_page(page);
    again = alloc_page();
    ck_assert_ptr_nonnull(again);
    ck_assert_uint_eq(page_to_pfn(again), pfn);
    ck_assert_int_eq(page_ref_count(again), 1);
    ck_assert_int_eq(page_mapcount(again), 0);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(again), PAGE_SIZE, 0), PAGE_SIZE);
    put_page(again);
}
END_TEST

#define NR_REUSE_PAGES 32

/* Freed frames are handed out again before fresh ones, and each comes back zeroed. */
START_TEST(test_freed_frames_reused_and_zeroed)
{
    struct page *pages[NR_REUSE_PAGES];
    bool seen[NR_REUSE_PAGES] = { false };

    for (int i = 0; i < NR_REUSE_PAGES; i++) {
        pages[i] = alloc_page();
        ck_assert_ptr_nonnull(pages[i]);
        memset(sim_page_address(pages[i]), 0x5a, PAGE_SIZE);
    }
    for (int i = 0; i < NR_REUSE_PAGES; i++)
        put_page(pages[i]);
    for (int i = 0; i < NR_REUSE_PAGES; i++) {
        struct page *page = alloc_page();
        int found = -1;

        ck_assert_ptr_nonnull(page);
        for (int j = 0; j < NR_REUSE_PAGES; j++)
            if (pages[j] == page)
                found = j;
        ck_assert_msg(found >= 0, "pfn %#lx was not among the freed frames",
                      page_to_pfn(page));
        ck_assert(!seen[found]);
        seen[found] = true;
        ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(page), PAGE_SIZE, 0),
                          PAGE_SIZE);
    }
    for (int i = 0; i < NR_REUSE_PAGES; i++)
        put_page(pages[i]);
}
END_TEST

#define SMALL_RAM 64

/* A 64-frame machine hands out exactly 64 distinct frames, then NULL, and is whole
 * again when they are all freed. */
START_TEST(test_exhaustion_on_small_machine)
{
    struct page *pages[SMALL_RAM + 1], *last;
    bool seen[SMALL_RAM] = { false };
    int n = 0;

    ck_assert_int_eq(sim_ram_configure(SMALL_RAM), 0);
    ck_assert_uint_eq(sim_nr_ram_pages(), SMALL_RAM);
    ck_assert_uint_eq(sim_nr_free_pages(), SMALL_RAM);
    while (n <= SMALL_RAM && (pages[n] = alloc_page()) != NULL)
        n++;
    ck_assert_int_eq(n, SMALL_RAM);
    for (int i = 0; i < n; i++) {
        unsigned long idx = page_to_pfn(pages[i]) - SIM_RAM_START_PFN;

        ck_assert_uint_lt(idx, SMALL_RAM);
        ck_assert(!seen[idx]);
        seen[idx] = true;
    }
    ck_assert_ptr_null(alloc_page());
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), SMALL_RAM);

    /* One frame freed is the one frame the next allocation can return. */
    last = pages[SMALL_RAM / 2];
    memset(sim_page_address(last), 0xff, PAGE_SIZE);
    put_page(last);
    ck_assert_uint_eq(sim_nr_free_pages(), 1);
    pages[SMALL_RAM / 2] = alloc_page();
    ck_assert_ptr_eq(pages[SMALL_RAM / 2], last);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(last), PAGE_SIZE, 0), PAGE_SIZE);
    ck_assert_ptr_null(alloc_page());

    for (int i = 0; i < n; i++)
        put_page(pages[i]);
    ck_assert_uint_eq(sim_nr_free_pages(), SMALL_RAM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* Bad sizes are -EINVAL whenever asked; a good size is accepted once, before boot, and
 * every later request is -EBUSY. */
START_TEST(test_ram_configure_errors)
{
    ck_assert_int_eq(sim_ram_configure(0), -EINVAL);
    ck_assert_int_eq(sim_ram_configure(SIM_RAM_MAX_PAGES + 1), -EINVAL);
    ck_assert_int_eq(sim_ram_configure(ULONG_MAX), -EINVAL);
    ck_assert_int_eq(sim_ram_configure(128), 0);
    ck_assert_uint_eq(sim_nr_ram_pages(), 128);
    ck_assert_uint_eq(sim_nr_free_pages(), 128);
    ck_assert_int_eq(sim_ram_configure(128), -EBUSY);
    ck_assert_int_eq(sim_ram_configure(64), -EBUSY);
    ck_assert_int_eq(sim_ram_configure(0), -EINVAL);
    ck_assert_int_eq(sim_ram_configure(SIM_RAM_MAX_PAGES + 1), -EINVAL);
    ck_assert_uint_eq(sim_nr_ram_pages(), 128);
}
END_TEST

/* Once anything has touched memory the machine has booted at its default size. */
START_TEST(test_ram_configure_after_boot)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(sim_ram_configure(64), -EBUSY);
    ck_assert_int_eq(sim_ram_configure(SIM_RAM_DEFAULT_PAGES), -EBUSY);
    ck_assert_uint_eq(sim_nr_ram_pages(), SIM_RAM_DEFAULT_PAGES);
    put_page(page);
}
END_TEST

/* Asking the size boots the machine too. */
START_TEST(test_ram_configure_after_query)
{
    ck_assert_uint_eq(sim_nr_free_pages(), SIM_RAM_DEFAULT_PAGES);
    ck_assert_int_eq(sim_ram_configure(64), -EBUSY);
    ck_assert_uint_eq(sim_nr_ram_pages(), SIM_RAM_DEFAULT_PAGES);
}
END_TEST

/* A reserved frame leaves the in-use count at once (reserving twice counts once) and is
 * never freed, not even by its last put_page. */
START_TEST(test_page_reserve)
{
    struct page *keep = alloc_page(), *other = alloc_page();
    unsigned long free_before;

    ck_assert_ptr_nonnull(keep);
    ck_assert_ptr_nonnull(other);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    free_before = sim_nr_free_pages();
    sim_page_reserve(keep);
    ck_assert(PageReserved(keep));
    ck_assert(!PageReserved(other));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_page_reserve(keep);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    get_page(keep);
    ck_assert_int_eq(page_ref_count(keep), 2);
    put_page(keep);
    put_page(keep);
    ck_assert_int_eq(page_ref_count(keep), 0);
    ck_assert(PageReserved(keep));
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    memset(sim_page_address(keep), 0x11, PAGE_SIZE);
    put_page(other);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before + 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    /* The reserved frame is never handed out again, not even before fresh frames. */
    {
        struct page *pages[64];

        for (int i = 0; i < 64; i++) {
            pages[i] = alloc_page();
            ck_assert_ptr_nonnull(pages[i]);
            ck_assert_ptr_ne(pages[i], keep);
        }
        for (int i = 0; i < 64; i++)
            put_page(pages[i]);
    }
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Memory sections
 */

#define TEST_SECTION_PFN 0x10000000UL

/* A new section's frames translate both ways and have their own writable memory; it is
 * not RAM, so the allocator's counts do not move. */
START_TEST(test_add_section)
{
    unsigned long ram = sim_nr_ram_pages(), free_before = sim_nr_free_pages();
    struct sim_mem_section *sec = sim_add_section(TEST_SECTION_PFN, 8);
    unsigned char *first, *last;

    ck_assert_ptr_nonnull(sec);
    ck_assert_uint_eq(sec->start_pfn, TEST_SECTION_PFN);
    ck_assert_uint_eq(sec->nr_pages, 8);
    ck_assert_ptr_eq(pfn_to_page(TEST_SECTION_PFN), &sec->pages[0]);
    ck_assert_ptr_eq(pfn_to_page(TEST_SECTION_PFN + 7), &sec->pages[7]);
    ck_assert_ptr_null(pfn_to_page(TEST_SECTION_PFN + 8));
    ck_assert_ptr_null(pfn_to_page(TEST_SECTION_PFN - 1));
    for (unsigned long i = 0; i < 8; i++) {
        ck_assert_uint_eq(page_to_pfn(&sec->pages[i]), TEST_SECTION_PFN + i);
        ck_assert_int_eq(page_ref_count(&sec->pages[i]), 0);
    }
    first = sim_page_address(&sec->pages[0]);
    last = sim_page_address(&sec->pages[7]);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(last);
    ck_assert(first + PAGE_SIZE <= last || last + PAGE_SIZE <= first);
    memset(first, 0x42, PAGE_SIZE);
    memset(last, 0x24, PAGE_SIZE);
    ck_assert_uint_eq(sim_bytes_mismatch(first, PAGE_SIZE, 0x42), PAGE_SIZE);
    ck_assert_uint_eq(sim_bytes_mismatch(last, PAGE_SIZE, 0x24), PAGE_SIZE);
    ck_assert_uint_eq(sim_nr_ram_pages(), ram);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
}
END_TEST

/* The section table holds SIM_MAX_SECTIONS entries, RAM's included; then adding fails
 * cleanly and the sections already there still translate. */
START_TEST(test_add_section_table_full)
{
    int added = 0;

    ck_assert_uint_eq(sim_nr_ram_pages(), SIM_RAM_DEFAULT_PAGES);
    while (added < SIM_MAX_SECTIONS + 1 &&
           sim_add_section(TEST_SECTION_PFN + 16UL * added, 1) != NULL)
        added++;
    ck_assert_int_eq(added, SIM_MAX_SECTIONS - 1);
    ck_assert_ptr_null(sim_add_section(TEST_SECTION_PFN + 16UL * (added + 1), 1));
    ck_assert_ptr_null(pfn_to_page(TEST_SECTION_PFN + 16UL * (added + 1)));
    ck_assert_uint_eq(page_to_pfn(pfn_to_page(TEST_SECTION_PFN + 16UL * (added - 1))),
                      TEST_SECTION_PFN + 16UL * (added - 1));
    ck_assert_uint_eq(page_to_pfn(pfn_to_page(SIM_RAM_START_PFN)), SIM_RAM_START_PFN);
}
END_TEST

/* A section the host cannot back is refused with NULL, and nothing is published. */
START_TEST(test_add_section_too_large)
{
    ck_assert_ptr_null(sim_add_section(TEST_SECTION_PFN, 1UL << 40));
    ck_assert_ptr_null(pfn_to_page(TEST_SECTION_PFN));
    ck_assert_ptr_nonnull(sim_add_section(TEST_SECTION_PFN, 1));
    ck_assert_ptr_nonnull(pfn_to_page(TEST_SECTION_PFN));
}
END_TEST

/* ------------------------------------------------------------------------------------
 * The page lock
 */

/* trylock takes a free lock and refuses a held one; lock_page takes a free lock at once;
 * none of it touches the reference count. */
START_TEST(test_trylock_and_unlock)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    ck_assert(!PageLocked(page));
    ck_assert(trylock_page(page));
    ck_assert(PageLocked(page));
    ck_assert(!trylock_page(page));
    ck_assert(PageLocked(page));
    unlock_page(page);
    ck_assert(!PageLocked(page));
    lock_page(page);
    ck_assert(PageLocked(page));
    ck_assert(!trylock_page(page));
    unlock_page(page);
    ck_assert(!PageLocked(page));
    ck_assert(trylock_page(page));
    unlock_page(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
}
END_TEST

struct lock_test {
    struct page *page;
    pthread_barrier_t ready;
    atomic_bool acquired;
};

static void *lock_thread(void *arg)
{
    struct lock_test *t = arg;

    lock_page(t->page);
    return NULL;
}

static void *wait_thread(void *arg)
{
    struct lock_test *t = arg;

    pthread_barrier_wait(&t->ready);
    lock_page(t->page);
    atomic_store(&t->acquired, true);
    return NULL;
}

static void *unlock_thread(void *arg)
{
    struct lock_test *t = arg;

    unlock_page(t->page);
    return NULL;
}

/* One thread locks the page and exits holding it; a second sleeps in lock_page and gets
 * the lock only after a third thread unlocks it. */
START_TEST(test_lock_page_waits_for_unlock_from_another_thread)
{
    struct lock_test t = { .page = alloc_page() };
    pthread_t locker, waiter, unlocker;

    ck_assert_ptr_nonnull(t.page);
    pthread_barrier_init(&t.ready, NULL, 2);
    atomic_init(&t.acquired, false);
    ck_assert_int_eq(pthread_create(&locker, NULL, lock_thread, &t), 0);
    ck_assert_int_eq(pthread_join(locker, NULL), 0);
    ck_assert(PageLocked(t.page));

    ck_assert_int_eq(pthread_create(&waiter, NULL, wait_thread, &t), 0);
    pthread_barrier_wait(&t.ready);
    /* Give the waiter every chance to get (wrongly) through; whether it has reached
     * lock_page yet or not, it must not hold the lock while the page is locked. */
    sim_test_let_others_settle(1000);
    ck_assert(!atomic_load(&t.acquired));
    ck_assert(!trylock_page(t.page));

    ck_assert_int_eq(pthread_create(&unlocker, NULL, unlock_thread, &t), 0);
    ck_assert_int_eq(pthread_join(unlocker, NULL), 0);
    ck_assert_int_eq(pthread_join(waiter, NULL), 0);
    ck_assert(atomic_load(&t.acquired));
    /* The waiter left holding the lock. */
    ck_assert(PageLocked(t.page));
    ck_assert(!trylock_page(t.page));
    unlock_page(t.page);
    ck_assert(!PageLocked(t.page));
    pthread_barrier_destroy(&t.ready);
    ck_assert_int_eq(page_ref_count(t.page), 1);
    put_page(t.page);
}
END_TEST

#define LOCK_THREADS 6
#define LOCK_ROUNDS 2000

struct counter_test {
    struct page *page;
    pthread_barrier_t start;
    unsigned long counter;       /* protected by the page lock only */
    atomic_int owners;           /* threads inside the critical section */
    atomic_int overlaps;
};

static void *count_thread(void *arg)
{
    struct counter_test *t = arg;

    pthread_barrier_wait(&t->start);
    for (int i = 0; i < LOCK_ROUNDS; i++) {
        if (i % 3 == 0) {
            while (!trylock_page(t->page))
                sched_yield();
        } else {
            lock_page(t->page);
        }
        if (atomic_fetch_add(&t->owners, 1) != 0)
            atomic_fetch_add(&t->overlaps, 1);
        t->counter++;
        atomic_fetch_sub(&t->owners, 1);
        unlock_page(t->page);
    }
    return NULL;
}

/* The page lock excludes: threads mixing lock_page and trylock_page never overlap, and
 * a counter guarded only by the lock loses no increment. */
START_TEST(test_page_lock_mutual_exclusion)
{
    struct counter_test t = { .page = alloc_page() };
    pthread_t threads[LOCK_THREADS];

    ck_assert_ptr_nonnull(t.page);
    pthread_barrier_init(&t.start, NULL, LOCK_THREADS);
    atomic_init(&t.owners, 0);
    atomic_init(&t.overlaps, 0);
    for (int i = 0; i < LOCK_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, count_thread, &t), 0);
    for (int i = 0; i < LOCK_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&t.overlaps), 0);
    ck_assert_uint_eq(t.counter, (unsigned long)LOCK_THREADS * LOCK_ROUNDS);
    ck_assert(!PageLocked(t.page));
    pthread_barrier_destroy(&t.start);
    put_page(t.page);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Many threads
 */

#define ALLOC_THREADS 8
#define ALLOC_ROUNDS 200
#define ALLOC_BATCH 8

struct alloc_test {
    pthread_barrier_t start;
    atomic_int errors;
};

struct alloc_arg {
    struct alloc_test *t;
    int id;
};

static void *alloc_thread(void *arg)
{
    struct alloc_arg *a = arg;
    struct page *pages[ALLOC_BATCH];

    pthread_barrier_wait(&a->t->start);
    for (int r = 0; r < ALLOC_ROUNDS; r++) {
        int n = 1 + (r + a->id) % ALLOC_BATCH;

        for (int i = 0; i < n; i++) {
            pages[i] = alloc_page();
            if (!pages[i] || page_ref_count(pages[i]) != 1 ||
                sim_bytes_mismatch(sim_page_address(pages[i]), PAGE_SIZE, 0) != PAGE_SIZE)
                atomic_fetch_add(&a->t->errors, 1);
            if (pages[i])
                sim_fill_pattern(sim_page_address(pages[i]), PAGE_SIZE,
                                 (unsigned long)a->id * 100000 + r * 10 + i);
        }
        for (int i = 0; i < n; i++) {
            if (!pages[i])
                continue;
            if (sim_pattern_mismatch(sim_page_address(pages[i]), PAGE_SIZE,
                                     (unsigned long)a->id * 100000 + r * 10 + i) !=
                PAGE_SIZE)
                atomic_fetch_add(&a->t->errors, 1);
            if (i % 2) {
                get_page(pages[i]);
                put_page(pages[i]);
            }
            put_page(pages[i]);
        }
    }
    return NULL;
}

/* Threads allocating, filling, checking and freeing at once: every page arrives zeroed
 * with one reference, nobody sees another's data, and the books balance afterwards. */
START_TEST(test_concurrent_alloc_and_put)
{
    struct alloc_test t;
    struct alloc_arg args[ALLOC_THREADS];
    pthread_t threads[ALLOC_THREADS];
    unsigned long free_before = sim_nr_free_pages();

    pthread_barrier_init(&t.start, NULL, ALLOC_THREADS);
    atomic_init(&t.errors, 0);
    for (int i = 0; i < ALLOC_THREADS; i++) {
        args[i] = (struct alloc_arg){ &t, i };
        ck_assert_int_eq(pthread_create(&threads[i], NULL, alloc_thread, &args[i]), 0);
    }
    for (int i = 0; i < ALLOC_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&t.errors), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_before);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    pthread_barrier_destroy(&t.start);
}
END_TEST

struct exhaust_arg {
    pthread_barrier_t *start;
    struct page *pages[SMALL_RAM];
    int n;
};

static void *exhaust_thread(void *arg)
{
    struct exhaust_arg *a = arg;
    struct page *page;

    pthread_barrier_wait(a->start);
    while (a->n < SMALL_RAM && (page = alloc_page()) != NULL)
        a->pages[a->n++] = page;
    return NULL;
}

/* Racing allocators on a 64-frame machine share out exactly the 64 frames, none twice. */
START_TEST(test_concurrent_exhaustion)
{
    pthread_barrier_t start;
    struct exhaust_arg args[4] = { { .start = &start }, { .start = &start },
                                   { .start = &start }, { .start = &start } };
    pthread_t threads[4];
    bool seen[SMALL_RAM] = { false };
    int total = 0;

    ck_assert_int_eq(sim_ram_configure(SMALL_RAM), 0);
    pthread_barrier_init(&start, NULL, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, exhaust_thread, &args[i]), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < args[i].n; j++) {
            unsigned long idx = page_to_pfn(args[i].pages[j]) - SIM_RAM_START_PFN;

            ck_assert_uint_lt(idx, SMALL_RAM);
            ck_assert(!seen[idx]);
            seen[idx] = true;
        }
        total += args[i].n;
    }
    ck_assert_int_eq(total, SMALL_RAM);
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < args[i].n; j++)
            put_page(args[i].pages[j]);
    ck_assert_uint_eq(sim_nr_free_pages(), SMALL_RAM);
    pthread_barrier_destroy(&start);
}
END_TEST

#define REF_THREADS 8
#define REF_ROUNDS 50

struct last_put_test {
    struct page *page;
    pthread_barrier_t start, done;
    atomic_int rounds_left;
};

static void *last_put_thread(void *arg)
{
    struct last_put_test *t = arg;

    for (int r = 0; r < REF_ROUNDS; r++) {
        pthread_barrier_wait(&t->start);
        put_page(t->page);
        pthread_barrier_wait(&t->done);
    }
    return NULL;
}

/* Threads dropping the last references of a page at once free it exactly once. */
START_TEST(test_concurrent_last_put_frees_once)
{
    struct last_put_test t;
    pthread_t threads[REF_THREADS];
    unsigned long free_before = sim_nr_free_pages();

    pthread_barrier_init(&t.start, NULL, REF_THREADS + 1);
    pthread_barrier_init(&t.done, NULL, REF_THREADS + 1);
    for (int i = 0; i < REF_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, last_put_thread, &t), 0);
    for (int r = 0; r < REF_ROUNDS; r++) {
        t.page = alloc_page();
        ck_assert_ptr_nonnull(t.page);
        for (int i = 1; i < REF_THREADS; i++)
            get_page(t.page);
        ck_assert_int_eq(page_ref_count(t.page), REF_THREADS);
        ck_assert_uint_eq(sim_nr_free_pages(), free_before - 1);
        pthread_barrier_wait(&t.start);
        pthread_barrier_wait(&t.done);
        ck_assert_int_eq(page_ref_count(t.page), 0);
        ck_assert_uint_eq(sim_nr_free_pages(), free_before);
        ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    }
    for (int i = 0; i < REF_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&t.start);
    pthread_barrier_destroy(&t.done);
}
END_TEST

static void *get_put_thread(void *arg)
{
    struct page *page = arg;

    for (int i = 0; i < 5000; i++) {
        get_page(page);
        if (i % 7 == 0)
            get_page(page);
        put_page(page);
        if (i % 7 == 0)
            put_page(page);
    }
    return NULL;
}

/* Concurrent get_page/put_page pairs on a held page lose no update. */
START_TEST(test_concurrent_get_put)
{
    struct page *page = alloc_page();
    pthread_t threads[REF_THREADS];

    ck_assert_ptr_nonnull(page);
    for (int i = 0; i < REF_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, get_put_thread, page), 0);
    for (int i = 0; i < REF_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    put_page(page);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Warnings.  Each broken rule warns exactly once and changes nothing; the checker then
 * reports exactly one problem, the warning itself.
 */

/* put_page on a freed frame warns and leaves it free. */
START_TEST(test_put_page_of_free_page_warns)
{
    struct page *page = alloc_page();
    unsigned long free_count, warnings = sim_warn_count();

    ck_assert_ptr_nonnull(page);
    put_page(page);
    free_count = sim_nr_free_pages();
    ck_assert_uint_eq(sim_warn_count(), warnings);
    put_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_count);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
    /* The free list is intact: the frame is handed out once, zeroed. */
    page = alloc_page();
    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
    ck_assert_uint_eq(sim_nr_free_pages(), free_count);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
}
END_TEST

/* put_page on a reserved frame whose last reference is gone warns and changes nothing. */
START_TEST(test_put_page_of_unreferenced_reserved_page_warns)
{
    struct page *page = alloc_page();
    unsigned long warnings = sim_warn_count();

    ck_assert_ptr_nonnull(page);
    sim_page_reserve(page);
    put_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    put_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* get_page on a free frame warns and does not resurrect it. */
START_TEST(test_get_page_of_free_page_warns)
{
    struct page *page = alloc_page();
    unsigned long free_count, warnings = sim_warn_count();

    ck_assert_ptr_nonnull(page);
    put_page(page);
    free_count = sim_nr_free_pages();
    get_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), free_count);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* get_page(NULL) warns once. */
START_TEST(test_get_page_null_warns)
{
    unsigned long warnings = sim_warn_count();

    get_page(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* page_to_pfn of no page warns once and answers a pfn that maps back to no page. */
START_TEST(test_page_to_pfn_null_warns)
{
    unsigned long warnings = sim_warn_count();

    ck_assert_uint_eq(page_to_pfn(NULL), ULONG_MAX);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_ptr_null(pfn_to_page(ULONG_MAX));
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* unlock_page of an unlocked page warns once and leaves it unlocked. */
START_TEST(test_unlock_of_unlocked_page_warns)
{
    struct page *page = alloc_page();
    unsigned long warnings = sim_warn_count();

    ck_assert_ptr_nonnull(page);
    unlock_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert(!PageLocked(page));
    ck_assert(trylock_page(page));
    unlock_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(page_ref_count(page), 1);
    put_page(page);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* Every page function given NULL warns exactly once and does nothing else. */
START_TEST(test_null_page_arguments_warn)
{
    unsigned long warnings = sim_warn_count();

    put_page(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    lock_page(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    unlock_page(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    ck_assert(!trylock_page(NULL));
    ck_assert_uint_eq(sim_warn_count(), warnings + 4);
    ck_assert_ptr_null(sim_page_address(NULL));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* A descriptor that belongs to no section has no address: NULL and one warning. */
START_TEST(test_page_address_of_foreign_page_warns)
{
    struct page fake;
    unsigned long warnings;

    memset(&fake, 0, sizeof(fake));
    fake.pfn = SIM_RAM_START_PFN - 1;
    warnings = sim_warn_count();
    ck_assert_ptr_null(sim_page_address(&fake));
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * The checker catches broken books.  Each test breaks one rule by hand, expects exactly
 * one complaint, and repairs the damage before its teardown.
 */

/* A frame on the free list that holds a reference is reported. */
START_TEST(test_checker_flags_referenced_free_frame)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    put_page(page);
    ck_assert_int_eq(sim_check_invariants(), 0);
    atomic_store(&page->_refcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_store(&page->_refcount, 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

/* The most recently freed frames keep their host memory; below them, it goes back a
 * batch at a time.  (Each test runs in a fresh process: nothing was freed before.) */
START_TEST(test_freed_frames_give_host_memory_back)
{
    enum { N = SIM_TRIM_KEEP + 2 * SIM_TRIM_BATCH };
    static struct page *pages[N];
    unsigned long before = sim_nr_host_pages_returned();

    for (int i = 0; i < N; i++) {
        pages[i] = alloc_page();
        ck_assert_ptr_nonnull(pages[i]);
        *(char *)sim_page_address(pages[i]) = 1;
    }
    for (int i = 0; i < SIM_TRIM_KEEP + SIM_TRIM_BATCH - 1; i++)
        put_page(pages[i]);
    ck_assert_uint_eq(sim_nr_host_pages_returned(), before);
    put_page(pages[SIM_TRIM_KEEP + SIM_TRIM_BATCH - 1]);
    ck_assert_uint_eq(sim_nr_host_pages_returned(), before + SIM_TRIM_BATCH);
    for (int i = SIM_TRIM_KEEP + SIM_TRIM_BATCH; i < N; i++)
        put_page(pages[i]);
    ck_assert_uint_eq(sim_nr_host_pages_returned(), before + 2 * SIM_TRIM_BATCH);
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

/* A trim never touches a frame in use, even one freed and reallocated since the last:
 * only frames still on the free list go. */
START_TEST(test_trim_spares_frames_in_use)
{
    enum { N = SIM_TRIM_KEEP + SIM_TRIM_BATCH };
    static struct page *others[N];
    struct page *kept[16];
    unsigned long before = sim_nr_host_pages_returned();

    for (int i = 0; i < 16; i++) {
        kept[i] = alloc_page();
        put_page(kept[i]);
    }
    for (int i = 0; i < 16; i++) {
        kept[i] = alloc_page();
        sim_fill_pattern(sim_page_address(kept[i]), PAGE_SIZE, i);
    }
    for (int i = 0; i < N; i++)
        others[i] = alloc_page();
    for (int i = 0; i < N; i++)
        put_page(others[i]);
    ck_assert_uint_eq(sim_nr_host_pages_returned(), before + SIM_TRIM_BATCH);
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(sim_pattern_mismatch(sim_page_address(kept[i]), PAGE_SIZE, i),
                          PAGE_SIZE);
        put_page(kept[i]);
    }
    /* and a frame whose memory went back comes out zeroed like any other */
    for (int i = 0; i < N; i++)
        others[i] = alloc_page();
    for (int i = 0; i < N; i++) {
        ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(others[i]), PAGE_SIZE, 0),
                          PAGE_SIZE);
        put_page(others[i]);
    }
}
END_TEST

/* A free frame left locked is reported. */
START_TEST(test_checker_flags_locked_free_frame)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    put_page(page);
    atomic_fetch_or(&page->flags, 1UL << PG_locked);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_fetch_and(&page->flags, ~(1UL << PG_locked));
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

/* A frame in use that claims to be free is reported. */
START_TEST(test_checker_flags_buddy_frame_in_use)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    atomic_fetch_or(&page->flags, 1UL << PG_buddy);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_fetch_and(&page->flags, ~(1UL << PG_buddy));
    ck_assert_int_eq(sim_check_invariants(), 0);
    put_page(page);
}
END_TEST

/* A negative reference count is reported (on a reserved frame, which later checks of
 * reference counts leave alone). */
START_TEST(test_checker_flags_negative_refcount)
{
    struct page *page = alloc_page();

    ck_assert_ptr_nonnull(page);
    sim_page_reserve(page);
    atomic_store(&page->_refcount, -1);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_store(&page->_refcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch01_physical_memory");
    TCase *tc;

    tc = sim_tcase("alloc", 5);
    tcase_add_test(tc, test_alloc_page_is_zeroed_and_referenced);
    tcase_add_test(tc, test_default_ram_size);
    tcase_add_test(tc, test_pfn_page_round_trip);
    tcase_add_test(tc, test_page_address_distinct_and_writable);
    tcase_add_test(tc, test_get_put_counts);
    tcase_add_test(tc, test_reallocated_frame_is_zeroed);
    tcase_add_test(tc, test_freed_frames_reused_and_zeroed);
    tcase_add_test(tc, test_exhaustion_on_small_machine);
    tcase_add_test(tc, test_ram_configure_errors);
    tcase_add_test(tc, test_ram_configure_after_boot);
    tcase_add_test(tc, test_ram_configure_after_query);
    tcase_add_test(tc, test_page_reserve);
    tcase_add_test(tc, test_freed_frames_give_host_memory_back);
    tcase_add_test(tc, test_trim_spares_frames_in_use);
    suite_add_tcase(s, tc);

    tc = sim_tcase("sections", 5);
    tcase_add_test(tc, test_add_section);
    tcase_add_test(tc, test_add_section_table_full);
    tcase_add_test(tc, test_add_section_too_large);
    suite_add_tcase(s, tc);

    tc = sim_tcase("lock", 10);
    tcase_add_test(tc, test_trylock_and_unlock);
    tcase_add_test(tc, test_lock_page_waits_for_unlock_from_another_thread);
    tcase_add_test(tc, test_page_lock_mutual_exclusion);
    suite_add_tcase(s, tc);

    tc = sim_tcase("threads", 20);
    tcase_add_test(tc, test_concurrent_alloc_and_put);
    tcase_add_test(tc, test_concurrent_exhaustion);
    tcase_add_test(tc, test_concurrent_last_put_frees_once);
    tcase_add_test(tc, test_concurrent_get_put);
    suite_add_tcase(s, tc);

    tc = sim_tcase_unchecked("warnings", 5);
    tcase_add_test(tc, test_put_page_of_free_page_warns);
    tcase_add_test(tc, test_put_page_of_unreferenced_reserved_page_warns);
    tcase_add_test(tc, test_get_page_of_free_page_warns);
    tcase_add_test(tc, test_get_page_null_warns);
    tcase_add_test(tc, test_page_to_pfn_null_warns);
    tcase_add_test(tc, test_unlock_of_unlocked_page_warns);
    tcase_add_test(tc, test_null_page_arguments_warn);
    tcase_add_test(tc, test_page_address_of_foreign_page_warns);
    suite_add_tcase(s, tc);

    tc = sim_tcase("checker", 5);
    tcase_add_test(tc, test_checker_flags_referenced_free_frame);
    tcase_add_test(tc, test_checker_flags_locked_free_frame);
    tcase_add_test(tc, test_checker_flags_buddy_frame_in_use);
    tcase_add_test(tc, test_checker_flags_negative_refcount);
    suite_add_tcase(s, tc);
    return s;
}
