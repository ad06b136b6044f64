/* Generated from chapters/03-mmu-notifiers.nw by make tangle (sum 7eaf7a46ff0f): edit the chapter, not this file. */
#line 828 "chapters/03-mmu-notifiers.nw"
#include <string.h>
#include "history.h"

#line 745 "chapters/03-mmu-notifiers.nw"
static bool toy_event_keeps_pages(enum mmu_notifier_event event)
{
    return event == MMU_NOTIFY_PROTECTION_PAGE || event == MMU_NOTIFY_SOFT_DIRTY;
}

static int toy_invalidate_start(struct mmu_notifier *sub,
                                const struct mmu_notifier_range *range)
{
    struct toy_mirror *m = (struct toy_mirror *)sub;
    bool keep = m->knows_events && toy_event_keeps_pages(range->event);

    for (int i = 0; i < TOY_PAGES; i++) {
        unsigned long addr = m->base + i * PAGE_SIZE;

        if (!m->present[i] || addr < range->start || addr >= range->end)
            continue;
        if (keep && m->writable[i]) {
            m->writable[i] = false;
            m->downgraded++;
        } else if (!keep) {
            m->present[i] = m->writable[i] = false;
            m->dropped++;
        }
    }
    return 0;
}
#line 783 "chapters/03-mmu-notifiers.nw"
static const struct mmu_notifier_ops toy_mirror_ops = {
    .invalidate_range_start = toy_invalidate_start,
};

void toy_mirror_init(struct toy_mirror *m, unsigned long base, bool knows_events)
{
    memset(m, 0, sizeof(*m));
    m->notifier.ops = &toy_mirror_ops;
    m->base = base;
    m->knows_events = knows_events;
}

void toy_mirror_map(struct toy_mirror *m, int i, bool writable)
{
    m->present[i] = true;
    m->writable[i] = writable;
}
