/* Tests of the remove-migration-entry exercise: one entry made by hand in a real page
 * table, entries left alone, and whole migrations through the mirror device. */
#include <stdlib.h>
#include "testdev.h"

#define P PAGE_SIZE
#define RW_BITS (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_RW | _PAGE_DIRTY)
#define RO_BITS (_PAGE_PRESENT | _PAGE_ACCESSED)
/* A page brought home from device memory: a device-private entry is neither young nor
 * dirty, so neither is the migration entry that replaces it, nor the new mapping. */
#define HOME_RW_BITS (_PAGE_PRESENT | _PAGE_RW)
#define HOME_RO_BITS (_PAGE_PRESENT)

/* What the collect step does to the page mapped at addr: lock it, keep the mapping's
 * reference as the migration's own, and leave a migration entry with the writability,
 * youth and dirtiness of the mapping.  Returns the page. */
static struct page *start_migration(struct mm_struct *mm, unsigned long addr)
{
    struct page *page = sim_test_mapped_page(mm, addr);
    pte_t *ptep;

    lock_page(page);
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    *ptep = swp_entry_to_pte(sim_migration_entry_for(*ptep, page_to_pfn(page),
                                                     pte_write(*ptep)));
    atomic_fetch_sub(&page->_mapcount, 1);
    pthread_mutex_unlock(&mm->page_table_lock);
    return page;
}

/* The call under test, on the entry at addr, under the page-table lock. */
static void remove_at(struct mm_struct *mm, unsigned long addr, struct page *old,
                      struct page *new)
{
    pthread_mutex_lock(&mm->page_table_lock);
    sim_remove_migration_pte(sim_pte_offset(mm, addr, false), old, new);
    pthread_mutex_unlock(&mm->page_table_lock);
}

/* What finalisation does after the entry is gone: the old page loses the migration's
 * lock and reference, the new one the driver's. */
static void end_migration(struct page *old, struct page *new)
{
    unlock_page(old);
    put_page(old);
    if (new != old) {
        unlock_page(new);
        put_page(new);
    }
}

/* A page of RAM that replaces a writable mapping: present, writable, dirty, with a
 * reference and a map count of its own. */
START_TEST(writable_into_ram)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old, *new = alloc_page();

    sim_test_memset(mm, addr, 0x5e, P);
    old = start_migration(mm, addr);
    lock_page(new);
    memcpy(sim_page_address(new), sim_page_address(old), P);
    remove_at(mm, addr, old, new);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(new), RW_BITS));
    ck_assert_int_eq(page_ref_count(new), 2);
    ck_assert_int_eq(page_mapcount(new), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    ck_assert_int_eq(page_mapcount(old), 0);
    end_migration(old, new);
    ck_assert_int_eq(page_ref_count(new), 1);
    sim_test_expect_bytes(mm, addr, 0x5e, P);
    mmput(mm);
}
END_TEST

/* A read-only mapping stays read-only on the new page; written before the mprotect, it
 * stays dirty too. */
START_TEST(readonly_into_ram)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old, *new = alloc_page();

    sim_test_memset(mm, addr, 0x6f, P);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ), 0);
    old = start_migration(mm, addr);
    lock_page(new);
    memcpy(sim_page_address(new), sim_page_address(old), P);
    remove_at(mm, addr, old, new);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(new), RO_BITS | _PAGE_DIRTY));
    ck_assert_int_eq(page_ref_count(new), 2);
    ck_assert_int_eq(page_mapcount(new), 1);
    end_migration(old, new);
    sim_test_expect_bytes(mm, addr, 0x6f, P);
    mmput(mm);
}
END_TEST

/* A device page gets a device-private entry, writable or readable as the migration entry
 * was; the CPU's next access brings it home with the data. */
