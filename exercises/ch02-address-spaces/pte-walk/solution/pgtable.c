/* Generated from chapters/02-address-spaces.nw by make tangle (sum 2c7a0f367cf6): edit the chapter, not this file. */
#line 2484 "chapters/02-address-spaces.nw"
#include <stdlib.h>
#include "hmmwb.h"

#line 204 "chapters/02-address-spaces.nw"
pte_t *sim_pte_offset(struct mm_struct *mm, unsigned long addr, bool alloc)
{
    struct sim_pgtable *table = mm->pgd;

    if (!table)
        return NULL;
    for (int level = SIM_PT_LEVELS - 1; level > 0; level--) {
        unsigned long *slot = &table->entry[sim_pt_index(addr, level)];

        if (!*slot) {
            if (!alloc)
                return NULL;
            *slot = (unsigned long)calloc(1, sizeof(struct sim_pgtable));
            if (!*slot)
                return NULL;
        }
        table = (struct sim_pgtable *)*slot;
    }
    return &table->entry[sim_pt_index(addr, 0)];
}
