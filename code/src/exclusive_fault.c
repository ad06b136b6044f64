/* Generated from chapters/09-device-exclusive.nw by make tangle (sum 40ae04c73b63): edit the chapter, not this file. */
#line 767 "chapters/09-device-exclusive.nw"
#include "hmmwb.h"

#line 193 "chapters/09-device-exclusive.nw"
vm_fault_t sim_remove_device_exclusive_entry(struct vm_fault *vmf)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(vmf->orig_pte));
    struct mmu_notifier_range range;
    pte_t *ptep;

    get_page(page);                  /* the entry's own reference keeps it alive here */
    pthread_mutex_unlock(&mm->page_table_lock);
    lock_page(page);
    mmu_notifier_range_init_owner(&range, MMU_NOTIFY_CLEAR, 0, mm, vmf->address,
                                  vmf->address + PAGE_SIZE, NULL);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, vmf->address, false);
    if (ptep && *ptep == vmf->orig_pte)
        *ptep = sim_restore_exclusive_pte(vmf->vma, page, vmf->orig_pte);
    pthread_mutex_unlock(&mm->page_table_lock);
    unlock_page(page);
    put_page(page);
    mmu_notifier_invalidate_range_end(&range);
    return 0;
}
