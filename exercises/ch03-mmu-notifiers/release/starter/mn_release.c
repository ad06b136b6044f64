/* Exercise: telling subscribers that the address space is gone (chapter 3). */
#include "hmmwb.h"

void __mmu_notifier_release(struct mm_struct *mm)
{
    /* Call every subscriber's release, then unlink them all. */
    (void)mm;
}
