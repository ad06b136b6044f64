/* Tests of the range-conversion exercise: make_device_exclusive_range() as Linux 5.14 to
 * 6.14 had it, built on the one-page make_device_exclusive(). */
#include "recorder.h"

#define P PAGE_SIZE
#define OWNER ((void *)0x0e0e)
#define NPAGES 4

/* The exercise's function: no header declares it. */
int make_device_exclusive_range(struct mm_struct *mm, unsigned long start,
                                unsigned long end, struct page **pages, void *owner);

static int convert_range(struct mm_struct *mm, unsigned long start, unsigned long end,
                         struct page **pages)
{
    int n;

    mmap_read_lock(mm);
    n = make_device_exclusive_range(mm, start, end, pages, OWNER);
    mmap_read_unlock(mm);
    return n;
}

/* The entry at addr is device-exclusive and names page. */
static void expect_exclusive(struct mm_struct *mm, unsigned long addr, struct page *page)
{
    pte_t pte = sim_pte_get(mm, addr);

    ck_assert_msg(is_swap_pte(pte) && is_device_exclusive_entry(pte_to_swp_entry(pte)),
                  "%#lx: entry %#lx is not device-exclusive", addr, pte);
    ck_assert_ptr_eq(pfn_swap_entry_to_page(pte_to_swp_entry(pte)), page);
}

static void release_pages(struct page **pages, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert(PageLocked(pages[i]));
        unlock_page(pages[i]);
        put_page(pages[i]);
    }
}

static void recorder_attach(struct recorder *r, struct mm_struct *mm)
{
    recorder_init(r);
    ck_assert_int_eq(mmu_notifier_register(&r->mn, mm), 0);
}

/* Four written pages: four pages back, locked, each the page its entry now names; the
 * CPU then reads every byte back through the restored entries. */
START_TEST(converts_every_page_of_a_range)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, NPAGES * P);
    struct page *pages[NPAGES] = { 0 }, *want[NPAGES];

    sim_test_fill_pages(mm, addr, NPAGES, 7);
    for (int i = 0; i < NPAGES; i++)
        want[i] = sim_test_mapped_page(mm, addr + i * P);
    ck_assert_int_eq(convert_range(mm, addr, addr + NPAGES * P, pages), NPAGES);
    for (int i = 0; i < NPAGES; i++) {
        ck_assert_ptr_eq(pages[i], want[i]);
        ck_assert(PageLocked(pages[i]));
        ck_assert_int_eq(page_ref_count(pages[i]), 2);
        expect_exclusive(mm, addr + i * P, pages[i]);
    }
    release_pages(pages, NPAGES);
    sim_test_expect_pages(mm, addr, NPAGES, 7);
    mmput(mm);
}
END_TEST

/* Two pages mapped, then a hole: two pages converted, and the result says so. */
START_TEST(stops_before_a_hole)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, NPAGES * P);
    struct page *pages[NPAGES] = { 0 };

    sim_test_fill_pages(mm, addr, 2, 9);
    ck_assert_int_eq(sim_munmap(mm, addr + 2 * P, 2 * P), 0);
    ck_assert_int_eq(convert_range(mm, addr, addr + NPAGES * P, pages), 2);
    expect_exclusive(mm, addr, pages[0]);
    expect_exclusive(mm, addr + P, pages[1]);
    ck_assert_ptr_null(pages[2]);
    release_pages(pages, 2);
    sim_test_expect_pages(mm, addr, 2, 9);
    mmput(mm);
}
END_TEST

/* A range that starts where make_device_exclusive() refuses gets its refusal, and no
 * page changes: a hole, a read-only mapping, shared memory. */
