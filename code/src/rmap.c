/* Generated from chapters/08-migration.nw by make tangle (sum 5b5b26f5dc1b): edit the chapter, not this file. */
#line 1480 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 472 "chapters/08-migration.nw"
static bool sim_entry_pfn(pte_t pte, unsigned long *pfn)
{
    if (pte_present(pte))
        *pfn = pte_pfn(pte);
    else if (is_swap_pte(pte))
        *pfn = swp_offset_pfn(pte_to_swp_entry(pte));
    else
        return false;
    return true;
}

static void sim_rmap_walk_table(struct sim_pgtable *table, int level, unsigned long base,
                                struct sim_rmap_walk *w, struct mm_struct *mm)
{
    for (unsigned i = 0; i < PTRS_PER_PTE; i++) {
        unsigned long addr = base + ((unsigned long)i << (PAGE_SHIFT + 9 * level)), pfn;

        if (!table->entry[i])
            continue;
        if (level > 0)
            sim_rmap_walk_table((struct sim_pgtable *)table->entry[i], level - 1, addr,
                                w, mm);
        else if (sim_entry_pfn(table->entry[i], &pfn) && pfn >= w->first && pfn <= w->last)
            w->visit(w, mm, addr, &table->entry[i]);
    }
}
#line 506 "chapters/08-migration.nw"
void sim_rmap_walk(struct sim_rmap_walk *w)
{
    struct mm_struct **mms;
    int n = sim_mm_list_snapshot(&mms);

    for (int i = 0; i < n; i++) {
        struct mm_struct *mm = mms[i];

        if (!sim_mm_alive(mm))
            continue;
        pthread_mutex_lock(&mm->page_table_lock);
        if (mm->pgd)
            sim_rmap_walk_table(mm->pgd, SIM_PT_LEVELS - 1, 0, w, mm);
        pthread_mutex_unlock(&mm->page_table_lock);
    }
    if (n >= 0)
        sim_mm_list_release(mms, n);
}
