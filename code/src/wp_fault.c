/* Generated from chapters/02-address-spaces.nw by make tangle (sum f09d2d7bc389): edit the chapter, not this file. */
#line 2493 "chapters/02-address-spaces.nw"
#include <string.h>
#include "hmmwb.h"

#line 1087 "chapters/02-address-spaces.nw"
vm_fault_t sim_do_wp_page(struct vm_fault *vmf, pte_t *ptep)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    unsigned long pfn = pte_pfn(vmf->orig_pte);

    if (!(vmf->vma->vm_flags & VM_SHARED) &&
        (is_zero_pfn(pfn) || page_ref_count(pfn_to_page(pfn)) != 1)) {
        vmf->page = is_zero_pfn(pfn) ? NULL : pfn_to_page(pfn);
        if (vmf->page)
            get_page(vmf->page);
        pthread_mutex_unlock(&mm->page_table_lock);
        return sim_wp_page_copy(vmf);
    }
    *ptep |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
    pthread_mutex_unlock(&mm->page_table_lock);
    return 0;
}
#line 1115 "chapters/02-address-spaces.nw"
vm_fault_t sim_wp_page_copy(struct vm_fault *vmf)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    struct mmu_notifier_range range;
    struct page *new_page = alloc_page();
    pte_t *ptep;

    if (!new_page) {
        if (vmf->page)
            put_page(vmf->page);
        return VM_FAULT_OOM;
    }
    if (vmf->page)
        memcpy(sim_page_address(new_page), sim_page_address(vmf->page), PAGE_SIZE);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, vmf->address,
                            vmf->address + PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, vmf->address, false);
    if (ptep && *ptep == vmf->orig_pte) {
#line 1152 "chapters/02-address-spaces.nw"
        if (vmf->page) {
            atomic_fetch_sub(&vmf->page->_mapcount, 1);
            put_page(vmf->page);
        }
        atomic_fetch_add(&new_page->_mapcount, 1);
        *ptep = pfn_pte(page_to_pfn(new_page),
                        _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);
        new_page = NULL;
#line 1136 "chapters/02-address-spaces.nw"
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    mmu_notifier_invalidate_range_end(&range);
    if (new_page)
        put_page(new_page);
    if (vmf->page)
        put_page(vmf->page);
    return 0;
}
