#include <string.h>
#include "hmmwb.h"

#define SIM_MAX_REMOTE 1024

static pthread_mutex_t sim_remote_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long sim_remote[SIM_MAX_REMOTE];
static int sim_nr_remote;

static bool sim_migrate_mark_remote(unsigned long pfn)
{
    bool room;

    pthread_mutex_lock(&sim_remote_lock);
    room = !SIM_WARN(sim_nr_remote == SIM_MAX_REMOTE, "too many pages migrating");
    if (room)
        sim_remote[sim_nr_remote++] = pfn;
    pthread_mutex_unlock(&sim_remote_lock);
    return room;
}

static bool sim_migrate_take_remote(unsigned long pfn)
{
    bool found = false;

    pthread_mutex_lock(&sim_remote_lock);
    for (int i = 0; i < sim_nr_remote && !found; i++) {
        if (sim_remote[i] == pfn) {
            sim_remote[i] = sim_remote[--sim_nr_remote];
            found = true;
        }
    }
    pthread_mutex_unlock(&sim_remote_lock);
    return found;
}
static void sim_migrate_notify_init(struct mmu_notifier_range *range,
                                    const struct migrate_vma *migrate)
{
    if (migrate->sim_notify_without_owner)
        mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, migrate->vma->vm_mm,
                                migrate->start, migrate->end);
    else
        mmu_notifier_range_init_owner(range, MMU_NOTIFY_MIGRATE, 0, migrate->vma->vm_mm,
                                      migrate->start, migrate->end, migrate->pgmap_owner);
}
static int migrate_vma_check_args(struct migrate_vma *args)
{
    long nr_pages;

    if (!args)
        return -EINVAL;
    nr_pages = (long)(args->end - args->start) >> PAGE_SHIFT;
    args->start &= PAGE_MASK;
    args->end &= PAGE_MASK;
    if (!args->vma || (args->vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) ||
        !sim_mm_alive(args->vma->vm_mm))
        return -EINVAL;
    if (nr_pages <= 0)
        return -EINVAL;
    if (args->start < args->vma->vm_start || args->start >= args->vma->vm_end)
        return -EINVAL;
    if (args->end <= args->vma->vm_start || args->end > args->vma->vm_end)
        return -EINVAL;
    if (!args->src || !args->dst)
        return -EINVAL;
    if (args->fault_page && (!is_device_private_page(args->fault_page) ||
                             !PageLocked(args->fault_page)))
        return -EINVAL;
    return 0;
}
#define SIM_RMAP_MAX_HITS 16

struct sim_rmap_hits {
    int n;
    struct mm_struct *mm[SIM_RMAP_MAX_HITS];
    unsigned long addr[SIM_RMAP_MAX_HITS];
};

static bool sim_maps_page(pte_t pte, unsigned long pfn)
{
    if (pte_present(pte))
        return pte_pfn(pte) == pfn;
    return is_swap_pte(pte) && is_device_private_entry(pte_to_swp_entry(pte)) &&
           swp_offset_pfn(pte_to_swp_entry(pte)) == pfn;
}

static void sim_record_mapping(struct sim_rmap_walk *w, struct mm_struct *mm,
                               unsigned long addr, pte_t *ptep)
{
    struct sim_rmap_hits *hits = w->ctx;

    if (!sim_maps_page(*ptep, w->first) || hits->n == SIM_RMAP_MAX_HITS)
        return;
    mmgrab(mm);
    hits->mm[hits->n] = mm;
    hits->addr[hits->n++] = addr;
}
static void sim_try_to_migrate_one(struct page *page, struct mm_struct *mm,
                                   unsigned long addr)
{
    struct mmu_notifier_range range;
    pte_t *ptep;

    if (!mmget_not_zero(mm))
        return;
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep && sim_maps_page(*ptep, page_to_pfn(page))) {
        bool write = pte_present(*ptep) ? pte_write(*ptep)
                                        : is_writable_device_private_entry(
                                              pte_to_swp_entry(*ptep));

        *ptep = swp_entry_to_pte(sim_migration_entry_for(*ptep, page_to_pfn(page), write));
        atomic_fetch_sub(&page->_mapcount, 1);
        put_page(page);
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    mmu_notifier_invalidate_range_end(&range);
    mmput(mm);
}

static void sim_try_to_migrate(struct page *page)
{
    struct sim_rmap_hits hits = { 0 };
    struct sim_rmap_walk w = { page_to_pfn(page), page_to_pfn(page), sim_record_mapping,
                               &hits };
    bool convert;

    sim_rmap_walk(&w);
    convert = hits.n && sim_migrate_mark_remote(page_to_pfn(page));
    for (int i = 0; i < hits.n; i++) {
        if (convert)
            sim_try_to_migrate_one(page, hits.mm[i], hits.addr[i]);
        mmdrop(hits.mm[i]);
    }
}
static void sim_remove_remote_pte(struct sim_rmap_walk *w, struct mm_struct *mm,
                                  unsigned long addr, pte_t *ptep)
{
    struct page **pages = w->ctx;

    sim_remove_migration_pte(ptep, pages[0], pages[1]);
    (void)mm;
    (void)addr;
}

