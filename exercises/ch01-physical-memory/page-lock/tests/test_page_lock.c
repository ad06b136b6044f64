/* Tests of the page-lock exercise. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "testlib.h"

START_TEST(trylock_takes_a_free_lock)
{
    struct page *page = alloc_page();

    ck_assert(trylock_page(page));
    ck_assert(PageLocked(page));
    unlock_page(page);
    ck_assert(!PageLocked(page));
    put_page(page);
}
END_TEST

START_TEST(trylock_fails_on_a_held_lock)
{
    struct page *page = alloc_page();

    lock_page(page);
    ck_assert(PageLocked(page));
    ck_assert(!trylock_page(page));
    ck_assert(PageLocked(page));
    unlock_page(page);
    ck_assert(trylock_page(page));
    unlock_page(page);
    put_page(page);
}
END_TEST

struct waiter {
    struct page *page;
    atomic_int started;
    atomic_int unlocked;         /* set by the holder just before it unlocks */
    atomic_int saw_unlocked;     /* what the waiter saw once it got the lock */
};

static void *wait_for_lock(void *arg)
{
    struct waiter *w = arg;

    atomic_store(&w->started, 1);
    lock_page(w->page);
    atomic_store(&w->saw_unlocked, atomic_load(&w->unlocked));
    unlock_page(w->page);
    return NULL;
}

/* The waiter may get the lock only after the holder, a different thread, unlocks. */
START_TEST(lock_waits_for_unlock_by_another_thread)
{
    struct waiter w = { .page = alloc_page() };
    pthread_t t;

    lock_page(w.page);
    pthread_create(&t, NULL, wait_for_lock, &w);
    while (!atomic_load(&w.started))
        sched_yield();
    sim_test_let_others_settle(1000);  /* give a broken lock the chance to let it in */
    atomic_store(&w.unlocked, 1);
    unlock_page(w.page);
    pthread_join(t, NULL);
    ck_assert_int_eq(atomic_load(&w.saw_unlocked), 1);
    ck_assert(!PageLocked(w.page));
    put_page(w.page);
}
END_TEST

#define LOCK_THREADS 4
#define LOCK_ROUNDS 3000

struct contention {
    struct page *page;
    atomic_int inside;
    atomic_int overlaps;
    long counter;
};

static void *lock_and_count(void *arg)
{
    struct contention *c = arg;

    for (int i = 0; i < LOCK_ROUNDS; i++) {
        lock_page(c->page);
        if (atomic_fetch_add(&c->inside, 1) != 0)
            atomic_fetch_add(&c->overlaps, 1);
        c->counter++;
        if (i % 64 == 0)
            sched_yield();
        atomic_fetch_sub(&c->inside, 1);
        unlock_page(c->page);
    }
    return NULL;
}

/* Mutual exclusion under contention, and every sleeper eventually woken. */
START_TEST(lock_excludes_and_wakes_everyone)
{
    struct contention c = { .page = alloc_page() };
    pthread_t threads[LOCK_THREADS];

    for (int i = 0; i < LOCK_THREADS; i++)
        pthread_create(&threads[i], NULL, lock_and_count, &c);
    for (int i = 0; i < LOCK_THREADS; i++)
        pthread_join(threads[i], NULL);
    ck_assert_int_eq(atomic_load(&c.overlaps), 0);
    ck_assert_int_eq(c.counter, LOCK_THREADS * LOCK_ROUNDS);
    ck_assert(!PageLocked(c.page));
    put_page(c.page);
}
END_TEST

/* The lock is one bit among the flags: taking it must not disturb the others. */
START_TEST(lock_keeps_other_flags)
{
    struct page *page = alloc_page();

    sim_page_reserve(page);
    lock_page(page);
    ck_assert(PageReserved(page));
    unlock_page(page);
    ck_assert(PageReserved(page));
    ck_assert(!PageLocked(page));
}
END_TEST

START_TEST(unlocking_an_unlocked_page_warns)
{
    struct page *page = alloc_page();
    unsigned long warnings = sim_warn_count();

    unlock_page(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert(!PageLocked(page));
    put_page(page);
}
END_TEST

START_TEST(null_page_warns)
{
    unsigned long warnings = sim_warn_count();

    lock_page(NULL);
    unlock_page(NULL);
    ck_assert(!trylock_page(NULL));
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("page-lock");
    TCase *tc = sim_tcase("lock", 5);
    TCase *warn = tcase_create("warnings");

    tcase_add_test(tc, trylock_takes_a_free_lock);
    tcase_add_test(tc, trylock_fails_on_a_held_lock);
    tcase_add_test(tc, lock_waits_for_unlock_by_another_thread);
    tcase_add_test(tc, lock_excludes_and_wakes_everyone);
    tcase_add_test(tc, lock_keeps_other_flags);
    tcase_set_timeout(warn, 5);
    tcase_add_test(warn, unlocking_an_unlocked_page_warns);
    tcase_add_test(warn, null_page_warns);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, warn);
    return s;
}
