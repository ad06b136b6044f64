/* Generated from chapters/05-hmm-range-fault.nw by make tangle (sum ffb8e81d26a9): edit the chapter, not this file. */
#line 576 "chapters/05-hmm-range-fault.nw"
#ifndef HMMWB_HMM_H
#define HMMWB_HMM_H

#include "mm.h"

#line 24 "chapters/05-hmm-range-fault.nw"
#define HMM_PFN_VALID (1UL << 63)        /* out: a usable pfn, at least readable */
#define HMM_PFN_WRITE (1UL << 62)        /* out: the CPU entry is writable */
#define HMM_PFN_ERROR (1UL << 61)        /* out: the page cannot be accessed */
#define HMM_PFN_ORDER_SHIFT 53           /* out: 5 bits of mapping order */
#define HMM_PFN_REQ_FAULT HMM_PFN_VALID  /* in: make the page valid */
#define HMM_PFN_REQ_WRITE HMM_PFN_WRITE  /* in: make it writable (with REQ_FAULT) */
#define HMM_PFN_FLAGS (~((1UL << HMM_PFN_ORDER_SHIFT) - 1))
#define HMM_RANGE_DEFAULT_TIMEOUT 1000   /* ms, for drivers' retry loops */
#line 45 "chapters/05-hmm-range-fault.nw"
struct hmm_range {
    struct mmu_interval_notifier *notifier;  /* covers [start, end) */
    unsigned long notifier_seq;              /* from mmu_interval_read_begin() */
    unsigned long start;                     /* first address, page aligned */
    unsigned long end;                       /* first address past the range */
    unsigned long *hmm_pfns;                 /* (end - start) >> PAGE_SHIFT entries */
    unsigned long default_flags;             /* requested for every page */
    unsigned long pfn_flags_mask;            /* which per-page input bits count */
    void *dev_private_owner;                 /* chapter 7: whose private pages to report */
};

#line 584 "chapters/05-hmm-range-fault.nw"
int hmm_range_fault(struct hmm_range *range);
int hmm_range_check(const struct hmm_range *range);
#line 496 "chapters/05-hmm-range-fault.nw"
static inline struct page *hmm_pfn_to_page(unsigned long hmm_pfn)
{
    return pfn_to_page(hmm_pfn & ~HMM_PFN_FLAGS);
}

static inline unsigned int hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
    return (hmm_pfn >> HMM_PFN_ORDER_SHIFT) & 0x1F;
}

#line 588 "chapters/05-hmm-range-fault.nw"
enum { HMM_NEED_FAULT = 1, HMM_NEED_WRITE_FAULT = 2 };
unsigned int hmm_pte_need_fault(const struct hmm_range *range, unsigned long pfn_req_flags,
                                unsigned long cpu_flags);
unsigned int hmm_range_need_fault(const struct hmm_range *range,
                                  const unsigned long *hmm_pfns, unsigned long npages,
                                  unsigned long cpu_flags);
unsigned long pte_to_hmm_pfn_flags(pte_t pte);
int hmm_vma_handle_pte(struct hmm_range *range, unsigned long addr, pte_t pte,
                       unsigned long *hmm_pfn);

int sim_hmm_driver_fault(struct hmm_range *range, pthread_mutex_t *driver_lock,
                         int (*update)(void *ctx, struct hmm_range *range), void *ctx);
struct vm_area_struct *sim_find_vma(struct mm_struct *mm, unsigned long addr);
extern void (*sim_hmm_walk_hook)(struct hmm_range *range, unsigned long addr);

#endif
