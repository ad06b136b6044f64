/* Exercise: the owner check in hmm_range_fault (chapter 7).  Replace the body. */
#include "hmmwb.h"

bool hmm_answer_device_private(struct hmm_range *range, swp_entry_t entry,
                               unsigned long *hmm_pfn)
{
    /* Wrong on purpose: every device's pages are answered, as before Linux 5.7. */
    (void)range;
    *hmm_pfn = swp_offset_pfn(entry) | HMM_PFN_VALID | HMM_PFN_WRITE;
    return true;
}

bool (*sim_hmm_answer_device_private)(struct hmm_range *range, swp_entry_t entry,
                                      unsigned long *hmm_pfn) = hmm_answer_device_private;
