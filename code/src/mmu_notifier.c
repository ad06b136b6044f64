/* Generated from chapters/02-address-spaces.nw by make tangle (sum 973884ac488a): edit the chapter, not this file. */
#line 833 "chapters/02-address-spaces.nw"
#include "hmmwb.h"

#line 881 "chapters/03-mmu-notifiers.nw"
#include <stdlib.h>

#line 132 "chapters/03-mmu-notifiers.nw"
static struct mmu_notifier_subscriptions *sim_subscriptions_alloc(void)
{
    struct mmu_notifier_subscriptions *subs = calloc(1, sizeof(*subs));

    if (!subs)
        return NULL;
    pthread_rwlock_init(&subs->list_lock, NULL);
    pthread_mutex_init(&subs->users_lock, NULL);
    pthread_cond_init(&subs->puts_done, NULL);
#line 441 "chapters/04-interval-notifiers.nw"
    pthread_mutex_init(&subs->lock, NULL);
    pthread_cond_init(&subs->wq, NULL);
    subs->invalidate_seq = 2;
#line 142 "chapters/03-mmu-notifiers.nw"
    return subs;
}

void __mmu_notifier_subscriptions_destroy(struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

    if (!subs)
        return;
    SIM_WARN(subs->list, "subscribers left on a dead mm");
#line 449 "chapters/04-interval-notifiers.nw"
    SIM_WARN(subs->itree.root || subs->deferred_list, "interval notifiers left on a dead mm");
    free(subs->linked);
    pthread_cond_destroy(&subs->wq);
    pthread_mutex_destroy(&subs->lock);
#line 153 "chapters/03-mmu-notifiers.nw"
    pthread_rwlock_destroy(&subs->list_lock);
    pthread_mutex_destroy(&subs->users_lock);
    pthread_cond_destroy(&subs->puts_done);
    free(subs);
    mm->notifier_subscriptions = NULL;
}
#line 216 "chapters/03-mmu-notifiers.nw"
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
    pthread_mutex_lock(&subs->users_lock);
    sub->users = 1;
    pthread_mutex_unlock(&subs->users_lock);
    pthread_rwlock_wrlock(&subs->list_lock);
    sim_hlist_add_head(sub, &subs->list);
    pthread_rwlock_unlock(&subs->list_lock);
    return 0;
}
#line 245 "chapters/03-mmu-notifiers.nw"
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
#line 275 "chapters/03-mmu-notifiers.nw"
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
#line 522 "chapters/03-mmu-notifiers.nw"
int __mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(range->mm);
    int ret = 0;

#line 633 "chapters/04-interval-notifiers.nw"
    sim_trace_event("invalidate_range_start(%s, [%#lx, %#lx))",
                    sim_notifier_event_name(range->event), range->start, range->end);
    if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE)) {
        ret = mn_itree_invalidate(subs, range);
        if (ret)
            return ret;
    }
#line 528 "chapters/03-mmu-notifiers.nw"
    ret = mn_hlist_invalidate_range_start(subs, range);
#line 658 "chapters/04-interval-notifiers.nw"
    if (ret && __atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
        mn_itree_inv_end(subs);
#line 530 "chapters/03-mmu-notifiers.nw"
    return ret;
}
#line 594 "chapters/03-mmu-notifiers.nw"
void __mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(range->mm);

#line 646 "chapters/04-interval-notifiers.nw"
    sim_trace_event("invalidate_range_end");
    if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
        mn_itree_inv_end(subs);
#line 599 "chapters/03-mmu-notifiers.nw"
    pthread_rwlock_rdlock(&subs->list_lock);
    for (struct mmu_notifier *sub = subs->list; sub; sub = sub->next)
        if (sub->ops->invalidate_range_end)
            sub->ops->invalidate_range_end(sub, range);
    pthread_rwlock_unlock(&subs->list_lock);
}
#line 618 "chapters/03-mmu-notifiers.nw"
int mmu_notifier_invalidate_range_start_nonblock(struct mmu_notifier_range *range)
{
    if (SIM_WARN(!range || !range->mm, "no range, or a range of no address space"))
        return -EINVAL;
    range->flags &= ~MMU_NOTIFIER_RANGE_BLOCKABLE;
    if (!mm_has_notifiers(range->mm))
        return 0;
    return __mmu_notifier_invalidate_range_start(range);
}
#line 411 "chapters/03-mmu-notifiers.nw"
static void mn_free_unlinked(struct mmu_notifier *sub)
{
    struct mm_struct *mm = sub->mm;

    sub->mm = NULL;
    sub->ops->free_notifier(sub);
    mmdrop(mm);
}

