/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum a16a2f53c5e1): edit the chapter, not this file. */
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
