/* Generated from chapters/03-mmu-notifiers.nw by make tangle (sum 31195bd7c63e): edit the chapter, not this file. */
#line 898 "chapters/03-mmu-notifiers.nw"
#include "hmmwb.h"

#line 556 "chapters/03-mmu-notifiers.nw"
int mn_hlist_invalidate_range_start(struct mmu_notifier_subscriptions *subs,
                                    struct mmu_notifier_range *range)
{
    struct mmu_notifier *sub, *failed = NULL;
    int ret = 0;

    pthread_rwlock_rdlock(&subs->list_lock);
    for (sub = subs->list; sub && !failed; sub = sub->next) {
        if (!sub->ops->invalidate_range_start)
            continue;
        ret = sub->ops->invalidate_range_start(sub, range);
        if (ret && !SIM_WARN(mmu_notifier_range_blockable(range),
                             "%p failed a blockable invalidation", (void *)sub))
            failed = sub;
        else
            ret = 0;
    }
    for (sub = subs->list; failed && sub != failed; sub = sub->next)
        if (sub->ops->invalidate_range_end)
            sub->ops->invalidate_range_end(sub, range);
    pthread_rwlock_unlock(&subs->list_lock);
    return ret;
}
