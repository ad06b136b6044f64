/* Generated from chapters/02-address-spaces.nw by notangle (make tangle): edit the chapter, not this file. */
#line 739 "chapters/02-address-spaces.nw"
#include "hmmwb.h"


#line 648 "chapters/02-address-spaces.nw"
void mmu_notifier_range_init(struct mmu_notifier_range *range,
                             enum mmu_notifier_event event, unsigned flags,
                             struct mm_struct *mm, unsigned long start, unsigned long end)
{
    range->mm = mm;
    range->start = start;
    range->end = end;
    range->flags = flags;
    range->event = event;
    range->owner = NULL;
}

void mmu_notifier_range_init_owner(struct mmu_notifier_range *range,
                                   enum mmu_notifier_event event, unsigned flags,
                                   struct mm_struct *mm, unsigned long start,
                                   unsigned long end, void *owner)
{
    mmu_notifier_range_init(range, event, flags, mm, start, end);
    range->owner = owner;
}

bool mmu_notifier_range_blockable(const struct mmu_notifier_range *range)
{
    return range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE;
}
#line 681 "chapters/02-address-spaces.nw"
void mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
    range->flags |= MMU_NOTIFIER_RANGE_BLOCKABLE;

}

void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
    (void)range;

}

void mmu_notifier_release(struct mm_struct *mm)
{
    (void)mm;

}
