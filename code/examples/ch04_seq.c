/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum b67721479c4c): edit the chapter, not this file. */
#line 1216 "chapters/04-interval-notifiers.nw"
/* The sequence numbers of an interval notifier through two invalidations. */
#include <stdio.h>
#include <sys/mman.h>
#include "hmmwb.h"

#line 1263 "chapters/04-interval-notifiers.nw"
static bool say_invalidate(struct mmu_interval_notifier *sub,
                           const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    printf("  invalidate(%s, [%#lx, %#lx)), cur_seq = %lu\n",
           sim_notifier_event_name(range->event), range->start, range->end, cur_seq);
    mmu_interval_set_seq(sub, cur_seq);
    return true;
}

#line 1223 "chapters/04-interval-notifiers.nw"
static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

int main(void)
{
    static const struct mmu_interval_notifier_ops ops = { .invalidate = say_invalidate };
    struct mm_struct *mm = sim_mm_create();
    long addr = sim_mmap(mm, 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS);
    struct mmu_interval_notifier mn;
    unsigned long seq;

    if (!mm || addr < 0 ||
        mmu_interval_notifier_insert(&mn, mm, addr + PAGE_SIZE, 2 * PAGE_SIZE, &ops))
        return 1;
    printf("mapped [%#lx, %#lx); notifier on pages 1 and 2\n", addr,
           addr + 4 * PAGE_SIZE);
    seq = mmu_interval_read_begin(&mn);
    printf("read_begin = %lu\n", seq);
    printf("zap page 0\n");
    sim_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED);
    printf("read_retry(%lu): %s\n", seq, yes_no(mmu_interval_read_retry(&mn, seq)));
    printf("zap pages 2 and 3\n");
    sim_madvise(mm, addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, MADV_DONTNEED);
    printf("read_retry(%lu): %s\n", seq, yes_no(mmu_interval_read_retry(&mn, seq)));
    seq = mmu_interval_read_begin(&mn);
    printf("read_begin = %lu\n", seq);
    printf("read_retry(%lu): %s\n", seq, yes_no(mmu_interval_read_retry(&mn, seq)));
    mmu_interval_notifier_remove(&mn);
    mmput(mm);
    return 0;
}
