/* Generated from chapters/02-address-spaces.nw by make tangle (sum 31b4be9cb138): edit the chapter, not this file. */
#line 800 "chapters/02-address-spaces.nw"
#ifndef HMMWB_MMU_NOTIFIER_H
#define HMMWB_MMU_NOTIFIER_H

#include "kernel.h"

struct mm_struct;

#line 696 "chapters/02-address-spaces.nw"
enum mmu_notifier_event {
    MMU_NOTIFY_UNMAP = 0,            /* munmap, or mremap moving the range */
    MMU_NOTIFY_CLEAR,                /* entries cleared: zap, COW, ... */
    MMU_NOTIFY_PROTECTION_VMA,       /* mprotect of whole VMAs */
    MMU_NOTIFY_PROTECTION_PAGE,      /* per-page write-protect, e.g. fork */
    MMU_NOTIFY_SOFT_DIRTY,           /* soft-dirty tracking reset */
    MMU_NOTIFY_RELEASE,              /* the address space is going away */
    MMU_NOTIFY_MIGRATE,              /* migrate_vma collecting pages */
    MMU_NOTIFY_EXCLUSIVE,            /* conversion to a device-exclusive entry */
};

#define MMU_NOTIFIER_RANGE_BLOCKABLE (1 << 0)

struct mmu_notifier_range {
    struct mm_struct *mm;
    unsigned long start;
    unsigned long end;               /* exclusive */
    unsigned flags;
    enum mmu_notifier_event event;
    void *owner;                     /* meaningful for MIGRATE and EXCLUSIVE */
};

#line 809 "chapters/02-address-spaces.nw"
void mmu_notifier_range_init(struct mmu_notifier_range *range,
                             enum mmu_notifier_event event, unsigned flags,
                             struct mm_struct *mm, unsigned long start, unsigned long end);
void mmu_notifier_range_init_owner(struct mmu_notifier_range *range,
                                   enum mmu_notifier_event event, unsigned flags,
                                   struct mm_struct *mm, unsigned long start,
                                   unsigned long end, void *owner);
bool mmu_notifier_range_blockable(const struct mmu_notifier_range *range);
void mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range);
void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range);
void mmu_notifier_release(struct mm_struct *mm);
#line 867 "chapters/03-mmu-notifiers.nw"
#include <pthread.h>
#line 434 "chapters/04-interval-notifiers.nw"
#include "interval_tree.h"

#line 39 "chapters/03-mmu-notifiers.nw"
struct mmu_notifier;

struct mmu_notifier_ops {
    void (*release)(struct mmu_notifier *sub, struct mm_struct *mm);
    int (*invalidate_range_start)(struct mmu_notifier *sub,
                                  const struct mmu_notifier_range *range);
    void (*invalidate_range_end)(struct mmu_notifier *sub,
                                 const struct mmu_notifier_range *range);
    struct mmu_notifier *(*alloc_notifier)(struct mm_struct *mm);
    void (*free_notifier)(struct mmu_notifier *sub);
};
#line 58 "chapters/03-mmu-notifiers.nw"
struct mmu_notifier {
    const struct mmu_notifier_ops *ops;
    struct mm_struct *mm;
    struct mmu_notifier *next;       /* the address space's list of subscribers */
    struct mmu_notifier **pprev;     /* NULL while on no list */
    unsigned int users;              /* references from mmu_notifier_get */
    struct mmu_notifier *put_next;   /* on the subscriptions' orphaned puts */
};
#line 87 "chapters/03-mmu-notifiers.nw"
struct mmu_notifier_subscriptions {
    pthread_rwlock_t list_lock;      /* read: walking the list and running callbacks;
                                        write: changing the list */
    pthread_mutex_t users_lock;      /* protects every subscriber's users, and: */
    unsigned long puts_pending;      /* last puts whose free waits for callbacks */
    pthread_cond_t puts_done;        /* broadcast when one of those frees is done */
    struct mmu_notifier *puts_orphaned;   /* last puts no thread could free */
    struct mmu_notifier *list;       /* the subscribers */
#line 420 "chapters/04-interval-notifiers.nw"
    pthread_mutex_t lock;            /* the kernel's spinlock: protects the fields below */
    bool has_itree;                  /* interval notifiers may be present */
    unsigned long invalidate_seq;    /* odd while an invalidation hits the tree */
    unsigned long active_invalidate_ranges;   /* invalidations in progress */
    struct interval_tree_root itree;
    pthread_cond_t wq;               /* read_begin and remove wait here */
    struct mmu_interval_notifier *deferred_list;   /* inserts and removes held back */
    struct mmu_interval_notifier **linked;   /* every inserted notifier, by address */
    unsigned long linked_cap, linked_n;      /* slots (a power of two, or 0), in use */
#line 96 "chapters/03-mmu-notifiers.nw"
};
#line 180 "chapters/03-mmu-notifiers.nw"
static inline void sim_hlist_add_head(struct mmu_notifier *sub, struct mmu_notifier **head)
{
    sub->next = *head;
    if (*head)
        (*head)->pprev = &sub->next;
    *head = sub;
    sub->pprev = head;
}

