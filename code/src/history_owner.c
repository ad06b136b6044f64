/* Generated from chapters/07-device-private.nw by make tangle (sum feb7581935b6): edit the chapter, not this file. */
#line 966 "chapters/07-device-private.nw"
#include "hmmwb.h"

#line 518 "chapters/07-device-private.nw"
bool hmm_answer_device_private_before_5_7(struct hmm_range *range, swp_entry_t entry,
                                          unsigned long *hmm_pfn)
{
    *hmm_pfn = swp_offset_pfn(entry) | HMM_PFN_VALID;
    if (is_writable_device_private_entry(entry))
        *hmm_pfn |= HMM_PFN_WRITE;
    (void)range;
    return true;
}