START_TEST(into_device_memory)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(2);
    unsigned long rw = sim_test_map_private(mm, P), ro = sim_test_map_private(mm, P);
    struct page *old, *new;

    sim_test_memset(mm, rw, 0x7a, P);
    sim_test_memset(mm, ro, 0x7b, P);
    ck_assert_int_eq(sim_mprotect(mm, ro, P, PROT_READ), 0);

    old = start_migration(mm, rw);
    new = testdev_alloc(dev);
    memcpy(sim_page_address(new), sim_page_address(old), P);
    remove_at(mm, rw, old, new);
    ck_assert_uint_eq(sim_pte_get(mm, rw),
                      swp_entry_to_pte(make_writable_device_private_entry(page_to_pfn(new))));
    ck_assert_int_eq(page_ref_count(new), 2);
    ck_assert_int_eq(page_mapcount(new), 1);
    end_migration(old, new);

    old = start_migration(mm, ro);
    new = testdev_alloc(dev);
    memcpy(sim_page_address(new), sim_page_address(old), P);
    remove_at(mm, ro, old, new);
    ck_assert_uint_eq(sim_pte_get(mm, ro),
                      swp_entry_to_pte(make_readable_device_private_entry(page_to_pfn(new))));
    ck_assert_int_eq(page_ref_count(new), 2);
    ck_assert_int_eq(page_mapcount(new), 1);
    end_migration(old, new);

    sim_test_expect_bytes(mm, rw, 0x7a, P);
    sim_test_expect_bytes(mm, ro, 0x7b, P);
    ck_assert_int_eq(dev->migrations, 2);
    ck_assert_int_eq(dev->page_frees, 2);
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

/* A page that did not move is mapped again, as it was. */
START_TEST(the_old_page_restored)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old;

    sim_test_memset(mm, addr, 0x19, P);
    old = start_migration(mm, addr);
    remove_at(mm, addr, old, old);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(old), RW_BITS));
    ck_assert_int_eq(page_ref_count(old), 2);
    ck_assert_int_eq(page_mapcount(old), 1);
    end_migration(old, old);
    ck_assert_int_eq(page_ref_count(old), 1);
    sim_test_expect_bytes(mm, addr, 0x19, P);
    mmput(mm);
}
END_TEST

/* Anything but a migration entry of the old page is left exactly as it is. */
START_TEST(other_entries_are_left_alone)
{
    struct page *old = alloc_page(), *new = alloc_page(), *other = alloc_page();
    unsigned long opfn = page_to_pfn(old);
    pte_t entries[] = {
        0,
        pfn_pte(opfn, RW_BITS),
        pfn_pte(opfn, RO_BITS),
        swp_entry_to_pte(make_writable_device_private_entry(opfn)),
        swp_entry_to_pte(make_writable_migration_entry(page_to_pfn(other))),
        swp_entry_to_pte(make_readable_migration_entry(page_to_pfn(new))),
    };

    for (unsigned i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        pte_t pte = entries[i];

        sim_remove_migration_pte(&pte, old, new);
        ck_assert_msg(pte == entries[i], "entry %u: %#lx became %#lx", i, entries[i], pte);
    }
    ck_assert_int_eq(page_ref_count(new), 1);
    ck_assert_int_eq(page_mapcount(new), 0);
    ck_assert_int_eq(page_ref_count(old), 1);
    put_page(old);
    put_page(new);
    put_page(other);
}
END_TEST

/* To the mirror device and back, two pages writable and two read-only: the device sees
 * each with its permission, and each comes home with it. */
