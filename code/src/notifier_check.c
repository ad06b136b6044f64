/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum d6d324aad214): edit the chapter, not this file. */
#line 1601 "chapters/04-interval-notifiers.nw"
#include "hmmwb.h"

#line 1562 "chapters/04-interval-notifiers.nw"
int sim_check_notifiers(void)
{
    int bad = 0;

    pthread_mutex_lock(&sim_mm_list_lock);
    for (struct mm_struct *mm = sim_mm_list; mm; mm = mm->sim_next) {
        struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(mm);

        if (!subs)
            continue;
        pthread_mutex_lock(&subs->lock);
        if (subs->active_invalidate_ranges || (subs->invalidate_seq & 1) ||
            subs->deferred_list)
            bad += sim_invariant_failed("mm %p: notifiers not at rest (seq %lu, active %lu)",
                                        (void *)mm, subs->invalidate_seq,
                                        subs->active_invalidate_ranges);
        bad += interval_tree_check(&subs->itree);
        pthread_mutex_unlock(&subs->lock);
    }
    pthread_mutex_unlock(&sim_mm_list_lock);
    return bad;
}
