/* Chapter 5: hmm_range_fault over ranges of many pages, and the driver loop.
 *
 * Mixed ranges answered page by page; read and write faults of empty ranges; per-page
 * requests; holes; -EPERM, -EFAULT, -EINVAL and -EBUSY; an invalidation forced between
 * two segments of a walk through sim_hmm_walk_hook, with another thread doing the
 * madvise while the walk waits at a barrier; the driver loop's retries, error
 * passthrough, locking and timeout; and driver loops racing mprotect and madvise.
 * Expected answers are written out page by page from the CPU's entries. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "testlib.h"

#define P PAGE_SIZE
#define V HMM_PFN_VALID
#define W HMM_PFN_WRITE
#define E HMM_PFN_ERROR
#define F HMM_PFN_REQ_FAULT
#define RW (PROT_READ | PROT_WRITE)
#define ANON_FIXED (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)

/* A 2 MiB aligned place for ranges that must cross a PMD boundary at a known address. */
#define BIG_BASE 0x40000000UL
#define SEGMENT_PAGES (PMD_SIZE / PAGE_SIZE)

/* --- a mirroring device ------------------------------------------------------------- */

/* One interval notifier over [start, start + npages pages), a device page table with one
 * answer per page (0 = nothing mapped), and the driver's update lock that guards both
 * the table and the notifier's sequence. */
struct device {
    struct mm_struct *mm;
    struct mmu_interval_notifier notifier;
    pthread_mutex_t lock;
    unsigned long start, npages;
    unsigned long *table;
    int invalidations;               /* under lock */
    int updates;                     /* under lock */
    int update_ret;                  /* what device_update returns */
};

static struct device *device_of(struct mmu_interval_notifier *sub)
{
    return (struct device *)((char *)sub - offsetof(struct device, notifier));
}

/* The driver's invalidate: under its lock, move the sequence and unmap the pages. */
static bool device_invalidate(struct mmu_interval_notifier *sub,
                              const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct device *dev = device_of(sub);
    unsigned long end = dev->start + dev->npages * P;

    pthread_mutex_lock(&dev->lock);
    mmu_interval_set_seq(sub, cur_seq);
    dev->invalidations++;
    for (unsigned long a = dev->start; a < end; a += P)
        if (a >= range->start && a < range->end)
            dev->table[(a - dev->start) / P] = 0;
    pthread_mutex_unlock(&dev->lock);
    return true;
}

static const struct mmu_interval_notifier_ops device_ops = {
    .invalidate = device_invalidate,
};

static void device_init(struct device *dev, struct mm_struct *mm, unsigned long start,
                        unsigned long npages)
{
    memset(dev, 0, sizeof(*dev));
    dev->mm = mm;
    dev->start = start;
    dev->npages = npages;
    dev->table = calloc(npages, sizeof(unsigned long));
    ck_assert_ptr_nonnull(dev->table);
    pthread_mutex_init(&dev->lock, NULL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&dev->notifier, mm, start, npages * P,
                                                  &device_ops), 0);
}

static void device_fini(struct device *dev)
{
    mmu_interval_notifier_remove(&dev->notifier);
    pthread_mutex_destroy(&dev->lock);
    free(dev->table);
}

static int device_invalidations(struct device *dev)
{
    int n;

    pthread_mutex_lock(&dev->lock);
    n = dev->invalidations;
    pthread_mutex_unlock(&dev->lock);
    return n;
}

/* The update callback of sim_hmm_driver_fault: program the device from the answers.
 * Runs with dev->lock held. */
static int device_update(void *ctx, struct hmm_range *range)
{
    struct device *dev = ctx;
    unsigned long first = (range->start - dev->start) / P;

    for (unsigned long a = range->start; a < range->end; a += P)
        dev->table[first + (a - range->start) / P] = range->hmm_pfns[(a - range->start) / P];
    dev->updates++;
    return dev->update_ret;
}

static void range_init(struct hmm_range *range, struct device *dev, unsigned long start,
                       unsigned long npages, unsigned long *pfns, unsigned long default_flags,
                       unsigned long pfn_flags_mask)
{
    memset(range, 0, sizeof(*range));
    range->notifier = &dev->notifier;
    range->start = start;
    range->end = start + npages * P;
    range->hmm_pfns = pfns;
    range->default_flags = default_flags;
    range->pfn_flags_mask = pfn_flags_mask;
}

/* One call as a driver makes it: a fresh sequence, the mmap read lock. */
static int fault_once(struct hmm_range *range)
{
    struct mm_struct *mm = range->notifier->mm;
    int ret;

    range->notifier_seq = mmu_interval_read_begin(range->notifier);
    mmap_read_lock(mm);
    ret = hmm_range_fault(range);
    mmap_read_unlock(mm);
    return ret;
}

static void fill(unsigned long *pfns, unsigned long n, unsigned long value)
{
    for (unsigned long i = 0; i < n; i++)
        pfns[i] = value;
}

static unsigned long zero_pfn(void)
{
    return page_to_pfn(sim_zero_page());
}

/* The pfn the CPU maps at addr (must be mapped). */
static unsigned long cpu_pfn(struct mm_struct *mm, unsigned long addr)
{
    return page_to_pfn(sim_test_mapped_page(mm, addr));
}

/* The answer a valid CPU entry at addr deserves: its pfn, VALID, and WRITE if writable. */
static unsigned long cpu_answer(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);

    ck_assert_msg(sim_pte_accessible(pte), "no accessible entry at %#lx", addr);
    return pte_pfn(pte) | V | (pte_write(pte) ? W : 0);
}

static void expect_pfns(const unsigned long *got, const unsigned long *want, unsigned long n,
                        const char *what)
{
    for (unsigned long i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: page %lu is %#lx, expected %#lx", what, i,
                      got[i], want[i]);
}

/* Map npages at BIG_BASE, write every page, and record the frames. */
static void map_written(struct mm_struct *mm, unsigned long start, unsigned long npages,
                        unsigned long *frames)
{
    sim_test_mmap(mm, start, npages * P, RW, ANON_FIXED);
    sim_test_memset(mm, start, 0x6b, npages * P);
    for (unsigned long i = 0; i < npages; i++)
        frames[i] = cpu_pfn(mm, start + i * P);
}

/* ==================================================================================== */
/* Ranges of mixed states                                                               */
/* ==================================================================================== */

/* Ten pages in four VMAs and a hole:
 *   0 empty            1 zero page        2 written after fork (own frame, writable)
 *   3 COW after fork   4 PROT_READ VMA, written before    5 PROT_READ VMA, empty
 *   6 PROT_NONE VMA, written before       7 hole
 *   8 written after fork (writable)       9 empty */
struct mixed {
    struct mm_struct *mm, *child;
    unsigned long a;
    pte_t pte[10];
};

