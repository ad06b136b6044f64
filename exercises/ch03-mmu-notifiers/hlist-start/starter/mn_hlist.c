/* Exercise: starting an invalidation that may fail (chapter 3).  Replace the body. */
#include "hmmwb.h"

int mn_hlist_invalidate_range_start(struct mmu_notifier_subscriptions *subs,
                                    struct mmu_notifier_range *range)
{
    /* Call every subscriber's invalidate_range_start; handle refusals. */
    (void)subs;
    (void)range;
    return 0;
}
