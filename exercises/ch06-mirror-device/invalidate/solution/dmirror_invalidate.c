/* Generated from chapters/06-mirror-device.nw by make tangle (sum dc0f45812062): edit the chapter, not this file. */
#line 964 "chapters/06-mirror-device.nw"
#include <stddef.h>
#include "hmmwb.h"

#line 331 "chapters/06-mirror-device.nw"
bool dmirror_interval_invalidate(struct mmu_interval_notifier *mni,
                                 const struct mmu_notifier_range *range,
                                 unsigned long cur_seq)
{
    struct dmirror *dmirror = (struct dmirror *)((char *)mni - offsetof(struct dmirror,
                                                                        notifier));

    if (range->event == MMU_NOTIFY_MIGRATE && range->owner == dmirror->mdevice) {
        sim_trace_msg("DEVICE", "own migration: keep entries");
        return true;
    }
    if (mmu_notifier_range_blockable(range))
        pthread_mutex_lock(&dmirror->mutex);
    else if (pthread_mutex_trylock(&dmirror->mutex))
        return false;
    mmu_interval_set_seq(mni, cur_seq);
    dpt_erase_range(&dmirror->pt, range->start >> PAGE_SHIFT, range->end >> PAGE_SHIFT);
    sim_trace_msg("DEVICE", "erase [%#lx, %#lx)", range->start, range->end);
    pthread_mutex_unlock(&dmirror->mutex);
    return true;
}

