/* Chapter 7: device-private memory.  Registration and its refusals, a device page's life,
 * every core path that meets a device-private entry, the owner check in hmm_range_fault,
 * the mirror device's memory, and the invariant checker on device pages. */
#include <stdlib.h>
#include <string.h>
#include "testdev.h"

#define P PAGE_SIZE

static vm_fault_t no_fault(struct vm_fault *vmf)
{
    (void)vmf;
    return VM_FAULT_SIGBUS;
}

static void no_free(struct page *page)
{
    (void)page;
}

/* --- registration ---------------------------------------------------------------------- */

START_TEST(memremap_refuses_what_the_kernel_refuses)
{
    static const struct dev_pagemap_ops ok = { .page_free = no_free, .migrate_to_ram = no_fault };
    static const struct dev_pagemap_ops no_free_op = { .migrate_to_ram = no_fault };
    static const struct dev_pagemap_ops no_migrate_op = { .page_free = no_free };
    int owner;
    struct dev_pagemap good = { .type = MEMORY_DEVICE_PRIVATE, .ops = &ok, .owner = &owner };
    struct dev_pagemap bad;

    ck_assert_int_eq(PTR_ERR(memremap_pages(NULL, 4)), -EINVAL);
    bad = good;
    bad.type = 0;
    ck_assert_int_eq(PTR_ERR(memremap_pages(&bad, 4)), -EINVAL);
    bad = good;
    bad.ops = NULL;
    ck_assert_int_eq(PTR_ERR(memremap_pages(&bad, 4)), -EINVAL);
    bad.ops = &no_free_op;
    ck_assert_int_eq(PTR_ERR(memremap_pages(&bad, 4)), -EINVAL);
    bad.ops = &no_migrate_op;
    ck_assert_int_eq(PTR_ERR(memremap_pages(&bad, 4)), -EINVAL);
    bad = good;
    bad.owner = NULL;
    ck_assert_int_eq(PTR_ERR(memremap_pages(&bad, 4)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(memremap_pages(&good, 0)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(memremap_pages(&good, SIM_RAM_MAX_PAGES + 1)), -EINVAL);
    ck_assert_ptr_null(good.sim_section);           /* nothing was registered */

    ck_assert(!IS_ERR_OR_NULL(memremap_pages(&good, 4)));
    ck_assert_uint_eq(good.range.end - good.range.start, 3);
    ck_assert_int_eq(PTR_ERR(memremap_pages(&good, 4)), -EINVAL);   /* twice */
    memunmap_pages(&good);
}
END_TEST

/* Pfns lie outside RAM, each page names its pagemap and starts free; a thousand rounds of
 * register and unregister reuse the same pfns instead of running out. */
START_TEST(registration_rounds_reuse_pfns)
{
    struct testdev *dev = testdev_create(8);
    unsigned long first = dev->pgmap.range.start;
    struct page *page = pfn_to_page(first);

    ck_assert_uint_ge(first, SIM_RAM_START_PFN + sim_nr_ram_pages());
    ck_assert_ptr_eq(page_pgmap(page), &dev->pgmap);
    ck_assert(is_device_private_page(page));
    ck_assert(!is_device_private_page(sim_zero_page()));
    ck_assert_int_eq(page_ref_count(page), 0);
    testdev_destroy(dev);
    for (int i = 0; i < 1000; i++) {
        dev = testdev_create(8);
        ck_assert_uint_eq(dev->pgmap.range.start, first);
        testdev_destroy(dev);
    }
}
END_TEST

/* zone_device_page_init gives the first reference and the lock; the last put_page hands
 * the page back through page_free, exactly once. */
START_TEST(a_device_page_returns_to_its_driver)
{
    struct testdev *dev = testdev_create(2);
    struct page *page = testdev_alloc(dev);

    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert(PageLocked(page));
    unlock_page(page);
    get_page(page);
    put_page(page);
    ck_assert_int_eq(dev->page_frees, 0);
    put_page(page);
    ck_assert_int_eq(dev->page_frees, 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_ptr_eq(dev->free, page);
    testdev_destroy(dev);
}
END_TEST

/* Unregistering memory with a page still in use warns and keeps the pagemap. */
START_TEST(memunmap_with_a_page_in_use_warns)
{
    struct testdev *dev = testdev_create(2);
    struct page *page = testdev_alloc(dev);
    unsigned long warnings = sim_warn_count();

    unlock_page(page);
    memunmap_pages(&dev->pgmap);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_ptr_nonnull(dev->pgmap.sim_section);
    put_page(page);
    testdev_destroy(dev);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
}
END_TEST

/* Pagemap calls on what is not a registered pagemap or a device page: a warning each,
 * and nothing changes (memunmap_pages of NULL or of a pagemap never registered;
 * zone_device_page_init of NULL or of a page of system memory). */
START_TEST(bad_pagemap_calls_warn_and_change_nothing)
{
    struct dev_pagemap never = { .type = MEMORY_DEVICE_PRIVATE };
    struct page *page = alloc_page();
    unsigned long warnings = sim_warn_count();

    ck_assert_ptr_nonnull(page);
    memunmap_pages(NULL);
    memunmap_pages(&never);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    ck_assert_ptr_null(never.sim_section);
    zone_device_page_init(NULL);
    zone_device_page_init(page);
    ck_assert_uint_eq(sim_warn_count(), warnings + 4);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert(!PageLocked(page));
    put_page(page);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* --- a process with a page on the device ----------------------------------------------- */

struct world {
    struct mm_struct *mm;
    struct testdev *dev;
    unsigned long addr;
    struct page *dpage;
};

/* Two pages written with 0x5a and 0x6b; the second moves to the device. */
static void world_init(struct world *w, int prot)
{
    w->mm = sim_mm_create();
    w->dev = testdev_create(4);
    w->addr = sim_test_map_private(w->mm, 2 * P);
    sim_test_memset(w->mm, w->addr, 0x5a, P);
    sim_test_memset(w->mm, w->addr + P, 0x6b, P);
    if (prot != (PROT_READ | PROT_WRITE))
        ck_assert_int_eq(sim_mprotect(w->mm, w->addr, 2 * P, prot), 0);
    w->dpage = testdev_move_to_device(w->dev, w->mm, w->addr + P);
}

static void world_done(struct world *w)
{
    if (w->mm)
        mmput(w->mm);
    testdev_destroy(w->dev);
}

static swp_entry_t entry_at(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);

    ck_assert_msg(is_swap_pte(pte), "entry %#lx at %#lx is not swap-style", pte, addr);
    return pte_to_swp_entry(pte);
}

START_TEST(the_entry_names_the_device_page)
{
    struct world w;
    swp_entry_t e;

    world_init(&w, PROT_READ | PROT_WRITE);
    e = entry_at(w.mm, w.addr + P);
    ck_assert(is_device_private_entry(e));
    ck_assert(is_writable_device_private_entry(e));
    ck_assert_ptr_eq(pfn_swap_entry_to_page(e), w.dpage);
    ck_assert_int_eq(page_ref_count(w.dpage), 1);
    ck_assert_int_eq(page_mapcount(w.dpage), 1);
    ck_assert_int_eq(sim_check_invariants(), 0);
    world_done(&w);
}
END_TEST

/* A CPU read calls migrate_to_ram once, with the page locked; the data comes home, the
 * entry is present and writable again and the device page goes back to the driver. */
START_TEST(a_cpu_read_brings_the_page_home)
{
    struct world w;
    unsigned char buf[16];
    pte_t pte;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_read(w.mm, w.addr + P + 100, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(sim_bytes_mismatch(buf, sizeof(buf), 0x6b), sizeof(buf));
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->unlocked_faults, 0);
    ck_assert_int_eq(w.dev->page_frees, 1);
    pte = sim_pte_get(w.mm, w.addr + P);
    ck_assert(pte_present(pte) && pte_write(pte));
    ck_assert(!PageLocked(w.dpage));
    sim_test_expect_bytes(w.mm, w.addr, 0x5a, P);
    ck_assert_int_eq(w.dev->migrations, 1);
    world_done(&w);
}
END_TEST

START_TEST(a_cpu_write_brings_the_page_home)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    sim_test_memset(w.mm, w.addr + P, 0x77, 8);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->page_frees, 1);
    sim_test_expect_bytes(w.mm, w.addr + P, 0x77, 8);
    sim_test_expect_bytes(w.mm, w.addr + P + 8, 0x6b, P - 8);
    world_done(&w);
}
END_TEST

/* A driver that cannot bring the page back makes the access fail, changing nothing. */
START_TEST(a_failing_migrate_to_ram_is_a_fault)
{
    struct world w;
    unsigned char c;

    world_init(&w, PROT_READ | PROT_WRITE);
    w.dev->fault_result = VM_FAULT_SIGBUS;
    ck_assert_int_eq(sim_read(w.mm, w.addr + P, &c, 1), -EFAULT);
    w.dev->fault_result = VM_FAULT_OOM;
    ck_assert_int_eq(sim_read(w.mm, w.addr + P, &c, 1), -ENOMEM);
    ck_assert(is_device_private_entry(entry_at(w.mm, w.addr + P)));
    w.dev->fault_result = 0;
    sim_test_expect_bytes(w.mm, w.addr + P, 0x6b, P);
    world_done(&w);
}
END_TEST

/* A fault that finds the page locked (a migration holds it) returns, and the CPU tries
 * again until the lock is gone; here another thread releases it after a moment.  The
 * driver is called once, with the page locked by the fault, never under the other
 * holder's lock. */
static void *unlock_later(void *arg)
{
    struct page *page = arg;

    for (volatile int i = 0; i < 1000000; i++)
        ;
    unlock_page(page);
    return NULL;
}

START_TEST(a_fault_on_a_locked_device_page_retries)
{
    struct world w;
    pthread_t t;
    unsigned char c;

    world_init(&w, PROT_READ | PROT_WRITE);
    lock_page(w.dpage);
    pthread_create(&t, NULL, unlock_later, w.dpage);
    ck_assert_int_eq(sim_read(w.mm, w.addr + P, &c, 1), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(c, 0x6b);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->unlocked_faults, 0);
    world_done(&w);
}
END_TEST

START_TEST(munmap_frees_the_device_page)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_munmap(w.mm, w.addr + P, P), 0);
    ck_assert_int_eq(w.dev->page_frees, 1);
    ck_assert_int_eq(w.dev->migrations, 0);
    ck_assert_int_eq(page_ref_count(w.dpage), 0);
    world_done(&w);
}
END_TEST

