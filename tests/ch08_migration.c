/* Chapter 8: migration, driven directly.  migrate_vma_setup / migrate_vma_pages /
 * migrate_vma_finalize and migrate_device_range / _pages / _finalize are called by the
 * test itself, which plays the driver between them (allocate, copy, fill dst), with the
 * minimal device of tests/testdev.h and the recording subscriber of tests/recorder.h.
 *
 * Expected values are the kernel's (mm/migrate_device.c, Linux 6.15; KERNEL-NOTES.md
 * section 5), where the chapter follows it, and the chapter's own where it documents a
 * choice of its own (present pages of MAP_SHARED memory are skipped at collect time). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "recorder.h"
#include "testdev.h"

#define P PAGE_SIZE
#define MAXP 8
#define SENTINEL 0x5eed5eed5eed5eedUL

#define M MIGRATE_PFN_MIGRATE
#define W MIGRATE_PFN_WRITE

/* --- helpers ----------------------------------------------------------------------------- */

static swp_entry_t entry_at(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);

    ck_assert_msg(is_swap_pte(pte), "entry %#lx at %#lx is not swap-style", pte, addr);
    return pte_to_swp_entry(pte);
}

static void expect_migration_entry(struct mm_struct *mm, unsigned long addr,
                                   struct page *page, bool write)
{
    swp_entry_t e = entry_at(mm, addr);

    ck_assert_msg(is_migration_entry(e), "entry %#lx at %#lx is not a migration entry",
                  e.val, addr);
    ck_assert_int_eq(is_writable_migration_entry(e), write);
    ck_assert_ptr_eq(pfn_swap_entry_to_page(e), page);
}

static void expect_device_entry(struct mm_struct *mm, unsigned long addr, struct page *page,
                                bool write)
{
    swp_entry_t e = entry_at(mm, addr);

    ck_assert_msg(is_device_private_entry(e), "entry %#lx at %#lx is not device-private",
                  e.val, addr);
    ck_assert_int_eq(is_writable_device_private_entry(e), write);
    ck_assert_ptr_eq(pfn_swap_entry_to_page(e), page);
}

static void args_init(struct migrate_vma *a, struct vm_area_struct *vma, unsigned long start,
                      unsigned long end, unsigned long *src, unsigned long *dst, void *owner,
                      unsigned long flags)
{
    memset(a, 0, sizeof(*a));
    a->vma = vma;
    a->start = start;
    a->end = end;
    a->src = src;
    a->dst = dst;
    a->pgmap_owner = owner;
    a->flags = flags;
}

static void fill_words(unsigned long *w, unsigned long n, unsigned long v)
{
    for (unsigned long i = 0; i < n; i++)
        w[i] = v;
}

/* The driver's step towards the device: a testdev page (locked, one reference) for each
 * entry still marked MIGRATE, the data copied (zeroes for a hole), dst writable. */
static unsigned long give_device_pages(struct testdev *dev, struct migrate_vma *a)
{
    unsigned long n = 0;

    for (unsigned long i = 0; i < a->npages; i++) {
        struct page *spage = migrate_pfn_to_page(a->src[i]), *dpage;

        if (!(a->src[i] & M))
            continue;
        dpage = testdev_alloc(dev);
        ck_assert_ptr_nonnull(dpage);
        ck_assert(PageLocked(dpage));
        ck_assert_int_eq(page_ref_count(dpage), 1);
        if (spage)
            memcpy(sim_page_address(dpage), sim_page_address(spage), P);
        else
            memset(sim_page_address(dpage), 0, P);
        a->dst[i] = migrate_pfn(page_to_pfn(dpage)) | W;
        n++;
    }
    return n;
}

/* Setup under the mmap read lock, which the caller keeps until finalize. */
static int setup_locked(struct migrate_vma *a)
{
    mmap_read_lock(a->vma->vm_mm);
    return migrate_vma_setup(a);
}

/* --- 1. refusals ------------------------------------------------------------------------- */

/* What a refused setup must leave alone: every entry of the range, the pages' counts and
 * locks, the arrays, the notifier log. */
struct snapshot {
    pte_t pte[4];
    int ref[4], map[4];
    bool locked[4];
};

static void take_snapshot(struct snapshot *s, struct mm_struct *mm, unsigned long addr)
{
    for (int i = 0; i < 4; i++) {
        s->pte[i] = sim_pte_get(mm, addr + i * P);
        s->ref[i] = s->map[i] = -1;
        s->locked[i] = false;
        if (pte_present(s->pte[i])) {
            struct page *page = pfn_to_page(pte_pfn(s->pte[i]));

            s->ref[i] = page_ref_count(page);
            s->map[i] = page_mapcount(page);
            s->locked[i] = PageLocked(page);
        }
    }
}

static void expect_snapshot(const struct snapshot *s, struct mm_struct *mm, unsigned long addr)
{
    struct snapshot now;

    take_snapshot(&now, mm, addr);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(now.pte[i], s->pte[i]);
        ck_assert_int_eq(now.ref[i], s->ref[i]);
        ck_assert_int_eq(now.map[i], s->map[i]);
        ck_assert_int_eq(now.locked[i], s->locked[i]);
    }
}

struct refusal_world {
    struct mm_struct *mm;
    struct vm_area_struct *vma;
    unsigned long addr;          /* four pages: two written, one read, one hole */
    unsigned long src[6], dst[6];
    struct recorder rec;
    struct snapshot snap;
};

static void refusal_init(struct refusal_world *w)
{
    unsigned char c;

    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, 4 * P);
    w->vma = vma_lookup(w->mm, w->addr);
    ck_assert_ptr_nonnull(w->vma);
    sim_test_fill_pages(w->mm, w->addr, 2, 10);
    ck_assert_int_eq(sim_read(w->mm, w->addr + 2 * P, &c, 1), 0);
    recorder_init(&w->rec);
    ck_assert_int_eq(mmu_notifier_register(&w->rec.mn, w->mm), 0);
    take_snapshot(&w->snap, w->mm, w->addr);
}

/* The fields of two migrate_vma structs are equal (padding aside). */
static void expect_same_args(const struct migrate_vma *x, const struct migrate_vma *y)
{
    ck_assert_ptr_eq(x->vma, y->vma);
    ck_assert_ptr_eq(x->src, y->src);
    ck_assert_ptr_eq(x->dst, y->dst);
    ck_assert_uint_eq(x->cpages, y->cpages);
    ck_assert_uint_eq(x->npages, y->npages);
    ck_assert_uint_eq(x->start, y->start);
    ck_assert_uint_eq(x->end, y->end);
    ck_assert_ptr_eq(x->pgmap_owner, y->pgmap_owner);
    ck_assert_uint_eq(x->flags, y->flags);
    ck_assert_ptr_eq(x->fault_page, y->fault_page);
}

/* Call setup with a, demand -EINVAL, and that nothing at all changed: the struct (but
 * start/end, which are compared by the caller), both arrays, entries, pages, notifiers. */
static void expect_refused(struct refusal_world *w, struct migrate_vma *a)
{
    struct migrate_vma before = *a;

    fill_words(w->src, 6, SENTINEL);
    fill_words(w->dst, 6, SENTINEL);
    mmap_read_lock(w->mm);
    ck_assert_int_eq(migrate_vma_setup(a), -EINVAL);
    mmap_read_unlock(w->mm);
    before.start = a->start;
    before.end = a->end;
    expect_same_args(&before, a);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(w->src[i], SENTINEL);
        ck_assert_uint_eq(w->dst[i], SENTINEL);
    }
    ck_assert_int_eq(w->rec.n, 0);
    expect_snapshot(&w->snap, w->mm, w->addr);
}

static void refusal_done(struct refusal_world *w)
{
    mmu_notifier_unregister(&w->rec.mn, w->mm);
    sim_test_expect_pages(w->mm, w->addr, 2, 10);
    mmput(w->mm);
}

/* Every argument check of migrate_vma_setup refuses with -EINVAL before touching
 * anything: NULL args or vma, VM_IO / VM_PFNMAP / VM_MIXEDMAP, empty or inverted ranges,
 * a range that leaves the vma on either side, missing arrays. */
