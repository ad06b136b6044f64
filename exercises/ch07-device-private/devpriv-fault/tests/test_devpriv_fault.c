/* Tests of the device-private fault exercise. */
#include "testdev.h"

#define P PAGE_SIZE

struct world {
    struct mm_struct *mm;
    struct testdev *dev;
    unsigned long addr;
    struct page *dpage;
};

static void world_init(struct world *w)
{
    w->mm = sim_mm_create();
    w->dev = testdev_create(2);
    w->addr = sim_test_map_private(w->mm, P);
    sim_test_memset(w->mm, w->addr, 0x4d, P);
    w->dpage = testdev_move_to_device(w->dev, w->mm, w->addr);
}

static void world_done(struct world *w)
{
    mmput(w->mm);
    testdev_destroy(w->dev);
}

START_TEST(read_brings_the_page_home)
{
    struct world w;

    world_init(&w);
    sim_test_expect_bytes(w.mm, w.addr, 0x4d, P);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert(pte_present(sim_pte_get(w.mm, w.addr)));
    world_done(&w);
}
END_TEST

START_TEST(write_brings_the_page_home)
{
    struct world w;

    world_init(&w);
    sim_test_memset(w.mm, w.addr + 10, 0x11, 5);
    ck_assert_int_eq(w.dev->migrations, 1);
    sim_test_expect_bytes(w.mm, w.addr + 10, 0x11, 5);
    sim_test_expect_bytes(w.mm, w.addr + 15, 0x4d, P - 15);
    world_done(&w);
}
END_TEST

START_TEST(driver_sees_the_page_locked)
{
    struct world w;
    unsigned char c;

    world_init(&w);
    ck_assert_int_eq(sim_read(w.mm, w.addr, &c, 1), 0);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->unlocked_faults, 0);
    ck_assert(!PageLocked(w.dpage));
    world_done(&w);
}
END_TEST

START_TEST(driver_errors_are_returned)
{
    struct world w;
    unsigned char c;

    world_init(&w);
    w.dev->fault_result = VM_FAULT_OOM;
    ck_assert_int_eq(sim_read(w.mm, w.addr, &c, 1), -ENOMEM);
    w.dev->fault_result = VM_FAULT_SIGBUS;
    ck_assert_int_eq(sim_read(w.mm, w.addr, &c, 1), -EFAULT);
    ck_assert(!PageLocked(w.dpage));
    ck_assert_int_eq(page_ref_count(w.dpage), 1);
    w.dev->fault_result = 0;
    world_done(&w);
}
END_TEST

struct unlocker {
    struct page *page;
    atomic_int started;
};

static void *unlock_soon(void *arg)
{
    struct unlocker *u = arg;

    atomic_store(&u->started, 1);
    for (volatile int i = 0; i < 2000000; i++)
        ;
    unlock_page(u->page);
    return NULL;
}

/* The test holds the page lock; the fault must not call the driver under someone else's
 * lock: the CPU tries again until the lock is released, and then the access goes
 * through. */
START_TEST(locked_page_makes_the_cpu_retry)
{
    struct world w;
    struct unlocker u;
    pthread_t t;
    unsigned char c = 0;

    world_init(&w);
    u.page = w.dpage;
    atomic_store(&u.started, 0);
    lock_page(w.dpage);
    pthread_create(&t, NULL, unlock_soon, &u);
    ck_assert_int_eq(sim_read(w.mm, w.addr, &c, 1), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(c, 0x4d);
    ck_assert_int_eq(w.dev->unlocked_faults, 0);
    ck_assert_int_eq(w.dev->migrations, 1);
    world_done(&w);
}
END_TEST

START_TEST(references_balance)
{
    struct world w;
    unsigned char c;

    world_init(&w);
    get_page(w.dpage);                  /* keep the page to look at it afterwards */
    ck_assert_int_eq(sim_read(w.mm, w.addr, &c, 1), 0);
    ck_assert_int_eq(page_ref_count(w.dpage), 1);
    ck_assert_int_eq(page_mapcount(w.dpage), 0);
    put_page(w.dpage);
    ck_assert_int_eq(w.dev->page_frees, 1);
    world_done(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("devpriv-fault");
    TCase *tc = sim_tcase("devpriv-fault", 5);

    tcase_add_test(tc, read_brings_the_page_home);
    tcase_add_test(tc, write_brings_the_page_home);
    tcase_add_test(tc, driver_sees_the_page_locked);
    tcase_add_test(tc, driver_errors_are_returned);
    tcase_add_test(tc, locked_page_makes_the_cpu_retry);
    tcase_add_test(tc, references_balance);
    suite_add_tcase(s, tc);
    return s;
}
