/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum 843cc9ab0fdb): edit the chapter, not this file. */
#line 542 "chapters/05-hmm-range-fault.nw"
#include <time.h>
#include "hmmwb.h"

#line 148 "chapters/05-hmm-range-fault.nw"
struct hmm_vma_walk {
    struct hmm_range *range;
    unsigned long last;
};

static unsigned long *hmm_pfn_slot(struct hmm_range *range, unsigned long addr)
{
    return &range->hmm_pfns[(addr - range->start) >> PAGE_SHIFT];
}

static int hmm_pfns_fill(struct hmm_range *range, unsigned long start, unsigned long end,
                         unsigned long value)
{
    for (unsigned long addr = start; addr < end; addr += PAGE_SIZE)
        *hmm_pfn_slot(range, addr) = value;
    return 0;
}
#line 177 "chapters/05-hmm-range-fault.nw"
static int hmm_vma_fault(struct hmm_vma_walk *walk, struct vm_area_struct *vma,
                         unsigned long addr, unsigned long end, unsigned int required)
{
    unsigned int fault_flags = FAULT_FLAG_REMOTE;

    walk->last = addr;
    if (required & HMM_NEED_WRITE_FAULT) {
        if (!(vma->vm_flags & VM_WRITE))
            return -EPERM;
        fault_flags |= FAULT_FLAG_WRITE;
    }
    for (; addr < end; addr += PAGE_SIZE)
        if (handle_mm_fault(vma, addr, fault_flags) & VM_FAULT_ERROR)
            return -EFAULT;
    return -EBUSY;
}
#line 209 "chapters/05-hmm-range-fault.nw"
static int hmm_walk_forbidden(struct hmm_vma_walk *walk, unsigned long start,
                              unsigned long end)
{
    struct hmm_range *range = walk->range;
    unsigned long npages = (end - start) >> PAGE_SHIFT;

    if (hmm_range_need_fault(range, hmm_pfn_slot(range, start), npages, 0))
        return -EFAULT;
    return hmm_pfns_fill(range, start, end, HMM_PFN_ERROR);
}

static bool hmm_vma_forbidden(const struct vm_area_struct *vma)
{
    return (vma->vm_flags & (VM_IO | VM_PFNMAP)) || !(vma->vm_flags & VM_READ);
}
#line 287 "chapters/05-hmm-range-fault.nw"
static int hmm_walk_segment(struct hmm_vma_walk *walk, struct vm_area_struct *vma,
                            unsigned long start, unsigned long end)
{
    struct hmm_range *range = walk->range;
    struct mm_struct *mm = vma->vm_mm;
    unsigned long addr = start;
    int required = 0;
    pte_t *ptep;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, start, false);
    for (; addr < end; addr += PAGE_SIZE, ptep = ptep ? ptep + 1 : NULL) {
        required = hmm_vma_handle_pte(range, addr, ptep ? *ptep : 0,
                                      hmm_pfn_slot(range, addr));
        if (required)
            break;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    if (required < 0)
        return required;
    if (required)
        return hmm_vma_fault(walk, vma, addr, end, required);
    return 0;
}
#line 369 "chapters/05-hmm-range-fault.nw"
struct vm_area_struct *sim_find_vma(struct mm_struct *mm, unsigned long addr)
{
    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next)
        if (addr < vma->vm_end)
            return vma;
    return NULL;
}
#line 325 "chapters/05-hmm-range-fault.nw"
void (*sim_hmm_walk_hook)(struct hmm_range *range, unsigned long addr);

static int hmm_walk_range(struct hmm_vma_walk *walk, unsigned long start, unsigned long end)
{
    struct hmm_range *range = walk->range;
    struct mm_struct *mm = range->notifier->mm;
    unsigned long addr = start;
    int ret = 0;

    while (!ret && addr < end) {
        struct vm_area_struct *vma = sim_find_vma(mm, addr);
        unsigned long next;

        if (addr != start && sim_hmm_walk_hook)
            sim_hmm_walk_hook(range, addr);
        if (addr != start && mmu_interval_check_retry(range->notifier, range->notifier_seq)) {
            walk->last = addr;
            return -EBUSY;
        }
        if (!vma || vma->vm_start >= end) {
            ret = hmm_walk_forbidden(walk, addr, end);
            break;
        }
        if (vma->vm_start > addr) {
            ret = hmm_walk_forbidden(walk, addr, vma->vm_start);
            addr = vma->vm_start;
            continue;
        }
        next = ((addr + PMD_SIZE) & PMD_MASK) < vma->vm_end ? (addr + PMD_SIZE) & PMD_MASK
                                                             : vma->vm_end;
        next = next < end ? next : end;
        ret = hmm_vma_forbidden(vma) ? hmm_walk_forbidden(walk, addr, next)
                                     : hmm_walk_segment(walk, vma, addr, next);
        addr = next;
    }
    return ret;
}
#line 388 "chapters/05-hmm-range-fault.nw"
int hmm_range_check(const struct hmm_range *range)
{
    if (!range || !range->notifier || !range->notifier->mm || !range->hmm_pfns)
        return -EINVAL;
    if (!PAGE_ALIGNED(range->start) || !PAGE_ALIGNED(range->end) ||
        range->end <= range->start)
        return -EINVAL;
    if (!sim_mm_alive(range->notifier->mm))
        return -EINVAL;
    return 0;
}

int hmm_range_fault(struct hmm_range *range)
{
    struct hmm_vma_walk walk = { .range = range };
    int ret = hmm_range_check(range);

    if (ret)
        return ret;
    walk.last = range->start;
    do {
        if (mmu_interval_check_retry(range->notifier, range->notifier_seq))
            return -EBUSY;
        ret = hmm_walk_range(&walk, walk.last, range->end);
    } while (ret == -EBUSY && !mmu_interval_check_retry(range->notifier,
                                                         range->notifier_seq));
    return ret;
}