START_TEST(setup_refuses_bad_arguments)
{
    struct refusal_world w;
    struct migrate_vma a;
    static const unsigned long special[] = { VM_IO, VM_PFNMAP, VM_MIXEDMAP };

    refusal_init(&w);
    mmap_read_lock(w.mm);
    ck_assert_int_eq(migrate_vma_setup(NULL), -EINVAL);
    mmap_read_unlock(w.mm);

    args_init(&a, NULL, w.addr, w.addr + 4 * P, w.src, w.dst, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    ck_assert_uint_eq(a.start, w.addr);

    for (int i = 0; i < 3; i++) {
        unsigned long saved = w.vma->vm_flags;

        args_init(&a, w.vma, w.addr, w.addr + 4 * P, w.src, w.dst, NULL,
                  MIGRATE_VMA_SELECT_SYSTEM);
        w.vma->vm_flags |= special[i];
        expect_refused(&w, &a);
        w.vma->vm_flags = saved;
        ck_assert_uint_eq(a.start, w.addr);
        ck_assert_uint_eq(a.end, w.addr + 4 * P);
    }

    /* end == start */
    args_init(&a, w.vma, w.addr + P, w.addr + P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    ck_assert_uint_eq(a.start, w.addr + P);
    /* end before start */
    args_init(&a, w.vma, w.addr + 2 * P, w.addr + P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    /* an unaligned start that leaves less than a page: the count is taken before the
     * rounding, which the kernel writes back into args */
    args_init(&a, w.vma, w.addr + 1, w.addr + P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    ck_assert_uint_eq(a.start, w.addr);
    ck_assert_uint_eq(a.end, w.addr + P);

    /* start before the vma, start at its end, end beyond it */
    args_init(&a, w.vma, w.addr - P, w.addr + P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    args_init(&a, w.vma, w.addr + 4 * P, w.addr + 5 * P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    args_init(&a, w.vma, w.addr, w.addr + 5 * P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    args_init(&a, w.vma, w.addr + 3 * P, w.addr + 6 * P, w.src, w.dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);

    /* missing arrays */
    args_init(&a, w.vma, w.addr, w.addr + 4 * P, NULL, w.dst, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);
    args_init(&a, w.vma, w.addr, w.addr + 4 * P, w.src, NULL, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    expect_refused(&w, &a);

    refusal_done(&w);
}
END_TEST

/* A fault_page must be a device-private page, and locked: a locked system page and an
 * unlocked device page are both refused. */
START_TEST(setup_refuses_a_bad_fault_page)
{
    struct refusal_world w;
    struct testdev *dev = testdev_create(2);
    struct migrate_vma a;
    struct page *sys, *dpage;

    refusal_init(&w);
    sys = sim_test_mapped_page(w.mm, w.addr);
    lock_page(sys);
    take_snapshot(&w.snap, w.mm, w.addr);
    args_init(&a, w.vma, w.addr, w.addr + 4 * P, w.src, w.dst, dev,
              MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
    a.fault_page = sys;
    expect_refused(&w, &a);
    unlock_page(sys);

    take_snapshot(&w.snap, w.mm, w.addr);
    dpage = testdev_alloc(dev);
    unlock_page(dpage);
    args_init(&a, w.vma, w.addr, w.addr + 4 * P, w.src, w.dst, dev,
              MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
    a.fault_page = dpage;
    expect_refused(&w, &a);
    ck_assert_int_eq(page_ref_count(dpage), 1);
    ck_assert(!PageLocked(dpage));
    put_page(dpage);
    ck_assert_int_eq(dev->page_frees, 1);

    refusal_done(&w);
    testdev_destroy(dev);
}
END_TEST

/* A vma whose address space has exited (the struct kept by mmgrab, the last user gone)
 * is refused.  The vma itself was freed by the exit, so a copy of it stands in. */
START_TEST(setup_refuses_an_exited_mm)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P), src[2], dst[2];
    struct vm_area_struct copy;
    struct migrate_vma a, before;

    sim_test_fill_pages(mm, addr, 2, 3);
    copy = *vma_lookup(mm, addr);
    mmgrab(mm);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    fill_words(src, 2, SENTINEL);
    fill_words(dst, 2, SENTINEL);
    args_init(&a, &copy, addr, addr + 2 * P, src, dst, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    before = a;
    ck_assert_int_eq(migrate_vma_setup(&a), -EINVAL);
    expect_same_args(&before, &a);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(src[i], SENTINEL);
        ck_assert_uint_eq(dst[i], SENTINEL);
    }
    mmdrop(mm);
}
END_TEST

/* --- 2. what collect records ------------------------------------------------------------- */

struct proc {
    struct mm_struct *mm;
    struct vm_area_struct *vma;
    unsigned long addr;
};

static void proc_init(struct proc *p, unsigned long npages)
{
    p->mm = sim_mm_create();
    p->addr = sim_test_map_private(p->mm, npages * P);
    p->vma = vma_lookup(p->mm, p->addr);
}

/* One setup over [addr, addr + n pages) and finalize with every dst 0: the result is
 * returned in src; the caller checks between the two through the callback. */
static int collect_one(struct proc *p, unsigned long first, unsigned long n, void *owner,
                       unsigned long flags, unsigned long *src, struct migrate_vma *out)
{
    static unsigned long dst[MAXP];          /* outlives the call: finish() reads it */
    struct migrate_vma a;
    int ret;

    fill_words(src, n, SENTINEL);
    fill_words(dst, n, SENTINEL);
    args_init(&a, p->vma, p->addr + first * P, p->addr + (first + n) * P, src, dst, owner,
              flags);
    ret = setup_locked(&a);
    ck_assert_int_eq(ret, 0);
    ck_assert_uint_eq(a.npages, n);
    for (unsigned long i = 0; i < n; i++)
        ck_assert_uint_eq(dst[i], 0);       /* collect clears dst as it goes */
    *out = a;
    return ret;
}

static void finish(struct migrate_vma *a)
{
    migrate_vma_pages(a);
    migrate_vma_finalize(a);
    mmap_read_unlock(a->vma->vm_mm);
}

/* A hole in private anonymous memory is MIGRATE alone (no VALID: the driver may fill
 * it), whatever the selection; it counts in cpages and the entry stays empty. */
START_TEST(a_hole_is_migrate_only)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[MAXP];

    proc_init(&p, 1);
    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_SYSTEM, src, &a);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(a.cpages, 1);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), 0);
    finish(&a);
    ck_assert_uint_eq(src[0], 0);           /* no destination: MIGRATE cleared */
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), 0);

    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, src, &a);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(a.cpages, 1);
    finish(&a);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(p.mm);
}
END_TEST

/* A page only ever read maps the zero page: with SELECT_SYSTEM it is a hole too (MIGRATE
 * without VALID, the entry left as it is); without SELECT_SYSTEM it is skipped. */
START_TEST(the_zero_page_is_a_hole_for_select_system)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[MAXP];
    unsigned char c = 1;
    pte_t pte;

    proc_init(&p, 1);
    ck_assert_int_eq(sim_read(p.mm, p.addr, &c, 1), 0);
    ck_assert_int_eq(c, 0);
    pte = sim_pte_get(p.mm, p.addr);
    ck_assert(pte_present(pte) && is_zero_pfn(pte_pfn(pte)));

    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_SYSTEM, src, &a);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(a.cpages, 1);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    finish(&a);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);

    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, src, &a);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(a.cpages, 0);
    finish(&a);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    mmput(p.mm);
}
END_TEST

/* A writable page: migrate_pfn(pfn) | MIGRATE | WRITE; between setup and finalize its
 * entry is a writable migration entry, the page locked with only the migration's
 * reference; finalize with no destination restores exactly the entry it had. */