static void mixed_setup(struct mixed *m)
{
    unsigned char byte;

    m->mm = sim_mm_create();
    m->a = sim_test_map_private(m->mm, 10 * P);
    sim_test_memset(m->mm, m->a + 2 * P, 0x22, 3 * P);      /* pages 2, 3, 4 */
    sim_test_memset(m->mm, m->a + 6 * P, 0x66, P);
    sim_test_memset(m->mm, m->a + 8 * P, 0x88, P);
    ck_assert_int_eq(sim_read(m->mm, m->a + P, &byte, 1), 0);
    m->child = sim_fork(m->mm);
    ck_assert(!IS_ERR_OR_NULL(m->child));
    sim_test_memset(m->mm, m->a + 2 * P, 0x23, P);
    sim_test_memset(m->mm, m->a + 8 * P, 0x89, P);
    ck_assert_int_eq(sim_mprotect(m->mm, m->a + 4 * P, 2 * P, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(m->mm, m->a + 6 * P, P, PROT_NONE), 0);
    ck_assert_int_eq(sim_munmap(m->mm, m->a + 7 * P, P), 0);
    for (int i = 0; i < 10; i++)
        m->pte[i] = sim_pte_get(m->mm, m->a + i * P);
    ck_assert(pte_none(m->pte[0]) && pte_none(m->pte[5]) && pte_none(m->pte[7]) &&
              pte_none(m->pte[9]));
    ck_assert(is_zero_pfn(pte_pfn(m->pte[1])));
    ck_assert(pte_write(m->pte[2]) && !pte_write(m->pte[3]) && !pte_write(m->pte[4]) &&
              pte_write(m->pte[8]));
    ck_assert(pte_protnone(m->pte[6]));
}

static void mixed_teardown(struct mixed *m)
{
    sim_test_expect_bytes(m->child, m->a + 3 * P, 0x22, P);
    mmput(m->child);
    mmput(m->mm);
}

START_TEST(test_mixed_range_snapshot)
{
    struct mixed m;
    struct device dev;
    struct hmm_range range;
    unsigned long pfns[10], want[10];

    mixed_setup(&m);
    device_init(&dev, m.mm, m.a, 10);
    range_init(&range, &dev, m.a, 10, pfns, 0, 0);
    fill(pfns, 10, F | W);       /* ignored: the mask is 0 */
    want[0] = 0;
    want[1] = zero_pfn() | V;
    want[2] = pte_pfn(m.pte[2]) | V | W;
    want[3] = pte_pfn(m.pte[3]) | V;
    want[4] = pte_pfn(m.pte[4]) | V;
    want[5] = 0;
    want[6] = E;
    want[7] = E;
    want[8] = pte_pfn(m.pte[8]) | V | W;
    want[9] = 0;
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want, 10, "snapshot");
    ck_assert_ptr_eq(hmm_pfn_to_page(pfns[3]), pfn_to_page(pte_pfn(m.pte[3])));
    ck_assert_ptr_eq(hmm_pfn_to_page(pfns[1]), sim_zero_page());
    for (int i = 0; i < 10; i++) {
        ck_assert_uint_eq(hmm_pfn_to_map_order(pfns[i]), 0);
        ck_assert_uint_eq(sim_pte_get(m.mm, m.a + i * P), m.pte[i]);   /* nothing faulted */
    }
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mixed_teardown(&m);
}
END_TEST

/* Per-page requests through the driver loop: faults where asked, snapshots elsewhere,
 * ERROR for the hole and the PROT_NONE VMA that nobody asked to fault. */
START_TEST(test_mixed_range_per_page_requests)
{
    struct mixed m;
    struct device dev;
    struct hmm_range range;
    const unsigned long in[10] = { F, 0, F, F | W, F, F, 0, 0, 0, F | W };
    unsigned long pfns[10], want[10];

    mixed_setup(&m);
    device_init(&dev, m.mm, m.a, 10);
    range_init(&range, &dev, m.a, 10, pfns, 0, F | W);
    memcpy(pfns, in, sizeof(pfns));
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);

    want[0] = zero_pfn() | V;                           /* read fault of an empty entry */
    want[1] = zero_pfn() | V;                           /* snapshot of the zero page */
    want[2] = pte_pfn(m.pte[2]) | V | W;                /* already writable */
    want[3] = cpu_pfn(m.mm, m.a + 3 * P) | V | W;       /* COW broken: a new frame */
    want[4] = pte_pfn(m.pte[4]) | V;                    /* read-only, read asked */
    want[5] = zero_pfn() | V;                           /* read fault in a PROT_READ VMA */
    want[6] = E;
    want[7] = E;
    want[8] = pte_pfn(m.pte[8]) | V | W;                /* snapshot */
    want[9] = cpu_pfn(m.mm, m.a + 9 * P) | V | W;       /* write fault of an empty entry */
    ck_assert_uint_ne(pte_pfn(m.pte[3]), want[3] & ~HMM_PFN_FLAGS);
    ck_assert(!is_zero_pfn(want[3] & ~HMM_PFN_FLAGS) && !is_zero_pfn(want[9] & ~HMM_PFN_FLAGS));
    expect_pfns(pfns, want, 10, "answers");
    expect_pfns(dev.table, want, 10, "device table");
    ck_assert_int_eq(dev.updates, 1);
    /* Only the COW break changed a frame under the notifier. */
    ck_assert_int_eq(device_invalidations(&dev), 1);
    sim_test_expect_bytes(m.mm, m.a + 3 * P, 0x22, P);
    sim_test_expect_bytes(m.mm, m.a + 9 * P, 0, P);
    device_fini(&dev);
    mixed_teardown(&m);
}
END_TEST

/* ==================================================================================== */
/* Faulting whole ranges                                                                */
/* ==================================================================================== */

START_TEST(test_read_fault_of_empty_pages_maps_the_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 16 * P), pfns[16], in_use;
    struct device dev;
    struct hmm_range range;

    device_init(&dev, mm, a, 16);
    range_init(&range, &dev, a, 16, pfns, F, 0);
    fill(pfns, 16, 0);
    in_use = sim_nr_pages_in_use();
    ck_assert_int_eq(fault_once(&range), 0);
    for (int i = 0; i < 16; i++) {
        pte_t pte = sim_pte_get(mm, a + i * P);

        ck_assert_uint_eq(pfns[i], zero_pfn() | V);
        ck_assert(sim_pte_accessible(pte) && !pte_write(pte) && is_zero_pfn(pte_pfn(pte)));
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);   /* no frame was allocated */
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

START_TEST(test_write_fault_of_empty_pages_allocates_frames)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 16 * P), pfns[16], in_use;
    struct device dev;
    struct hmm_range range;

    device_init(&dev, mm, a, 16);
    range_init(&range, &dev, a, 16, pfns, F | W, 0);
    fill(pfns, 16, 0);
    in_use = sim_nr_pages_in_use();
    ck_assert_int_eq(fault_once(&range), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use + 16);
    for (int i = 0; i < 16; i++) {
        pte_t pte = sim_pte_get(mm, a + i * P);

        ck_assert(sim_pte_accessible(pte) && pte_write(pte) && !is_zero_pfn(pte_pfn(pte)));
        ck_assert_uint_eq(pfns[i], pte_pfn(pte) | V | W);
        ck_assert_ptr_eq(hmm_pfn_to_page(pfns[i]), pfn_to_page(pte_pfn(pte)));
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(pfns[i], pfns[j]);
    }
    sim_test_expect_bytes(mm, a, 0, 16 * P);
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* A write fault that breaks COW changes a frame under the notifier: the call returns
 * -EBUSY at once, with the pages before it answered and the rest still holding their
 * inputs; the next round answers everything. */
