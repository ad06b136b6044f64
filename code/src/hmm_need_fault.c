/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum f3cfa937e345): edit the chapter, not this file. */
#line 632 "chapters/05-hmm-range-fault.nw"
#include "hmmwb.h"

#line 79 "chapters/05-hmm-range-fault.nw"
unsigned int hmm_pte_need_fault(const struct hmm_range *range,
                                unsigned long pfn_req_flags, unsigned long cpu_flags)
{
    pfn_req_flags &= range->pfn_flags_mask;
    pfn_req_flags |= range->default_flags;
    if (!(pfn_req_flags & HMM_PFN_REQ_FAULT))
        return 0;
    if ((pfn_req_flags & HMM_PFN_REQ_WRITE) && !(cpu_flags & HMM_PFN_WRITE))
        return HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT;
    if (!(cpu_flags & HMM_PFN_VALID))
        return HMM_NEED_FAULT;
    return 0;
}
#line 100 "chapters/05-hmm-range-fault.nw"
unsigned int hmm_range_need_fault(const struct hmm_range *range,
                                  const unsigned long *hmm_pfns, unsigned long npages,
                                  unsigned long cpu_flags)
{
    unsigned int required = 0;

    if (!((range->default_flags | range->pfn_flags_mask) & HMM_PFN_REQ_FAULT))
        return 0;
    for (unsigned long i = 0; i < npages; i++) {
        required |= hmm_pte_need_fault(range, hmm_pfns[i], cpu_flags);
        if (required == (HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT))
            break;
    }
    return required;
}