START_TEST(a_writable_page_is_collected_writable)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[MAXP];
    struct page *page;
    pte_t pte;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 20);
    pte = sim_pte_get(p.mm, p.addr);
    page = sim_test_mapped_page(p.mm, p.addr);
    ck_assert(pte_write(pte));

    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_SYSTEM, src, &a);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page)) | M | W);
    ck_assert_ptr_eq(migrate_pfn_to_page(src[0]), page);
    ck_assert_uint_eq(a.cpages, 1);
    expect_migration_entry(p.mm, p.addr, page, true);
    ck_assert(PageLocked(page));
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    finish(&a);

    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page)) | W);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    ck_assert(!PageLocked(page));
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_int_eq(page_ref_count(page), 1);
    sim_test_expect_pages(p.mm, p.addr, 1, 20);
    mmput(p.mm);
}
END_TEST

/* A page made read-only by mprotect: migrate_pfn(pfn) | MIGRATE, no WRITE, and a
 * readable migration entry. */
START_TEST(a_read_only_page_is_collected_read_only)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[MAXP];
    struct page *page;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 21);
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr, P, PROT_READ), 0);
    p.vma = vma_lookup(p.mm, p.addr);
    page = sim_test_mapped_page(p.mm, p.addr);
    ck_assert(!pte_write(sim_pte_get(p.mm, p.addr)));

    collect_one(&p, 0, 1, NULL, MIGRATE_VMA_SELECT_SYSTEM, src, &a);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page)) | M);
    ck_assert_uint_eq(a.cpages, 1);
    expect_migration_entry(p.mm, p.addr, page, false);
    finish(&a);
    ck_assert(pte_present(sim_pte_get(p.mm, p.addr)));
    ck_assert(!pte_write(sim_pte_get(p.mm, p.addr)));
    ck_assert_ptr_eq(sim_test_mapped_page(p.mm, p.addr), page);
    sim_test_expect_pages(p.mm, p.addr, 1, 21);
    mmput(p.mm);
}
END_TEST

/* MAP_SHARED memory never moves: its pages and its holes are both 0 (the simulation
 * skips shared pages at collect time, see the chapter), and nothing is counted. */
START_TEST(shared_memory_is_not_collected)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 2 * P), src[2], dst[2];
    struct migrate_vma a;
    struct page *page;
    pte_t pte;
    int ref;

    sim_test_fill_pages(mm, addr, 1, 22);
    page = sim_test_mapped_page(mm, addr);
    pte = sim_pte_get(mm, addr);
    ref = page_ref_count(page);
    fill_words(src, 2, SENTINEL);
    args_init(&a, vma_lookup(mm, addr), addr, addr + 2 * P, src, dst, NULL,
              MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(src[1], 0);
    ck_assert_uint_eq(a.cpages, 0);
    ck_assert_uint_eq(a.npages, 2);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pte);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), 0);
    ck_assert(!PageLocked(page));
    ck_assert_int_eq(page_ref_count(page), ref);
    finish(&a);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pte);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), 0);
    sim_test_expect_pages(mm, addr, 1, 22);
    mmput(mm);
}
END_TEST

/* Selection: a system page with only SELECT_DEVICE_PRIVATE is 0 and untouched; a device
 * page of another owner is 0; a device page with SELECT_SYSTEM only is 0; a device page
 * of the caller's owner with SELECT_DEVICE_PRIVATE is migrate_pfn(devpfn) | MIGRATE |
 * WRITE, its entry a writable migration entry. */
START_TEST(selection_follows_flags_and_owner)
{
    struct proc p;
    struct testdev *dev = testdev_create(2), *other = testdev_create(2);
    struct migrate_vma a;
    unsigned long src[MAXP];
    struct page *sys, *dpage;
    pte_t sys_pte, dev_pte;

    proc_init(&p, 2);
    sim_test_fill_pages(p.mm, p.addr, 2, 30);
    sys = sim_test_mapped_page(p.mm, p.addr);
    sys_pte = sim_pte_get(p.mm, p.addr);
    dpage = testdev_move_to_device(dev, p.mm, p.addr + P);
    dev_pte = sim_pte_get(p.mm, p.addr + P);

    collect_one(&p, 0, 2, dev, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, src, &a);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(src[1], migrate_pfn(page_to_pfn(dpage)) | M | W);
    ck_assert_uint_eq(a.cpages, 1);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), sys_pte);
    ck_assert(!PageLocked(sys));
    ck_assert_int_eq(page_ref_count(sys), 1);
    ck_assert_int_eq(page_mapcount(sys), 1);
    expect_migration_entry(p.mm, p.addr + P, dpage, true);
    ck_assert(PageLocked(dpage));
    ck_assert_int_eq(page_mapcount(dpage), 0);
    ck_assert_int_eq(page_ref_count(dpage), 1);
    finish(&a);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + P), dev_pte);
    ck_assert(!PageLocked(dpage));
    ck_assert_int_eq(page_mapcount(dpage), 1);
    ck_assert_int_eq(page_ref_count(dpage), 1);

    collect_one(&p, 1, 1, other, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, src, &a);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(a.cpages, 0);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + P), dev_pte);
    ck_assert(!PageLocked(dpage));
    finish(&a);

    collect_one(&p, 1, 1, dev, MIGRATE_VMA_SELECT_SYSTEM, src, &a);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(a.cpages, 0);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + P), dev_pte);
    finish(&a);

    ck_assert_int_eq(dev->migrations, 0);
    sim_test_expect_pages(p.mm, p.addr, 2, 30);
    ck_assert_int_eq(dev->migrations, 1);
    mmput(p.mm);
    testdev_destroy(dev);
    testdev_destroy(other);
}
END_TEST

/* One range with one entry of each kind, both selections, the device's owner:
 *   0 hole -> MIGRATE          1 zero page -> MIGRATE     2 writable page -> pfn|M|W
 *   3 own device page -> pfn|M|W   4 other owner's device page -> 0   5 locked page -> 0
 * cpages 4, npages 6; a finalize without destinations puts every entry back as it was. */
START_TEST(a_mixed_range_counts_exactly)
{
    struct proc p;
    struct testdev *dev = testdev_create(2), *other = testdev_create(2);
    struct migrate_vma a;
    unsigned long src[MAXP];
    struct page *page2, *page5, *d3, *d4;
    pte_t before[6];
    unsigned char c;

    proc_init(&p, 6);
    ck_assert_int_eq(sim_read(p.mm, p.addr + P, &c, 1), 0);
    sim_test_fill_pages(p.mm, p.addr + 2 * P, 4, 40);
    page2 = sim_test_mapped_page(p.mm, p.addr + 2 * P);
    d3 = testdev_move_to_device(dev, p.mm, p.addr + 3 * P);
    d4 = testdev_move_to_device(other, p.mm, p.addr + 4 * P);
    page5 = sim_test_mapped_page(p.mm, p.addr + 5 * P);
    lock_page(page5);
    for (int i = 0; i < 6; i++)
        before[i] = sim_pte_get(p.mm, p.addr + i * P);

    collect_one(&p, 0, 6, dev, MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
                src, &a);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(src[1], M);
    ck_assert_uint_eq(src[2], migrate_pfn(page_to_pfn(page2)) | M | W);
    ck_assert_uint_eq(src[3], migrate_pfn(page_to_pfn(d3)) | M | W);
    ck_assert_uint_eq(src[4], 0);
    ck_assert_uint_eq(src[5], 0);
    ck_assert_uint_eq(a.cpages, 4);
    ck_assert_uint_eq(a.npages, 6);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), before[0]);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + P), before[1]);
    expect_migration_entry(p.mm, p.addr + 2 * P, page2, true);
    expect_migration_entry(p.mm, p.addr + 3 * P, d3, true);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + 4 * P), before[4]);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + 5 * P), before[5]);
    ck_assert_int_eq(page_ref_count(page5), 1);
    ck_assert(!PageLocked(d4));
    finish(&a);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + i * P), before[i]);
    ck_assert(PageLocked(page5));          /* still the test's */
    unlock_page(page5);
    ck_assert(!PageLocked(page2) && !PageLocked(d3));
    ck_assert_int_eq(page_ref_count(d3), 1);
    ck_assert_int_eq(page_mapcount(d3), 1);
    sim_test_expect_pages(p.mm, p.addr + 2 * P, 4, 40);
    mmput(p.mm);
    testdev_destroy(dev);
    testdev_destroy(other);
}
END_TEST

