/* Tests of the fork exercise. */
#include "testdev.h"

#define P PAGE_SIZE

struct world {
    struct mm_struct *mm, *child;
    struct testdev *dev;
    unsigned long addr;
    struct page *dpage;
};

static void world_init(struct world *w, bool read_only)
{
    w->mm = sim_mm_create();
    w->dev = testdev_create(2);
    w->addr = sim_test_map_private(w->mm, P);
    sim_test_memset(w->mm, w->addr, 0x2b, P);
    if (read_only)
        ck_assert_int_eq(sim_mprotect(w->mm, w->addr, P, PROT_READ), 0);
    w->dpage = testdev_move_to_device(w->dev, w->mm, w->addr);
    w->child = sim_fork(w->mm);
    ck_assert(!IS_ERR(w->child));
}

static void world_done(struct world *w)
{
    if (w->child)
        mmput(w->child);
    mmput(w->mm);
    testdev_destroy(w->dev);
}

static swp_entry_t entry_at(struct mm_struct *mm, unsigned long addr)
{
    return pte_to_swp_entry(sim_pte_get(mm, addr));
}

START_TEST(child_maps_the_same_device_page)
{
    struct world w;

    world_init(&w, false);
    ck_assert(is_device_private_entry(entry_at(w.child, w.addr)));
    ck_assert_ptr_eq(pfn_swap_entry_to_page(entry_at(w.child, w.addr)), w.dpage);
    world_done(&w);
}
END_TEST

START_TEST(counts_follow_the_new_mapping)
{
    struct world w;

    world_init(&w, false);
    ck_assert_int_eq(page_ref_count(w.dpage), 2);
    ck_assert_int_eq(page_mapcount(w.dpage), 2);
    mmput(w.child);
    w.child = NULL;
    ck_assert_int_eq(page_ref_count(w.dpage), 1);
    ck_assert_int_eq(page_mapcount(w.dpage), 1);
    world_done(&w);
}
END_TEST

START_TEST(writable_entries_become_readable)
{
    struct world w;

    world_init(&w, false);
    ck_assert(is_device_private_entry(entry_at(w.mm, w.addr)));
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr)));
    ck_assert(!is_writable_device_private_entry(entry_at(w.child, w.addr)));
    world_done(&w);
}
END_TEST

START_TEST(readable_entries_stay_readable)
{
    struct world w;

    world_init(&w, true);
    ck_assert(is_device_private_entry(entry_at(w.mm, w.addr)));
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr)));
    ck_assert(is_device_private_entry(entry_at(w.child, w.addr)));
    ck_assert(!is_writable_device_private_entry(entry_at(w.child, w.addr)));
    ck_assert_int_eq(page_mapcount(w.dpage), 2);
    world_done(&w);
}
END_TEST

/* The child writes first and gets its own page; the parent still reads the old data. */
START_TEST(each_side_brings_its_own_copy_home)
{
    struct world w;

    world_init(&w, false);
    sim_test_memset(w.child, w.addr, 0x77, 16);
    sim_test_expect_bytes(w.mm, w.addr, 0x2b, P);
    sim_test_expect_bytes(w.child, w.addr, 0x77, 16);
    ck_assert_int_eq(w.dev->migrations, 2);
    ck_assert_int_eq(w.dev->page_frees, 1);
    ck_assert_ptr_ne(sim_test_mapped_page(w.mm, w.addr), sim_test_mapped_page(w.child, w.addr));
    world_done(&w);
}
END_TEST

START_TEST(other_entries_are_not_touched)
{
    pte_t src = swp_entry_to_pte(swp_entry(SIM_SWP_NR_TYPES - 1, 0x1234)), dst = 0;
    pte_t before = src;

    if (is_device_private_entry(pte_to_swp_entry(src)))
        src = before = swp_entry_to_pte(swp_entry(SIM_SWP_NONE, 0x1234));
    ck_assert(!sim_copy_device_private_pte(&dst, &src));
    ck_assert_uint_eq(src, before);
    ck_assert_uint_eq(dst, 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("devpriv-fork");
    TCase *tc = sim_tcase("devpriv-fork", 5);

    tcase_add_test(tc, child_maps_the_same_device_page);
    tcase_add_test(tc, counts_follow_the_new_mapping);
    tcase_add_test(tc, writable_entries_become_readable);
    tcase_add_test(tc, readable_entries_stay_readable);
    tcase_add_test(tc, each_side_brings_its_own_copy_home);
    tcase_add_test(tc, other_entries_are_not_touched);
    suite_add_tcase(s, tc);
    return s;
}
