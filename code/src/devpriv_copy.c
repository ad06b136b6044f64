/* Generated from chapters/07-device-private.nw by make tangle (sum 66c1a3f9bff1): edit the chapter, not this file. */
#line 949 "chapters/07-device-private.nw"
#include "hmmwb.h"

#line 414 "chapters/07-device-private.nw"
bool sim_copy_device_private_pte(pte_t *dst, pte_t *src)
{
    swp_entry_t entry = pte_to_swp_entry(*src);
    struct page *page;

    if (!is_device_private_entry(entry))
        return false;
    page = pfn_swap_entry_to_page(entry);
    get_page(page);
    atomic_fetch_add(&page->_mapcount, 1);
    if (is_writable_device_private_entry(entry)) {
        entry = make_readable_device_private_entry(swp_offset_pfn(entry));
        *src = swp_entry_to_pte(entry);
    }
    *dst = swp_entry_to_pte(entry);
    return true;
}