/* --- 3. invalidations -------------------------------------------------------------------- */

/* Setup sends exactly one MIGRATE start/end pair over [start, end) carrying pgmap_owner;
 * migrate_vma_pages, with the driver filling holes 2 and 3 but not hole 1, sends one more
 * MIGRATE pair from the first filled hole to end; finalize sends nothing. */
START_TEST(the_invalidations_carry_the_owner)
{
    struct proc p;
    struct testdev *dev = testdev_create(4);
    struct recorder r;
    struct migrate_vma a;
    unsigned long src[4], dst[4];
    unsigned long s, e;

    proc_init(&p, 4);
    sim_test_fill_pages(p.mm, p.addr, 1, 50);
    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, p.mm), 0);
    s = p.addr;
    e = p.addr + 4 * P;
    args_init(&a, p.vma, s, e, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_int_eq(r.n, 2);
    ck_assert_rec(&r, 0, REC_START, MMU_NOTIFY_MIGRATE, s, e, MMU_NOTIFIER_RANGE_BLOCKABLE,
                  (void *)dev, p.mm);
    ck_assert_rec(&r, 1, REC_END, MMU_NOTIFY_MIGRATE, s, e, MMU_NOTIFIER_RANGE_BLOCKABLE,
                  (void *)dev, p.mm);
    ck_assert_uint_eq(a.cpages, 4);
    ck_assert_uint_eq(src[1], M);

    src[1] &= ~M;                    /* the driver gives no page to hole 1 */
    ck_assert_uint_eq(give_device_pages(dev, &a), 3);
    src[1] |= M;
    ck_assert_uint_eq(dst[1], 0);
    migrate_vma_pages(&a);
    ck_assert_int_eq(r.n, 4);
    ck_assert_rec(&r, 2, REC_START, MMU_NOTIFY_MIGRATE, s + 2 * P, e,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, (void *)dev, p.mm);
    ck_assert_rec(&r, 3, REC_END, MMU_NOTIFY_MIGRATE, s + 2 * P, e,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, (void *)dev, p.mm);
    ck_assert_uint_eq(src[1], 0);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    ck_assert_int_eq(r.n, 4);

    mmu_notifier_unregister(&r.mn, p.mm);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + P), 0);
    sim_test_expect_pages(p.mm, p.addr, 1, 50);
    sim_test_expect_bytes(p.mm, p.addr + 2 * P, 0, 2 * P);
    ck_assert_int_eq(dev->migrations, 3);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* Without holes to fill, migrate_vma_pages sends nothing either. */
START_TEST(pages_without_holes_sends_nothing)
{
    struct proc p;
    struct testdev *dev = testdev_create(2);
    struct recorder r;
    struct migrate_vma a;
    unsigned long src[2], dst[2];

    proc_init(&p, 2);
    sim_test_fill_pages(p.mm, p.addr, 2, 51);
    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, p.mm), 0);
    args_init(&a, p.vma, p.addr, p.addr + 2 * P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(give_device_pages(dev, &a), 2);
    migrate_vma_pages(&a);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    ck_assert_int_eq(r.n, 2);
    ck_assert_rec(&r, 0, REC_START, MMU_NOTIFY_MIGRATE, p.addr, p.addr + 2 * P,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, (void *)dev, p.mm);
    mmu_notifier_unregister(&r.mn, p.mm);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 4. a full move, and back ------------------------------------------------------------ */

/* Four system pages move to testdev pages: the entries become writable device-private
 * entries, the four frames are freed, each device page has one mapping and one reference
 * and is unlocked; the CPU then reads every byte back through migrate_to_ram. */
START_TEST(a_full_move_to_the_device)
{
    struct proc p;
    struct testdev *dev = testdev_create(4);
    struct migrate_vma a;
    unsigned long src[4], dst[4], in_use;
    struct page *old[4];

    proc_init(&p, 4);
    sim_test_fill_pages(p.mm, p.addr, 4, 60);
    for (int i = 0; i < 4; i++)
        old[i] = sim_test_mapped_page(p.mm, p.addr + i * P);
    in_use = sim_nr_pages_in_use();
    ck_assert_uint_eq(in_use, 4);

    args_init(&a, p.vma, p.addr, p.addr + 4 * P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(a.cpages, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(src[i], migrate_pfn(page_to_pfn(old[i])) | M | W);
        expect_migration_entry(p.mm, p.addr + i * P, old[i], true);
    }
    ck_assert_uint_eq(give_device_pages(dev, &a), 4);
    migrate_vma_pages(&a);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(src[i], migrate_pfn(page_to_pfn(old[i])) | M | W);
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);

    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use - 4);
    for (int i = 0; i < 4; i++) {
        struct page *dpage = migrate_pfn_to_page(dst[i]);

        expect_device_entry(p.mm, p.addr + i * P, dpage, true);
        ck_assert_int_eq(page_mapcount(dpage), 1);
        ck_assert_int_eq(page_ref_count(dpage), 1);
        ck_assert(!PageLocked(dpage));
        ck_assert_int_eq(page_ref_count(old[i]), 0);
        ck_assert(!PageLocked(old[i]));
    }
    ck_assert_int_eq(dev->page_frees, 0);
    ck_assert_int_eq(sim_check_invariants(), 0);

    sim_test_expect_pages(p.mm, p.addr, 4, 60);
    ck_assert_int_eq(dev->migrations, 4);
    ck_assert_int_eq(dev->page_frees, 4);
    ck_assert_uint_eq(sim_nr_pages_in_use(), in_use);
    for (int i = 0; i < 4; i++) {
        pte_t pte = sim_pte_get(p.mm, p.addr + i * P);

        ck_assert(pte_present(pte) && pte_write(pte));
    }
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* A read-only page moves as a readable device-private entry (its migration entry was
 * readable, whatever dst says). */
START_TEST(a_read_only_page_moves_readable)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 61);
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr, P, PROT_READ), 0);
    p.vma = vma_lookup(p.mm, p.addr);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    finish(&a);
    expect_device_entry(p.mm, p.addr, migrate_pfn_to_page(dst[0]), false);
    sim_test_expect_pages(p.mm, p.addr, 1, 61);
    ck_assert(!pte_write(sim_pte_get(p.mm, p.addr)));
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* The way home, as a migrate_to_ram handler does it: fault_page locked and referenced by
 * the caller, SELECT_DEVICE_PRIVATE with the device's owner; the device page is collected
 * although it carries the caller's extra reference, the entry becomes a present writable
 * page with the data, and the fault page is left locked for the caller to release. */
START_TEST(moving_back_with_a_fault_page)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct page *dpage, *page;
    pte_t pte;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 62);
    dpage = testdev_move_to_device(dev, p.mm, p.addr);
    get_page(dpage);                 /* what the fault path holds */
    lock_page(dpage);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
    a.fault_page = dpage;
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(dpage)) | M | W);
    ck_assert_uint_eq(a.cpages, 1);
    expect_migration_entry(p.mm, p.addr, dpage, true);
    page = sim_test_copy_page(dpage);
    dst[0] = migrate_pfn(page_to_pfn(page)) | W;
    migrate_vma_pages(&a);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(dpage)) | M | W);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);

    pte = sim_pte_get(p.mm, p.addr);
    ck_assert(pte_present(pte) && pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(page));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert(!PageLocked(page));
    ck_assert(PageLocked(dpage));
    ck_assert_int_eq(page_ref_count(dpage), 1);
    ck_assert_int_eq(dev->page_frees, 0);
    unlock_page(dpage);
    put_page(dpage);
    ck_assert_int_eq(dev->page_frees, 1);
    ck_assert_int_eq(dev->migrations, 0);
    sim_test_expect_pages(p.mm, p.addr, 1, 62);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 5, 6, 7. pages left behind ---------------------------------------------------------- */

/* A page with an extra reference (a pin) is left behind by setup: src 0, not counted,
 * its entry exactly as before, its reference count back to what it was, its data intact;
 * its neighbour moves. */
