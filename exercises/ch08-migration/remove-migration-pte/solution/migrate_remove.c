/* Generated from chapters/08-migration.nw by make tangle (sum 1853accde24f): edit the chapter, not this file. */
#line 1302 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 700 "chapters/08-migration.nw"
void sim_remove_migration_pte(pte_t *ptep, struct page *old, struct page *new)
{
    swp_entry_t entry = pte_to_swp_entry(*ptep);
    bool write;

    if (!is_swap_pte(*ptep) || !is_migration_entry(entry) ||
        swp_offset_pfn(entry) != page_to_pfn(old))
        return;
    write = is_writable_migration_entry(entry);
    if (is_device_private_page(new))
        *ptep = swp_entry_to_pte(write ? make_writable_device_private_entry(page_to_pfn(new))
                                       : make_readable_device_private_entry(page_to_pfn(new)));
    else
        *ptep = pfn_pte(page_to_pfn(new), _PAGE_PRESENT | _PAGE_ACCESSED |
                                              (write ? _PAGE_RW | _PAGE_DIRTY : 0));
    get_page(new);
    atomic_fetch_add(&new->_mapcount, 1);
}
