/* Tests of the eviction-by-list exercise: migrate_device_pfns(), Linux 6.15's
 * migrate_device_range() for a list of pfns. */
#include "testdev.h"

#define P PAGE_SIZE
#define NDEV 6
#define M MIGRATE_PFN_MIGRATE

/* The exercise's function: no header declares it. */
int migrate_device_pfns(unsigned long *src_pfns, unsigned long npages);

/* A process with NDEV pages, the first five moved to a device of NDEV pages in order. */
struct world {
    struct mm_struct *mm;
    unsigned long addr;
    struct testdev *dev;
    struct page *dpage[NDEV];           /* the device page of process page i, or NULL */
};

static void world_init(struct world *w)
{
    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, NDEV * P);
    w->dev = testdev_create(NDEV);
    sim_test_fill_pages(w->mm, w->addr, NDEV, 40);
    for (int i = 0; i < NDEV; i++)
        w->dpage[i] = i < NDEV - 1 ? testdev_move_to_device(w->dev, w->mm, w->addr + i * P)
                                   : NULL;
}

static void world_fini(struct world *w)
{
    mmput(w->mm);
    testdev_destroy(w->dev);
}

static bool is_migration_at(struct world *w, int i, struct page *page)
{
    pte_t pte = sim_pte_get(w->mm, w->addr + i * P);

    return is_swap_pte(pte) && is_migration_entry(pte_to_swp_entry(pte)) &&
           pfn_swap_entry_to_page(pte_to_swp_entry(pte)) == page;
}

static bool is_device_at(struct world *w, int i, struct page *page)
{
    pte_t pte = sim_pte_get(w->mm, w->addr + i * P);

    return is_swap_pte(pte) && is_device_private_entry(pte_to_swp_entry(pte)) &&
           pfn_swap_entry_to_page(pte_to_swp_entry(pte)) == page;
}

/* Finish what migrate_device_pfns started: copy every collected page, then commit. */
static void finish(unsigned long *src, int n)
{
    unsigned long dst[NDEV] = { 0 };

    for (int i = 0; i < n; i++)
        if (src[i] & M)
            dst[i] = migrate_pfn(page_to_pfn(sim_test_copy_page(migrate_pfn_to_page(src[i]))));
    migrate_device_pages(src, dst, n);
    migrate_device_finalize(src, dst, n);
}

/* Pages 3, 0 and 4, in that order: each collected, locked, its entry a migration entry,
 * and the pages not listed untouched on the device. */
START_TEST(scattered_pages_are_collected)
{
    struct world w;
    int which[3] = { 3, 0, 4 };
    unsigned long src[3];

    world_init(&w);
    for (int k = 0; k < 3; k++)
        src[k] = page_to_pfn(w.dpage[which[k]]);
    ck_assert_int_eq(migrate_device_pfns(src, 3), 0);
    for (int k = 0; k < 3; k++) {
        struct page *page = w.dpage[which[k]];

        ck_assert_uint_eq(src[k], migrate_pfn(page_to_pfn(page)) | M);
        ck_assert(PageLocked(page));
        ck_assert(is_migration_at(&w, which[k], page));
    }
    ck_assert(is_device_at(&w, 1, w.dpage[1]));
    ck_assert(is_device_at(&w, 2, w.dpage[2]));
    finish(src, 3);
    world_fini(&w);
}
END_TEST

/* A free device page and one the test holds locked come back as 0 and stay as they were. */
START_TEST(free_and_locked_pages_are_skipped)
{
    struct world w;
    unsigned long src[3], free_pfn;

    world_init(&w);
    free_pfn = w.dev->pgmap.range.start;               /* the device page nobody took */
    while (page_ref_count(pfn_to_page(free_pfn)) != 0)
        free_pfn++;
    ck_assert_uint_le(free_pfn, w.dev->pgmap.range.end);
    lock_page(w.dpage[2]);
    src[0] = free_pfn;
    src[1] = page_to_pfn(w.dpage[2]);
    src[2] = page_to_pfn(w.dpage[1]);
    ck_assert_int_eq(migrate_device_pfns(src, 3), 0);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(src[1], 0);
    ck_assert_uint_eq(src[2], migrate_pfn(page_to_pfn(w.dpage[1])) | M);
    ck_assert_int_eq(page_ref_count(pfn_to_page(free_pfn)), 0);
    ck_assert(is_device_at(&w, 2, w.dpage[2]));
    unlock_page(w.dpage[2]);
    finish(src, 3);
    world_fini(&w);
}
END_TEST

/* After pages and finalize, the listed pages are back in RAM with their data, the device
 * pages are free again, and the rest is still on the device. */
START_TEST(the_eviction_completes)
{
    struct world w;
    unsigned long src[2];

    world_init(&w);
    src[0] = page_to_pfn(w.dpage[4]);
    src[1] = page_to_pfn(w.dpage[1]);
    ck_assert_int_eq(migrate_device_pfns(src, 2), 0);
    finish(src, 2);
    ck_assert(pte_present(sim_pte_get(w.mm, w.addr + 4 * P)));
    ck_assert(pte_present(sim_pte_get(w.mm, w.addr + P)));
    ck_assert_int_eq(page_ref_count(w.dpage[4]), 0);
    ck_assert_int_eq(page_ref_count(w.dpage[1]), 0);
    ck_assert_int_eq(w.dev->page_frees, 2);
    ck_assert_int_eq(w.dev->migrations, 0);
    sim_test_expect_pages(w.mm, w.addr + P, 1, 41);
    sim_test_expect_pages(w.mm, w.addr + 4 * P, 1, 44);
    ck_assert_int_eq(w.dev->migrations, 0);
    ck_assert(is_device_at(&w, 0, w.dpage[0]));
    ck_assert_int_eq(sim_check_invariants(), 0);
    world_fini(&w);
}
END_TEST

START_TEST(a_null_array_is_refused)
{
    ck_assert_int_eq(migrate_device_pfns(NULL, 3), -EINVAL);
    ck_assert_uint_eq(sim_warn_count(), 0);
}
END_TEST

/* Listing a run of pfns in order gives what migrate_device_range gives for the run. */
START_TEST(the_same_result_as_a_range)
{
    struct world a, b;
    unsigned long by_list[NDEV], by_range[NDEV];

    world_init(&a);
    world_init(&b);
    lock_page(a.dpage[3]);
    lock_page(b.dpage[3]);
    for (int i = 0; i < NDEV; i++)
        by_list[i] = a.dev->pgmap.range.start + i;
    ck_assert_int_eq(migrate_device_pfns(by_list, NDEV), 0);
    ck_assert_int_eq(migrate_device_range(by_range, b.dev->pgmap.range.start, NDEV), 0);
    for (int i = 0; i < NDEV; i++) {
        unsigned long want = by_range[i] ? by_range[i] - migrate_pfn(b.dev->pgmap.range.start) +
                                           migrate_pfn(a.dev->pgmap.range.start) : 0;

        ck_assert_uint_eq(by_list[i], want);
    }
    unlock_page(a.dpage[3]);
    unlock_page(b.dpage[3]);
    finish(by_list, NDEV);
    finish(by_range, NDEV);
    world_fini(&a);
    world_fini(&b);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("device-pfns");
    TCase *tc = sim_tcase("pfns", 5);

    tcase_add_test(tc, scattered_pages_are_collected);
    tcase_add_test(tc, free_and_locked_pages_are_skipped);
    tcase_add_test(tc, the_eviction_completes);
    tcase_add_test(tc, a_null_array_is_refused);
    tcase_add_test(tc, the_same_result_as_a_range);
    suite_add_tcase(s, tc);
    return s;
}
