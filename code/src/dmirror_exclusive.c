/* Generated from chapters/09-device-exclusive.nw by make tangle (sum c1143b79e7e1): edit the chapter, not this file. */
#line 783 "chapters/09-device-exclusive.nw"
#include <time.h>
#include "hmmwb.h"
#include "history.h"

#line 318 "chapters/09-device-exclusive.nw"
static void dmirror_atomic_map(struct dmirror *dmirror, unsigned long addr,
                               struct page *page)
{
    uintptr_t entry = (uintptr_t)page | DPT_TAG_ATOMIC;

    pthread_mutex_lock(&dmirror->mutex);
    if (dpt_store(&dmirror->pt, addr >> PAGE_SHIFT, entry) == 0)
        sim_trace_msg("DEVICE", "map vpfn %#lx atomic", addr >> PAGE_SHIFT);
    pthread_mutex_unlock(&dmirror->mutex);
}
#line 333 "chapters/09-device-exclusive.nw"
int dmirror_exclusive(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE;
    struct mm_struct *mm = dmirror->notifier.mm;
    int ret = 0;

    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    for (unsigned long addr = start; !ret && addr < end; addr += PAGE_SIZE) {
        struct page *page = make_device_exclusive(mm, addr, NULL);

        if (IS_ERR(page)) {
            ret = PTR_ERR(page);
            break;
        }
        dmirror_atomic_map(dmirror, addr, page);
        unlock_page(page);
        put_page(page);
    }
    mmap_read_unlock(mm);
    mmput(mm);
    if (ret)
        return ret;
    pthread_mutex_lock(&dmirror->mutex);
    ret = dmirror_do_read(dmirror, start, end, (char *)(uintptr_t)cmd->ptr, &cmd->cpages);
    pthread_mutex_unlock(&dmirror->mutex);
    return ret;
}

int dmirror_check_exclusive(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long first = cmd->addr >> PAGE_SHIFT, n = cmd->npages;
    int ret = 0;

    pthread_mutex_lock(&dmirror->mutex);
    for (unsigned long vpfn = first; !ret && vpfn < first + n; vpfn++)
        if (dpt_tags(dpt_load(&dmirror->pt, vpfn)) == DPT_TAG_ATOMIC)
            ret = -EPERM;
    pthread_mutex_unlock(&dmirror->mutex);
    return ret;
}
#line 437 "chapters/09-device-exclusive.nw"
struct dmirror_atomic_notifier {
    struct mmu_interval_notifier notifier;
    struct dmirror *dmirror;
    unsigned long own_events;            /* conversions of its own it was told about */
};

static bool dmirror_atomic_invalidate(struct mmu_interval_notifier *mni,
                                      const struct mmu_notifier_range *range,
                                      unsigned long cur_seq)
{
    struct dmirror_atomic_notifier *an = (struct dmirror_atomic_notifier *)mni;
    struct dmirror *dmirror = an->dmirror;

    if (range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == dmirror->mdevice) {
        sim_trace_msg("FAULT-NOTIFIER", "own conversion: ignore");
        return true;
    }
    if (mmu_notifier_range_blockable(range))
        pthread_mutex_lock(&dmirror->mutex);
    else if (pthread_mutex_trylock(&dmirror->mutex))
        return false;
    mmu_interval_set_seq(mni, cur_seq);
    if (range->event == MMU_NOTIFY_CLEAR && !range->owner)
        an->own_events += dmirror->mdevice->history_exclusive_before_owner;
    pthread_mutex_unlock(&dmirror->mutex);
    return true;
}

static const struct mmu_interval_notifier_ops dmirror_atomic_ops = {
    .invalidate = dmirror_atomic_invalidate,
};
#line 483 "chapters/09-device-exclusive.nw"
static int dmirror_atomic_round(struct dmirror *dmirror, struct dmirror_atomic_notifier *an,
                                unsigned long addr)
{
    struct mm_struct *mm = dmirror->notifier.mm;
    bool old = dmirror->mdevice->history_exclusive_before_owner;
    struct vm_area_struct *vma;
    unsigned long seq;
    struct page *page;
    bool stale;

    mmap_read_lock(mm);
    page = sim_get_user_page_write(mm, addr, &vma);
    mmap_read_unlock(mm);
    if (IS_ERR(page))
        return PTR_ERR(page);
    put_page(page);
    seq = mmu_interval_read_begin(&an->notifier);
    mmap_read_lock(mm);
    page = old ? make_device_exclusive_before_owner(mm, addr)
               : make_device_exclusive(mm, addr, dmirror->mdevice);
    mmap_read_unlock(mm);
    if (IS_ERR(page))
        return PTR_ERR(page);
    pthread_mutex_lock(&dmirror->mutex);
    stale = old && dmirror->mdevice->history_check_pass
                ? !check_device_exclusive_range(mm, addr, addr + PAGE_SIZE)
                : mmu_interval_read_retry(&an->notifier, seq);
    if (!stale && dpt_store(&dmirror->pt, addr >> PAGE_SHIFT,
                            (uintptr_t)page | DPT_TAG_ATOMIC) == 0)
        sim_trace_msg("DEVICE", "map vpfn %#lx atomic", addr >> PAGE_SHIFT);
    pthread_mutex_unlock(&dmirror->mutex);
    unlock_page(page);
    put_page(page);
    return stale ? -EAGAIN : 0;
}
#line 523 "chapters/09-device-exclusive.nw"
#define DMIRROR_ATOMIC_ROUNDS 64

static long dmirror_ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int dmirror_atomic_fault(struct dmirror *dmirror, unsigned long addr)
{
    struct dmirror_atomic_notifier an = { .dmirror = dmirror };
    struct dmirror_device *mdevice = dmirror->mdevice;
    struct mm_struct *mm = dmirror->notifier.mm;
    struct timespec t0;
    int ret, rounds = 0;

    if (!mmget_not_zero(mm))
        return -EINVAL;
    ret = mmu_interval_notifier_insert(&an.notifier, mm, addr, PAGE_SIZE,
                                       &dmirror_atomic_ops);
    if (ret) {
        mmput(mm);
        return ret;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        ret = dmirror_atomic_round(dmirror, &an, addr);
        __atomic_fetch_add(&mdevice->atomic_rounds, 1, __ATOMIC_RELAXED);
        if (ret != -EAGAIN)
            break;
        if (++rounds == DMIRROR_ATOMIC_ROUNDS ||
            dmirror_ms_since(&t0) > HMM_RANGE_DEFAULT_TIMEOUT) {
            ret = -EBUSY;
            break;
        }
        sim_trace_event("collision: start over");
    }
    mmu_interval_notifier_remove(&an.notifier);
    __atomic_fetch_add(&mdevice->atomic_own_events, an.own_events, __ATOMIC_RELAXED);
    mmput(mm);
    return ret;
}