START_TEST(dontneed_frees_the_device_page_and_reads_zero)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_madvise(w.mm, w.addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_int_eq(w.dev->page_frees, 1);
    sim_test_expect_bytes(w.mm, w.addr + P, 0, P);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

START_TEST(exit_frees_the_device_page)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    mmput(w.mm);
    w.mm = NULL;
    ck_assert_int_eq(w.dev->page_frees, 1);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

/* fork shares the device page: two map counts, two references, both entries readable;
 * each side's first access brings its own copy home, and the last one frees the page. */
START_TEST(fork_shares_the_device_page_read_only)
{
    struct world w;
    struct mm_struct *child;

    world_init(&w, PROT_READ | PROT_WRITE);
    child = sim_fork(w.mm);
    ck_assert(!IS_ERR(child));
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    ck_assert(is_device_private_entry(entry_at(child, w.addr + P)));
    ck_assert(!is_writable_device_private_entry(entry_at(child, w.addr + P)));
    ck_assert_int_eq(page_mapcount(w.dpage), 2);
    ck_assert_int_eq(page_ref_count(w.dpage), 2);
    ck_assert_int_eq(sim_check_invariants(), 0);

    sim_test_memset(child, w.addr + P, 0x11, 4);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->page_frees, 0);
    sim_test_expect_bytes(w.mm, w.addr + P, 0x6b, P);
    ck_assert_int_eq(w.dev->migrations, 2);
    ck_assert_int_eq(w.dev->page_frees, 1);
    sim_test_expect_bytes(child, w.addr + P, 0x11, 4);
    mmput(child);
    world_done(&w);
}
END_TEST

