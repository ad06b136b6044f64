/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum eb26038bc2c9): edit the chapter, not this file. */
#line 641 "chapters/05-hmm-range-fault.nw"
#include "hmmwb.h"

#line 137 "chapters/05-hmm-range-fault.nw"
unsigned long pte_to_hmm_pfn_flags(pte_t pte)
{
    if (!sim_pte_accessible(pte))
        return 0;
    return pte_write(pte) ? (HMM_PFN_VALID | HMM_PFN_WRITE) : HMM_PFN_VALID;
}
#line 248 "chapters/05-hmm-range-fault.nw"
int hmm_vma_handle_pte(struct hmm_range *range, unsigned long addr, pte_t pte,
                       unsigned long *hmm_pfn)
{
    unsigned long req = *hmm_pfn, cpu_flags;
    int required;

    if (pte_none(pte)) {
        required = hmm_pte_need_fault(range, req, 0);
        if (!required)
            *hmm_pfn = 0;
        return required;
    }
    if (is_swap_pte(pte)) {
        swp_entry_t entry = pte_to_swp_entry(pte);

#line 490 "chapters/07-device-private.nw"
        if (is_device_private_entry(entry) &&
            sim_hmm_answer_device_private(range, entry, hmm_pfn))
            return 0;
#line 264 "chapters/05-hmm-range-fault.nw"
        required = hmm_pte_need_fault(range, req, 0);
        if (!required)
            *hmm_pfn = 0;
        (void)entry;
        return required;
    }
    cpu_flags = pte_to_hmm_pfn_flags(pte);
    required = hmm_pte_need_fault(range, req, cpu_flags);
    if (!required)
        *hmm_pfn = cpu_flags ? (pte_pfn(pte) | cpu_flags) : 0;
    (void)addr;
    return required;
}
