/* Hostile: never returns. */
#include "hmmwb.h"

int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice)
{
    volatile unsigned long spins = 0;

    (void)mm;
    (void)addr;
    (void)len;
    (void)advice;
    for (;;)
        spins++;
}