START_TEST(test_cow_break_returns_ebusy_then_succeeds)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long a = sim_test_map_private(mm, 2 * P), pfns[2], old1;
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x11, 2 * P);
    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    sim_test_memset(mm, a, 0x12, P);            /* page 0: own frame again, writable */
    old1 = cpu_pfn(mm, a + P);
    device_init(&dev, mm, a, 2);
    range_init(&range, &dev, a, 2, pfns, F | W, 0);
    pfns[0] = 0;
    pfns[1] = 0;
    ck_assert_int_eq(fault_once(&range), -EBUSY);
    ck_assert_uint_eq(pfns[0], cpu_pfn(mm, a) | V | W);
    ck_assert_uint_eq(pfns[1], 0);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    ck_assert_uint_ne(cpu_pfn(mm, a + P), old1);
    ck_assert_int_eq(fault_once(&range), 0);
    ck_assert_uint_eq(pfns[0], cpu_pfn(mm, a) | V | W);
    ck_assert_uint_eq(pfns[1], cpu_pfn(mm, a + P) | V | W);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    sim_test_expect_bytes(child, a, 0x11, 2 * P);
    sim_test_expect_bytes(mm, a + P, 0x11, P);
    device_fini(&dev);
    mmput(child);
    mmput(mm);
}
END_TEST

/* One page asks for write access through the mask; the others only for read. */
START_TEST(test_write_request_on_one_page)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long a = sim_test_map_private(mm, 8 * P), pfns[8], old[8];
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x44, 8 * P);
    child = sim_fork(mm);                        /* every page read-only, shared */
    ck_assert(!IS_ERR_OR_NULL(child));
    for (int i = 0; i < 8; i++)
        old[i] = cpu_pfn(mm, a + i * P);
    device_init(&dev, mm, a, 8);

    /* REQ_WRITE on the last page only. */
    range_init(&range, &dev, a, 8, pfns, F, HMM_PFN_REQ_WRITE);
    fill(pfns, 8, 0);
    pfns[7] = HMM_PFN_REQ_WRITE;
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    for (int i = 0; i < 7; i++) {
        ck_assert_uint_eq(pfns[i], old[i] | V);
        ck_assert_uint_eq(cpu_pfn(mm, a + i * P), old[i]);
    }
    ck_assert_uint_ne(cpu_pfn(mm, a + 7 * P), old[7]);
    ck_assert_uint_eq(pfns[7], cpu_pfn(mm, a + 7 * P) | V | W);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    ck_assert_int_eq(dev.updates, 1);

    /* REQ_WRITE in the middle: the write fault is taken from that page to the end of
     * the segment, so pages 3..6 all get their own frames, one invalidation each. */
    fill(pfns, 8, 0);
    pfns[3] = HMM_PFN_REQ_WRITE;
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(pfns[i], old[i] | V);
    for (int i = 3; i < 8; i++) {
        ck_assert_uint_ne(cpu_pfn(mm, a + i * P), old[i]);
        ck_assert_uint_eq(pfns[i], cpu_pfn(mm, a + i * P) | V | W);
    }
    ck_assert_int_eq(device_invalidations(&dev), 1 + 4);
    ck_assert_int_eq(dev.updates, 2);

    /* REQ_WRITE without REQ_FAULT asks for nothing: a snapshot. */
    range.default_flags = 0;
    fill(pfns, 8, HMM_PFN_REQ_WRITE);
    ck_assert_int_eq(fault_once(&range), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(pfns[i], old[i] | V);
    for (int i = 3; i < 8; i++)
        ck_assert_uint_eq(pfns[i], cpu_pfn(mm, a + i * P) | V | W);
    ck_assert_int_eq(device_invalidations(&dev), 5);

    sim_test_expect_bytes(child, a, 0x44, 8 * P);
    device_fini(&dev);
    mmput(child);
    mmput(mm);
}
END_TEST

/* A range with no page table yet is one hole (mm/hmm.c, hmm_vma_walk_hole()): one page
 * asking for a fault faults every page of the hole, from its first. */
START_TEST(test_hole_is_faulted_whole_from_its_start)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 8 * P), pfns[8];
    struct device dev;
    struct hmm_range range;

    device_init(&dev, mm, a, 8);
    range_init(&range, &dev, a, 8, pfns, 0, HMM_PFN_REQ_FAULT);
    fill(pfns, 8, 0);
    pfns[5] = HMM_PFN_REQ_FAULT;
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(pte_present(sim_pte_get(mm, a + i * P)), "page %d not faulted", i);
        ck_assert_uint_eq(pfns[i], zero_pfn() | V);
    }
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* The strongest request of the hole goes for all of it: one page asking to write makes
 * every page of the hole a write fault, each with a frame of its own. */
START_TEST(test_hole_takes_its_strongest_request)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 8 * P), pfns[8];
    struct device dev;
    struct hmm_range range;

    device_init(&dev, mm, a, 8);
    range_init(&range, &dev, a, 8, pfns, 0, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    fill(pfns, 8, 0);
    pfns[2] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
    pfns[6] = HMM_PFN_REQ_FAULT;
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    for (int i = 0; i < 8; i++) {
        pte_t pte = sim_pte_get(mm, a + i * P);

        ck_assert_msg(pte_present(pte) && pte_write(pte), "page %d not write-faulted", i);
        ck_assert_uint_eq(pfns[i], pte_pfn(pte) | V | W);
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), 8);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* Once the table exists, entries are answered one by one again: a fault is taken from
 * the first page that asks, not from the start of the table. */
START_TEST(test_table_faults_from_the_page_that_asks)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 8 * P), pfns[8];
    struct device dev;
    struct hmm_range range;
    char one = 1;

    ck_assert_int_eq(sim_write(mm, a + 7 * P, &one, 1), 0);     /* the table now exists */
    device_init(&dev, mm, a, 8);
    range_init(&range, &dev, a, 8, pfns, 0, HMM_PFN_REQ_FAULT);
    fill(pfns, 8, 0);
    pfns[5] = HMM_PFN_REQ_FAULT;
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert(pte_none(sim_pte_get(mm, a + i * P)));
        ck_assert_uint_eq(pfns[i], 0);
    }
    ck_assert_uint_eq(pfns[5], zero_pfn() | V);
    ck_assert_uint_eq(pfns[6], zero_pfn() | V);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* Shared memory: a read fault maps the object's own page, writable when the VMA is
 * (nothing to copy on write), and a fork child that maps the same object is answered
 * with the same frames. */
