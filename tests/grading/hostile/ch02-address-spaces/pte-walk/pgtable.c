/* Hostile: does not compile. */
#include "hmmwb.h"

pte_t *sim_pte_offset(struct mm_struct *mm, unsigned long addr, bool alloc)
{
    return mm->no_such_field + addr + alloc;
}
