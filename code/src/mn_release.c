/* Generated from chapters/03-mmu-notifiers.nw by make tangle (sum 5420f77b0b3a): edit the chapter, not this file. */
#line 916 "chapters/03-mmu-notifiers.nw"
#include "hmmwb.h"

#line 657 "chapters/03-mmu-notifiers.nw"
void __mmu_notifier_release(struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(mm);

#line 1000 "chapters/04-interval-notifiers.nw"
    if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
        mn_itree_release(subs, mm);
#line 662 "chapters/03-mmu-notifiers.nw"
    pthread_rwlock_rdlock(&subs->list_lock);
    for (struct mmu_notifier *sub = subs->list; sub; sub = sub->next)
        if (sub->ops->release)
            sub->ops->release(sub, mm);
    pthread_rwlock_unlock(&subs->list_lock);
    pthread_rwlock_wrlock(&subs->list_lock);
    while (subs->list)
        sim_hlist_del_init(subs->list);
    pthread_rwlock_unlock(&subs->list_lock);
}
