/* Exercise: the pin check (chapter 8).  Replace the body. */
#include "hmmwb.h"

bool migrate_vma_check_page(struct page *page, struct page *fault_page)
{
    /* Wrong on purpose: only the migration's reference is allowed, even on the page the
     * CPU faulted on, and a page that is still mapped passes. */
    (void)fault_page;
    return page_ref_count(page) == 1;
}