START_TEST(test_shared_mapping)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long a = sim_test_map_shared(mm, 4 * P), pfns[4], cpfns[4];
    struct device dev, cdev;
    struct hmm_range range;

    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    device_init(&dev, mm, a, 4);
    range_init(&range, &dev, a, 4, pfns, F, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    for (int i = 0; i < 4; i++) {
        unsigned long pfn = cpu_pfn(mm, a + i * P);

        ck_assert(!is_zero_pfn(pfn));
        ck_assert_uint_eq(pfns[i], pfn | V | W);
    }
    device_init(&cdev, child, a, 4);
    range_init(&range, &cdev, a, 4, cpfns, 0, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(cpfns[i], 0);          /* the child has not touched them */
    range.default_flags = F;
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(cpfns, pfns, 4, "the child's answers");

    /* Read-only, the same frames are answered without WRITE. */
    ck_assert_int_eq(sim_mprotect(mm, a, 4 * P, PROT_READ), 0);
    range_init(&range, &dev, a, 4, pfns, F, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pfns[i], cpfns[i] & ~W);
    range.default_flags = F | W;
    ck_assert_int_eq(fault_once(&range), -EPERM);
    ck_assert_int_eq(device_invalidations(&cdev), 0);
    device_fini(&cdev);
    device_fini(&dev);
    mmput(child);
    mmput(mm);
}
END_TEST

/* ==================================================================================== */
/* Holes, read-only VMAs, memory exhaustion, unknown entries                            */
/* ==================================================================================== */

START_TEST(test_hole_in_the_middle)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 6 * P), pfns[6], want[6];
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x5a, 6 * P);
    ck_assert_int_eq(sim_munmap(mm, a + 2 * P, 2 * P), 0);
    device_init(&dev, mm, a, 6);
    want[0] = cpu_pfn(mm, a) | V | W;
    want[1] = cpu_pfn(mm, a + P) | V | W;
    want[2] = E;
    want[3] = E;
    want[4] = cpu_pfn(mm, a + 4 * P) | V | W;
    want[5] = cpu_pfn(mm, a + 5 * P) | V | W;

    /* A snapshot answers around the hole. */
    range_init(&range, &dev, a, 6, pfns, 0, 0);
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want, 6, "snapshot");

    /* A read fault cannot fill the hole: -EFAULT, with the pages before it answered and
     * the rest holding their inputs. */
    range_init(&range, &dev, a, 6, pfns, F, 0);
    fill(pfns, 6, F);
    ck_assert_int_eq(fault_once(&range), -EFAULT);
    ck_assert_uint_eq(pfns[0], want[0]);
    ck_assert_uint_eq(pfns[1], want[1]);
    for (int i = 2; i < 6; i++)
        ck_assert_uint_eq(pfns[i], F);

    /* Nor can a write fault. */
    range.default_flags = F | W;
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), -EFAULT);
    for (int i = 2; i < 6; i++)
        ck_assert_uint_eq(pfns[i], 0);

    /* Faults asked only of the mapped pages succeed, and the hole reads as ERROR. */
    range_init(&range, &dev, a, 6, pfns, 0, F);
    fill(pfns, 6, F);
    pfns[2] = pfns[3] = 0;
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want, 6, "per-page faults");

    /* A range that starts in the hole. */
    range_init(&range, &dev, a + 2 * P, 4, pfns, 0, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want + 2, 4, "starting in the hole");
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* A range whose tail has no VMA: first with nothing mapped after it, then with a VMA
 * that starts after the range's end. */
START_TEST(test_hole_at_the_end)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = BIG_BASE, pfns[6], want[6];
    struct device dev;
    struct hmm_range range;

    sim_test_mmap(mm, a, 4 * P, RW, ANON_FIXED);
    sim_test_memset(mm, a, 0x3c, 4 * P);
    device_init(&dev, mm, a, 6);
    for (int i = 0; i < 4; i++)
        want[i] = cpu_pfn(mm, a + i * P) | V | W;
    want[4] = E;
    want[5] = E;
    range_init(&range, &dev, a, 6, pfns, 0, 0);
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want, 6, "nothing after");
    range.default_flags = F;
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), -EFAULT);

    sim_test_mmap(mm, a + 10 * P, 2 * P, RW, ANON_FIXED);
    sim_test_memset(mm, a + 10 * P, 0x3d, 2 * P);
    range.default_flags = 0;
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), 0);
    expect_pfns(pfns, want, 6, "a VMA after");
    range.default_flags = F;
    fill(pfns, 6, 0);
    ck_assert_int_eq(fault_once(&range), -EFAULT);
    for (int i = 4; i < 6; i++)
        ck_assert_uint_eq(pfns[i], 0);
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* REQ_WRITE on a read-only VMA is -EPERM, and nothing is faulted. */
START_TEST(test_write_request_on_read_only_vma_is_eperm)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 4 * P), pfns[4];
    pte_t before[4];
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x71, 3 * P);                          /* page 3 stays empty */
    ck_assert_int_eq(sim_mprotect(mm, a + 2 * P, 2 * P, PROT_READ), 0);
    for (int i = 0; i < 4; i++)
        before[i] = sim_pte_get(mm, a + i * P);
    device_init(&dev, mm, a, 4);

    /* The whole range: pages 0 and 1 are answered, then -EPERM at page 2. */
    range_init(&range, &dev, a, 4, pfns, F | W, 0);
    fill(pfns, 4, 0);
    ck_assert_int_eq(fault_once(&range), -EPERM);
    ck_assert_uint_eq(pfns[0], pte_pfn(before[0]) | V | W);
    ck_assert_uint_eq(pfns[1], pte_pfn(before[1]) | V | W);
    ck_assert_uint_eq(pfns[2], 0);
    ck_assert_uint_eq(pfns[3], 0);

    /* The empty page of the read-only VMA alone: -EPERM too. */
    range_init(&range, &dev, a + 3 * P, 1, pfns, 0, F | W);
    pfns[0] = F | W;
    ck_assert_int_eq(fault_once(&range), -EPERM);
    ck_assert_uint_eq(pfns[0], F | W);

    /* Reading it is fine. */
    range.default_flags = F;
    range.pfn_flags_mask = 0;
    ck_assert_int_eq(fault_once(&range), 0);
    ck_assert_uint_eq(pfns[0], zero_pfn() | V);

    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(sim_pte_get(mm, a + i * P), before[i]);
    ck_assert_int_eq(device_invalidations(&dev), 0);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* A fault the handler cannot satisfy makes the call fail with -EFAULT: here, simulated
 * RAM runs out after four frames.  Nothing is answered; the four frames stay mapped. */
START_TEST(test_out_of_memory_is_efault)
{
    struct mm_struct *mm;
    unsigned long a, pfns[8];
    struct device dev;
    struct hmm_range range;

    ck_assert_int_eq(sim_ram_configure(4), 0);
    mm = sim_mm_create();
    a = sim_test_map_private(mm, 8 * P);
    device_init(&dev, mm, a, 8);
    range_init(&range, &dev, a, 8, pfns, F | W, 0);
    fill(pfns, 8, F | W);
    ck_assert_int_eq(fault_once(&range), -EFAULT);
    for (int i = 0; i < 8; i++) {
        pte_t pte = sim_pte_get(mm, a + i * P);

        ck_assert_uint_eq(pfns[i], F | W);
        ck_assert(i < 4 ? sim_pte_accessible(pte) && pte_write(pte) : pte_none(pte));
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* A non-present entry of no known kind reads as "not present" in a snapshot; faulting it
 * is refused by the fault handler (with a warning) and the call returns -EFAULT. */
START_TEST(test_unknown_non_present_entry)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 2 * P), pfns[2], page0;
    const pte_t bogus = swp_entry_to_pte(swp_entry(SIM_SWP_NONE, 0x1234));
    struct device dev;
    struct hmm_range range;
    pte_t *ptep;

    ck_assert(is_swap_pte(bogus));
    sim_test_memset(mm, a, 0x0f, P);
    page0 = cpu_pfn(mm, a) | V | W;
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, a + P, true);
    ck_assert_ptr_nonnull(ptep);
    *ptep = bogus;
    pthread_mutex_unlock(&mm->page_table_lock);
    device_init(&dev, mm, a, 2);

    range_init(&range, &dev, a, 2, pfns, 0, 0);
    fill(pfns, 2, F);
    ck_assert_int_eq(fault_once(&range), 0);
    ck_assert_uint_eq(pfns[0], page0);
    ck_assert_uint_eq(pfns[1], 0);
    ck_assert_uint_eq(sim_warn_count(), 0);

    range.default_flags = F;
    fill(pfns, 2, F);
    ck_assert_int_eq(fault_once(&range), -EFAULT);
    ck_assert_uint_eq(pfns[0], page0);
    ck_assert_uint_eq(pfns[1], F);
    ck_assert_uint_eq(sim_warn_count(), 1);
    ck_assert_uint_eq(sim_pte_get(mm, a + P), bogus);

    pthread_mutex_lock(&mm->page_table_lock);
    *sim_pte_offset(mm, a + P, false) = 0;
    pthread_mutex_unlock(&mm->page_table_lock);
    device_fini(&dev);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    /* The one problem the checker reports is the fault handler's warning. */
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* A protnone entry is present for the MMU's bookkeeping but not accessible: a snapshot
 * reports it as not valid (the kernel sees such entries in readable VMAs from NUMA
 * hinting; the simulation makes them only in PROT_NONE VMAs, so the test writes one). */
