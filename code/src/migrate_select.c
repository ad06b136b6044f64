/* Generated from chapters/08-migration.nw by make tangle (sum afc6f3a3e303): edit the chapter, not this file. */
#line 1490 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 354 "chapters/08-migration.nw"
unsigned long migrate_vma_select(const struct migrate_vma *migrate, pte_t pte,
                                 struct page **pagep)
{
    bool anon = !migrate->vma->vm_shmem;

    *pagep = NULL;
    if (pte_none(pte))
        return anon ? MIGRATE_PFN_MIGRATE : 0;
    if (is_swap_pte(pte)) {
        swp_entry_t entry = pte_to_swp_entry(pte);

        if (!is_device_private_entry(entry) ||
            !(migrate->flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) ||
            page_pgmap(pfn_swap_entry_to_page(entry))->owner != migrate->pgmap_owner)
            return 0;
        *pagep = pfn_swap_entry_to_page(entry);
        return migrate_pfn(swp_offset_pfn(entry)) | MIGRATE_PFN_MIGRATE |
               (is_writable_device_private_entry(entry) ? MIGRATE_PFN_WRITE : 0);
    }
    if (!(migrate->flags & MIGRATE_VMA_SELECT_SYSTEM) || !anon)
        return 0;
    if (is_zero_pfn(pte_pfn(pte)))
        return MIGRATE_PFN_MIGRATE;
    *pagep = pfn_to_page(pte_pfn(pte));
    return migrate_pfn(pte_pfn(pte)) | MIGRATE_PFN_MIGRATE |
           (pte_write(pte) ? MIGRATE_PFN_WRITE : 0);
}
