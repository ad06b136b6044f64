/* Exercise: the device's atomic add (chapter 9).  Replace the body. */
#include "hmmwb.h"

int dmirror_atomic_add(struct dmirror *dmirror, unsigned long addr, uint64_t value,
                       uint64_t *old)
{
    /* Wrong on purpose: the device reads the word through the process's memory, adds,
     * and writes the sum back, without exclusive access: a CPU add that lands between
     * the read and the write is lost. */
    struct mm_struct *mm;
    uint64_t was, sum;
    int ret;

    if (!dmirror || (addr & 7))
        return -EINVAL;
    mm = dmirror->notifier.mm;
    ret = sim_read(mm, addr, &was, sizeof(was));
    if (ret)
        return ret;
    sum = was + value;
    ret = sim_write(mm, addr, &sum, sizeof(sum));
    if (!ret && old)
        *old = was;
    return ret;
}