static void mn_unlink(struct mmu_notifier_subscriptions *subs, struct mmu_notifier *sub)
{
    pthread_rwlock_wrlock(&subs->list_lock);
    sim_hlist_del_init(sub);
    pthread_rwlock_unlock(&subs->list_lock);
}

static void *mn_free_when_quiet(void *arg)
{
    struct mmu_notifier *sub = arg;
    struct mm_struct *mm = sub->mm;
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

    mn_unlink(subs, sub);
    mmgrab(mm);                 /* the free drops the subscription's reference */
    mn_free_unlinked(sub);
    pthread_mutex_lock(&subs->users_lock);
    if (--subs->puts_pending == 0)
        pthread_cond_broadcast(&subs->puts_done);
    pthread_mutex_unlock(&subs->users_lock);
    mmdrop(mm);
    return NULL;
}

void mn_subscription_free(struct mmu_notifier *sub)
{
    struct mmu_notifier_subscriptions *subs = sub->mm->notifier_subscriptions;
    pthread_t worker;

    if (pthread_rwlock_trywrlock(&subs->list_lock) == 0) {
        sim_hlist_del_init(sub);
        pthread_rwlock_unlock(&subs->list_lock);
        mn_free_unlinked(sub);
        return;
    }
    pthread_mutex_lock(&subs->users_lock);
    subs->puts_pending++;
    pthread_mutex_unlock(&subs->users_lock);
    if (pthread_create(&worker, NULL, mn_free_when_quiet, sub) == 0) {
        pthread_detach(worker);
        return;
    }
    pthread_mutex_lock(&subs->users_lock);
#line 474 "chapters/03-mmu-notifiers.nw"
    subs->puts_pending--;
    sub->put_next = subs->puts_orphaned;
    subs->puts_orphaned = sub;
    pthread_cond_broadcast(&subs->puts_done);
#line 464 "chapters/03-mmu-notifiers.nw"
    pthread_mutex_unlock(&subs->users_lock);
}
#line 487 "chapters/03-mmu-notifiers.nw"
void mn_wait_for_puts(struct mm_struct *mm)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(mm);
    struct mmu_notifier *orphans;

    pthread_mutex_lock(&subs->users_lock);
    while (subs->puts_pending)
        pthread_cond_wait(&subs->puts_done, &subs->users_lock);
    orphans = subs->puts_orphaned;
    subs->puts_orphaned = NULL;
    pthread_mutex_unlock(&subs->users_lock);
    while (orphans) {
        struct mmu_notifier *sub = orphans;

        orphans = sub->put_next;
        mn_unlink(subs, sub);
        mn_free_unlinked(sub);
    }
}
#line 528 "chapters/04-interval-notifiers.nw"
static struct mmu_interval_notifier *
mn_itree_inv_start_range(struct mmu_notifier_subscriptions *subs,
                         const struct mmu_notifier_range *range, unsigned long *seq)
{
    struct interval_tree_node *node;
    struct mmu_interval_notifier *first = NULL;

    pthread_mutex_lock(&subs->lock);
    subs->active_invalidate_ranges++;
    node = interval_tree_iter_first(&subs->itree, range->start, range->end - 1);
    if (node) {
        subs->invalidate_seq |= 1;
        first = (struct mmu_interval_notifier *)node;
    }
    *seq = subs->invalidate_seq;
    sim_trace_state("seq = %lu", *seq);
    pthread_mutex_unlock(&subs->lock);
    return first;
}

static struct mmu_interval_notifier *
mn_itree_inv_next(struct mmu_notifier_subscriptions *subs,
                  struct mmu_interval_notifier *sub, const struct mmu_notifier_range *range)
{
    struct interval_tree_node *node = interval_tree_iter_next(&subs->itree,
                                                              &sub->interval_tree,
                                                              range->start, range->end - 1);