START_TEST(a_pinned_page_is_left_behind)
{
    struct proc p;
    struct testdev *dev = testdev_create(2);
    struct migrate_vma a;
    unsigned long src[2], dst[2];
    struct page *pinned, *free_one;
    pte_t pte;

    proc_init(&p, 2);
    sim_test_fill_pages(p.mm, p.addr, 2, 70);
    pinned = sim_test_mapped_page(p.mm, p.addr);
    free_one = sim_test_mapped_page(p.mm, p.addr + P);
    pte = sim_pte_get(p.mm, p.addr);
    get_page(pinned);
    ck_assert_int_eq(page_ref_count(pinned), 2);

    args_init(&a, p.vma, p.addr, p.addr + 2 * P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(src[1], migrate_pfn(page_to_pfn(free_one)) | M | W);
    ck_assert_uint_eq(a.cpages, 1);
    ck_assert_uint_eq(a.npages, 2);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    ck_assert_int_eq(page_ref_count(pinned), 2);
    ck_assert_int_eq(page_mapcount(pinned), 1);
    ck_assert(!PageLocked(pinned));
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    finish(&a);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    ck_assert_int_eq(page_ref_count(pinned), 2);
    expect_device_entry(p.mm, p.addr + P, migrate_pfn_to_page(dst[1]), true);
    put_page(pinned);
    ck_assert_int_eq(page_ref_count(pinned), 1);
    sim_test_expect_pages(p.mm, p.addr, 2, 70);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* The same for a read-only page: the entry put back is exactly the one taken, dirty bit
 * included (the kernel keeps the A/D bits in the migration entry, 6.1+, and
 * remove_migration_pte restores them). */
START_TEST(a_pinned_read_only_page_keeps_its_exact_entry)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct page *pinned;
    pte_t pte;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 71);
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr, P, PROT_READ), 0);
    p.vma = vma_lookup(p.mm, p.addr);
    pinned = sim_test_mapped_page(p.mm, p.addr);
    pte = sim_pte_get(p.mm, p.addr);
    ck_assert(pte_dirty(pte) && !pte_write(pte));
    get_page(pinned);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(a.cpages, 0);
    finish(&a);
    ck_assert_msg(sim_pte_get(p.mm, p.addr) == pte, "entry %#lx put back as %#lx", pte,
                  sim_pte_get(p.mm, p.addr));
    put_page(pinned);
    mmput(p.mm);
}
END_TEST

/* A page locked by someone else is skipped at collect (trylock): src 0, not counted, its
 * entry and reference count untouched, still locked by its holder. */
START_TEST(a_locked_page_is_skipped)
{
    struct proc p;
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct page *page;
    pte_t pte;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 72);
    page = sim_test_mapped_page(p.mm, p.addr);
    pte = sim_pte_get(p.mm, p.addr);
    lock_page(page);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, NULL, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], 0);
    ck_assert_uint_eq(a.cpages, 0);
    ck_assert_uint_eq(a.npages, 1);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    finish(&a);
    ck_assert(PageLocked(page));
    unlock_page(page);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte);
    sim_test_expect_pages(p.mm, p.addr, 1, 72);
    mmput(p.mm);
}
END_TEST

/* dst 0 for a collected page: migrate_vma_pages clears its MIGRATE (and only its), and
 * finalize puts the page back exactly as it was, unlocked, one mapping, one reference. */
START_TEST(dst_zero_leaves_the_page_where_it_was)
{
    struct proc p;
    struct testdev *dev = testdev_create(2);
    struct migrate_vma a;
    unsigned long src[2], dst[2];
    struct page *page0, *page1;
    pte_t pte0;

    proc_init(&p, 2);
    sim_test_fill_pages(p.mm, p.addr, 2, 73);
    page0 = sim_test_mapped_page(p.mm, p.addr);
    page1 = sim_test_mapped_page(p.mm, p.addr + P);
    pte0 = sim_pte_get(p.mm, p.addr);
    args_init(&a, p.vma, p.addr, p.addr + 2 * P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(a.cpages, 2);
    ck_assert_uint_eq(give_device_pages(dev, &a), 2);
    unlock_page(migrate_pfn_to_page(dst[0]));  /* the driver changes its mind about page 0 */
    put_page(migrate_pfn_to_page(dst[0]));
    dst[0] = 0;
    migrate_vma_pages(&a);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page0)) | W);
    ck_assert_uint_eq(src[1], migrate_pfn(page_to_pfn(page1)) | M | W);
    expect_migration_entry(p.mm, p.addr, page0, true);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr), pte0);
    ck_assert(!PageLocked(page0));
    ck_assert_int_eq(page_ref_count(page0), 1);
    ck_assert_int_eq(page_mapcount(page0), 1);
    expect_device_entry(p.mm, p.addr + P, migrate_pfn_to_page(dst[1]), true);
    ck_assert_int_eq(page_ref_count(page1), 0);
    ck_assert_int_eq(dev->page_frees, 1);
    sim_test_expect_pages(p.mm, p.addr, 2, 73);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 8. holes ---------------------------------------------------------------------------- */

/* Holes filled by migrate_vma_pages: hole 0 with a system page (alloc_page + lock_page)
 * mapped present and writable as the vma allows, hole 1 with a device page mapped as a
 * writable device-private entry, hole 2 left alone (dst 0: MIGRATE cleared, still empty),
 * and the zero page at 3 replaced by a device page. */
START_TEST(holes_are_filled_by_migrate_vma_pages)
{
    struct proc p;
    struct testdev *dev = testdev_create(2);
    struct migrate_vma a;
    unsigned long src[4], dst[4];
    struct page *sys, *d1, *d3;
    unsigned char c;
    pte_t pte;

    proc_init(&p, 4);
    ck_assert_int_eq(sim_read(p.mm, p.addr + 3 * P, &c, 1), 0);
    args_init(&a, p.vma, p.addr, p.addr + 4 * P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(src[i], M);
    ck_assert_uint_eq(a.cpages, 4);

    sys = alloc_page();
    ck_assert_ptr_nonnull(sys);
    lock_page(sys);
    sim_fill_pattern(sim_page_address(sys), P, 80);
    dst[0] = migrate_pfn(page_to_pfn(sys));          /* no WRITE: the vma decides */
    d1 = testdev_alloc(dev);
    sim_fill_pattern(sim_page_address(d1), P, 81);
    dst[1] = migrate_pfn(page_to_pfn(d1));
    d3 = testdev_alloc(dev);
    sim_fill_pattern(sim_page_address(d3), P, 83);
    dst[3] = migrate_pfn(page_to_pfn(d3));
    migrate_vma_pages(&a);
    ck_assert_uint_eq(src[0], M);
    ck_assert_uint_eq(src[1], M);
    ck_assert_uint_eq(src[2], 0);
    ck_assert_uint_eq(src[3], M);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);

    pte = sim_pte_get(p.mm, p.addr);
    ck_assert(pte_present(pte) && pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(sys));
    ck_assert_int_eq(page_ref_count(sys), 1);
    ck_assert_int_eq(page_mapcount(sys), 1);
    ck_assert(!PageLocked(sys));
    expect_device_entry(p.mm, p.addr + P, d1, true);
    expect_device_entry(p.mm, p.addr + 3 * P, d3, true);
    ck_assert_int_eq(page_ref_count(d1), 1);
    ck_assert_int_eq(page_mapcount(d1), 1);
    ck_assert(!PageLocked(d1) && !PageLocked(d3));
    ck_assert_uint_eq(sim_pte_get(p.mm, p.addr + 2 * P), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);

    sim_test_expect_pages(p.mm, p.addr, 2, 80);
    sim_test_expect_pages(p.mm, p.addr + 3 * P, 1, 83);
    sim_test_expect_bytes(p.mm, p.addr + 2 * P, 0, P);
    ck_assert_int_eq(dev->migrations, 2);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* In a read-only vma, a hole filled with a device page gets a readable entry. */
START_TEST(a_hole_in_a_read_only_vma_is_filled_readable)
{
    struct mm_struct *mm = sim_mm_create();
    struct testdev *dev = testdev_create(1);
    unsigned long addr = sim_test_mmap(mm, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    unsigned long src[1], dst[1];
    struct migrate_vma a;
    struct page *d;

    args_init(&a, vma_lookup(mm, addr), addr, addr + P, src, dst, dev,
              MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], M);
    d = testdev_alloc(dev);
    sim_fill_pattern(sim_page_address(d), P, 84);
    dst[0] = migrate_pfn(page_to_pfn(d)) | W;
    finish(&a);
    ck_assert_uint_eq(src[0], M);
    expect_device_entry(mm, addr, d, false);
    sim_test_expect_pages(mm, addr, 1, 84);
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    mmput(mm);
    testdev_destroy(dev);
}
END_TEST

/* A CPU fault that fills the hole between setup and migrate_vma_pages wins: the
 * destination is not mapped, MIGRATE is cleared, the CPU's data stays, and finalize
 * releases the unused destination page. */
START_TEST(a_cpu_fault_into_a_hole_wins)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct page *d;

    proc_init(&p, 1);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], M);
    sim_test_fill_pages(p.mm, p.addr, 1, 85);              /* the mmap read lock is shared */
    d = testdev_alloc(dev);
    dst[0] = migrate_pfn(page_to_pfn(d)) | W;
    migrate_vma_pages(&a);
    ck_assert_uint_eq(src[0], 0);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    ck_assert_int_eq(page_ref_count(d), 0);
    ck_assert_int_eq(dev->page_frees, 1);
    ck_assert(pte_present(sim_pte_get(p.mm, p.addr)));
    sim_test_expect_pages(p.mm, p.addr, 1, 85);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 9, 12. fork ------------------------------------------------------------------------- */

