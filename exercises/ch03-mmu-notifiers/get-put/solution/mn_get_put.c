/* Generated from chapters/03-mmu-notifiers.nw by make tangle (sum 20e949447102): edit the chapter, not this file. */
#line 906 "chapters/03-mmu-notifiers.nw"
#include "hmmwb.h"

#line 353 "chapters/03-mmu-notifiers.nw"
static struct mmu_notifier *sim_alloc_and_register(const struct mmu_notifier_ops *ops,
                                                   struct mm_struct *mm)
{
    struct mmu_notifier *sub = ops->alloc_notifier(mm);
    int ret;

    if (IS_ERR_OR_NULL(sub))
        return sub ? sub : ERR_PTR(-ENOMEM);
    sub->ops = ops;
    ret = __mmu_notifier_register(sub, mm);
    if (ret) {
        ops->free_notifier(sub);
        return ERR_PTR(ret);
    }
    return sub;
}
#line 310 "chapters/03-mmu-notifiers.nw"
static struct mmu_notifier *sim_find_get(struct mmu_notifier_subscriptions *subs,
                                         const struct mmu_notifier_ops *ops)
{
    struct mmu_notifier *found = NULL;

    if (!subs)
        return NULL;
    pthread_rwlock_rdlock(&subs->list_lock);
    pthread_mutex_lock(&subs->users_lock);
    for (struct mmu_notifier *sub = subs->list; sub && !found; sub = sub->next) {
        if (sub->ops == ops && sub->users > 0) {
            sub->users++;
            found = sub;
        }
    }
    pthread_mutex_unlock(&subs->users_lock);
    pthread_rwlock_unlock(&subs->list_lock);
    return found;
}

struct mmu_notifier *mmu_notifier_get(const struct mmu_notifier_ops *ops,
                                      struct mm_struct *mm)
{
    struct mmu_notifier *sub;

    if (!ops || !ops->alloc_notifier || !ops->free_notifier || !mm)
        return ERR_PTR(-EINVAL);
    if (!mmget_not_zero(mm))
        return ERR_PTR(-EINVAL);
    mmap_write_lock(mm);
    sub = sim_find_get(mm->notifier_subscriptions, ops);
    if (!sub)
        sub = sim_alloc_and_register(ops, mm);
    mmap_write_unlock(mm);
    mmput(mm);
    return sub;
}
#line 381 "chapters/03-mmu-notifiers.nw"
void mmu_notifier_put(struct mmu_notifier *sub)
{
    struct mmu_notifier_subscriptions *subs;
    bool last;

    if (SIM_WARN(!sub || !sub->mm, "not a registered subscriber"))
        return;
    subs = sub->mm->notifier_subscriptions;
    pthread_mutex_lock(&subs->users_lock);
    if (SIM_WARN(sub->users == 0, "put without a reference")) {
        pthread_mutex_unlock(&subs->users_lock);
        return;
    }
    last = --sub->users == 0;
    pthread_mutex_unlock(&subs->users_lock);
    if (last)
        mn_subscription_free(sub);
}