/* Any change of protection turns a writable device-private entry into a readable one,
 * and nothing makes it writable again but a fault; an mprotect that changes nothing
 * leaves it alone (mm/mprotect.c, mprotect_fixup() and change_pte_range()). */
START_TEST(mprotect_makes_the_entry_readable)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert(is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
    ck_assert(is_device_private_entry(entry_at(w.mm, w.addr + P)));
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ), 0);
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    sim_test_expect_bytes(w.mm, w.addr + P, 0x6b, P);
    ck_assert(!pte_write(sim_pte_get(w.mm, w.addr + P)));
    world_done(&w);
}
END_TEST

/* A read-only mapping moves as a readable entry, and comes back read-only. */
START_TEST(a_read_only_page_moves_as_a_readable_entry)
{
    struct world w;

    world_init(&w, PROT_READ);
    ck_assert(!is_writable_device_private_entry(entry_at(w.mm, w.addr + P)));
    sim_test_expect_bytes(w.mm, w.addr + P, 0x6b, P);
    ck_assert(!pte_write(sim_pte_get(w.mm, w.addr + P)));
    world_done(&w);
}
END_TEST

/* --- hmm_range_fault and owners ---------------------------------------------------------- */

/* One hmm_range_fault of the two pages with the given owner and request. */
static int fault_two(struct world *w, void *owner, unsigned long flags, unsigned long pfns[2])
{
    struct mmu_interval_notifier mni;
    struct hmm_range range = {
        .notifier = &mni, .start = w->addr, .end = w->addr + 2 * P, .hmm_pfns = pfns,
        .default_flags = flags, .dev_private_owner = owner,
    };
    int ret;

    ck_assert_int_eq(mmu_interval_notifier_insert(&mni, w->mm, w->addr, 2 * P, &sim_test_seq_only_ops), 0);
    do {
        range.notifier_seq = mmu_interval_read_begin(&mni);
        mmap_read_lock(w->mm);
        ret = hmm_range_fault(&range);
        mmap_read_unlock(w->mm);
    } while (ret == -EBUSY);
    mmu_interval_notifier_remove(&mni);
    return ret;
}

