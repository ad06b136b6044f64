/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum c044e75bd132): edit the chapter, not this file. */
#line 1449 "chapters/04-interval-notifiers.nw"
#include <string.h>
#include "history.h"

#line 1333 "chapters/04-interval-notifiers.nw"
static int hmm_valid_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct hmm_valid_mirror *m = (struct hmm_valid_mirror *)sub;

    pthread_mutex_lock(&m->lock);
    m->notifiers++;
    for (struct hmm_valid_range *r = m->ranges; r; r = r->next)
        if (r->start < range->end && range->start < r->end) {
            r->valid = false;
            sim_trace_state("valid = false");
        }
    pthread_mutex_unlock(&m->lock);
    m->sync(m->driver, range);
    return 0;
}

static void hmm_valid_end(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct hmm_valid_mirror *m = (struct hmm_valid_mirror *)sub;

    (void)range;
    pthread_mutex_lock(&m->lock);
    if (--m->notifiers == 0) {
        for (struct hmm_valid_range *r = m->ranges; r; r = r->next)
            r->valid = true;
        sim_trace_state("valid = true");
        pthread_cond_broadcast(&m->wq);
    }
    pthread_mutex_unlock(&m->lock);
}
#line 1370 "chapters/04-interval-notifiers.nw"
static const struct mmu_notifier_ops hmm_valid_ops = {
    .invalidate_range_start = hmm_valid_start,
    .invalidate_range_end = hmm_valid_end,
};

int hmm_valid_mirror_register(struct hmm_valid_mirror *m, struct mm_struct *mm,
                              void (*sync)(void *, const struct mmu_notifier_range *),
                              void *driver)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wq, NULL);
    m->notifier.ops = &hmm_valid_ops;
    m->sync = sync;
    m->driver = driver;
    return mmu_notifier_register(&m->notifier, mm);
}

void hmm_valid_mirror_unregister(struct hmm_valid_mirror *m, struct mm_struct *mm)
{
    mmu_notifier_unregister(&m->notifier, mm);
    pthread_cond_destroy(&m->wq);
    pthread_mutex_destroy(&m->lock);
}
#line 1399 "chapters/04-interval-notifiers.nw"
void hmm_valid_range_register(struct hmm_valid_mirror *m, struct hmm_valid_range *r,
                              unsigned long start, unsigned long end)
{
    r->start = start;
    r->end = end;
    pthread_mutex_lock(&m->lock);
    r->valid = m->notifiers == 0;
    r->next = m->ranges;
    m->ranges = r;
    pthread_mutex_unlock(&m->lock);
}

void hmm_valid_range_wait(struct hmm_valid_mirror *m, struct hmm_valid_range *r)
{
    pthread_mutex_lock(&m->lock);
    while (!r->valid)
        pthread_cond_wait(&m->wq, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

bool hmm_valid_range_valid(struct hmm_valid_mirror *m, struct hmm_valid_range *r)
{
    bool valid;

    pthread_mutex_lock(&m->lock);
    valid = r->valid;
    pthread_mutex_unlock(&m->lock);
    sim_trace_event("range valid? %s", valid ? "true" : "false");
    return valid;
}
