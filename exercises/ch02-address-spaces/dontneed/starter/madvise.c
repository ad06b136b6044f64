/* Exercise: MADV_DONTNEED (chapter 2).  Replace the body. */
#include "hmmwb.h"

int sim_madvise(struct mm_struct *mm, unsigned long addr, unsigned long len, int advice)
{
    /* Zap every mapped page of [addr, addr + len). */
    (void)mm;
    (void)addr;
    (void)len;
    (void)advice;
    return 0;
}