static void remove_migration_ptes(struct page *old, struct page *new,
                                  struct migrate_vma *migrate, unsigned long i)
{
    if (migrate) {
        struct mm_struct *mm = migrate->vma->vm_mm;
        pte_t *ptep;

        pthread_mutex_lock(&mm->page_table_lock);
        ptep = sim_pte_offset(mm, migrate->start + (i << PAGE_SHIFT), false);
        if (ptep)
            sim_remove_migration_pte(ptep, old, new);
        pthread_mutex_unlock(&mm->page_table_lock);
    }
    if (sim_migrate_take_remote(page_to_pfn(old))) {
        struct page *pages[2] = { old, new };
        struct sim_rmap_walk w = { page_to_pfn(old), page_to_pfn(old),
                                   sim_remove_remote_pte, pages };

        sim_rmap_walk(&w);
    }
}
static void migrate_restore(struct page *page, struct migrate_vma *migrate,
                            unsigned long i, struct page *fault_page)
{
    remove_migration_ptes(page, page, migrate, i);
    if (page != fault_page)
        unlock_page(page);
    put_page(page);
}
static unsigned long migrate_vma_take(struct migrate_vma *migrate, pte_t *ptep,
                                      unsigned long mpfn, struct page *page)
{
    get_page(page);
    if (page != migrate->fault_page && !trylock_page(page)) {
        put_page(page);
        return 0;
    }
    *ptep = swp_entry_to_pte(sim_migration_entry_for(*ptep, page_to_pfn(page),
                                                     mpfn & MIGRATE_PFN_WRITE));
    atomic_fetch_sub(&page->_mapcount, 1);
    put_page(page);
    migrate->cpages++;
    return mpfn;
}
static void migrate_vma_collect(struct migrate_vma *migrate)
{
    struct mm_struct *mm = migrate->vma->vm_mm;
    struct mmu_notifier_range range;

    sim_migrate_notify_init(&range, migrate);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    for (unsigned long addr = migrate->start; addr < migrate->end; addr += PAGE_SIZE) {
        pte_t *ptep = sim_pte_offset(mm, addr, false);
        struct page *page;
        unsigned long mpfn = migrate_vma_select(migrate, ptep ? *ptep : 0, &page);

        if (mpfn && !page)
            migrate->cpages++;
        else if (mpfn)
            mpfn = migrate_vma_take(migrate, ptep, mpfn, page);
        migrate->dst[migrate->npages] = 0;
        migrate->src[migrate->npages++] = mpfn;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    sim_trace_event("collect [%#lx, %#lx): %lu of %lu pages", migrate->start, migrate->end,
                    migrate->cpages, migrate->npages);
    mmu_notifier_invalidate_range_end(&range);
}
static void migrate_device_unmap(unsigned long *src, unsigned long npages,
                                 struct migrate_vma *migrate)
{
    struct page *fault_page = migrate ? migrate->fault_page : NULL;

    for (unsigned long i = 0; i < npages; i++) {
        struct page *page = migrate_pfn_to_page(src[i]);

        if (!page || !(src[i] & MIGRATE_PFN_MIGRATE))
            continue;
        if (page_mapcount(page))
            sim_try_to_migrate(page);
        if (migrate_vma_check_page(page, fault_page))
            continue;
        migrate_restore(page, migrate, i, fault_page);
        src[i] = 0;
        if (migrate)
            migrate->cpages--;
    }
}

static void migrate_vma_unmap(struct migrate_vma *migrate)
{
    migrate_device_unmap(migrate->src, migrate->npages, migrate);
}
int migrate_vma_setup(struct migrate_vma *args)
{
    int ret = migrate_vma_check_args(args);

    if (ret)
        return ret;
    memset(args->src, 0, sizeof(*args->src) * ((args->end - args->start) >> PAGE_SHIFT));
    args->cpages = 0;
    args->npages = 0;
    migrate_vma_collect(args);
    if (args->cpages)
        migrate_vma_unmap(args);
    return 0;
}
static bool migrate_vma_insert_page(struct migrate_vma *migrate, unsigned long addr,
                                    struct page *page)
{
    struct vm_area_struct *vma = migrate->vma;
    struct mm_struct *mm = vma->vm_mm;
    bool write = vma->vm_flags & VM_WRITE, done = false;
    pte_t *ptep;

    if (vma->vm_shmem)
        return false;
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, true);
    if (ptep && (pte_none(*ptep) ||
                 (pte_present(*ptep) && is_zero_pfn(pte_pfn(*ptep))))) {
        if (is_device_private_page(page))
            *ptep = sim_device_private_pte(page_to_pfn(page), write);
        else
            *ptep = pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_ACCESSED |
                                                   (write ? _PAGE_RW | _PAGE_DIRTY : 0));
        get_page(page);
        atomic_fetch_add(&page->_mapcount, 1);
        done = true;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    return done;
}
static void migrate_device_commit(unsigned long *src, unsigned long *dst,
                                  unsigned long npages, struct migrate_vma *migrate)
{
    struct mmu_notifier_range range;
    bool notified = false;

    for (unsigned long i = 0; i < npages; i++) {
        struct page *newpage = migrate_pfn_to_page(dst[i]);
        struct page *page = migrate_pfn_to_page(src[i]);
        unsigned long addr = migrate ? migrate->start + (i << PAGE_SHIFT) : 0;

        if (!newpage) {
            src[i] &= ~MIGRATE_PFN_MIGRATE;
        } else if (!page) {
            if (!(src[i] & MIGRATE_PFN_MIGRATE))
                continue;
            if (migrate && !notified) {
                notified = true;
                sim_migrate_notify_init(&range, migrate);
                range.start = addr;
                mmu_notifier_invalidate_range_start(&range);
            }
            if (!migrate || !migrate_vma_insert_page(migrate, addr, newpage))
                src[i] &= ~MIGRATE_PFN_MIGRATE;
        } else if (!migrate_vma_check_page(page, migrate ? migrate->fault_page : NULL)) {
            src[i] &= ~MIGRATE_PFN_MIGRATE;
        }
    }
    if (notified)
        mmu_notifier_invalidate_range_end(&range);
}

