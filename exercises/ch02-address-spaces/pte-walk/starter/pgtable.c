/* Exercise: walking the page table (chapter 2).  Replace the body. */
#include <stdlib.h>
#include "hmmwb.h"

pte_t *sim_pte_offset(struct mm_struct *mm, unsigned long addr, bool alloc)
{
    /* Walk mm->pgd down to the PTE slot of addr, allocating tables if alloc. */
    (void)mm;
    (void)addr;
    (void)alloc;
    return NULL;
}
