/* Generated from chapters/06-mirror-device.nw by make tangle (sum 1facf15f1bff): edit the chapter, not this file. */
#line 973 "chapters/06-mirror-device.nw"
#include "hmmwb.h"

#line 587 "chapters/06-mirror-device.nw"
unsigned char dmirror_mkentry(struct dmirror *dmirror, unsigned long entry)
{
    struct page *page;
    unsigned char perm;

    if (entry & HMM_PFN_ERROR)
        return HMM_DMIRROR_PROT_ERROR;
    if (!(entry & HMM_PFN_VALID))
        return HMM_DMIRROR_PROT_NONE;
    page = hmm_pfn_to_page(entry);
    perm = HMM_DMIRROR_PROT_NONE;

    if (is_zero_pfn(page_to_pfn(page)))
        perm = HMM_DMIRROR_PROT_ZERO;
    perm |= (entry & HMM_PFN_WRITE) ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
    if (hmm_pfn_to_map_order(entry) + PAGE_SHIFT == PMD_SHIFT)
        perm |= HMM_DMIRROR_PROT_PMD;
    else if (hmm_pfn_to_map_order(entry) + PAGE_SHIFT == PUD_SHIFT)
        perm |= HMM_DMIRROR_PROT_PUD;
    (void)dmirror;
    return perm;
}
