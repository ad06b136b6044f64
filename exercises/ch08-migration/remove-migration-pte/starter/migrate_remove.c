/* Exercise: the way back from a migration entry (chapter 8).  Replace the body. */
#include "hmmwb.h"

void sim_remove_migration_pte(pte_t *ptep, struct page *old, struct page *new)
{
    /* Wrong on purpose: whatever the entry was, the new page is mapped present and
     * writable, and the mapping takes neither a reference nor a map count. */
    (void)old;
    *ptep = pfn_pte(page_to_pfn(new), _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_RW | _PAGE_DIRTY);
}
