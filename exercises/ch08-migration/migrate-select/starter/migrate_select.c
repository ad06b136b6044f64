/* Exercise: which entries move (chapter 8).  Replace the body. */
#include "hmmwb.h"

unsigned long migrate_vma_select(const struct migrate_vma *migrate, pte_t pte,
                                 struct page **pagep)
{
    /* Wrong on purpose: every hole and every page moves, whatever the flags, the kind of
     * memory and the owner say. */
    (void)migrate;
    *pagep = NULL;
    if (pte_none(pte))
        return MIGRATE_PFN_MIGRATE;
    if (is_swap_pte(pte)) {
        swp_entry_t entry = pte_to_swp_entry(pte);

        *pagep = pfn_swap_entry_to_page(entry);
        return migrate_pfn(swp_offset_pfn(entry)) | MIGRATE_PFN_MIGRATE |
               (is_writable_device_private_entry(entry) ? MIGRATE_PFN_WRITE : 0);
    }
    *pagep = pfn_to_page(pte_pfn(pte));
    return migrate_pfn(pte_pfn(pte)) | MIGRATE_PFN_MIGRATE |
           (pte_write(pte) ? MIGRATE_PFN_WRITE : 0);
}
