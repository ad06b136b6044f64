/* Exercise: deciding whether a page needs a fault (chapter 5).  Replace the bodies. */
#include "hmmwb.h"

unsigned int hmm_pte_need_fault(const struct hmm_range *range, unsigned long pfn_req_flags,
                                unsigned long cpu_flags)
{
    (void)range;
    (void)pfn_req_flags;
    (void)cpu_flags;
    return 0;
}

unsigned int hmm_range_need_fault(const struct hmm_range *range,
                                  const unsigned long *hmm_pfns, unsigned long npages,
                                  unsigned long cpu_flags)
{
    (void)range;
    (void)hmm_pfns;
    (void)npages;
    (void)cpu_flags;
    return 0;
}
