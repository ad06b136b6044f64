/* Tests of the waiting-unregister exercise: memunmap_pages() sleeps until every page of
 * the pagemap has been released, as Linux's does. */
#include <pthread.h>
#include <stdatomic.h>
#include "testlib.h"

#define NPAGES 4

static atomic_int n_freed, unmapped_after_freed;

static vm_fault_t no_fault(struct vm_fault *vmf)
{
    (void)vmf;
    return VM_FAULT_SIGBUS;
}

static void count_free(struct page *page)
{
    (void)page;
    atomic_fetch_add(&n_freed, 1);
}

static const struct dev_pagemap_ops ops = { .page_free = count_free,
                                            .migrate_to_ram = no_fault };
static int owner;

struct unmapper {
    struct dev_pagemap *pgmap;
    pthread_t thread;
    atomic_int done;
};

static void *unmap_main(void *arg)
{
    struct unmapper *u = arg;

    memunmap_pages(u->pgmap);
    atomic_store(&unmapped_after_freed, atomic_load(&n_freed));
    atomic_store(&u->done, 1);
    return NULL;
}

static void register_pagemap(struct dev_pagemap *pgmap)
{
    *pgmap = (struct dev_pagemap){ .type = MEMORY_DEVICE_PRIVATE, .ops = &ops,
                                   .owner = &owner };
    atomic_store(&n_freed, 0);
    ck_assert(!IS_ERR_OR_NULL(memremap_pages(pgmap, NPAGES)));
}

/* A device page in use: initialised by its driver, one reference. */
static struct page *take_page(struct dev_pagemap *pgmap, unsigned long i)
{
    struct page *page = pfn_to_page(pgmap->range.start + i);

    zone_device_page_init(page);
    unlock_page(page);
    return page;
}

static void start_unmap(struct unmapper *u, struct dev_pagemap *pgmap)
{
    u->pgmap = pgmap;
    atomic_init(&u->done, 0);
    ck_assert_int_eq(pthread_create(&u->thread, NULL, unmap_main, u), 0);
}

static void expect_still_waiting(struct unmapper *u)
{
    sim_test_let_others_settle(1000);
    ck_assert_msg(!atomic_load(&u->done), "memunmap_pages returned with a page in use");
    ck_assert_ptr_nonnull(u->pgmap->sim_section);
}

static void finish_unmap(struct unmapper *u)
{
    ck_assert_int_eq(pthread_join(u->thread, NULL), 0);
    ck_assert(atomic_load(&u->done));
    ck_assert_ptr_null(u->pgmap->sim_section);
}

START_TEST(free_memory_unregisters_at_once)
{
    struct dev_pagemap pgmap;

    register_pagemap(&pgmap);
    memunmap_pages(&pgmap);
    ck_assert_ptr_null(pgmap.sim_section);
    ck_assert_int_eq(atomic_load(&n_freed), 0);
}
END_TEST

/* One page held: the unregister sleeps until the holder puts it, then completes. */
START_TEST(unregistering_waits_for_a_page_in_use)
{
    struct dev_pagemap pgmap;
    struct unmapper u;
    struct page *page;

    register_pagemap(&pgmap);
    page = take_page(&pgmap, 1);
    start_unmap(&u, &pgmap);
    expect_still_waiting(&u);
    put_page(page);
    finish_unmap(&u);
    ck_assert_int_eq(atomic_load(&n_freed), 1);
}
END_TEST

/* Three pages held, released one by one: only the last release lets it finish. */
START_TEST(it_waits_for_the_last_page)
{
    struct dev_pagemap pgmap;
    struct unmapper u;
    struct page *pages[3];

    register_pagemap(&pgmap);
    for (int i = 0; i < 3; i++)
        pages[i] = take_page(&pgmap, i);
    get_page(pages[2]);                          /* the last one has two references */
    start_unmap(&u, &pgmap);
    expect_still_waiting(&u);
    put_page(pages[0]);
    put_page(pages[1]);
    put_page(pages[2]);
    expect_still_waiting(&u);
    put_page(pages[2]);
    finish_unmap(&u);
    ck_assert_int_eq(atomic_load(&n_freed), 3);
}
END_TEST

/* Every page has gone back through page_free before memunmap_pages returns. */
START_TEST(the_pages_are_given_back_first)
{
    struct dev_pagemap pgmap;
    struct unmapper u;
    struct page *a, *b;

    register_pagemap(&pgmap);
    a = take_page(&pgmap, 0);
    b = take_page(&pgmap, 3);
    start_unmap(&u, &pgmap);
    expect_still_waiting(&u);
    put_page(a);
    put_page(b);
    finish_unmap(&u);
    ck_assert_int_eq(atomic_load(&unmapped_after_freed), 2);
}
END_TEST

/* Waiting is not a bug: no warning; the pfns are registered again for the next pagemap,
 * and the invariant checker finds nothing wrong. */
START_TEST(no_warning_and_the_pfns_come_back)
{
    struct dev_pagemap pgmap, again;
    struct unmapper u;
    struct page *page;
    unsigned long first;

    register_pagemap(&pgmap);
    first = pgmap.range.start;
    page = take_page(&pgmap, 2);
    start_unmap(&u, &pgmap);
    expect_still_waiting(&u);
    put_page(page);
    finish_unmap(&u);
    ck_assert_uint_eq(sim_warn_count(), 0);
    register_pagemap(&again);
    ck_assert_uint_eq(again.range.start, first);
    ck_assert_int_eq(sim_check_invariants(), 0);
    memunmap_pages(&again);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("unmap-waits");
    TCase *tc = sim_tcase("unmap", 5);

    tcase_add_test(tc, free_memory_unregisters_at_once);
    tcase_add_test(tc, unregistering_waits_for_a_page_in_use);
    tcase_add_test(tc, it_waits_for_the_last_page);
    tcase_add_test(tc, the_pages_are_given_back_first);
    tcase_add_test(tc, no_warning_and_the_pfns_come_back);
    suite_add_tcase(s, tc);
    return s;
}
