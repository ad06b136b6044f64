/* Exercise: the CPU takes the page back (chapter 9).  Replace the body. */
#include "hmmwb.h"

vm_fault_t sim_remove_device_exclusive_entry(struct vm_fault *vmf)
{
    /* Wrong on purpose: the entry is put back at once, under the lock the fault holds,
     * without looking whether it is still there and without telling anyone: the device
     * keeps its atomic mapping of a page the CPU now writes. */
    struct mm_struct *mm = vmf->vma->vm_mm;
    struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(vmf->orig_pte));
    pte_t *ptep = sim_pte_offset(mm, vmf->address, false);

    if (ptep)
        *ptep = sim_restore_exclusive_pte(vmf->vma, page, vmf->orig_pte);
    pthread_mutex_unlock(&mm->page_table_lock);
    return 0;
}
