/* Exercise: breaking copy-on-write (chapter 2).  Replace the bodies. */
#include <string.h>
#include "hmmwb.h"

vm_fault_t sim_do_wp_page(struct vm_fault *vmf, pte_t *ptep)
{
    /* Wrong on purpose: lets the write through to a frame that may be shared. */
    *ptep |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
    pthread_mutex_unlock(&vmf->vma->vm_mm->page_table_lock);
    return 0;
}

vm_fault_t sim_wp_page_copy(struct vm_fault *vmf)
{
    /* Copy vmf->page (NULL for the zero page) and install the copy. */
    (void)vmf;
    return VM_FAULT_SIGBUS;
}
