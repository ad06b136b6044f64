/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum 0feec4ab9cfa): edit the chapter, not this file. */
#line 650 "chapters/05-hmm-range-fault.nw"
#include <time.h>
#include "hmmwb.h"

#line 524 "chapters/05-hmm-range-fault.nw"
static unsigned long sim_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

int sim_hmm_driver_fault(struct hmm_range *range, pthread_mutex_t *driver_lock,
                         int (*update)(void *ctx, struct hmm_range *range), void *ctx)
{
    unsigned long timeout = sim_now_ms() + HMM_RANGE_DEFAULT_TIMEOUT;
    struct mm_struct *mm;
    int ret;

    if (!driver_lock || !update)
        return -EINVAL;
    ret = hmm_range_check(range);
    if (ret)
        return ret;
    mm = range->notifier->mm;
    for (;;) {
        if (sim_now_ms() > timeout)
            return -EBUSY;
        range->notifier_seq = mmu_interval_read_begin(range->notifier);
        mmap_read_lock(mm);
        ret = hmm_range_fault(range);
        mmap_read_unlock(mm);
        if (ret == -EBUSY)
            continue;
        if (ret)
            return ret;
        pthread_mutex_lock(driver_lock);
        if (!mmu_interval_read_retry(range->notifier, range->notifier_seq))
            break;
        pthread_mutex_unlock(driver_lock);
    }
    ret = update(ctx, range);
    pthread_mutex_unlock(driver_lock);
    return ret;
}
