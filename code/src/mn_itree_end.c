/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum e8c80f6b8cee): edit the chapter, not this file. */
#line 1549 "chapters/04-interval-notifiers.nw"
#include "hmmwb.h"

#line 571 "chapters/04-interval-notifiers.nw"
void mn_itree_inv_end(struct mmu_notifier_subscriptions *subs)
{
    struct mmu_interval_notifier *sub, *next;

    pthread_mutex_lock(&subs->lock);
    if (--subs->active_invalidate_ranges || !(subs->invalidate_seq & 1)) {
        pthread_mutex_unlock(&subs->lock);
        return;
    }
    subs->invalidate_seq++;
    sim_trace_state("seq = %lu", subs->invalidate_seq);
    for (sub = subs->deferred_list; sub; sub = next) {
        next = sub->deferred_next;
        if (sub->interval_tree.in_tree)
            interval_tree_remove(&sub->interval_tree, &subs->itree);
        else
            interval_tree_insert(&sub->interval_tree, &subs->itree);
        sub->deferred_next = NULL;
    }
    subs->deferred_list = NULL;
    pthread_cond_broadcast(&subs->wq);
    pthread_mutex_unlock(&subs->lock);
}
