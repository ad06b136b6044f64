#include "hmmwb.h"

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
/* Linux frees the last put's subscription from an SRCU callback (call_srcu(), in
 * mm/mmu_notifier.c), after the callbacks in progress, and never in the put itself.
 * Here a thread of its own does it, always: the list's write lock waits for those
 * callbacks, and nothing waits for the thread but mmu_notifier_synchronize(). */
static pthread_mutex_t sim_put_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_put_done = PTHREAD_COND_INITIALIZER;
static unsigned long sim_puts_pending;

static void *sim_free_later(void *arg)
{
    struct mmu_notifier *sub = arg;
    struct mm_struct *mm = sub->mm;
    struct mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

    pthread_rwlock_wrlock(&subs->list_lock);
    sim_hlist_del_init(sub);
    pthread_rwlock_unlock(&subs->list_lock);
    sub->mm = NULL;
    sub->ops->free_notifier(sub);
    mmdrop(mm);
    pthread_mutex_lock(&sim_put_lock);
    if (--sim_puts_pending == 0)
        pthread_cond_broadcast(&sim_put_done);
    pthread_mutex_unlock(&sim_put_lock);
    return NULL;
}

void mmu_notifier_put(struct mmu_notifier *sub)
{
    struct mmu_notifier_subscriptions *subs;
    pthread_t worker;
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
    if (!last)
        return;
    pthread_mutex_lock(&sim_put_lock);
    sim_puts_pending++;
    pthread_mutex_unlock(&sim_put_lock);
    if (pthread_create(&worker, NULL, sim_free_later, sub) == 0) {
        pthread_detach(worker);
        return;
    }
    pthread_mutex_lock(&sim_put_lock);      /* no thread to be had: the book's way */
    sim_puts_pending--;
    pthread_mutex_unlock(&sim_put_lock);
    mn_subscription_free(sub);
}

void mmu_notifier_synchronize(void)
{
    pthread_mutex_lock(&sim_put_lock);
    while (sim_puts_pending)
        pthread_cond_wait(&sim_put_done, &sim_put_lock);
    pthread_mutex_unlock(&sim_put_lock);
}