void migrate_vma_pages(struct migrate_vma *migrate)
{
    if (SIM_WARN(!migrate || !migrate->src || !migrate->dst, "bad migrate_vma"))
        return;
    migrate_device_commit(migrate->src, migrate->dst, migrate->npages, migrate);
}
static void migrate_device_done(unsigned long *src, unsigned long *dst,
                                unsigned long npages, struct migrate_vma *migrate)
{
    struct page *fault_page = migrate ? migrate->fault_page : NULL;

    for (unsigned long i = 0; i < npages; i++) {
        struct page *page = migrate_pfn_to_page(src[i]);
        struct page *newpage = migrate_pfn_to_page(dst[i]);

        if (page && (!(src[i] & MIGRATE_PFN_MIGRATE) || !newpage)) {
            migrate_restore(page, migrate, i, fault_page);
        } else if (page) {
            remove_migration_ptes(page, newpage, migrate, i);
            if (page != fault_page)
                unlock_page(page);
            put_page(page);
        }
        if (newpage) {
            unlock_page(newpage);
            put_page(newpage);
        }
    }
}

void migrate_vma_finalize(struct migrate_vma *migrate)
{
    if (SIM_WARN(!migrate || !migrate->src || !migrate->dst, "bad migrate_vma"))
        return;
    migrate_device_done(migrate->src, migrate->dst, migrate->npages, migrate);
    sim_trace_event("finalize [%#lx, %#lx)", migrate->start, migrate->end);
}
int migrate_device_range(unsigned long *src_pfns, unsigned long start,
                         unsigned long npages)
{
    if (!src_pfns)
        return -EINVAL;
    for (unsigned long i = 0; i < npages; i++) {
        struct page *page = pfn_to_page(start + i);
        int ref = page ? page_ref_count(page) : 0;

        src_pfns[i] = 0;
        while (ref > 0 && !atomic_compare_exchange_weak(&page->_refcount, &ref, ref + 1))
            ;
        if (ref <= 0)
            continue;
        if (!trylock_page(page)) {
            put_page(page);
            continue;
        }
        src_pfns[i] = migrate_pfn(start + i) | MIGRATE_PFN_MIGRATE;
    }
    migrate_device_unmap(src_pfns, npages, NULL);
    return 0;
}

void migrate_device_pages(unsigned long *src_pfns, unsigned long *dst_pfns,
                          unsigned long npages)
{
    if (!SIM_WARN(!src_pfns || !dst_pfns, "bad arrays"))
        migrate_device_commit(src_pfns, dst_pfns, npages, NULL);
}

void migrate_device_finalize(unsigned long *src_pfns, unsigned long *dst_pfns,
                             unsigned long npages)
{
    if (!SIM_WARN(!src_pfns || !dst_pfns, "bad arrays"))
        migrate_device_done(src_pfns, dst_pfns, npages, NULL);
}
