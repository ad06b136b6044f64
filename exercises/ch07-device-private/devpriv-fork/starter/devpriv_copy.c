/* Exercise: fork shares a device page (chapter 7).  Replace the body. */
#include "hmmwb.h"

bool sim_copy_device_private_pte(pte_t *dst, pte_t *src)
{
    /* Wrong on purpose: the child gets the entry, but the page does not know. */
    if (!is_device_private_entry(pte_to_swp_entry(*src)))
        return false;
    *dst = *src;
    return true;
}