START_TEST(test_protnone_entry_in_a_readable_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 2 * P), pfns[2], page0;
    struct device dev;
    struct hmm_range range;
    pte_t *ptep, saved;

    sim_test_memset(mm, a, 0x4d, 2 * P);
    page0 = cpu_answer(mm, a);
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, a + P, false);
    ck_assert_ptr_nonnull(ptep);
    saved = *ptep;
    *ptep = (saved & ~(_PAGE_PRESENT | _PAGE_RW)) | _PAGE_PROTNONE;
    ck_assert(pte_protnone(*ptep));
    pthread_mutex_unlock(&mm->page_table_lock);
    device_init(&dev, mm, a, 2);

    range_init(&range, &dev, a, 2, pfns, 0, 0);
    fill(pfns, 2, F);
    ck_assert_int_eq(fault_once(&range), 0);
    ck_assert_uint_eq(pfns[0], page0);
    ck_assert_uint_eq(pfns[1], 0);

    pthread_mutex_lock(&mm->page_table_lock);
    *sim_pte_offset(mm, a + P, false) = saved;
    pthread_mutex_unlock(&mm->page_table_lock);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* ==================================================================================== */
/* Arguments and sequence numbers                                                       */
/* ==================================================================================== */

START_TEST(test_invalid_arguments)
{
    struct mm_struct *mm = sim_mm_create(), *gone = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 2 * P), g, pfns[2] = { F, F };
    struct mmu_interval_notifier never_inserted;
    struct device dev, dev_gone;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x01, 2 * P);
    device_init(&dev, mm, a, 2);
    range_init(&range, &dev, a, 2, pfns, F, 0);
    range.notifier_seq = mmu_interval_read_begin(&dev.notifier);
    mmap_read_lock(mm);
    ck_assert_int_eq(hmm_range_fault(NULL), -EINVAL);
    range.notifier = NULL;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    memset(&never_inserted, 0, sizeof(never_inserted));
    range.notifier = &never_inserted;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.notifier = &dev.notifier;
    range.hmm_pfns = NULL;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.hmm_pfns = pfns;
    range.start = a + 8;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.start = a;
    range.end = a + P + 8;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.end = a;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.start = a + P;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    range.start = a + 2 * P;
    range.end = a;
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    ck_assert_uint_eq(pfns[0], F);
    ck_assert_uint_eq(pfns[1], F);
    /* The same range, well formed, works. */
    range.start = a;
    range.end = a + 2 * P;
    ck_assert_int_eq(hmm_range_fault(&range), 0);
    ck_assert_uint_eq(pfns[0], cpu_answer(mm, a));
    mmap_read_unlock(mm);
    device_fini(&dev);

    /* An address space whose last user has gone. */
    g = sim_test_map_private(gone, P);
    sim_test_memset(gone, g, 0x02, P);
    device_init(&dev_gone, gone, g, 1);
    range_init(&range, &dev_gone, g, 1, pfns, F, 0);
    pfns[0] = F;
    range.notifier_seq = mmu_interval_read_begin(&dev_gone.notifier);
    mmput(gone);                       /* the notifier's mmgrab keeps the struct */
    mmap_read_lock(gone);
    ck_assert_int_eq(hmm_range_fault(&range), -EINVAL);
    mmap_read_unlock(gone);
    ck_assert_uint_eq(pfns[0], F);
    device_fini(&dev_gone);
    mmput(mm);
}
END_TEST

/* An invalidation of the notifier's interval between read_begin and the call makes the
 * call return -EBUSY before answering anything; one outside the interval does not. */
START_TEST(test_stale_sequence_is_ebusy)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 5 * P), pfns[4], want[4];
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x2e, 5 * P);
    device_init(&dev, mm, a, 4);                  /* page 4 is outside */
    range_init(&range, &dev, a, 4, pfns, F, 0);
    fill(pfns, 4, F);

    range.notifier_seq = mmu_interval_read_begin(&dev.notifier);
    ck_assert_int_eq(sim_madvise(mm, a + 4 * P, P, MADV_DONTNEED), 0);
    mmap_read_lock(mm);
    ck_assert_int_eq(hmm_range_fault(&range), 0);
    mmap_read_unlock(mm);
    for (int i = 0; i < 4; i++)
        want[i] = cpu_answer(mm, a + i * P);
    expect_pfns(pfns, want, 4, "after an invalidation elsewhere");
    ck_assert_int_eq(device_invalidations(&dev), 0);

    fill(pfns, 4, F);
    range.notifier_seq = mmu_interval_read_begin(&dev.notifier);
    ck_assert_int_eq(sim_madvise(mm, a + 2 * P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    mmap_read_lock(mm);
    ck_assert_int_eq(hmm_range_fault(&range), -EBUSY);
    mmap_read_unlock(mm);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pfns[i], F);
    ck_assert(pte_none(sim_pte_get(mm, a + 2 * P)));   /* -EBUSY faulted nothing */

    /* A new sequence: the zapped page is read-faulted to the zero page. */
    ck_assert_int_eq(fault_once(&range), 0);
    want[2] = zero_pfn() | V;
    expect_pfns(pfns, want, 4, "after the retry");
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* ==================================================================================== */
/* An invalidation between two segments of a walk                                       */
/* ==================================================================================== */

#define BIG_PAGES 1024                    /* two segments of 512 pages */

/* The walk of 1024 written pages stops at the first segment boundary; there another
 * thread zaps page 5, which the walk has already answered.  The call returns -EBUSY:
 * the first segment holds answers (page 5's now stale), the second still its inputs.
 * The driver loop then retries and ends with page 5 read-faulted to the zero page. */
START_TEST(test_invalidation_between_segments)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long *pfns = calloc(BIG_PAGES, sizeof(*pfns));
    unsigned long *frames = calloc(BIG_PAGES, sizeof(*frames));
    const unsigned long a = BIG_BASE, zapped = 5;
    struct sim_test_injector inj;
    struct device dev;
    struct hmm_range range;

    ck_assert(pfns && frames);
    map_written(mm, a, BIG_PAGES, frames);
    device_init(&dev, mm, a, BIG_PAGES);
    range_init(&range, &dev, a, BIG_PAGES, pfns, 0, F);
    fill(pfns, BIG_PAGES, F);

    sim_test_injector_start(&inj, mm, a + zapped * P, 1);
    ck_assert_int_eq(fault_once(&range), -EBUSY);
    ck_assert_int_eq(inj.hook_calls, 1);
    ck_assert_uint_eq(inj.first_addr, a + SEGMENT_PAGES * P);
    ck_assert_ptr_eq(inj.first_range, &range);
    ck_assert_int_eq(inj.injected, 1);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    ck_assert(pte_none(sim_pte_get(mm, a + zapped * P)));
    for (unsigned long i = 0; i < SEGMENT_PAGES; i++)
        ck_assert_msg(pfns[i] == (frames[i] | V | W), "page %lu: %#lx, expected %#lx", i,
                      pfns[i], frames[i] | V | W);
    for (unsigned long i = SEGMENT_PAGES; i < BIG_PAGES; i++)
        ck_assert_msg(pfns[i] == F, "page %lu: %#lx, expected its input", i, pfns[i]);

    /* The driver loop: the hook no longer injects. */
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    ck_assert_int_eq(dev.updates, 1);
    ck_assert_int_eq(inj.injected, 1);
    for (unsigned long i = 0; i < BIG_PAGES; i++) {
        unsigned long want = i == zapped ? zero_pfn() | V : frames[i] | V | W;

        ck_assert_msg(pfns[i] == want, "page %lu: %#lx, expected %#lx", i, pfns[i], want);
        ck_assert_msg(dev.table[i] == want, "device page %lu: %#lx, expected %#lx", i,
                      dev.table[i], want);
    }
    ck_assert_int_eq(device_invalidations(&dev), 1);
    sim_test_injector_stop(&inj);
    ck_assert_ptr_null(sim_hmm_walk_hook);
    device_fini(&dev);
    mmput(mm);
    free(pfns);
    free(frames);
}
END_TEST

