/* Generated from chapters/08-migration.nw by make tangle (sum e7da528a79a0): edit the chapter, not this file. */
#line 1322 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 69 "chapters/08-migration.nw"
vm_fault_t sim_migration_entry_wait(struct vm_fault *vmf)
{
    struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(vmf->orig_pte));

    get_page(page);
    pthread_mutex_unlock(&vmf->vma->vm_mm->page_table_lock);
    lock_page(page);
    unlock_page(page);
    put_page(page);
    return 0;
}
