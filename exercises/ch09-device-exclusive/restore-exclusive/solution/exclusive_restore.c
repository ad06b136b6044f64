/* Generated from chapters/09-device-exclusive.nw by make tangle (sum 2a644f86000c): edit the chapter, not this file. */
#line 775 "chapters/09-device-exclusive.nw"
#include "hmmwb.h"

#line 231 "chapters/09-device-exclusive.nw"
pte_t sim_restore_exclusive_pte(struct vm_area_struct *vma, struct page *page, pte_t orig)
{
    unsigned long bits = _PAGE_PRESENT;

    if (vma->vm_flags & VM_WRITE) {
        bits |= _PAGE_RW;
        if (pte_to_swp_entry(orig).val & SIM_SWP_EXCLUSIVE_DIRTY)
            bits |= _PAGE_DIRTY;
    }
    return pfn_pte(page_to_pfn(page), bits);
}
