/* Exercise: the device's invalidate callback (chapter 6).  Replace the body. */
#include <stddef.h>
#include "hmmwb.h"

bool dmirror_interval_invalidate(struct mmu_interval_notifier *mni,
                                 const struct mmu_notifier_range *range,
                                 unsigned long cur_seq)
{
    /* Wrong on purpose: the device keeps mapping what the CPU has taken away. */
    mmu_interval_set_seq(mni, cur_seq);
    (void)range;
    return true;
}
