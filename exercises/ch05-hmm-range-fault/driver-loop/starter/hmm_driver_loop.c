/* Exercise: the driver loop (chapter 5).  Replace the body. */
#include <time.h>
#include "hmmwb.h"

int sim_hmm_driver_fault(struct hmm_range *range, pthread_mutex_t *driver_lock,
                         int (*update)(void *ctx, struct hmm_range *range), void *ctx)
{
    int ret;

    /* Wrong on purpose: no sequence number, no retry. */
    mmap_read_lock(range->notifier->mm);
    ret = hmm_range_fault(range);
    mmap_read_unlock(range->notifier->mm);
    if (ret)
        return ret;
    pthread_mutex_lock(driver_lock);
    ret = update(ctx, range);
    pthread_mutex_unlock(driver_lock);
    return ret;
}
