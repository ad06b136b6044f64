/* Exercise: the entry the CPU gets back (chapter 9).  Replace the body. */
#include "hmmwb.h"

pte_t sim_restore_exclusive_pte(struct vm_area_struct *vma, struct page *page, pte_t orig)
{
    /* Wrong on purpose: whatever the VMA allows and whatever the page was, the entry
     * comes back writable and dirty. */
    (void)vma;
    (void)orig;
    return pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY);
}
