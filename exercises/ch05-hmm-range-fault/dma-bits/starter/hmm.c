#include <time.h>
#include "hmmwb.h"

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
struct vm_area_struct *sim_find_vma(struct mm_struct *mm, unsigned long addr)
{
    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next)
        if (addr < vma->vm_end)
            return vma;
    return NULL;
}
static unsigned long hmm_hole_end(struct mm_struct *mm, unsigned long addr)
{
    struct sim_pgtable *table = mm->pgd;
    int level = SIM_PT_LEVELS;
    unsigned long span;

    while (table && --level > 0) {
        unsigned long slot = table->entry[sim_pt_index(addr, level)];

        if (!slot)
            break;
        table = (struct sim_pgtable *)slot;
    }
    if (table && level == 0)
        return addr;
    span = 1UL << (PAGE_SHIFT + 9 * level);     /* what the missing entry would map */
    return (addr | (span - 1)) + 1;
}

static int hmm_walk_hole(struct hmm_vma_walk *walk, struct vm_area_struct *vma,
                         unsigned long start, unsigned long end)
{
    struct hmm_range *range = walk->range;
    unsigned int required = hmm_range_need_fault(range, hmm_pfn_slot(range, start),
                                                 (end - start) >> PAGE_SHIFT, 0);

    if (required)
        return hmm_vma_fault(walk, vma, start, end, required);
    return hmm_pfns_fill(range, start, end, 0);
}
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
        if (hmm_vma_forbidden(vma)) {
            next = vma->vm_end < end ? vma->vm_end : end;
            ret = hmm_walk_forbidden(walk, addr, next);
            addr = next;
            continue;
        }
        pthread_mutex_lock(&mm->page_table_lock);
        next = hmm_hole_end(mm, addr);
        pthread_mutex_unlock(&mm->page_table_lock);
        if (next > addr) {
            next = next < vma->vm_end ? next : vma->vm_end;
            next = next < end ? next : end;
            ret = hmm_walk_hole(walk, vma, addr, next);
        } else {
            next = ((addr + PMD_SIZE) & PMD_MASK) < vma->vm_end ? (addr + PMD_SIZE) & PMD_MASK
                                                                 : vma->vm_end;
            next = next < end ? next : end;
            ret = hmm_walk_segment(walk, vma, addr, next);
        }
        addr = next;
    }
    return ret;
}
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
