/* Generated from chapters/09-device-exclusive.nw by make tangle (sum 81fb846970ce): edit the chapter, not this file. */
#line 797 "chapters/09-device-exclusive.nw"
#include "hmmwb.h"

#line 398 "chapters/09-device-exclusive.nw"
int dmirror_atomic_add(struct dmirror *dmirror, unsigned long addr, uint64_t value,
                       uint64_t *old)
{
    if (!dmirror || (addr & 7))
        return -EINVAL;
    for (;;) {
        uintptr_t entry;
        int ret;

        pthread_mutex_lock(&dmirror->mutex);
        entry = dpt_load(&dmirror->pt, addr >> PAGE_SHIFT);
        if (dpt_tags(entry) & DPT_TAG_ATOMIC) {
            uint64_t *word = (uint64_t *)((char *)sim_device_page_address(dpt_page(entry)) +
                                          (addr & ~PAGE_MASK));
            uint64_t was = __atomic_fetch_add(word, value, __ATOMIC_SEQ_CST);

            pthread_mutex_unlock(&dmirror->mutex);
            if (old)
                *old = was;
            return 0;
        }
        pthread_mutex_unlock(&dmirror->mutex);
        ret = dmirror_atomic_fault(dmirror, addr & PAGE_MASK);
        if (ret)
            return ret;
    }
}