    return (struct mmu_interval_notifier *)node;
}
#line 607 "chapters/04-interval-notifiers.nw"
int mn_itree_invalidate(struct mmu_notifier_subscriptions *subs,
                        const struct mmu_notifier_range *range)
{
    struct mmu_interval_notifier *sub;
    unsigned long cur_seq;

    for (sub = mn_itree_inv_start_range(subs, range, &cur_seq); sub;
         sub = mn_itree_inv_next(subs, sub, range)) {
        if (sub->ops->invalidate(sub, range, cur_seq))
            continue;
        if (SIM_WARN(mmu_notifier_range_blockable(range),
                     "interval notifier %p failed a blockable invalidation", (void *)sub))
            continue;
        mn_itree_inv_end(subs);
        return -EAGAIN;
    }
    return 0;
}
#line 1007 "chapters/04-interval-notifiers.nw"
void mn_itree_release(struct mmu_notifier_subscriptions *subs, struct mm_struct *mm)
{
    struct mmu_notifier_range range = {
        .mm = mm, .start = 0, .end = ULONG_MAX,
        .flags = MMU_NOTIFIER_RANGE_BLOCKABLE, .event = MMU_NOTIFY_RELEASE,
    };
    struct mmu_interval_notifier *sub;
    unsigned long cur_seq;

    for (sub = mn_itree_inv_start_range(subs, &range, &cur_seq); sub;
         sub = mn_itree_inv_next(subs, sub, &range))
        SIM_WARN(!sub->ops->invalidate(sub, &range, cur_seq),
                 "interval notifier %p refused release", (void *)sub);
    mn_itree_inv_end(subs);
}
#line 671 "chapters/04-interval-notifiers.nw"
unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *sub)
{
    struct mmu_notifier_subscriptions *subs;
    unsigned long seq;

    if (SIM_WARN(!sub || !sub->mm, "not an inserted interval notifier"))
        return ULONG_MAX;
    subs = sub->mm->notifier_subscriptions;
    pthread_mutex_lock(&subs->lock);
    seq = __atomic_load_n(&sub->invalidate_seq, __ATOMIC_RELAXED);
    while (seq == subs->invalidate_seq)
        pthread_cond_wait(&subs->wq, &subs->lock);
    pthread_mutex_unlock(&subs->lock);
    sim_trace_event("read_begin = %lu", seq);
    return seq;
}
#line 709 "chapters/04-interval-notifiers.nw"
static int __mmu_interval_notifier_insert(struct mmu_interval_notifier *sub,
                                          struct mm_struct *mm,
                                          struct mmu_notifier_subscriptions *subs,
                                          unsigned long start, unsigned long length,
                                          const struct mmu_interval_notifier_ops *ops)
{
    sub->mm = mm;
    sub->ops = ops;
    sub->deferred_next = NULL;
    sub->interval_tree.in_tree = false;
    sub->interval_tree.start = start;
    if (length == 0 || __builtin_add_overflow(start, length - 1, &sub->interval_tree.last))
        return -EOVERFLOW;
    if (!sim_mm_alive(mm))
        return -EINVAL;
    mmgrab(mm);
    pthread_mutex_lock(&subs->lock);
    if (subs->active_invalidate_ranges) {
        if (subs->invalidate_seq & 1) {
            sub->deferred_next = subs->deferred_list;
            subs->deferred_list = sub;
        } else {
            subs->invalidate_seq |= 1;
            interval_tree_insert(&sub->interval_tree, &subs->itree);
        }
        sub->invalidate_seq = subs->invalidate_seq;
    } else {
        sub->invalidate_seq = subs->invalidate_seq - 1;
        interval_tree_insert(&sub->interval_tree, &subs->itree);
    }
    pthread_mutex_unlock(&subs->lock);
    return 0;
}
#line 833 "chapters/04-interval-notifiers.nw"
static unsigned long sim_linked_home(const void *sub, unsigned long cap)
{
    return (((uintptr_t)sub >> 3) * 0x9e3779b97f4a7c15UL >> 16) & (cap - 1);
}

