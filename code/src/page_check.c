/* Generated from chapters/01-physical-memory.nw by make tangle (sum d2ae011ce98d): edit the chapter, not this file. */
#line 961 "chapters/01-physical-memory.nw"
#include "page.h"

#line 764 "chapters/01-physical-memory.nw"
int sim_check_frame(struct page *page, bool listed)
{
    int bad = 0;
    int ref = page_ref_count(page), map = page_mapcount(page);
    bool buddy = sim_page_test_flag(page, PG_buddy);

    if (listed && (!buddy || ref || map || PageLocked(page)))
        bad += sim_invariant_failed("free pfn %#lx: buddy %d ref %d map %d locked %d",
                                    page->pfn, buddy, ref, map, PageLocked(page));
    if (!listed && buddy)
        bad += sim_invariant_failed("pfn %#lx marked free but not listed", page->pfn);
    if (ref < 0 || map < 0 || map > ref)
        bad += sim_invariant_failed("pfn %#lx: ref %d map %d", page->pfn, ref, map);
    return bad;
}
