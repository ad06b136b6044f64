/* Generated from chapters/09-device-exclusive.nw by make tangle (sum ca7c9d794e8d): edit the chapter, not this file. */
#line 805 "chapters/09-device-exclusive.nw"
#include "hmmwb.h"
#include "history.h"

#line 651 "chapters/09-device-exclusive.nw"
struct page *make_device_exclusive_before_owner(struct mm_struct *mm,
                                                unsigned long addr)
{
    return sim_make_device_exclusive(mm, addr, MMU_NOTIFY_CLEAR, NULL);
}

bool check_device_exclusive_range(struct mm_struct *mm, unsigned long start,
                                  unsigned long end)
{
    sim_trace_event("check pass [%#lx, %#lx)", start, end);
    for (unsigned long addr = start; addr < end; addr += PAGE_SIZE) {
        pte_t pte = sim_pte_get(mm, addr);

        if (!is_swap_pte(pte) || !is_device_exclusive_entry(pte_to_swp_entry(pte)))
            return false;
    }
    return true;
}