/* A page shared with a fork child moves in both processes: the child's mapping is
 * replaced through the reverse map (announced to the child as MMU_NOTIFY_CLEAR, no
 * owner), both end as readable device-private entries to the same device page (map count
 * 2), the parent saw only its MIGRATE pair, and both read the data back. */
START_TEST(a_page_shared_with_a_child_moves_in_both)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct recorder rp, rc;
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct mm_struct *child;
    struct page *page, *d;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 90);
    page = sim_test_mapped_page(p.mm, p.addr);
    child = sim_fork(p.mm);
    ck_assert(!IS_ERR(child));
    ck_assert_int_eq(page_mapcount(page), 2);
    recorder_init(&rp);
    recorder_init(&rc);
    ck_assert_int_eq(mmu_notifier_register(&rp.mn, p.mm), 0);
    ck_assert_int_eq(mmu_notifier_register(&rc.mn, child), 0);

    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page)) | M);   /* fork wrprotected */
    ck_assert_uint_eq(a.cpages, 1);
    expect_migration_entry(p.mm, p.addr, page, false);
    expect_migration_entry(child, p.addr, page, false);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(rc.n, 2);
    ck_assert_rec(&rc, 0, REC_START, MMU_NOTIFY_CLEAR, p.addr, p.addr + P,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, child);
    ck_assert_rec(&rc, 1, REC_END, MMU_NOTIFY_CLEAR, p.addr, p.addr + P,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, child);
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    finish(&a);
    d = migrate_pfn_to_page(dst[0]);

    expect_device_entry(p.mm, p.addr, d, false);
    expect_device_entry(child, p.addr, d, false);
    ck_assert_int_eq(page_mapcount(d), 2);
    ck_assert_int_eq(page_ref_count(d), 2);
    ck_assert(!PageLocked(d));
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_int_eq(rc.n, 2);
    ck_assert_int_eq(rp.n, 2);
    ck_assert_rec(&rp, 0, REC_START, MMU_NOTIFY_MIGRATE, p.addr, p.addr + P,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, (void *)dev, p.mm);
    ck_assert_rec(&rp, 1, REC_END, MMU_NOTIFY_MIGRATE, p.addr, p.addr + P,
                  MMU_NOTIFIER_RANGE_BLOCKABLE, (void *)dev, p.mm);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmu_notifier_unregister(&rp.mn, p.mm);
    mmu_notifier_unregister(&rc.mn, child);

    sim_test_expect_pages(p.mm, p.addr, 1, 90);
    sim_test_expect_pages(child, p.addr, 1, 90);
    ck_assert_int_eq(dev->migrations, 2);
    ck_assert_int_eq(dev->page_frees, 1);
    mmput(child);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* The child unmaps its copy (a migration entry made by the reverse-map path) between
 * setup and finalize: finalize still completes, the parent's entry alone maps the device
 * page, the child's range stays empty. */