/* The same injection inside sim_hmm_driver_fault, on a page the walk has not reached:
 * the loop's first round is lost to -EBUSY, the second answers the zapped page with the
 * zero page, and the device is programmed once. */
START_TEST(test_driver_loop_retries_after_a_mid_walk_invalidation)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long *pfns = calloc(BIG_PAGES, sizeof(*pfns));
    unsigned long *frames = calloc(BIG_PAGES, sizeof(*frames));
    const unsigned long a = BIG_BASE, zapped = 700;
    struct sim_test_injector inj;
    struct device dev;
    struct hmm_range range;

    ck_assert(pfns && frames);
    map_written(mm, a, BIG_PAGES, frames);
    device_init(&dev, mm, a, BIG_PAGES);
    range_init(&range, &dev, a, BIG_PAGES, pfns, F, 0);
    fill(pfns, BIG_PAGES, 0);

    sim_test_injector_start(&inj, mm, a + zapped * P, 1);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    ck_assert_int_eq(inj.injected, 1);
    ck_assert_uint_eq(inj.first_addr, a + SEGMENT_PAGES * P);
    ck_assert_int_ge(inj.hook_calls, 2);          /* the second round walked past it */
    ck_assert_int_eq(dev.updates, 1);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    for (unsigned long i = 0; i < BIG_PAGES; i++) {
        unsigned long want = i == zapped ? zero_pfn() | V : frames[i] | V | W;

        ck_assert_msg(dev.table[i] == want, "device page %lu: %#lx, expected %#lx", i,
                      dev.table[i], want);
    }
    sim_test_injector_stop(&inj);
    ck_assert_ptr_null(sim_hmm_walk_hook);
    device_fini(&dev);
    mmput(mm);
    free(pfns);
    free(frames);
}
END_TEST

/* ==================================================================================== */
/* The driver loop                                                                      */
/* ==================================================================================== */

START_TEST(test_driver_loop_passes_errors_through)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 4 * P), pfns[4];
    struct device dev;
    struct hmm_range range;

    sim_test_memset(mm, a, 0x19, 4 * P);
    ck_assert_int_eq(sim_munmap(mm, a + P, P), 0);
    ck_assert_int_eq(sim_mprotect(mm, a + 3 * P, P, PROT_READ), 0);
    device_init(&dev, mm, a, 4);

    /* -EFAULT: a read fault over the hole. */
    range_init(&range, &dev, a, 2, pfns, F, 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EFAULT);
    /* -EPERM: a write fault in the read-only VMA. */
    range_init(&range, &dev, a + 3 * P, 1, pfns, F | W, 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EPERM);
    /* Neither programmed the device, and the lock is free again. */
    ck_assert_int_eq(dev.updates, 0);
    ck_assert_int_eq(pthread_mutex_trylock(&dev.lock), 0);
    pthread_mutex_unlock(&dev.lock);

    /* The update's own result is the loop's result. */
    dev.update_ret = -EIO;
    range_init(&range, &dev, a + 2 * P, 2, pfns, F, 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EIO);
    ck_assert_int_eq(dev.updates, 1);
    ck_assert_uint_eq(dev.table[2], cpu_answer(mm, a + 2 * P));
    ck_assert_uint_eq(dev.table[3], cpu_pfn(mm, a + 3 * P) | V);
    ck_assert_int_eq(pthread_mutex_trylock(&dev.lock), 0);
    pthread_mutex_unlock(&dev.lock);

    /* -EINVAL: a malformed range, and an address space whose last user has gone. */
    range_init(&range, &dev, a + 2 * P + 8, 1, pfns, F, 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EINVAL);
    range_init(&range, &dev, a + 2 * P, 1, pfns, F, 0);
    mmput(mm);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EINVAL);
    ck_assert_int_eq(dev.updates, 1);
    device_fini(&dev);
}
END_TEST

/* The loop validates its own arguments as every entry point does: -EINVAL, no crash,
 * and nothing faulted.  One iteration per bad argument: a NULL range, a range without a
 * notifier, a NULL driver lock, a NULL update callback. */
START_TEST(test_driver_loop_rejects_bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, P), pfns[1] = { 0 };
    struct hmm_range range, *arg = &range;
    pthread_mutex_t *lock;
    int (*update)(void *ctx, struct hmm_range *range) = device_update;
    struct device dev;

    device_init(&dev, mm, a, 1);
    lock = &dev.lock;
    range_init(&range, &dev, a, 1, pfns, F, 0);
    switch (_i) {
    case 0:
        arg = NULL;
        break;
    case 1:
        range.notifier = NULL;
        break;
    case 2:
        lock = NULL;
        break;
    case 3:
        update = NULL;
        break;
    }
    mark_point();
    ck_assert_int_eq(sim_hmm_driver_fault(arg, lock, update, &dev), -EINVAL);
    ck_assert_int_eq(dev.updates, 0);
    ck_assert(pte_none(sim_pte_get(mm, a)));
    device_fini(&dev);
    mmput(mm);
}
END_TEST

struct locked_update {
    struct device dev;
    int trylock_ret;
    bool seq_current;
};

static int update_probing_the_lock(void *ctx, struct hmm_range *range)
{
    struct locked_update *lu = ctx;

    lu->trylock_ret = pthread_mutex_trylock(&lu->dev.lock);
    if (lu->trylock_ret == 0)
        pthread_mutex_unlock(&lu->dev.lock);
    lu->seq_current = !mmu_interval_read_retry(range->notifier, range->notifier_seq);
    return device_update(&lu->dev, range);
}

/* The update runs with the driver's lock held and the sequence still current. */
START_TEST(test_driver_update_runs_under_the_driver_lock)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 2 * P), pfns[2];
    struct locked_update lu = { .trylock_ret = -1 };
    struct hmm_range range;

    device_init(&lu.dev, mm, a, 2);
    range_init(&range, &lu.dev, a, 2, pfns, F, 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &lu.dev.lock, update_probing_the_lock, &lu),
                     0);
    ck_assert_int_eq(lu.trylock_ret, EBUSY);
    ck_assert(lu.seq_current);
    ck_assert_int_eq(lu.dev.updates, 1);
    ck_assert_uint_eq(lu.dev.table[0], zero_pfn() | V);
    ck_assert_uint_eq(lu.dev.table[1], zero_pfn() | V);
    ck_assert_int_eq(pthread_mutex_trylock(&lu.dev.lock), 0);
    pthread_mutex_unlock(&lu.dev.lock);
    device_fini(&lu.dev);
    mmput(mm);
}
END_TEST

