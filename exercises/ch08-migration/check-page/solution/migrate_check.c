/* Generated from chapters/08-migration.nw by make tangle (sum 060012492e39): edit the chapter, not this file. */
#line 1499 "chapters/08-migration.nw"
#include "hmmwb.h"

#line 673 "chapters/08-migration.nw"
bool migrate_vma_check_page(struct page *page, struct page *fault_page)
{
    int extra = 1 + (page == fault_page);

    return page_mapcount(page) == 0 && page_ref_count(page) == extra;
}
