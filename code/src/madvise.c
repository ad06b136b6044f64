/* Generated from chapters/02-address-spaces.nw by make tangle (sum f6c76eed7aa6): edit the chapter, not this file. */
#line 2451 "chapters/02-address-spaces.nw"
#include "hmmwb.h"

#line 1712 "chapters/02-address-spaces.nw"
static void sim_dontneed_vma(struct vm_area_struct *vma, unsigned long start,
                             unsigned long end)
{
    struct mmu_notifier_range range;

    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start, end);
    mmu_notifier_invalidate_range_start(&range);
    sim_zap_range(vma, start, end);
    mmu_notifier_invalidate_range_end(&range);
}

int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice)
{
    unsigned long end = addr + PAGE_ALIGN(len), covered = addr;
    struct vm_area_struct *vma;

    if (!PAGE_ALIGNED(addr) || advice != MADV_DONTNEED)
        return -EINVAL;
    if (end < addr || (len && PAGE_ALIGN(len) == 0))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    for (vma = mm->mmap; vma && vma->vm_start < end; vma = vma->vm_next) {
        unsigned long s = vma->vm_start > addr ? vma->vm_start : addr;
        unsigned long e = vma->vm_end < end ? vma->vm_end : end;

        if (e <= s)
            continue;
        if (s != covered)
            covered = 0;
        else
            covered = e;
        sim_dontneed_vma(vma, s, e);
    }
    mmap_read_unlock(mm);
    mmput(mm);
    return covered == end ? 0 : -ENOMEM;
}
