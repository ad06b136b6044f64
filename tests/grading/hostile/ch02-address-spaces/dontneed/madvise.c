/* Hostile: a four-page range never returns; anything else is refused.  (One endless
 * test is enough to prove the CPU budget; six would only burn six budgets.) */
#include "hmmwb.h"

int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice)
{
    volatile unsigned long spins = 0;

    (void)mm;
    (void)addr;
    (void)advice;
    if (len != 4 * PAGE_SIZE)
        return -ENOSYS;
    for (;;)
        spins++;
}