/* An invalidation that lands after hmm_range_fault has returned 0 but before the loop
 * takes its lock must be caught by read_retry under the lock.  The driver's lock is
 * recursive here so that another thread can hold it across the whole invalidation:
 * the hook lets that thread take the lock while the walk is still running; the thread
 * then waits for the walk to end (the mmap write lock is free only once the walk's
 * read lock is gone), zaps a page, and lets go of the lock, which the loop has been
 * waiting for all along.  The loop must see the collision and go round again. */
struct late_invalidator {
    pthread_t thread;
    pthread_barrier_t walking, locked;
    struct device *dev;
    unsigned long target;
    int hook_calls;
    int madvise_ret;
};

static struct late_invalidator *the_late_invalidator;

static void late_hook(struct hmm_range *range, unsigned long addr)
{
    struct late_invalidator *li = the_late_invalidator;

    (void)range;
    (void)addr;
    if (li->hook_calls++ == 0) {
        pthread_barrier_wait(&li->walking);
        pthread_barrier_wait(&li->locked);
    }
}

static void *late_main(void *arg)
{
    struct late_invalidator *li = arg;
    struct mm_struct *mm = li->dev->mm;

    pthread_barrier_wait(&li->walking);
    pthread_mutex_lock(&li->dev->lock);
    pthread_barrier_wait(&li->locked);
    mmap_write_lock(mm);                 /* the walk has ended */
    mmap_write_unlock(mm);
    li->madvise_ret = sim_madvise(mm, li->target, P, MADV_DONTNEED);
    pthread_mutex_unlock(&li->dev->lock);
    return NULL;
}

START_TEST(test_driver_loop_rechecks_under_its_lock)
{
    struct mm_struct *mm = sim_mm_create();
    const unsigned long a = BIG_BASE + PMD_SIZE - 2 * P;     /* two pages each side */
    unsigned long pfns[4], frames[4];
    struct late_invalidator li = { .hook_calls = 0 };
    pthread_mutexattr_t attr;
    struct device dev;
    struct hmm_range range;

    map_written(mm, a, 4, frames);
    device_init(&dev, mm, a, 4);
    pthread_mutex_destroy(&dev.lock);
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&dev.lock, &attr);
    pthread_mutexattr_destroy(&attr);
    range_init(&range, &dev, a, 4, pfns, F, 0);
    fill(pfns, 4, 0);

    li.dev = &dev;
    li.target = a + P;
    pthread_barrier_init(&li.walking, NULL, 2);
    pthread_barrier_init(&li.locked, NULL, 2);
    the_late_invalidator = &li;
    sim_hmm_walk_hook = late_hook;
    ck_assert_int_eq(pthread_create(&li.thread, NULL, late_main, &li), 0);
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), 0);
    pthread_join(li.thread, NULL);
    sim_hmm_walk_hook = NULL;
    the_late_invalidator = NULL;

    ck_assert_int_eq(li.madvise_ret, 0);
    ck_assert_int_eq(li.hook_calls, 2);          /* one walk per round */
    ck_assert_int_eq(dev.updates, 1);
    ck_assert_int_eq(device_invalidations(&dev), 1);
    for (int i = 0; i < 4; i++) {
        unsigned long want = i == 1 ? zero_pfn() | V : frames[i] | V | W;

        ck_assert_msg(dev.table[i] == want, "device page %d: %#lx, expected %#lx", i,
                      dev.table[i], want);
    }
    pthread_barrier_destroy(&li.walking);
    pthread_barrier_destroy(&li.locked);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

static unsigned long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

/* Under an invalidation at every walk, the driver loop gives up with -EBUSY after
 * HMM_RANGE_DEFAULT_TIMEOUT milliseconds and never programs the device. */
START_TEST(test_driver_loop_gives_up_under_constant_invalidation)
{
    struct mm_struct *mm = sim_mm_create();
    const unsigned long a = BIG_BASE + PMD_SIZE - P;      /* two pages, two segments */
    unsigned long pfns[2], t0, elapsed;
    struct sim_test_injector inj;
    struct device dev;
    struct hmm_range range;

    sim_test_mmap(mm, a, 2 * P, RW, ANON_FIXED);
    sim_test_memset(mm, a, 0x7e, 2 * P);
    device_init(&dev, mm, a, 2);
    range_init(&range, &dev, a, 2, pfns, 0, 0);
    sim_test_injector_start(&inj, mm, a, INT_MAX);
    t0 = now_ms();
    ck_assert_int_eq(sim_hmm_driver_fault(&range, &dev.lock, device_update, &dev), -EBUSY);
    elapsed = now_ms() - t0;
    ck_assert_uint_ge(elapsed, HMM_RANGE_DEFAULT_TIMEOUT);
    ck_assert_int_eq(dev.updates, 0);
    ck_assert_int_ge(inj.injected, 2);
    ck_assert_int_eq(inj.hook_calls, inj.injected);
    ck_assert_int_eq(device_invalidations(&dev), inj.injected);
    sim_test_injector_stop(&inj);
    ck_assert_ptr_null(sim_hmm_walk_hook);
    device_fini(&dev);
    mmput(mm);
}
END_TEST

/* ==================================================================================== */
/* Concurrency                                                                          */
/* ==================================================================================== */

#define HALF 64
#define ROUNDS 300

/* One device, two notifiers each over half of one range, one lock. */
struct shared_device;

struct half {
    struct mmu_interval_notifier notifier;
    struct shared_device *dev;
    unsigned long first;             /* index of its first page */
    unsigned long pfns[HALF];
    struct hmm_range range;
    int ok, efault, ebusy;
};

struct shared_device {
    struct mm_struct *mm;
    unsigned long start;
    pthread_mutex_t lock;
    unsigned long table[2 * HALF];
    struct half half[2];
    pthread_barrier_t round;         /* the three threads start each round together */
    atomic_int mismatches;
    atomic_int invalidations;
};

static bool half_invalidate(struct mmu_interval_notifier *sub,
                            const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct half *h = (struct half *)((char *)sub - offsetof(struct half, notifier));
    struct shared_device *sd = h->dev;

    pthread_mutex_lock(&sd->lock);
    mmu_interval_set_seq(sub, cur_seq);
    for (unsigned long i = h->first; i < h->first + HALF; i++) {
        unsigned long addr = sd->start + i * P;

        if (addr >= range->start && addr < range->end)
            sd->table[i] = 0;
    }
    pthread_mutex_unlock(&sd->lock);
    atomic_fetch_add(&sd->invalidations, 1);
    return true;
}

static const struct mmu_interval_notifier_ops half_ops = { .invalidate = half_invalidate };

/* Under the driver's lock with the sequence current, the CPU cannot have changed any
 * entry of the half since the walk: every answer must still be the CPU's.  (A read-only
 * entry may have become writable in place, which is not announced; the reverse is.) */
static int half_update(void *ctx, struct hmm_range *range)
{
    struct half *h = ctx;
    struct shared_device *sd = h->dev;

    for (unsigned long i = 0; i < HALF; i++) {
        unsigned long out = range->hmm_pfns[i];
        pte_t pte = sim_pte_get(sd->mm, range->start + i * P);

        if (!sim_pte_accessible(pte) || !(out & V) || (out & E) ||
            (out & ~HMM_PFN_FLAGS) != pte_pfn(pte) || ((out & W) && !pte_write(pte)))
            atomic_fetch_add(&sd->mismatches, 1);
        sd->table[h->first + i] = out;
    }
    return 0;
}