static bool sim_linked_find(struct mmu_notifier_subscriptions *subs,
                            const struct mmu_interval_notifier *sub, unsigned long *slot)
{
    unsigned long mask = subs->linked_cap - 1;

    if (!subs->linked_cap)
        return false;
    for (*slot = sim_linked_home(sub, subs->linked_cap); subs->linked[*slot];
         *slot = (*slot + 1) & mask)
        if (subs->linked[*slot] == sub)
            return true;
    return false;
}

static void sim_linked_put(struct mmu_notifier_subscriptions *subs,
                           struct mmu_interval_notifier *sub)
{
    unsigned long slot;

    sim_linked_find(subs, sub, &slot);
    subs->linked[slot] = sub;
    subs->linked_n++;
}

static int sim_linked_grow(struct mmu_notifier_subscriptions *subs)
{
    unsigned long old_cap = subs->linked_cap;
    struct mmu_interval_notifier **old = subs->linked;
    unsigned long cap = old_cap ? 2 * old_cap : 16;

    subs->linked = calloc(cap, sizeof(*subs->linked));
    if (!subs->linked) {
        subs->linked = old;
        return -ENOMEM;
    }
    subs->linked_cap = cap;
    subs->linked_n = 0;
    for (unsigned long i = 0; i < old_cap; i++)
        if (old[i])
            sim_linked_put(subs, old[i]);
    free(old);
    return 0;
}
#line 888 "chapters/04-interval-notifiers.nw"
static void sim_linked_delete(struct mmu_notifier_subscriptions *subs,
                              const struct mmu_interval_notifier *sub)
{
    unsigned long mask = subs->linked_cap - 1, hole, next;

    if (!sim_linked_find(subs, sub, &hole))
        return;
    subs->linked[hole] = NULL;
    subs->linked_n--;
    for (next = (hole + 1) & mask; subs->linked[next]; next = (next + 1) & mask) {
        unsigned long home = sim_linked_home(subs->linked[next], subs->linked_cap);

        if (((next - home) & mask) >= ((next - hole) & mask)) {
            subs->linked[hole] = subs->linked[next];
            subs->linked[next] = NULL;
            hole = next;
        }
    }
}
#line 912 "chapters/04-interval-notifiers.nw"
static int sim_interval_link(struct mmu_notifier_subscriptions *subs,
                             struct mmu_interval_notifier *sub)
{
    unsigned long slot;
    int ret = 0;

    pthread_mutex_lock(&subs->lock);
    if (sim_linked_find(subs, sub, &slot))
        ret = -EBUSY;
    else if (2 * (subs->linked_n + 1) > subs->linked_cap)
        ret = sim_linked_grow(subs);
    if (!ret)
        sim_linked_put(subs, sub);
    pthread_mutex_unlock(&subs->lock);
    return ret;
}

