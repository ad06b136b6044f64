/* Generated from chapters/09-device-exclusive.nw by make tangle (sum 3dd60952df50): edit the chapter, not this file. */
#line 700 "chapters/09-device-exclusive.nw"
#ifndef HMMWB_EXCLUSIVE_H
#define HMMWB_EXCLUSIVE_H

#include "migrate.h"

#line 38 "chapters/09-device-exclusive.nw"
#define SIM_SWP_EXCLUSIVE_DIRTY (1UL << 7)

static inline swp_entry_t make_device_exclusive_entry(unsigned long pfn)
{
    return swp_entry(SIM_SWP_DEVICE_EXCLUSIVE, pfn);
}

static inline bool is_device_exclusive_entry(swp_entry_t entry)
{
    return swp_type(entry) == SIM_SWP_DEVICE_EXCLUSIVE;
}

#line 707 "chapters/09-device-exclusive.nw"
struct page *make_device_exclusive(struct mm_struct *mm, unsigned long addr, void *owner);
struct page *sim_make_device_exclusive(struct mm_struct *mm, unsigned long addr,
                                       enum mmu_notifier_event event, void *owner);
struct page *sim_get_user_page_write(struct mm_struct *mm, unsigned long addr,
                                     struct vm_area_struct **vmap);
vm_fault_t sim_remove_device_exclusive_entry(struct vm_fault *vmf);
pte_t sim_restore_exclusive_pte(struct vm_area_struct *vma, struct page *page, pte_t orig);
int sim_atomic_fetch_add(struct mm_struct *mm, unsigned long addr, uint64_t value,
                         uint64_t *old);

#endif
