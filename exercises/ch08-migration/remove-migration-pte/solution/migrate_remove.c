/* Generated from chapters/08-migration.nw by make tangle (sum 3cc765cfd284): edit the chapter, not this file. */
#line 1515 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 811 "chapters/08-migration.nw"
void sim_remove_migration_pte(pte_t *ptep, struct page *old, struct page *new)
{
    swp_entry_t entry = pte_to_swp_entry(*ptep);
    bool write;

    if (!is_swap_pte(*ptep) || !is_migration_entry(entry) ||
        swp_offset_pfn(entry) != page_to_pfn(old))
        return;
    write = is_writable_migration_entry(entry);
    if (is_device_private_page(new))
        *ptep = sim_device_private_pte(page_to_pfn(new), write);
    else
        *ptep = pfn_pte(page_to_pfn(new), _PAGE_PRESENT | (write ? _PAGE_RW : 0) |
                        (is_migration_entry_young(entry) ? _PAGE_ACCESSED : 0) |
                        (is_migration_entry_dirty(entry) ? _PAGE_DIRTY : 0));
    get_page(new);
    atomic_fetch_add(&new->_mapcount, 1);
}
