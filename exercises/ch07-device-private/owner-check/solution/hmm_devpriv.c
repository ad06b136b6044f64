/* Generated from chapters/07-device-private.nw by make tangle (sum 7eaacb831e2d): edit the chapter, not this file. */
#line 957 "chapters/07-device-private.nw"
#include "hmmwb.h"

#line 472 "chapters/07-device-private.nw"
bool hmm_answer_device_private(struct hmm_range *range, swp_entry_t entry,
                               unsigned long *hmm_pfn)
{
    struct page *page = pfn_swap_entry_to_page(entry);

    if (page_pgmap(page)->owner != range->dev_private_owner)
        return false;
    *hmm_pfn = swp_offset_pfn(entry) | HMM_PFN_VALID;
    if (is_writable_device_private_entry(entry))
        *hmm_pfn |= HMM_PFN_WRITE;
    return true;
}
#line 498 "chapters/07-device-private.nw"
bool (*sim_hmm_answer_device_private)(struct hmm_range *range, swp_entry_t entry,
                                      unsigned long *hmm_pfn) = hmm_answer_device_private;
