/* Generated from chapters/02-address-spaces.nw by notangle (make tangle): edit the chapter, not this file. */
#line 739 "chapters/02-address-spaces.nw"
#include "hmmwb.h"

#line 699 "chapters/03-mmu-notifiers.nw"
#include <stdlib.h>

#line 122 "chapters/03-mmu-notifiers.nw"
static struct mmu_notifier_subscriptions *sim_subscriptions_alloc(void)
{
    struct mmu_notifier_subscriptions *subs = calloc(1, sizeof(*subs));

    if (!subs)
        return NULL;
    pthread_rwlock_init(&subs->list_lock, NULL);

    return subs;
}

void __mmu_notifier_subscriptions_destroy(struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

    if (!subs)
        return;
    SIM_WARN(subs->list, "subscribers left on a dead mm");

    pthread_rwlock_destroy(&subs->list_lock);
    free(subs);
    mm->notifier_subscriptions = NULL;
}
#line 200 "chapters/03-mmu-notifiers.nw"
int __mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

    if (!sim_mm_alive(mm))
        return -EINVAL;
    if (!subs) {
        subs = sim_subscriptions_alloc();
        if (!subs)
            return -ENOMEM;
        __atomic_store_n(&mm->notifier_subscriptions, subs, __ATOMIC_RELEASE);
    }
    if (!sub)
        return 0;
    mmgrab(mm);
    sub->mm = mm;
    sub->users = 1;
    pthread_rwlock_wrlock(&subs->list_lock);
    sim_hlist_add_head(sub, &subs->list);
    pthread_rwlock_unlock(&subs->list_lock);
    return 0;
}
#line 227 "chapters/03-mmu-notifiers.nw"
int mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm)
{
    int ret;

    if (!sub || !sub->ops || !mm)
        return -EINVAL;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_write_lock(mm);
    ret = __mmu_notifier_register(sub, mm);
    mmap_write_unlock(mm);
    mmput(mm);
    return ret;
}
#line 257 "chapters/03-mmu-notifiers.nw"
void mmu_notifier_unregister(struct mmu_notifier *sub, struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs;
    bool linked;

    if (SIM_WARN(!sub || !mm || sub->mm != mm, "not a subscriber of this mm"))
        return;
    subs = mm->notifier_subscriptions;
    pthread_rwlock_rdlock(&subs->list_lock);
    linked = sub->pprev != NULL;
    if (linked && sub->ops->release)
        sub->ops->release(sub, mm);
    pthread_rwlock_unlock(&subs->list_lock);
    pthread_rwlock_wrlock(&subs->list_lock);
    sim_hlist_del_init(sub);
    pthread_rwlock_unlock(&subs->list_lock);
    sub->mm = NULL;
    mmdrop(mm);
}
#line 396 "chapters/03-mmu-notifiers.nw"
int __mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(range->mm);
    int ret = 0;


    ret = mn_hlist_invalidate_range_start(subs, range);

    return ret;
}
#line 457 "chapters/03-mmu-notifiers.nw"
void __mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(range->mm);


    pthread_rwlock_rdlock(&subs->list_lock);
    for (struct mmu_notifier *sub = subs->list; sub; sub = sub->next)
        if (sub->ops->invalidate_range_end)
            sub->ops->invalidate_range_end(sub, range);
    pthread_rwlock_unlock(&subs->list_lock);
}
#line 479 "chapters/03-mmu-notifiers.nw"
int mmu_notifier_invalidate_range_start_nonblock(struct mmu_notifier_range *range)
{
    range->flags &= ~MMU_NOTIFIER_RANGE_BLOCKABLE;
    if (!mm_has_notifiers(range->mm))
        return 0;
    return __mmu_notifier_invalidate_range_start(range);
}
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
#line 391 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(range->mm))
        __mmu_notifier_invalidate_range_start(range);
#line 685 "chapters/02-address-spaces.nw"
}

void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
    (void)range;
#line 452 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(range->mm))
        __mmu_notifier_invalidate_range_end(range);
#line 691 "chapters/02-address-spaces.nw"
}

void mmu_notifier_release(struct mm_struct *mm)
{
    (void)mm;
#line 499 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(mm))
        __mmu_notifier_release(mm);
#line 697 "chapters/02-address-spaces.nw"
}
