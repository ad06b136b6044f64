/* Generated from chapters/02-address-spaces.nw by make tangle (sum 5e449c1af202): edit the chapter, not this file. */
#line 2503 "chapters/02-address-spaces.nw"
#include "hmmwb.h"

#line 1744 "chapters/02-address-spaces.nw"
static void sim_dontneed_vma(struct vm_area_struct *vma, unsigned long start,
                             unsigned long end)
{
    struct mmu_notifier_range range;

    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start, end);
    mmu_notifier_invalidate_range_start(&range);
    sim_zap_range(vma, start, end);
    mmu_notifier_invalidate_range_end(&range);
}

static bool sim_advice_known(int advice)
{
    return advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_NORMAL ||
           advice == MADV_WILLNEED;
}

/* One VMA's part of the range: 0, or -EINVAL where the advice does not apply to it. */
static int sim_advise_vma(struct vm_area_struct *vma, unsigned long start,
                          unsigned long end, int advice)
{
    if (advice == MADV_DONTNEED)
        sim_dontneed_vma(vma, start, end);
    if (advice == MADV_FREE && (vma->vm_flags & VM_SHARED))
        return -EINVAL;
    return 0;
}

int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice)
{
    unsigned long end = addr + PAGE_ALIGN(len), covered = addr;
    struct vm_area_struct *vma;
    int ret = 0;

    if (!PAGE_ALIGNED(addr) || !sim_advice_known(advice))
        return -EINVAL;
    if (end < addr || (len && PAGE_ALIGN(len) == 0))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    for (vma = mm->mmap; !ret && vma && vma->vm_start < end; vma = vma->vm_next) {
        unsigned long s = vma->vm_start > addr ? vma->vm_start : addr;
        unsigned long e = vma->vm_end < end ? vma->vm_end : end;

        if (e <= s)
            continue;
        if (s != covered)
            covered = 0;
        else
            covered = e;
        ret = sim_advise_vma(vma, s, e, advice);
    }
    mmap_read_unlock(mm);
    mmput(mm);
    return ret ? ret : covered == end ? 0 : -ENOMEM;
}