START_TEST(the_owner_sees_its_device_pfn)
{
    struct world w;
    unsigned long pfns[2];

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(fault_two(&w, w.dev, 0, pfns), 0);
    ck_assert_uint_eq(pfns[1], page_to_pfn(w.dpage) | HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert_ptr_eq(hmm_pfn_to_page(pfns[1]), w.dpage);
    /* a fault request changes nothing for the owner: never faulted */
    ck_assert_int_eq(fault_two(&w, w.dev, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE, pfns), 0);
    ck_assert_uint_eq(pfns[1], page_to_pfn(w.dpage) | HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

/* Even a readable entry is answered without a fault when a write is requested. */
START_TEST(the_owner_is_never_faulted_even_for_a_write)
{
    struct world w;
    unsigned long pfns[2];

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr, 2 * P, PROT_READ | PROT_WRITE), 0);
    /* The CPU page in front must not need a fault itself: the kernel's walk faults every
     * page from the first that needs it to the end of the page table (hmm_vma_fault()),
     * which would bring the device page home. */
    sim_test_memset(w.mm, w.addr, 0x5a, 1);
    ck_assert_int_eq(fault_two(&w, w.dev, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE, pfns), 0);
    ck_assert_uint_eq(pfns[1], page_to_pfn(w.dpage) | HMM_PFN_VALID);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

START_TEST(another_owner_sees_nothing_in_a_snapshot)
{
    struct world w;
    unsigned long pfns[2];
    int other;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(fault_two(&w, &other, 0, pfns), 0);
    ck_assert_uint_eq(pfns[1], 0);
    ck_assert_int_eq(fault_two(&w, NULL, 0, pfns), 0);
    ck_assert_uint_eq(pfns[1], 0);
    ck_assert_int_eq(w.dev->migrations, 0);
    world_done(&w);
}
END_TEST

/* A fault request from another owner is a CPU fault on the page: migrate_to_ram. */
START_TEST(another_owner_faults_the_page_home)
{
    struct world w;
    unsigned long pfns[2];
    struct page *page;
    int other;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(fault_two(&w, &other, HMM_PFN_REQ_FAULT, pfns), 0);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_int_eq(w.dev->page_frees, 1);
    page = hmm_pfn_to_page(pfns[1]);
    ck_assert(!is_device_private_page(page));
    ck_assert_ptr_eq(page, sim_test_mapped_page(w.mm, w.addr + P));
    ck_assert_uint_eq(pfns[1] & HMM_PFN_FLAGS, HMM_PFN_VALID | HMM_PFN_WRITE);
    ck_assert_int_eq(((unsigned char *)sim_page_address(page))[0], 0x6b);
    world_done(&w);
}
END_TEST

/* --- the mirror device's memory ---------------------------------------------------------- */

/* A device has exactly the pages it was created with, and gets them back when freed. */
START_TEST(the_mirror_has_a_pool_of_device_pages)
{
    struct dmirror_device *a = dmirror_device_create(4), *b = dmirror_device_create(4);
    struct page *pages[5];

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(dmirror_device_owner(a));
    ck_assert_ptr_ne(dmirror_device_owner(a), dmirror_device_owner(b));
    for (int i = 0; i < 4; i++) {
        pages[i] = dmirror_devmem_alloc_page(a);
        ck_assert_ptr_nonnull(pages[i]);
        ck_assert(is_device_private_page(pages[i]));
        ck_assert_ptr_eq(page_pgmap(pages[i])->owner, dmirror_device_owner(a));
        ck_assert(PageLocked(pages[i]));
        unlock_page(pages[i]);
    }
    ck_assert_ptr_null(dmirror_devmem_alloc_page(a));
    put_page(pages[2]);
    pages[4] = dmirror_devmem_alloc_page(a);
    ck_assert_ptr_eq(pages[4], pages[2]);
    unlock_page(pages[4]);
    for (int i = 0; i < 4; i++)
        put_page(pages[i]);
    dmirror_device_destroy(a);
    dmirror_device_destroy(b);
}
END_TEST

/* Devices come and go without running out of anything. */
START_TEST(devices_come_and_go)
{
    for (int i = 0; i < 300; i++) {
        struct dmirror_device *d = dmirror_device_create(64);

        ck_assert_ptr_nonnull(d);
        dmirror_device_destroy(d);
    }
    ck_assert_ptr_null(dmirror_device_create(SIM_RAM_MAX_PAGES + 1));
}
END_TEST

/* A mirror's snapshot shows another owner's device page as NONE, a read through the mirror
 * brings it home first (the other owner's migrate_to_ram), and its own bytes are right. */
START_TEST(a_mirror_never_maps_another_owners_page)
{
    struct world w;
    struct dmirror_device *md;
    struct dmirror *d;
    unsigned char perm[2], buf[2 * P];
    struct hmm_dmirror_cmd c;

    world_init(&w, PROT_READ | PROT_WRITE);
    md = dmirror_device_create(4);
    d = dmirror_open(md, w.mm);
    c = (struct hmm_dmirror_cmd){ .addr = w.addr, .ptr = (uintptr_t)perm, .npages = 2 };
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_SNAPSHOT, &c), 0);
    ck_assert_int_eq(perm[0], HMM_DMIRROR_PROT_WRITE);
    ck_assert_int_eq(perm[1], HMM_DMIRROR_PROT_NONE);
    c = (struct hmm_dmirror_cmd){ .addr = w.addr, .ptr = (uintptr_t)buf, .npages = 2 };
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_READ, &c), 0);
    ck_assert_uint_eq(c.cpages, 2);
    ck_assert_uint_eq(c.faults, 1);
    ck_assert_int_eq(w.dev->migrations, 1);
    ck_assert_uint_eq(sim_bytes_mismatch(buf + P, P, 0x6b), P);
    dmirror_release(d);
    dmirror_device_destroy(md);
    world_done(&w);
}
END_TEST