START_TEST(the_first_page_gives_the_error)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    long shared = sim_mmap(mm, 0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    long ro = sim_mmap(mm, 0, 2 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    struct page *pages[2] = { 0 };
    pte_t before;

    ck_assert(shared > 0 && ro > 0);
    sim_test_fill_pages(mm, addr, 2, 3);
    sim_test_fill_pages(mm, shared, 2, 4);
    before = sim_pte_get(mm, shared);
    ck_assert_int_eq(sim_munmap(mm, addr, P), 0);
    ck_assert_int_eq(convert_range(mm, addr, addr + 2 * P, pages), -EFAULT);
    ck_assert_int_eq(convert_range(mm, ro, ro + 2 * P, pages), -EFAULT);
    ck_assert_int_eq(convert_range(mm, shared, shared + 2 * P, pages), -EOPNOTSUPP);
    ck_assert_ptr_null(pages[0]);
    ck_assert_uint_eq(sim_pte_get(mm, shared), before);
    ck_assert(pte_present(sim_pte_get(mm, addr + P)));
    mmput(mm);
}
END_TEST

/* start == end: 0, and not one notification. */
START_TEST(an_empty_range_converts_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *pages[1] = { 0 };
    struct recorder r;

    sim_test_fill_pages(mm, addr, 1, 5);
    recorder_attach(&r, mm);
    ck_assert_int_eq(convert_range(mm, addr, addr, pages), 0);
    ck_assert_int_eq(r.n, 0);
    ck_assert_ptr_null(pages[0]);
    ck_assert(pte_present(sim_pte_get(mm, addr)));
    mmu_notifier_unregister(&r.mn, mm);
    mmput(mm);
}
END_TEST

/* Each page is converted on its own: one MMU_NOTIFY_EXCLUSIVE start and end per page,
 * over that page, in order, with the caller's owner. */
START_TEST(one_notification_per_page_with_the_owner)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    struct page *pages[3] = { 0 };
    struct recorder r;

    sim_test_fill_pages(mm, addr, 3, 11);
    recorder_attach(&r, mm);
    ck_assert_int_eq(convert_range(mm, addr, addr + 3 * P, pages), 3);
    ck_assert_int_eq(r.n, 6);
    for (int i = 0; i < 3; i++) {
        unsigned long a = addr + i * P;

        ck_assert_rec(&r, 2 * i, REC_START, MMU_NOTIFY_EXCLUSIVE, a, a + P,
                      MMU_NOTIFIER_RANGE_BLOCKABLE, OWNER, mm);
        ck_assert_rec(&r, 2 * i + 1, REC_END, MMU_NOTIFY_EXCLUSIVE, a, a + P,
                      MMU_NOTIFIER_RANGE_BLOCKABLE, OWNER, mm);
    }
    release_pages(pages, 3);
    mmu_notifier_unregister(&r.mn, mm);
    mmput(mm);
}
END_TEST

/* end < start and a NULL array: -EINVAL, nothing converted. */
START_TEST(bad_arguments_are_refused)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *pages[2] = { 0 };

    sim_test_fill_pages(mm, addr, 2, 6);
    ck_assert_int_eq(convert_range(mm, addr + P, addr, pages), -EINVAL);
    ck_assert_int_eq(convert_range(mm, addr, addr + 2 * P, NULL), -EINVAL);
    ck_assert(pte_present(sim_pte_get(mm, addr)));
    ck_assert(pte_present(sim_pte_get(mm, addr + P)));
    mmput(mm);
}
END_TEST

/* An unaligned start: (end - start) >> PAGE_SHIFT pages from the page holding start. */
START_TEST(an_unaligned_start_rounds_down)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    struct page *pages[3] = { 0 };

    sim_test_fill_pages(mm, addr, 3, 8);
    ck_assert_int_eq(convert_range(mm, addr + 100, addr + 2 * P + 100, pages), 2);
    expect_exclusive(mm, addr, pages[0]);
    expect_exclusive(mm, addr + P, pages[1]);
    ck_assert(pte_present(sim_pte_get(mm, addr + 2 * P)));
    release_pages(pages, 2);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("exclusive-range");
    TCase *tc = sim_tcase("range", 5);

    tcase_add_test(tc, converts_every_page_of_a_range);
    tcase_add_test(tc, stops_before_a_hole);
    tcase_add_test(tc, the_first_page_gives_the_error);
    tcase_add_test(tc, an_empty_range_converts_nothing);
    tcase_add_test(tc, one_notification_per_page_with_the_owner);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, an_unaligned_start_rounds_down);
    suite_add_tcase(s, tc);
    return s;
}
