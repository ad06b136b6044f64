/* Exercise: the sequence helpers (chapter 4).  Replace the bodies. */
#include "hmmwb.h"

void mmu_interval_set_seq(struct mmu_interval_notifier *sub, unsigned long cur_seq)
{
    (void)sub;
    (void)cur_seq;
}

bool mmu_interval_read_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
    (void)sub;
    (void)seq;
    return false;
}

bool mmu_interval_check_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
    (void)sub;
    (void)seq;
    return false;
}
