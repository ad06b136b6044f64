/* Generated from chapters/03-mmu-notifiers.nw by make tangle (sum 566d36dd59f5): edit the chapter, not this file. */
#line 806 "chapters/03-mmu-notifiers.nw"
#ifndef HMMWB_HISTORY_H
#define HMMWB_HISTORY_H

/* Designs the kernel tried and left behind, kept to be tested against. */
#include "hmmwb.h"

#line 730 "chapters/03-mmu-notifiers.nw"
#define TOY_PAGES 4

struct toy_mirror {
    struct mmu_notifier notifier;
    unsigned long base;                  /* address of entry 0 */
    bool present[TOY_PAGES], writable[TOY_PAGES];
    int dropped, downgraded;             /* what invalidations did */
    bool knows_events;                   /* the new interface, or the old one */
};
#line 813 "chapters/03-mmu-notifiers.nw"
void toy_mirror_init(struct toy_mirror *m, unsigned long base, bool knows_events);
void toy_mirror_map(struct toy_mirror *m, int i, bool writable);
#line 1312 "chapters/04-interval-notifiers.nw"
struct hmm_valid_range {                 /* the part of 2019's struct hmm_range we need */
    unsigned long start, end;
    bool valid;
    struct hmm_valid_range *next;
};

struct hmm_valid_mirror {                /* 2019's struct hmm with one hmm_mirror */
    struct mmu_notifier notifier;
    pthread_mutex_t lock;                /* hmm->lock */
    long notifiers;                      /* invalidations in progress */
    struct hmm_valid_range *ranges;
    pthread_cond_t wq;                   /* waiters for a valid range */
    void (*sync)(void *driver, const struct mmu_notifier_range *range);
    void *driver;
};
#line 1436 "chapters/04-interval-notifiers.nw"
int hmm_valid_mirror_register(struct hmm_valid_mirror *m, struct mm_struct *mm,
                              void (*sync)(void *, const struct mmu_notifier_range *),
                              void *driver);
void hmm_valid_mirror_unregister(struct hmm_valid_mirror *m, struct mm_struct *mm);
void hmm_valid_range_register(struct hmm_valid_mirror *m, struct hmm_valid_range *r,
                              unsigned long start, unsigned long end);
void hmm_valid_range_wait(struct hmm_valid_mirror *m, struct hmm_valid_range *r);
bool hmm_valid_range_valid(struct hmm_valid_mirror *m, struct hmm_valid_range *r);
#line 974 "chapters/07-device-private.nw"
bool hmm_answer_device_private_before_5_7(struct hmm_range *range, swp_entry_t entry,
                                          unsigned long *hmm_pfn);
#line 745 "chapters/09-device-exclusive.nw"
struct page *make_device_exclusive_before_owner(struct mm_struct *mm,
                                                unsigned long addr);
bool check_device_exclusive_range(struct mm_struct *mm, unsigned long start,
                                  unsigned long end);

#line 817 "chapters/03-mmu-notifiers.nw"
#endif