static inline void sim_hlist_del_init(struct mmu_notifier *sub)
{
    if (!sub->pprev)
        return;
    *sub->pprev = sub->next;
    if (sub->next)
        sub->next->pprev = sub->pprev;
    sub->next = NULL;
    sub->pprev = NULL;
}

#line 845 "chapters/03-mmu-notifiers.nw"
int mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm);
int __mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm);
void mmu_notifier_unregister(struct mmu_notifier *sub, struct mm_struct *mm);
struct mmu_notifier *mmu_notifier_get(const struct mmu_notifier_ops *ops,
                                      struct mm_struct *mm);
void mmu_notifier_put(struct mmu_notifier *sub);
int mmu_notifier_invalidate_range_start_nonblock(struct mmu_notifier_range *range);

int __mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range);
void __mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range);
int mn_hlist_invalidate_range_start(struct mmu_notifier_subscriptions *subs,
                                    struct mmu_notifier_range *range);
void __mmu_notifier_release(struct mm_struct *mm);
void __mmu_notifier_subscriptions_destroy(struct mm_struct *mm);
void mn_subscription_free(struct mmu_notifier *sub);
void mn_wait_for_puts(struct mm_struct *mm);
#line 390 "chapters/04-interval-notifiers.nw"
struct mmu_interval_notifier;

struct mmu_interval_notifier_ops {
    bool (*invalidate)(struct mmu_interval_notifier *sub,
                       const struct mmu_notifier_range *range, unsigned long cur_seq);
};

struct mmu_interval_notifier {
    struct interval_tree_node interval_tree;         /* [start, last] in the mm's tree */
    const struct mmu_interval_notifier_ops *ops;
    struct mm_struct *mm;
    struct mmu_interval_notifier *deferred_next;     /* on the deferred list */
    unsigned long invalidate_seq;                    /* see the protocol below */
};

#line 1495 "chapters/04-interval-notifiers.nw"
int mmu_interval_notifier_insert(struct mmu_interval_notifier *sub, struct mm_struct *mm,
                                 unsigned long start, unsigned long length,
                                 const struct mmu_interval_notifier_ops *ops);
int mmu_interval_notifier_insert_locked(struct mmu_interval_notifier *sub,
                                        struct mm_struct *mm, unsigned long start,
                                        unsigned long length,
                                        const struct mmu_interval_notifier_ops *ops);
void mmu_interval_notifier_remove(struct mmu_interval_notifier *sub);
unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *sub);
bool mmu_interval_read_retry(struct mmu_interval_notifier *sub, unsigned long seq);
bool mmu_interval_check_retry(struct mmu_interval_notifier *sub, unsigned long seq);
void mmu_interval_set_seq(struct mmu_interval_notifier *sub, unsigned long cur_seq);

int mn_itree_invalidate(struct mmu_notifier_subscriptions *subs,
                        const struct mmu_notifier_range *range);
void mn_itree_inv_end(struct mmu_notifier_subscriptions *subs);
void mn_itree_release(struct mmu_notifier_subscriptions *subs, struct mm_struct *mm);

#line 822 "chapters/02-address-spaces.nw"
#endif
