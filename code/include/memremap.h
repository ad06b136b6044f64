/* Generated from chapters/07-device-private.nw by make tangle (sum 18f9141515b9): edit the chapter, not this file. */
#line 874 "chapters/07-device-private.nw"
#ifndef HMMWB_MEMREMAP_H
#define HMMWB_MEMREMAP_H

#include "hmm.h"

#line 32 "chapters/07-device-private.nw"
enum memory_type {
    MEMORY_DEVICE_PRIVATE = 1,
};

struct range {                   /* pfns here (bytes in the kernel); end inclusive */
    unsigned long start;
    unsigned long end;
};
#line 48 "chapters/07-device-private.nw"
struct vm_fault;

struct dev_pagemap_ops {
    void (*page_free)(struct page *page);
    vm_fault_t (*migrate_to_ram)(struct vm_fault *vmf);
};
#line 63 "chapters/07-device-private.nw"
struct dev_pagemap {
    enum memory_type type;
    struct range range;                  /* set by memremap_pages (by the driver in Linux) */
    const struct dev_pagemap_ops *ops;
    void *owner;
    /* simulation: the memory section that holds the pages, and the list of pagemaps */
    struct sim_mem_section *sim_section;
    struct dev_pagemap *sim_next;
};
#line 297 "chapters/07-device-private.nw"
static inline swp_entry_t make_readable_device_private_entry(unsigned long pfn)
{
    return swp_entry(SIM_SWP_DEVICE_READ, pfn);
}

static inline swp_entry_t make_writable_device_private_entry(unsigned long pfn)
{
    return swp_entry(SIM_SWP_DEVICE_WRITE, pfn);
}

static inline bool is_device_private_entry(swp_entry_t entry)
{
    return swp_type(entry) == SIM_SWP_DEVICE_READ ||
           swp_type(entry) == SIM_SWP_DEVICE_WRITE;
}

static inline bool is_writable_device_private_entry(swp_entry_t entry)
{
    return swp_type(entry) == SIM_SWP_DEVICE_WRITE;
}

static inline unsigned long swp_offset_pfn(swp_entry_t entry)
{
    return swp_offset(entry);
}

static inline struct page *pfn_swap_entry_to_page(swp_entry_t entry)
{
    return pfn_to_page(swp_offset_pfn(entry));
}

/* The CPU entry that says "pfn is in device memory", writable or not. */
static inline pte_t sim_device_private_pte(unsigned long pfn, bool write)
{
    return swp_entry_to_pte(write ? make_writable_device_private_entry(pfn)
                                  : make_readable_device_private_entry(pfn));
}

#line 884 "chapters/07-device-private.nw"
void *memremap_pages(struct dev_pagemap *pgmap, unsigned long nr_pages);
void memunmap_pages(struct dev_pagemap *pgmap);
bool is_device_private_page(const struct page *page);
struct dev_pagemap *page_pgmap(const struct page *page);
void zone_device_page_init(struct page *page);

vm_fault_t sim_do_device_private_fault(struct vm_fault *vmf);
bool sim_copy_device_private_pte(pte_t *dst, pte_t *src);
bool hmm_answer_device_private(struct hmm_range *range, swp_entry_t entry,
                               unsigned long *hmm_pfn);
extern bool (*sim_hmm_answer_device_private)(struct hmm_range *range, swp_entry_t entry,
                                             unsigned long *hmm_pfn);

#endif