START_TEST(a_child_unmapping_mid_migration_does_not_break_finalize)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct mm_struct *child;
    struct page *page, *d;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 91);
    page = sim_test_mapped_page(p.mm, p.addr);
    child = sim_fork(p.mm);
    ck_assert(!IS_ERR(child));
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    expect_migration_entry(child, p.addr, page, false);
    ck_assert_int_eq(sim_munmap(child, p.addr, P), 0);
    ck_assert_uint_eq(sim_pte_get(child, p.addr), 0);
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    finish(&a);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(page)) | M);
    d = migrate_pfn_to_page(dst[0]);
    expect_device_entry(p.mm, p.addr, d, false);
    ck_assert_uint_eq(sim_pte_get(child, p.addr), 0);
    ck_assert_int_eq(page_mapcount(d), 1);
    ck_assert_int_eq(page_ref_count(d), 1);
    ck_assert_int_eq(page_ref_count(page), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    sim_test_expect_pages(p.mm, p.addr, 1, 91);
    mmput(child);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* The same when the child exits instead. */
START_TEST(a_child_exiting_mid_migration_does_not_break_finalize)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    struct mm_struct *child;
    struct page *d;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 92);
    child = sim_fork(p.mm);
    ck_assert(!IS_ERR(child));
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    mmput(child);
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    finish(&a);
    d = migrate_pfn_to_page(dst[0]);
    expect_device_entry(p.mm, p.addr, d, false);
    ck_assert_int_eq(page_mapcount(d), 1);
    ck_assert_int_eq(page_ref_count(d), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    sim_test_expect_pages(p.mm, p.addr, 1, 92);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 10. a CPU thread meets a migration entry -------------------------------------------- */

struct reader {
    struct mm_struct *mm;
    unsigned long addr;
    atomic_int *finalized;
    atomic_int started, done, tid;
    int ret, saw_finalized;
    unsigned char buf[P];
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;

    atomic_store(&r->tid, sim_test_gettid());
    atomic_store(&r->started, 1);
    r->ret = sim_read(r->mm, r->addr, r->buf, P);
    r->saw_finalized = atomic_load(r->finalized);
    atomic_store(&r->done, 1);
    return NULL;
}

/* Start the reader and return once it is asleep (it can only sleep on the page lock: the
 * test holds no lock it needs but the shared mmap read lock) or has returned. */
static void start_reader(struct reader *r, pthread_t *t)
{
    ck_assert_int_eq(pthread_create(t, NULL, reader_main, r), 0);
    while (!atomic_load(&r->started))
        sched_yield();
    while (!atomic_load(&r->done) && sim_test_thread_state(atomic_load(&r->tid)) != 'S')
        sched_yield();
}

/* A CPU read of a page between migrate_vma_pages and finalize sleeps until finalize
 * (the flag is set just before it, and the reader sees it set), then meets the device
 * entry finalize installed and brings the page home through migrate_to_ram, intact. */
START_TEST(a_cpu_read_waits_for_finalize)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1];
    atomic_int finalized = 0;
    struct reader r = { 0 };
    pthread_t t;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 100);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    migrate_vma_pages(&a);
    ck_assert_uint_eq(src[0] & M, M);

    r.mm = p.mm;
    r.addr = p.addr;
    r.finalized = &finalized;
    start_reader(&r, &t);
    ck_assert_msg(!atomic_load(&r.done), "the reader did not wait for the migration");
    atomic_store(&finalized, 1);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    pthread_join(t, NULL);

    ck_assert_int_eq(r.ret, 0);
    ck_assert_int_eq(r.saw_finalized, 1);
    ck_assert_uint_eq(sim_pattern_mismatch(r.buf, P, 100), P);
    ck_assert_int_eq(dev->migrations, 1);
    ck_assert_int_eq(dev->page_frees, 1);
    sim_test_expect_pages(p.mm, p.addr, 1, 100);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* A CPU thread already waiting on the migration entry when migrate_vma_pages runs does
 * not stop the move: since Linux 5.19 the wait takes no page reference
 * (migration_entry_wait_on_locked(), "can be called without taking a reference on the
 * page"), so the page's count is still exactly the migration's and it moves. */
START_TEST(a_waiting_cpu_does_not_stop_the_move)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    struct migrate_vma a;
    unsigned long src[1], dst[1], after_pages;
    atomic_int finalized = 0;
    struct reader r = { 0 };
    pthread_t t;

    proc_init(&p, 1);
    sim_test_fill_pages(p.mm, p.addr, 1, 101);
    args_init(&a, p.vma, p.addr, p.addr + P, src, dst, dev, MIGRATE_VMA_SELECT_SYSTEM);
    ck_assert_int_eq(setup_locked(&a), 0);
    r.mm = p.mm;
    r.addr = p.addr;
    r.finalized = &finalized;
    start_reader(&r, &t);
    ck_assert_msg(!atomic_load(&r.done), "the reader did not wait for the migration");
    ck_assert_uint_eq(give_device_pages(dev, &a), 1);
    migrate_vma_pages(&a);
    after_pages = src[0];
    atomic_store(&finalized, 1);
    migrate_vma_finalize(&a);
    mmap_read_unlock(p.mm);
    pthread_join(t, NULL);

    ck_assert_int_eq(r.ret, 0);
    ck_assert_int_eq(r.saw_finalized, 1);
    ck_assert_uint_eq(sim_pattern_mismatch(r.buf, P, 101), P);
    ck_assert_msg(after_pages & M,
                  "migrate_vma_pages cleared MIGRATE because a CPU thread waits on the "
                  "migration entry (src %#lx)", after_pages);
    ck_assert_int_eq(dev->migrations, 1);
    sim_test_expect_pages(p.mm, p.addr, 1, 101);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 11. eviction by pfn ----------------------------------------------------------------- */

/* migrate_device_range over a whole testdev pagemap: the free page is 0, the page someone
 * else has locked is 0 and stays on the device, each mapped page is migrate_pfn(pfn) |
 * MIGRATE with its entry now a migration entry (announced to the process as
 * MMU_NOTIFY_CLEAR, no owner); after the driver copies into locked alloc_page() pages,
 * migrate_device_pages and _finalize leave present pages with the data, writable exactly
 * where the device entry was, and the device pages back with their driver. */
START_TEST(evicting_a_device_by_pfn)
{
    struct proc p;
    struct testdev *dev = testdev_create(4);
    struct recorder r;
    unsigned long first = dev->pgmap.range.start, src[4], dst[4];
    struct page *dA, *dB, *dC, *newp[4] = { 0 };
    unsigned long addr_of[4] = { 0 };
    int expected_recs = 0;

    proc_init(&p, 3);
    sim_test_fill_pages(p.mm, p.addr, 3, 110);
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr + P, P, PROT_READ), 0);
    dA = testdev_move_to_device(dev, p.mm, p.addr);
    dB = testdev_move_to_device(dev, p.mm, p.addr + P);
    dC = testdev_move_to_device(dev, p.mm, p.addr + 2 * P);
    expect_device_entry(p.mm, p.addr, dA, true);
    expect_device_entry(p.mm, p.addr + P, dB, false);
    addr_of[page_to_pfn(dA) - first] = p.addr;
    addr_of[page_to_pfn(dB) - first] = p.addr + P;
    lock_page(dC);
    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, p.mm), 0);

    fill_words(src, 4, SENTINEL);
    fill_words(dst, 4, 0);
    ck_assert_int_eq(migrate_device_range(src, first, 4), 0);
    for (unsigned long i = 0; i < 4; i++) {
        struct page *page = pfn_to_page(first + i);

        if (page == dA || page == dB) {
            ck_assert_uint_eq(src[i], migrate_pfn(first + i) | M);
            expect_migration_entry(p.mm, addr_of[i], page, page == dA);
            ck_assert(PageLocked(page));
            ck_assert_int_eq(page_mapcount(page), 0);
            ck_assert_int_eq(page_ref_count(page), 1);
            ck_assert_rec(&r, expected_recs, REC_START, MMU_NOTIFY_CLEAR, addr_of[i],
                          addr_of[i] + P, MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, p.mm);
            ck_assert_rec(&r, expected_recs + 1, REC_END, MMU_NOTIFY_CLEAR, addr_of[i],
                          addr_of[i] + P, MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, p.mm);
            expected_recs += 2;
        } else {
            ck_assert_uint_eq(src[i], 0);  /* the free page, and dC, locked by the test */
        }
    }
    ck_assert_int_eq(r.n, 4);
    expect_device_entry(p.mm, p.addr + 2 * P, dC, true);
    ck_assert_int_eq(page_ref_count(dC), 1);

    for (unsigned long i = 0; i < 4; i++) {
        if (!(src[i] & M))
            continue;
        newp[i] = sim_test_copy_page(migrate_pfn_to_page(src[i]));
        dst[i] = migrate_pfn(page_to_pfn(newp[i]));
    }
    migrate_device_pages(src, dst, 4);
    for (unsigned long i = 0; i < 4; i++)
        if (newp[i])
            ck_assert_uint_eq(src[i], migrate_pfn(first + i) | M);
    migrate_device_finalize(src, dst, 4);
    ck_assert_int_eq(r.n, 4);
    mmu_notifier_unregister(&r.mn, p.mm);

    for (unsigned long i = 0; i < 4; i++) {
        pte_t pte;

        if (!newp[i])
            continue;
        pte = sim_pte_get(p.mm, addr_of[i]);
        ck_assert(pte_present(pte));
        ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(newp[i]));
        ck_assert_int_eq(pte_write(pte), addr_of[i] == p.addr);
        ck_assert_int_eq(page_ref_count(newp[i]), 1);
        ck_assert_int_eq(page_mapcount(newp[i]), 1);
        ck_assert(!PageLocked(newp[i]));
    }
    ck_assert_int_eq(page_ref_count(dA), 0);
    ck_assert_int_eq(page_ref_count(dB), 0);
    ck_assert_int_eq(dev->page_frees, 2);
    ck_assert_int_eq(dev->migrations, 0);
    expect_device_entry(p.mm, p.addr + 2 * P, dC, true);
    unlock_page(dC);
    ck_assert_int_eq(sim_check_invariants(), 0);
    sim_test_expect_pages(p.mm, p.addr, 2, 110);
    ck_assert_int_eq(dev->migrations, 0);
    sim_test_expect_pages(p.mm, p.addr + 2 * P, 1, 112);
    ck_assert_int_eq(dev->migrations, 1);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- 13. fork and mprotect meet a migration entry ---------------------------------------- */

/* Evicting needs no mmap lock, so fork and mprotect can find its migration entries.  One
 * page on a testdev, evicted by pfn: its entry is a writable migration entry. */
static struct page *evicting_one(struct testdev *dev, struct proc *p, unsigned long *src,
                                 swp_entry_t *entry)
{
    struct page *d;

    proc_init(p, 1);
    sim_test_fill_pages(p->mm, p->addr, 1, 130);
    d = testdev_move_to_device(dev, p->mm, p->addr);
    src[0] = SENTINEL;
    ck_assert_int_eq(migrate_device_range(src, dev->pgmap.range.start, 1), 0);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(d)) | M);
    expect_migration_entry(p->mm, p->addr, d, true);
    *entry = entry_at(p->mm, p->addr);
    return d;
}

static struct page *finish_eviction(unsigned long *src)
{
    struct page *newp = sim_test_copy_page(migrate_pfn_to_page(src[0]));
    unsigned long dst[1] = { migrate_pfn(page_to_pfn(newp)) };

    migrate_device_pages(src, dst, 1);
    migrate_device_finalize(src, dst, 1);
    return newp;
}

/* fork copies the entry readable into the child and makes the parent's readable too (a
 * copy-on-write mapping; mm/memory.c, copy_nonpresent_pte(), Linux 6.15), keeping the
 * young and dirty bits; finalize finds both copies, and maps the new page read-only in
 * both, shared until one of them writes. */