/* --- the checker ------------------------------------------------------------------------- */

START_TEST(the_checker_counts_device_mappings)
{
    struct world w;

    world_init(&w, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(sim_check_invariants(), 0);
    atomic_fetch_add(&w.dpage->_mapcount, 1);
    ck_assert_int_eq(sim_check_invariants(), 1);
    atomic_fetch_sub(&w.dpage->_mapcount, 1);
    get_page(w.dpage);                              /* an extra reference is fine */
    ck_assert_int_eq(sim_check_invariants(), 0);
    put_page(w.dpage);
    /* a writable entry in a read-only VMA is not: one complaint from chapter 2 for the
     * writable present page, one from this chapter for the device entry */
    {
        struct vm_area_struct *vma = vma_lookup(w.mm, w.addr);

        vma->vm_flags &= ~VM_WRITE;
        ck_assert_int_eq(sim_check_invariants(), 2);
        vma->vm_flags |= VM_WRITE;
    }
    world_done(&w);
    ck_assert_int_eq(sim_check_invariants(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch07 device-private memory");
    TCase *tc = sim_tcase("register", 10);

    tcase_add_test(tc, memremap_refuses_what_the_kernel_refuses);
    tcase_add_test(tc, registration_rounds_reuse_pfns);
    tcase_add_test(tc, a_device_page_returns_to_its_driver);
    suite_add_tcase(s, tc);
    tc = sim_tcase_unchecked("warnings", 10);
    tcase_add_test(tc, memunmap_with_a_page_in_use_warns);
    tcase_add_test(tc, bad_pagemap_calls_warn_and_change_nothing);
    tcase_add_test(tc, the_checker_counts_device_mappings);
    suite_add_tcase(s, tc);
    tc = sim_tcase("entries", 10);
    tcase_add_test(tc, the_entry_names_the_device_page);
    tcase_add_test(tc, a_cpu_read_brings_the_page_home);
    tcase_add_test(tc, a_cpu_write_brings_the_page_home);
    tcase_add_test(tc, a_failing_migrate_to_ram_is_a_fault);
    tcase_add_test(tc, a_fault_on_a_locked_device_page_retries);
    tcase_add_test(tc, munmap_frees_the_device_page);
    tcase_add_test(tc, dontneed_frees_the_device_page_and_reads_zero);
    tcase_add_test(tc, exit_frees_the_device_page);
    tcase_add_test(tc, fork_shares_the_device_page_read_only);
    tcase_add_test(tc, mprotect_makes_the_entry_readable);
    tcase_add_test(tc, a_read_only_page_moves_as_a_readable_entry);
    suite_add_tcase(s, tc);
    tc = sim_tcase("owners", 10);
    tcase_add_test(tc, the_owner_sees_its_device_pfn);
    tcase_add_test(tc, the_owner_is_never_faulted_even_for_a_write);
    tcase_add_test(tc, another_owner_sees_nothing_in_a_snapshot);
    tcase_add_test(tc, another_owner_faults_the_page_home);
    suite_add_tcase(s, tc);
    tc = sim_tcase("mirror", 20);
    tcase_add_test(tc, the_mirror_has_a_pool_of_device_pages);
    tcase_add_test(tc, devices_come_and_go);
    tcase_add_test(tc, a_mirror_never_maps_another_owners_page);
    suite_add_tcase(s, tc);
    return s;
}
