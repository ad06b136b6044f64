/* Generated from chapters/08-migration.nw by make tangle (sum f8485363f894): edit the chapter, not this file. */
#line 1507 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 157 "chapters/08-migration.nw"
vm_fault_t sim_migration_entry_wait(struct vm_fault *vmf)
{
    struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(vmf->orig_pte));

    sim_wait_on_page_unlock(page, &vmf->vma->vm_mm->page_table_lock);
    return 0;
}
