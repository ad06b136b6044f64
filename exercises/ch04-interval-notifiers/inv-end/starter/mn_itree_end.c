/* Exercise: ending an invalidation (chapter 4).  Replace the body. */
#include "hmmwb.h"

void mn_itree_inv_end(struct mmu_notifier_subscriptions *subs)
{
    /* Finish one invalidation; the last one makes the sequence even, applies the
     * deferred inserts and removes, and wakes the waiters. */
    pthread_mutex_lock(&subs->lock);
    subs->active_invalidate_ranges--;
    pthread_mutex_unlock(&subs->lock);
}
