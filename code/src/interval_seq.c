/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum c937d09fec4c): edit the chapter, not this file. */
#line 1541 "chapters/04-interval-notifiers.nw"
#include "hmmwb.h"

#line 480 "chapters/04-interval-notifiers.nw"
void mmu_interval_set_seq(struct mmu_interval_notifier *sub, unsigned long cur_seq)
{
    if (SIM_WARN(!sub, "no interval notifier"))
        return;
    __atomic_store_n(&sub->invalidate_seq, cur_seq, __ATOMIC_RELAXED);
    sim_trace_state("notifier seq = %lu", cur_seq);
}

bool mmu_interval_read_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
    bool retry;

    if (SIM_WARN(!sub, "no interval notifier"))
        return true;
    retry = __atomic_load_n(&sub->invalidate_seq, __ATOMIC_RELAXED) != seq;
    sim_trace_event("read_retry(%lu) = %s", seq, retry ? "true" : "false");
    return retry;
}

bool mmu_interval_check_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
    if (SIM_WARN(!sub, "no interval notifier"))
        return true;
    return __atomic_load_n(&sub->invalidate_seq, __ATOMIC_RELAXED) != seq;
}
