/* Generated from chapters/07-device-private.nw by make tangle (sum 23e509579283): edit the chapter, not this file. */
#line 941 "chapters/07-device-private.nw"
#include "hmmwb.h"

#line 355 "chapters/07-device-private.nw"
vm_fault_t sim_do_device_private_fault(struct vm_fault *vmf)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(vmf->orig_pte));
    vm_fault_t ret;

    vmf->page = page;
    if (!trylock_page(page)) {       /* a migration holds it: the CPU tries again */
        pthread_mutex_unlock(&mm->page_table_lock);
        return 0;
    }
    get_page(page);                  /* the entry's own reference keeps it alive here */
    pthread_mutex_unlock(&mm->page_table_lock);
    ret = page_pgmap(page)->ops->migrate_to_ram(vmf);
    unlock_page(page);
    put_page(page);
    return ret;
}