static void sim_interval_unlink(struct mmu_notifier_subscriptions *subs,
                                struct mmu_interval_notifier *sub)
{
    pthread_mutex_lock(&subs->lock);
    sim_linked_delete(subs, sub);
    pthread_mutex_unlock(&subs->lock);
}
#line 750 "chapters/04-interval-notifiers.nw"
static int sim_itree_enable(struct mm_struct *mm, bool locked)
{
    struct mmu_notifier_subscriptions *subs = sim_mm_subscriptions(mm);
    int ret = 0;

    if (subs && __atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
        return 0;
    if (!locked)
        mmap_write_lock(mm);
    ret = __mmu_notifier_register(NULL, mm);
    if (!ret)
        __atomic_store_n(&mm->notifier_subscriptions->has_itree, true, __ATOMIC_RELEASE);
    if (!locked)
        mmap_write_unlock(mm);
    return ret;
}
#line 773 "chapters/04-interval-notifiers.nw"
static int sim_interval_insert(struct mmu_interval_notifier *sub, struct mm_struct *mm,
                               unsigned long start, unsigned long length,
                               const struct mmu_interval_notifier_ops *ops, bool locked)
{
    int ret;

    if (!sub || !ops || !ops->invalidate || !mm)
        return -EINVAL;
    if (length == 0 || start + (length - 1) < start)
        return -EOVERFLOW;
    if (!sim_mm_alive(mm))
        return -EINVAL;
    ret = sim_itree_enable(mm, locked);
    if (ret)
        return ret;
    ret = sim_interval_link(mm->notifier_subscriptions, sub);
    if (ret)
        return ret;
    ret = __mmu_interval_notifier_insert(sub, mm, mm->notifier_subscriptions, start,
                                         length, ops);
    if (ret)
        sim_interval_unlink(mm->notifier_subscriptions, sub);
    return ret;
}
#line 802 "chapters/04-interval-notifiers.nw"
int mmu_interval_notifier_insert(struct mmu_interval_notifier *sub, struct mm_struct *mm,
                                 unsigned long start, unsigned long length,
                                 const struct mmu_interval_notifier_ops *ops)
{
    return sim_interval_insert(sub, mm, start, length, ops, false);
}

int mmu_interval_notifier_insert_locked(struct mmu_interval_notifier *sub,
                                        struct mm_struct *mm, unsigned long start,
                                        unsigned long length,
                                        const struct mmu_interval_notifier_ops *ops)
{
    return sim_interval_insert(sub, mm, start, length, ops, true);
}
#line 946 "chapters/04-interval-notifiers.nw"
static void sim_deferred_del(struct mmu_notifier_subscriptions *subs,
                             struct mmu_interval_notifier *sub)
{
    for (struct mmu_interval_notifier **p = &subs->deferred_list; *p; p = &(*p)->deferred_next)
        if (*p == sub) {
            *p = sub->deferred_next;
            sub->deferred_next = NULL;
            return;
        }
}

void mmu_interval_notifier_remove(struct mmu_interval_notifier *sub)
{
    struct mmu_notifier_subscriptions *subs;
    struct mm_struct *mm;
    unsigned long seq = 0;

    if (SIM_WARN(!sub || !sub->mm, "not an inserted interval notifier"))
        return;
    mm = sub->mm;
    subs = mm->notifier_subscriptions;
    pthread_mutex_lock(&subs->lock);
    if (subs->invalidate_seq & 1) {
        if (!sub->interval_tree.in_tree) {
            sim_deferred_del(subs, sub);
        } else {
            sub->deferred_next = subs->deferred_list;
            subs->deferred_list = sub;
            seq = subs->invalidate_seq;
        }
    } else {
        interval_tree_remove(&sub->interval_tree, &subs->itree);
    }
    while (seq && subs->invalidate_seq == seq)
        pthread_cond_wait(&subs->wq, &subs->lock);
    sim_linked_delete(subs, sub);
    pthread_mutex_unlock(&subs->lock);
    sub->mm = NULL;
    mmdrop(mm);
}
#line 723 "chapters/02-address-spaces.nw"
void mmu_notifier_range_init(struct mmu_notifier_range *range,
                             enum mmu_notifier_event event, unsigned flags,
                             struct mm_struct *mm, unsigned long start, unsigned long end)
{
    if (SIM_WARN(!range, "no range"))
        return;
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
    if (range)
        range->owner = owner;
}

bool mmu_notifier_range_blockable(const struct mmu_notifier_range *range)
{
    if (SIM_WARN(!range, "no range"))
        return false;
    return range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE;
}
#line 763 "chapters/02-address-spaces.nw"
void mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
    if (SIM_WARN(!range || !range->mm, "no range, or a range of no address space"))
        return;
    range->flags |= MMU_NOTIFIER_RANGE_BLOCKABLE;
#line 515 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(range->mm))
        __mmu_notifier_invalidate_range_start(range);
#line 769 "chapters/02-address-spaces.nw"
}

void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
    if (SIM_WARN(!range || !range->mm, "no range, or a range of no address space"))
        return;
#line 586 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(range->mm))
        __mmu_notifier_invalidate_range_end(range);
#line 776 "chapters/02-address-spaces.nw"
}

void mmu_notifier_release(struct mm_struct *mm)
{
    (void)mm;
#line 647 "chapters/03-mmu-notifiers.nw"
    if (mm_has_notifiers(mm)) {
        __mmu_notifier_release(mm);
        mn_wait_for_puts(mm);
    }
#line 782 "chapters/02-address-spaces.nw"
}
