/* A minimal device-memory driver for the tests of chapter 7 on: a pagemap of its own,
 * a free list, and the two operations, plus a hand-made "move this page to the device"
 * that chapter 8's migrate_vma does properly.  Header-only so that exercise suites can
 * use it too.
 *
 * testdev_move_to_device() and the driver's migrate_to_ram do by hand, for one page of
 * one address space, what a migration does: copy the data, replace the entry, move the
 * map count and the reference, and announce the change to secondary MMUs (with
 * MMU_NOTIFY_CLEAR; the owner-carrying MMU_NOTIFY_MIGRATE is chapter 8's).  Unlike a
 * migration they ignore every other mapping of the page, which is enough for a test that
 * knows the page's only mappings. */
#ifndef HMMWB_TESTDEV_H
#define HMMWB_TESTDEV_H

#include <string.h>
#include "testlib.h"

struct testdev {
    struct dev_pagemap pgmap;            /* first: page_pgmap(page) is the testdev */
    pthread_mutex_t lock;
    struct page *free;                   /* free pages, linked by zone_device_data */
    int page_frees;                      /* page_free calls */
    int migrations;                      /* migrate_to_ram calls */
    int unlocked_faults;                 /* migrate_to_ram calls without the page lock */
    vm_fault_t fault_result;             /* what migrate_to_ram returns (0: migrate) */
};

static inline struct testdev *testdev_of(struct page *page)
{
    return (struct testdev *)page_pgmap(page);
}

static inline void testdev_page_free(struct page *page)
{
    struct testdev *dev = testdev_of(page);

    pthread_mutex_lock(&dev->lock);
    page->zone_device_data = dev->free;
    dev->free = page;
    dev->page_frees++;
    pthread_mutex_unlock(&dev->lock);
}

static inline struct page *testdev_alloc(struct testdev *dev)
{
    struct page *page;

    pthread_mutex_lock(&dev->lock);
    page = dev->free;
    if (page)
        dev->free = page->zone_device_data;
    pthread_mutex_unlock(&dev->lock);
    if (page)
        zone_device_page_init(page);    /* one reference, locked */
    return page;
}

/* Replace the entry at addr, which must be orig, by new; the caller announced it. */
static inline bool testdev_replace(struct mm_struct *mm, unsigned long addr, pte_t orig,
                                   pte_t new, struct page *old_page, struct page *new_page)
{
    pte_t *ptep;
    bool done = false;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep && *ptep == orig) {
        *ptep = new;
        atomic_fetch_add(&new_page->_mapcount, 1);    /* the allocation's reference */
        atomic_fetch_sub(&old_page->_mapcount, 1);    /* becomes the entry's */
        put_page(old_page);
        done = true;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    return done;
}

static inline vm_fault_t testdev_migrate_to_ram(struct vm_fault *vmf)
{
    struct testdev *dev = testdev_of(vmf->page);
    struct mm_struct *mm = vmf->vma->vm_mm;
    struct mmu_notifier_range range;
    struct page *page;
    unsigned long bits = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY;

    pthread_mutex_lock(&dev->lock);
    dev->migrations++;
    if (!PageLocked(vmf->page))
        dev->unlocked_faults++;
    pthread_mutex_unlock(&dev->lock);
    if (dev->fault_result)
        return dev->fault_result;
    page = alloc_page();
    if (!page)
        return VM_FAULT_OOM;
    memcpy(sim_page_address(page), sim_page_address(vmf->page), PAGE_SIZE);
    if (is_writable_device_private_entry(pte_to_swp_entry(vmf->orig_pte)))
        bits |= _PAGE_RW;
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, vmf->address,
                            vmf->address + PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    if (!testdev_replace(mm, vmf->address, vmf->orig_pte, pfn_pte(page_to_pfn(page), bits),
                         vmf->page, page))
        put_page(page);
    mmu_notifier_invalidate_range_end(&range);
    return 0;
}

static const struct dev_pagemap_ops testdev_ops = {
    .page_free = testdev_page_free,
    .migrate_to_ram = testdev_migrate_to_ram,
};

static inline struct testdev *testdev_create(unsigned long npages)
{
    struct testdev *dev = calloc(1, sizeof(*dev));
    struct page *pages;

    ck_assert_ptr_nonnull(dev);
    pthread_mutex_init(&dev->lock, NULL);
    dev->pgmap.type = MEMORY_DEVICE_PRIVATE;
    dev->pgmap.ops = &testdev_ops;
    dev->pgmap.owner = dev;
    ck_assert(!IS_ERR(memremap_pages(&dev->pgmap, npages)));
    pages = pfn_to_page(dev->pgmap.range.start);
    for (unsigned long i = npages; i-- > 0;) {
        pages[i].zone_device_data = dev->free;
        dev->free = &pages[i];
    }
    return dev;
}

static inline void testdev_destroy(struct testdev *dev)
{
    memunmap_pages(&dev->pgmap);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

/* Move the present page at addr of mm to the device; returns the device page. */
static inline struct page *testdev_move_to_device(struct testdev *dev, struct mm_struct *mm,
                                                  unsigned long addr)
{
    struct mmu_notifier_range range;
    struct page *old, *page = testdev_alloc(dev);
    pte_t orig = sim_pte_get(mm, addr), new;
    swp_entry_t entry;

    ck_assert_ptr_nonnull(page);
    ck_assert_msg(pte_present(orig) && !is_zero_pfn(pte_pfn(orig)),
                  "no private page at %#lx to move", addr);
    old = pfn_to_page(pte_pfn(orig));
    memcpy(sim_page_address(page), sim_page_address(old), PAGE_SIZE);
    entry = pte_write(orig) ? make_writable_device_private_entry(page_to_pfn(page))
                            : make_readable_device_private_entry(page_to_pfn(page));
    new = swp_entry_to_pte(entry);
    mmap_read_lock(mm);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    ck_assert(testdev_replace(mm, addr, orig, new, old, page));
    mmu_notifier_invalidate_range_end(&range);
    mmap_read_unlock(mm);
    unlock_page(page);
    return page;
}

#endif
