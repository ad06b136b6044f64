/* Generated from chapters/08-migration.nw by make tangle (sum db5a1859a9d4): edit the chapter, not this file. */
#line 1404 "chapters/08-migration.nw"
#ifndef HMMWB_MIGRATE_H
#define HMMWB_MIGRATE_H

#include "memremap.h"

#line 42 "chapters/08-migration.nw"
static inline swp_entry_t make_readable_migration_entry(unsigned long pfn)
{
    return swp_entry(SIM_SWP_MIGRATION_READ, pfn);
}

static inline swp_entry_t make_writable_migration_entry(unsigned long pfn)
{
    return swp_entry(SIM_SWP_MIGRATION_WRITE, pfn);
}

static inline bool is_migration_entry(swp_entry_t entry)
{
    return swp_type(entry) == SIM_SWP_MIGRATION_READ ||
           swp_type(entry) == SIM_SWP_MIGRATION_WRITE;
}

static inline bool is_writable_migration_entry(swp_entry_t entry)
{
    return swp_type(entry) == SIM_SWP_MIGRATION_WRITE;
}
#line 71 "chapters/08-migration.nw"
#define SIM_SWP_MIG_YOUNG (1UL << 6)
#define SIM_SWP_MIG_DIRTY (1UL << 7)

static inline swp_entry_t make_migration_entry_young(swp_entry_t entry)
{
    return (swp_entry_t){ entry.val | SIM_SWP_MIG_YOUNG };
}

static inline swp_entry_t make_migration_entry_dirty(swp_entry_t entry)
{
    return (swp_entry_t){ entry.val | SIM_SWP_MIG_DIRTY };
}

static inline bool is_migration_entry_young(swp_entry_t entry)
{
    return entry.val & SIM_SWP_MIG_YOUNG;
}

static inline bool is_migration_entry_dirty(swp_entry_t entry)
{
    return entry.val & SIM_SWP_MIG_DIRTY;
}

static inline swp_entry_t sim_migration_entry_readable(swp_entry_t entry)
{
    return (swp_entry_t){ make_readable_migration_entry(swp_offset_pfn(entry)).val |
                          (entry.val & (SIM_SWP_MIG_YOUNG | SIM_SWP_MIG_DIRTY)) };
}

/* The migration entry that stands for pte, a present entry or a device-private one. */
static inline swp_entry_t sim_migration_entry_for(pte_t pte, unsigned long pfn, bool write)
{
    swp_entry_t entry = write ? make_writable_migration_entry(pfn)
                              : make_readable_migration_entry(pfn);

    if (pte_present(pte) && (pte & _PAGE_ACCESSED))
        entry = make_migration_entry_young(entry);
    if (pte_present(pte) && pte_dirty(pte))
        entry = make_migration_entry_dirty(entry);
    return entry;
}
#line 227 "chapters/08-migration.nw"
#define MIGRATE_PFN_VALID (1UL << 0)
#define MIGRATE_PFN_MIGRATE (1UL << 1)
#define MIGRATE_PFN_WRITE (1UL << 3)
#define MIGRATE_PFN_SHIFT 6

static inline struct page *migrate_pfn_to_page(unsigned long mpfn)
{
    if (!(mpfn & MIGRATE_PFN_VALID))
        return NULL;
    return pfn_to_page(mpfn >> MIGRATE_PFN_SHIFT);
}

static inline unsigned long migrate_pfn(unsigned long pfn)
{
    return (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID;
}
#line 251 "chapters/08-migration.nw"
enum migrate_vma_direction {
    MIGRATE_VMA_SELECT_SYSTEM = 1 << 0,
    MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1,
};

struct migrate_vma {
    struct vm_area_struct *vma;
    unsigned long *dst;
    unsigned long *src;
    unsigned long cpages;        /* out: pages collected and still moving */
    unsigned long npages;        /* out: pages in the range */
    unsigned long start;
    unsigned long end;
    void *pgmap_owner;           /* the caller's owner cookie */
    unsigned long flags;         /* MIGRATE_VMA_SELECT_* */
    struct page *fault_page;     /* set by migrate_to_ram handlers only */
    /* simulation: the history of this chapter (the mirror's history_migrate_before_5_9) */
    bool sim_notify_without_owner;
};
#line 529 "chapters/08-migration.nw"
struct sim_rmap_walk {
    unsigned long first, last;       /* pfns to look for, inclusive */
    void (*visit)(struct sim_rmap_walk *w, struct mm_struct *mm, unsigned long addr,
                  pte_t *ptep);
    void *ctx;
};

void sim_rmap_walk(struct sim_rmap_walk *w);

#line 1414 "chapters/08-migration.nw"
int migrate_vma_setup(struct migrate_vma *args);
void migrate_vma_pages(struct migrate_vma *migrate);
void migrate_vma_finalize(struct migrate_vma *migrate);
int migrate_device_range(unsigned long *src_pfns, unsigned long start,
                         unsigned long npages);
void migrate_device_pages(unsigned long *src_pfns, unsigned long *dst_pfns,
                          unsigned long npages);
void migrate_device_finalize(unsigned long *src_pfns, unsigned long *dst_pfns,
                             unsigned long npages);

unsigned long migrate_vma_select(const struct migrate_vma *migrate, pte_t pte,
                                 struct page **pagep);
bool migrate_vma_check_page(struct page *page, struct page *fault_page);
vm_fault_t sim_migration_entry_wait(struct vm_fault *vmf);
void sim_remove_migration_pte(pte_t *ptep, struct page *old, struct page *new);

#endif
