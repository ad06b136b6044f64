/* A notifier subscriber that records every callback, for the tests of chapter 3 on.
 * Header-only so that exercise suites can use it too. */
#ifndef HMMWB_TEST_RECORDER_H
#define HMMWB_TEST_RECORDER_H

#include <pthread.h>
#include <string.h>
#include "testlib.h"

#define REC_MAX 64

enum rec_kind { REC_START = 'S', REC_END = 'E', REC_RELEASE = 'R' };

struct rec {
    enum rec_kind kind;
    enum mmu_notifier_event event;
    unsigned long start, end;
    unsigned flags;
    void *owner;
    struct mm_struct *mm;
};

struct recorder {
    struct mmu_notifier mn;              /* first, so a subscriber casts to a recorder */
    pthread_mutex_t lock;
    struct rec log[REC_MAX];
    int n;
    int fail_start;                      /* errno to return from every start, or 0 */
    int fail_only_nonblock;              /* fail only ranges that are not blockable */
    int *freed;                          /* incremented by free_notifier */
};

static inline void rec_add(struct recorder *r, struct rec e)
{
    pthread_mutex_lock(&r->lock);
    ck_assert_int_lt(r->n, REC_MAX);
    r->log[r->n++] = e;
    pthread_mutex_unlock(&r->lock);
}

static inline int rec_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct recorder *r = (struct recorder *)sub;

    rec_add(r, (struct rec){ REC_START, range->event, range->start, range->end,
                             range->flags, range->owner, range->mm });
    if (r->fail_start && (!r->fail_only_nonblock || !mmu_notifier_range_blockable(range)))
        return r->fail_start;
    return 0;
}

static inline void rec_end(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    rec_add((struct recorder *)sub, (struct rec){ REC_END, range->event, range->start,
                                                  range->end, range->flags, range->owner,
                                                  range->mm });
}

static inline void rec_release(struct mmu_notifier *sub, struct mm_struct *mm)
{
    rec_add((struct recorder *)sub, (struct rec){ .kind = REC_RELEASE, .mm = mm });
}

static const struct mmu_notifier_ops recorder_ops = {
    .release = rec_release,
    .invalidate_range_start = rec_start,
    .invalidate_range_end = rec_end,
};

static inline void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->mn.ops = &recorder_ops;
}

/* Assert that record i is exactly this. */
#define ck_assert_rec(r, i, k, ev, s, e, fl, own, m)                                       \
    do {                                                                                  \
        const struct rec *_x = &(r)->log[i];                                              \
        ck_assert_int_gt((r)->n, (i));                                                    \
        ck_assert_int_eq(_x->kind, (k));                                                  \
        if ((k) != REC_RELEASE) {                                                         \
            ck_assert_int_eq(_x->event, (ev));                                            \
            ck_assert_uint_eq(_x->start, (unsigned long)(s));                             \
            ck_assert_uint_eq(_x->end, (unsigned long)(e));                               \
            ck_assert_uint_eq(_x->flags, (fl));                                           \
            ck_assert_ptr_eq(_x->owner, (own));                                           \
        }                                                                                 \
        ck_assert_ptr_eq(_x->mm, (m));                                                    \
    } while (0)

/* Assert a start/end pair at records i and i + 1. */
#define ck_assert_pair(r, i, ev, s, e, m)                                                 \
    do {                                                                                  \
        ck_assert_rec(r, i, REC_START, ev, s, e, MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, m);  \
        ck_assert_rec(r, (i) + 1, REC_END, ev, s, e, MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, m); \
    } while (0)

#endif