START_TEST(a_round_trip_through_the_device)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdev = dmirror_device_create(8);
    struct dmirror *d = dmirror_open(mdev, mm);
    unsigned long addr = sim_test_map_private(mm, 4 * P);
    unsigned char *buf = malloc(4 * P), perm[4];
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = 4 };
    struct hmm_dmirror_cmd s = { .addr = addr, .ptr = (uintptr_t)perm, .npages = 4 };

    sim_fill_pattern(buf, 4 * P, 3);
    ck_assert_int_eq(sim_write(mm, addr, buf, 4 * P), 0);
    ck_assert_int_eq(sim_mprotect(mm, addr + 2 * P, 2 * P, PROT_READ), 0);
    memset(buf, 0, 4 * P);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_DEV, &c), 0);
    ck_assert_uint_eq(c.cpages, 4);
    ck_assert_uint_eq(sim_pattern_mismatch(buf, 4 * P, 3), 4 * P);
    for (int i = 0; i < 4; i++) {
        swp_entry_t entry = pte_to_swp_entry(sim_pte_get(mm, addr + i * P));
        struct page *page = pfn_swap_entry_to_page(entry);

        ck_assert(is_device_private_entry(entry));
        ck_assert_int_eq(is_writable_device_private_entry(entry), i < 2);
        ck_assert_int_eq(page_ref_count(page), 1);
        ck_assert_int_eq(page_mapcount(page), 1);
    }
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_SNAPSHOT, &s), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(perm[i], HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL |
                                   (i < 2 ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ));

    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_SYS, &c), 0);
    ck_assert_uint_eq(c.cpages, 4);
    for (int i = 0; i < 4; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);
        struct page *page = sim_test_mapped_page(mm, addr + i * P);

        ck_assert(!is_device_private_page(page));
        ck_assert_uint_eq(pte, pfn_pte(page_to_pfn(page), i < 2 ? HOME_RW_BITS : HOME_RO_BITS));
        ck_assert_int_eq(page_ref_count(page), 1);
        ck_assert_int_eq(page_mapcount(page), 1);
    }
    ck_assert_int_eq(sim_read(mm, addr, buf, 4 * P), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(buf, 4 * P, 3), 4 * P);
    free(buf);
    dmirror_release(d);
    dmirror_device_destroy(mdev);
    mmput(mm);
}
END_TEST

/* A page shared with a fork child moves in both processes, and comes home in both when
 * the child touches it: the migration entries outside the range are converted too. */
START_TEST(both_processes_after_fork)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    struct dmirror_device *mdev = dmirror_device_create(4);
    struct dmirror *d = dmirror_open(mdev, mm);
    unsigned long addr = sim_test_map_private(mm, P);
    unsigned char buf[P];
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = 1 };
    struct page *dpage, *page;
    pte_t pte;

    sim_test_memset(mm, addr, 0x2c, P);
    child = sim_fork(mm);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_DEV, &c), 0);
    pte = sim_pte_get(mm, addr);
    dpage = pfn_swap_entry_to_page(pte_to_swp_entry(pte));
    ck_assert(is_device_private_page(dpage));
    ck_assert_uint_eq(pte, swp_entry_to_pte(make_readable_device_private_entry(
                               page_to_pfn(dpage))));
    ck_assert_uint_eq(sim_pte_get(child, addr), pte);
    ck_assert_int_eq(page_mapcount(dpage), 2);
    ck_assert_int_eq(page_ref_count(dpage), 2);

    sim_test_expect_bytes(child, addr, 0x2c, P);
    page = sim_test_mapped_page(child, addr);
    ck_assert(!is_device_private_page(page));
    /* the child's read that brought it home made its entry young */
    ck_assert_uint_eq(sim_pte_get(child, addr),
                      pfn_pte(page_to_pfn(page), HOME_RO_BITS | _PAGE_ACCESSED));
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), HOME_RO_BITS));
    ck_assert_int_eq(page_mapcount(page), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_ref_count(dpage), 0);
    sim_test_expect_bytes(mm, addr, 0x2c, P);
    mmput(child);
    dmirror_release(d);
    dmirror_device_destroy(mdev);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("remove-migration-pte");
    TCase *tc = sim_tcase("remove", 5);

    tcase_add_test(tc, writable_into_ram);
    tcase_add_test(tc, readonly_into_ram);
    tcase_add_test(tc, into_device_memory);
    tcase_add_test(tc, the_old_page_restored);
    tcase_add_test(tc, other_entries_are_left_alone);
    tcase_add_test(tc, a_round_trip_through_the_device);
    tcase_add_test(tc, both_processes_after_fork);
    suite_add_tcase(s, tc);
    return s;
}
