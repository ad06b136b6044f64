/* Generated from chapters/02-address-spaces.nw by notangle (make tangle): edit the chapter, not this file. */
#line 710 "chapters/02-address-spaces.nw"
#ifndef HMMWB_MMU_NOTIFIER_H
#define HMMWB_MMU_NOTIFIER_H

#include "kernel.h"

struct mm_struct;

#line 621 "chapters/02-address-spaces.nw"
enum mmu_notifier_event {
    MMU_NOTIFY_UNMAP = 0,            /* munmap, or mremap moving the range */
    MMU_NOTIFY_CLEAR,                /* entries cleared: zap, COW, ... */
    MMU_NOTIFY_PROTECTION_VMA,       /* mprotect of whole VMAs */
    MMU_NOTIFY_PROTECTION_PAGE,      /* per-page write-protect, e.g. fork */
    MMU_NOTIFY_SOFT_DIRTY,           /* soft-dirty tracking reset */
    MMU_NOTIFY_RELEASE,              /* the address space is going away */
    MMU_NOTIFY_MIGRATE,              /* migrate_vma collecting pages */
    MMU_NOTIFY_EXCLUSIVE,            /* conversion to a device-exclusive entry */
};

#define MMU_NOTIFIER_RANGE_BLOCKABLE (1 << 0)

struct mmu_notifier_range {
    struct mm_struct *mm;
    unsigned long start;
    unsigned long end;               /* exclusive */
    unsigned flags;
    enum mmu_notifier_event event;
    void *owner;                     /* meaningful for MIGRATE and EXCLUSIVE */
};

#line 719 "chapters/02-address-spaces.nw"
void mmu_notifier_range_init(struct mmu_notifier_range *range,
                             enum mmu_notifier_event event, unsigned flags,
                             struct mm_struct *mm, unsigned long start, unsigned long end);
void mmu_notifier_range_init_owner(struct mmu_notifier_range *range,
                                   enum mmu_notifier_event event, unsigned flags,
                                   struct mm_struct *mm, unsigned long start,
                                   unsigned long end, void *owner);
bool mmu_notifier_range_blockable(const struct mmu_notifier_range *range);
void mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range);
void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range);
void mmu_notifier_release(struct mm_struct *mm);


#endif
