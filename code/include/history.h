/* Generated from chapters/03-mmu-notifiers.nw by notangle (make tangle): edit the chapter, not this file. */
#line 640 "chapters/03-mmu-notifiers.nw"
#ifndef HMMWB_HISTORY_H
#define HMMWB_HISTORY_H

/* Designs the kernel tried and left behind, kept to be tested against. */
#include "hmmwb.h"

#line 564 "chapters/03-mmu-notifiers.nw"
#define TOY_PAGES 4

struct toy_mirror {
    struct mmu_notifier notifier;
    unsigned long base;                  /* address of entry 0 */
    bool present[TOY_PAGES], writable[TOY_PAGES];
    int dropped, downgraded;             /* what invalidations did */
    bool knows_events;                   /* the new interface, or the old one */
};
#line 647 "chapters/03-mmu-notifiers.nw"
void toy_mirror_init(struct toy_mirror *m, unsigned long base, bool knows_events);
void toy_mirror_map(struct toy_mirror *m, int i, bool writable);


#endif