START_TEST(fork_makes_a_writable_migration_entry_readable_in_both)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    unsigned long src[1];
    swp_entry_t before, after;
    struct mm_struct *child;
    struct page *d, *newp;
    pte_t pte;

    d = evicting_one(dev, &p, src, &before);
    child = sim_fork(p.mm);
    ck_assert(!IS_ERR(child));
    expect_migration_entry(p.mm, p.addr, d, false);
    expect_migration_entry(child, p.addr, d, false);
    after = entry_at(child, p.addr);
    ck_assert_uint_eq(entry_at(p.mm, p.addr).val, after.val);
    ck_assert_int_eq(is_migration_entry_young(after), is_migration_entry_young(before));
    ck_assert_int_eq(is_migration_entry_dirty(after), is_migration_entry_dirty(before));
    ck_assert_int_eq(page_mapcount(d), 0);     /* an entry that migrates holds no map */
    ck_assert_int_eq(page_ref_count(d), 1);

    newp = finish_eviction(src);
    ck_assert_uint_eq(src[0], migrate_pfn(page_to_pfn(d)) | M);
    for (int i = 0; i < 2; i++) {
        pte = sim_pte_get(i ? child : p.mm, p.addr);
        ck_assert(pte_present(pte));
        ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(newp));
        ck_assert(!pte_write(pte));
    }
    ck_assert_int_eq(page_mapcount(newp), 2);
    ck_assert_int_eq(page_ref_count(newp), 2);
    ck_assert_int_eq(page_ref_count(d), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    sim_test_expect_pages(child, p.addr, 1, 130);
    sim_test_fill_pages(p.mm, p.addr, 1, 131);  /* the parent writes: its own copy */
    ck_assert_uint_ne(pte_pfn(sim_pte_get(p.mm, p.addr)), page_to_pfn(newp));
    sim_test_expect_pages(child, p.addr, 1, 130);
    ck_assert_int_eq(page_mapcount(newp), 1);
    mmput(child);
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* mprotect to read-only makes a writable migration entry readable (mm/mprotect.c,
 * change_pte_range(), Linux 6.15: "just be safe and disable write"); making the range
 * writable again does not make the entry writable, and finalize maps the page read-only. */
START_TEST(mprotect_makes_a_writable_migration_entry_readable)
{
    struct proc p;
    struct testdev *dev = testdev_create(1);
    unsigned long src[1];
    swp_entry_t before;
    struct page *d, *newp;
    pte_t pte;

    d = evicting_one(dev, &p, src, &before);
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr, P, PROT_READ), 0);
    expect_migration_entry(p.mm, p.addr, d, false);
    ck_assert_int_eq(is_migration_entry_young(entry_at(p.mm, p.addr)),
                     is_migration_entry_young(before));
    ck_assert_int_eq(is_migration_entry_dirty(entry_at(p.mm, p.addr)),
                     is_migration_entry_dirty(before));
    ck_assert_int_eq(sim_mprotect(p.mm, p.addr, P, PROT_READ | PROT_WRITE), 0);
    expect_migration_entry(p.mm, p.addr, d, false);

    newp = finish_eviction(src);
    pte = sim_pte_get(p.mm, p.addr);
    ck_assert(pte_present(pte));
    ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(newp));
    ck_assert(!pte_write(pte));
    ck_assert_int_eq(sim_check_invariants(), 0);
    sim_test_expect_pages(p.mm, p.addr, 1, 130);
    sim_test_fill_pages(p.mm, p.addr, 1, 132);  /* a write fault makes it writable */
    ck_assert(pte_write(sim_pte_get(p.mm, p.addr)));
    mmput(p.mm);
    testdev_destroy(dev);
}
END_TEST

/* --- bad calls to the later steps -------------------------------------------------------- */

/* migrate_vma_pages / _finalize and migrate_device_* with missing arguments warn once
 * each and do nothing; migrate_device_range without an array is -EINVAL, silently. */
START_TEST(later_steps_refuse_missing_arguments)
{
    unsigned long warnings = sim_warn_count(), src[1] = { 0 }, dst[1] = { 0 };
    struct migrate_vma a;

    memset(&a, 0, sizeof(a));
    migrate_vma_pages(NULL);
    migrate_vma_finalize(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    migrate_vma_pages(&a);
    migrate_vma_finalize(&a);
    ck_assert_uint_eq(sim_warn_count(), warnings + 4);
    ck_assert_int_eq(migrate_device_range(NULL, 0, 1), -EINVAL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 4);
    migrate_device_pages(NULL, dst, 1);
    migrate_device_pages(src, NULL, 1);
    migrate_device_finalize(NULL, dst, 1);
    migrate_device_finalize(src, NULL, 1);
    ck_assert_uint_eq(sim_warn_count(), warnings + 8);
    /* the checker's one complaint is the warnings themselves: nothing was changed */
    ck_assert_int_eq(sim_check_invariants(), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch08 migration");
    TCase *tc = sim_tcase("refusals", 10);

    tcase_add_test(tc, setup_refuses_bad_arguments);
    tcase_add_test(tc, setup_refuses_a_bad_fault_page);
    tcase_add_test(tc, setup_refuses_an_exited_mm);
    suite_add_tcase(s, tc);
    tc = sim_tcase("collect", 10);
    tcase_add_test(tc, a_hole_is_migrate_only);
    tcase_add_test(tc, the_zero_page_is_a_hole_for_select_system);
    tcase_add_test(tc, a_writable_page_is_collected_writable);
    tcase_add_test(tc, a_read_only_page_is_collected_read_only);
    tcase_add_test(tc, shared_memory_is_not_collected);
    tcase_add_test(tc, selection_follows_flags_and_owner);
    tcase_add_test(tc, a_mixed_range_counts_exactly);
    suite_add_tcase(s, tc);
    tc = sim_tcase("invalidations", 10);
    tcase_add_test(tc, the_invalidations_carry_the_owner);
    tcase_add_test(tc, pages_without_holes_sends_nothing);
    suite_add_tcase(s, tc);
    tc = sim_tcase("moves", 10);
    tcase_add_test(tc, a_full_move_to_the_device);
    tcase_add_test(tc, a_read_only_page_moves_readable);
    tcase_add_test(tc, moving_back_with_a_fault_page);
    tcase_add_test(tc, holes_are_filled_by_migrate_vma_pages);
    tcase_add_test(tc, a_hole_in_a_read_only_vma_is_filled_readable);
    tcase_add_test(tc, a_cpu_fault_into_a_hole_wins);
    suite_add_tcase(s, tc);
    tc = sim_tcase("left behind", 10);
    tcase_add_test(tc, a_pinned_page_is_left_behind);
    tcase_add_test(tc, a_pinned_read_only_page_keeps_its_exact_entry);
    tcase_add_test(tc, a_locked_page_is_skipped);
    tcase_add_test(tc, dst_zero_leaves_the_page_where_it_was);
    suite_add_tcase(s, tc);
    tc = sim_tcase("fork", 10);
    tcase_add_test(tc, a_page_shared_with_a_child_moves_in_both);
    tcase_add_test(tc, a_child_unmapping_mid_migration_does_not_break_finalize);
    tcase_add_test(tc, a_child_exiting_mid_migration_does_not_break_finalize);
    suite_add_tcase(s, tc);
    tc = sim_tcase("threads", 20);
    tcase_add_test(tc, a_cpu_read_waits_for_finalize);
    tcase_add_test(tc, a_waiting_cpu_does_not_stop_the_move);
    suite_add_tcase(s, tc);
    tc = sim_tcase("eviction", 10);
    tcase_add_test(tc, evicting_a_device_by_pfn);
    tcase_add_test(tc, fork_makes_a_writable_migration_entry_readable_in_both);
    tcase_add_test(tc, mprotect_makes_a_writable_migration_entry_readable);
    suite_add_tcase(s, tc);
    tc = sim_tcase_unchecked("warnings", 10);
    tcase_add_test(tc, later_steps_refuse_missing_arguments);
    suite_add_tcase(s, tc);
    return s;
}
