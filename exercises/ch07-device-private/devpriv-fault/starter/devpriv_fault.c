/* Exercise: the CPU faults on a device page (chapter 7).  Replace the body. */
#include "hmmwb.h"

vm_fault_t sim_do_device_private_fault(struct vm_fault *vmf)
{
    /* Wrong on purpose: the driver is never asked, so the access fails. */
    pthread_mutex_unlock(&vmf->vma->vm_mm->page_table_lock);
    return VM_FAULT_SIGBUS;
}