static void half_fault(struct half *h)
{
    int ret = sim_hmm_driver_fault(&h->range, &h->dev->lock, half_update, h);

    if (ret == 0)
        h->ok++;
    else if (ret == -EFAULT)
        h->efault++;                 /* the range was PROT_NONE at the time */
    else if (ret == -EBUSY)
        h->ebusy++;                  /* invalidated for a whole second */
    else
        atomic_fetch_add(&h->dev->mismatches, 1000);
}

static void *driver_main(void *arg)
{
    struct half *h = arg;

    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&h->dev->round);
        half_fault(h);
    }
    return NULL;
}

static void *mutator_main(void *arg)
{
    struct shared_device *sd = arg;
    const unsigned long len = 2 * HALF * P;
    unsigned char byte = 0x99;
    int bad = 0;

    for (int r = 0; r < ROUNDS; r++) {
        unsigned long page = (unsigned long)(r * 37) % (2 * HALF);

        pthread_barrier_wait(&sd->round);
        switch (r % 5) {
        case 0:
            bad += sim_mprotect(sd->mm, sd->start, len, PROT_NONE) != 0;
            break;
        case 1:
            bad += sim_mprotect(sd->mm, sd->start, len, PROT_READ) != 0;
            break;
        case 2:
            bad += sim_mprotect(sd->mm, sd->start, len, RW) != 0;
            break;
        case 3:
            bad += sim_madvise(sd->mm, sd->start + page * P, P, MADV_DONTNEED) != 0;
            break;
        case 4:
            bad += sim_write(sd->mm, sd->start + page * P, &byte, 1) != 0;
            break;
        }
    }
    return (void *)(long)bad;
}

/* Two threads run the driver loop over the two halves of one range while a third
 * mprotects the whole range (PROT_NONE, PROT_READ, read-write) and zaps and writes
 * single pages.  A barrier starts each round's three operations together.  Every update
 * must agree with the CPU's entries (checked under the driver's lock), each loop ends in
 * 0, -EFAULT (while PROT_NONE) or -EBUSY, and at rest the device mirrors the CPU. */
START_TEST(test_concurrent_driver_loops_and_mutations)
{
    struct shared_device *sd = calloc(1, sizeof(*sd));
    pthread_t drivers[2], mutator;
    void *bad;

    ck_assert_ptr_nonnull(sd);
    sd->mm = sim_mm_create();
    sd->start = sim_test_map_private(sd->mm, 2 * HALF * P);
    sim_test_memset(sd->mm, sd->start, 0x5c, 2 * HALF * P);
    pthread_mutex_init(&sd->lock, NULL);
    pthread_barrier_init(&sd->round, NULL, 3);
    for (int k = 0; k < 2; k++) {
        struct half *h = &sd->half[k];

        h->dev = sd;
        h->first = k * HALF;
        ck_assert_int_eq(mmu_interval_notifier_insert(&h->notifier, sd->mm,
                                                      sd->start + h->first * P, HALF * P,
                                                      &half_ops), 0);
        h->range.notifier = &h->notifier;
        h->range.start = sd->start + h->first * P;
        h->range.end = h->range.start + HALF * P;
        h->range.hmm_pfns = h->pfns;
        h->range.default_flags = F;
    }
    pthread_create(&mutator, NULL, mutator_main, sd);
    for (int k = 0; k < 2; k++)
        pthread_create(&drivers[k], NULL, driver_main, &sd->half[k]);
    pthread_join(mutator, &bad);
    for (int k = 0; k < 2; k++)
        pthread_join(drivers[k], NULL);
    ck_assert_int_eq((long)bad, 0);
    ck_assert_int_eq(atomic_load(&sd->mismatches), 0);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(sd->half[k].ok + sd->half[k].efault + sd->half[k].ebusy,
                         ROUNDS);
    ck_assert_int_gt(atomic_load(&sd->invalidations), 0);

    /* At rest (the last change left the range read-write), one more round each programs
     * exactly what the CPU maps. */
    for (int k = 0; k < 2; k++) {
        fill(sd->half[k].pfns, HALF, 0);
        ck_assert_int_eq(sim_hmm_driver_fault(&sd->half[k].range, &sd->lock, half_update,
                                              &sd->half[k]), 0);
    }
    ck_assert_int_eq(atomic_load(&sd->mismatches), 0);
    for (unsigned long i = 0; i < 2 * HALF; i++)
        ck_assert_uint_eq(sd->table[i], cpu_answer(sd->mm, sd->start + i * P));

    for (int k = 0; k < 2; k++)
        mmu_interval_notifier_remove(&sd->half[k].notifier);
    pthread_barrier_destroy(&sd->round);
    pthread_mutex_destroy(&sd->lock);
    mmput(sd->mm);
    free(sd);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch05_hmm_range_fault");
    TCase *ranges = sim_tcase("ranges", 10);
    TCase *errors = sim_tcase("errors", 10);
    TCase *unknown = sim_tcase_unchecked("unknown entry", 10);
    TCase *midwalk = sim_tcase("mid-walk", 20);
    TCase *driver = sim_tcase("driver loop", 30);
    TCase *conc = sim_tcase("concurrency", 60);

    tcase_add_test(ranges, test_mixed_range_snapshot);
    tcase_add_test(ranges, test_mixed_range_per_page_requests);
    tcase_add_test(ranges, test_hole_is_faulted_whole_from_its_start);
    tcase_add_test(ranges, test_hole_takes_its_strongest_request);
    tcase_add_test(ranges, test_table_faults_from_the_page_that_asks);
    tcase_add_test(ranges, test_read_fault_of_empty_pages_maps_the_zero_page);
    tcase_add_test(ranges, test_write_fault_of_empty_pages_allocates_frames);
    tcase_add_test(ranges, test_cow_break_returns_ebusy_then_succeeds);
    tcase_add_test(ranges, test_write_request_on_one_page);
    tcase_add_test(ranges, test_protnone_entry_in_a_readable_vma);
    tcase_add_test(ranges, test_shared_mapping);
    tcase_add_test(errors, test_hole_in_the_middle);
    tcase_add_test(errors, test_hole_at_the_end);
    tcase_add_test(errors, test_write_request_on_read_only_vma_is_eperm);
    tcase_add_test(errors, test_out_of_memory_is_efault);
    tcase_add_test(errors, test_invalid_arguments);
    tcase_add_test(errors, test_stale_sequence_is_ebusy);
    tcase_add_test(unknown, test_unknown_non_present_entry);
    tcase_add_test(midwalk, test_invalidation_between_segments);
    tcase_add_test(midwalk, test_driver_loop_retries_after_a_mid_walk_invalidation);
    tcase_add_test(driver, test_driver_loop_passes_errors_through);
    tcase_add_loop_test(driver, test_driver_loop_rejects_bad_arguments, 0, 4);
    tcase_add_test(driver, test_driver_update_runs_under_the_driver_lock);
    tcase_add_test(driver, test_driver_loop_rechecks_under_its_lock);
    tcase_add_test(driver, test_driver_loop_gives_up_under_constant_invalidation);
    tcase_add_test(conc, test_concurrent_driver_loops_and_mutations);
    suite_add_tcase(s, ranges);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, unknown);
    suite_add_tcase(s, midwalk);
    suite_add_tcase(s, driver);
    suite_add_tcase(s, conc);
    return s;
}
