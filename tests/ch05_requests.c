/* Chapter 5: every request against every state of a CPU entry.
 *
 * One row per combination of default_flags, pfn_flags_mask and per-page input (each one
 * of none, REQ_FAULT, REQ_FAULT|REQ_WRITE) and of the state of the CPU's entry for a
 * one-page range: 3 x 3 x 3 x 7 = 189 rows, each its own Check iteration.
 *
 * The only computed part of the expectation is the effective request,
 * (input & pfn_flags_mask) | default_flags, reduced to a class (none, read, write).  The
 * answer for each class and state is written out in the table `expected` below. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "testlib.h"

/* --- the rows --------------------------------------------------------------------- */

enum cpu_state {
    ST_EMPTY,         /* RW private VMA, entry never touched */
    ST_ZERO,          /* RW private VMA, read once: the zero page, read-only */
    ST_COW,           /* RW private VMA, written, then forked: write-protected, shared */
    ST_WRITABLE,      /* RW private VMA, written: a writable private frame */
    ST_PROTNONE,      /* written, then mprotect(PROT_NONE): a VMA without access */
    ST_HOLE,          /* no VMA at all */
    ST_READONLY_VMA,  /* written, then mprotect(PROT_READ): present, VMA read-only */
    NR_STATES
};

static const char *const state_name[NR_STATES] = {
    "empty", "zero page", "COW read-only", "writable", "PROT_NONE VMA", "hole",
    "PROT_READ VMA",
};

#define NR_FLAG_VALUES 3
static const unsigned long flag_value[NR_FLAG_VALUES] = {
    0, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
};
static const char *const flag_name[NR_FLAG_VALUES] = { "0", "FAULT", "FAULT|WRITE" };

#define NR_ROWS (NR_FLAG_VALUES * NR_FLAG_VALUES * NR_FLAG_VALUES * NR_STATES)

enum request_class { CLASS_NONE, CLASS_READ, CLASS_WRITE, NR_CLASSES };
static const char *const class_name[NR_CLASSES] = { "none", "read", "write" };

/* --- the expected answers --------------------------------------------------------- */

enum pfn_rule {
    PFN_NONE,         /* no pfn: the answer is exactly the flags (0 or ERROR) */
    PFN_SAME,         /* the frame that was mapped before the call */
    PFN_NEW,          /* a frame that was not mapped there before (fresh or COW copy) */
    PFN_ZERO,         /* the shared zero page */
    PFN_UNCHANGED,    /* error return: the entry still holds its input */
};

struct outcome {
    int ret;                  /* hmm_range_fault's final return value */
    unsigned long flags;      /* the answer's flag bits (ignored for PFN_UNCHANGED) */
    enum pfn_rule pfn;
    int invalidations;        /* invalidations the fault itself sends to the notifier */
};

#define V HMM_PFN_VALID
#define W HMM_PFN_WRITE
#define E HMM_PFN_ERROR

static const struct outcome expected[NR_CLASSES][NR_STATES] = {
    [CLASS_NONE] = {
        /* a snapshot: whatever the entry says, nothing faulted */
        [ST_EMPTY]        = { 0, 0,     PFN_NONE, 0 },
        [ST_ZERO]         = { 0, V,     PFN_ZERO, 0 },
        [ST_COW]          = { 0, V,     PFN_SAME, 0 },
        [ST_WRITABLE]     = { 0, V | W, PFN_SAME, 0 },
        [ST_PROTNONE]     = { 0, E,     PFN_NONE, 0 },
        [ST_HOLE]         = { 0, E,     PFN_NONE, 0 },
        [ST_READONLY_VMA] = { 0, V,     PFN_SAME, 0 },
    },
    [CLASS_READ] = {
        /* an empty entry is read-faulted to the zero page; present ones need nothing */
        [ST_EMPTY]        = { 0,       V,     PFN_ZERO,      0 },
        [ST_ZERO]         = { 0,       V,     PFN_ZERO,      0 },
        [ST_COW]          = { 0,       V,     PFN_SAME,      0 },
        [ST_WRITABLE]     = { 0,       V | W, PFN_SAME,      0 },
        [ST_PROTNONE]     = { -EFAULT, 0,     PFN_UNCHANGED, 0 },
        [ST_HOLE]         = { -EFAULT, 0,     PFN_UNCHANGED, 0 },
        [ST_READONLY_VMA] = { 0,       V,     PFN_SAME,      0 },
    },
    [CLASS_WRITE] = {
        /* write faults: a fresh frame for an empty entry; COW breaks on the zero page
         * and on a shared frame, each announced to the notifier; -EPERM where the VMA
         * forbids writing, -EFAULT where it forbids everything */
        [ST_EMPTY]        = { 0,       V | W, PFN_NEW,       0 },
        [ST_ZERO]         = { 0,       V | W, PFN_NEW,       1 },
        [ST_COW]          = { 0,       V | W, PFN_NEW,       1 },
        [ST_WRITABLE]     = { 0,       V | W, PFN_SAME,      0 },
        [ST_PROTNONE]     = { -EFAULT, 0,     PFN_UNCHANGED, 0 },
        [ST_HOLE]         = { -EFAULT, 0,     PFN_UNCHANGED, 0 },
        [ST_READONLY_VMA] = { -EPERM,  0,     PFN_UNCHANGED, 0 },
    },
};

#undef V
#undef W
#undef E

/* The definition under test: the effective request of one entry, as a class. */
static enum request_class request_class(unsigned long def, unsigned long mask,
                                        unsigned long in)
{
    unsigned long req = (in & mask) | def;

    if (!(req & HMM_PFN_REQ_FAULT))
        return CLASS_NONE;
    return (req & HMM_PFN_REQ_WRITE) ? CLASS_WRITE : CLASS_READ;
}

/* --- a one-page device ------------------------------------------------------------ */

struct mirror {
    struct mmu_interval_notifier notifier;
    pthread_mutex_t lock;            /* the driver's update lock */
    int invalidations;               /* under lock */
};

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
                              const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct mirror *m = (struct mirror *)((char *)sub - offsetof(struct mirror, notifier));

    (void)range;
    pthread_mutex_lock(&m->lock);
    mmu_interval_set_seq(sub, cur_seq);
    m->invalidations++;
    pthread_mutex_unlock(&m->lock);
    return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = {
    .invalidate = mirror_invalidate,
};

/* Put the page at a fresh mapping of mm into the state; returns its address. */
static unsigned long make_state(struct mm_struct *mm, enum cpu_state st,
                                struct mm_struct **child)
{
    unsigned long addr = sim_test_map_private(mm, PAGE_SIZE);
    unsigned char byte;
    pte_t pte;

    *child = NULL;
    switch (st) {
    case ST_EMPTY:
        break;
    case ST_ZERO:
        ck_assert_int_eq(sim_read(mm, addr, &byte, 1), 0);
        ck_assert_uint_eq(byte, 0);
        break;
    case ST_COW:
        sim_test_memset(mm, addr, 0xc0, PAGE_SIZE);
        *child = sim_fork(mm);
        ck_assert(!IS_ERR_OR_NULL(*child));
        break;
    case ST_WRITABLE:
        sim_test_memset(mm, addr, 0x3a, PAGE_SIZE);
        break;
    case ST_PROTNONE:
        sim_test_memset(mm, addr, 0x5e, PAGE_SIZE);
        ck_assert_int_eq(sim_mprotect(mm, addr, PAGE_SIZE, PROT_NONE), 0);
        break;
    case ST_HOLE:
        ck_assert_int_eq(sim_munmap(mm, addr, PAGE_SIZE), 0);
        break;
    case ST_READONLY_VMA:
        sim_test_memset(mm, addr, 0x77, PAGE_SIZE);
        ck_assert_int_eq(sim_mprotect(mm, addr, PAGE_SIZE, PROT_READ), 0);
        break;
    default:
        ck_abort_msg("no such state %d", st);
    }

    /* The preconditions: the entry really is in the state the row names. */
    pte = sim_pte_get(mm, addr);
    switch (st) {
    case ST_EMPTY:
    case ST_HOLE:
        ck_assert(pte_none(pte));
        break;
    case ST_ZERO:
        ck_assert(sim_pte_accessible(pte) && !pte_write(pte) && is_zero_pfn(pte_pfn(pte)));
        break;
    case ST_COW:
    case ST_READONLY_VMA:
        ck_assert(sim_pte_accessible(pte) && !pte_write(pte) && !is_zero_pfn(pte_pfn(pte)));
        break;
    case ST_WRITABLE:
        ck_assert(sim_pte_accessible(pte) && pte_write(pte));
        break;
    case ST_PROTNONE:
        ck_assert(pte_protnone(pte));
        break;
    default:
        break;
    }
    ck_assert((vma_lookup(mm, addr) == NULL) == (st == ST_HOLE));
    return addr;
}

#define MAX_ROUNDS 8

START_TEST(test_request_row)
{
    const enum cpu_state st = _i % NR_STATES;
    const int in_i = (_i / NR_STATES) % NR_FLAG_VALUES;
    const int mask_i = (_i / (NR_STATES * NR_FLAG_VALUES)) % NR_FLAG_VALUES;
    const int def_i = _i / (NR_STATES * NR_FLAG_VALUES * NR_FLAG_VALUES);
    const unsigned long in = flag_value[in_i];
    const enum request_class cls = request_class(flag_value[def_i], flag_value[mask_i], in);
    const struct outcome *want = &expected[cls][st];
    struct mm_struct *mm = sim_mm_create(), *child;
    struct mirror m = { .invalidations = 0 };
    unsigned long addr, pfn_before = 0, want_pfn = 0, out = 0, hmm_pfn;
    struct hmm_range range = { 0 };
    pte_t pte_before, pte_after;
    int ret, rounds = 0, busy = 0;
    char row[160];

    snprintf(row, sizeof(row), "row %d: default %s, mask %s, input %s, %s -> %s request",
             _i, flag_name[def_i], flag_name[mask_i], flag_name[in_i], state_name[st],
             class_name[cls]);

    addr = make_state(mm, st, &child);
    pte_before = sim_pte_get(mm, addr);
    if (pte_present(pte_before))
        pfn_before = pte_pfn(pte_before);

    pthread_mutex_init(&m.lock, NULL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&m.notifier, mm, addr, PAGE_SIZE,
                                                  &mirror_ops), 0);
    range.notifier = &m.notifier;
    range.start = addr;
    range.end = addr + PAGE_SIZE;
    range.hmm_pfns = &hmm_pfn;
    range.default_flags = flag_value[def_i];
    range.pfn_flags_mask = flag_value[mask_i];
    hmm_pfn = in;

    /* The driver loop of Documentation/mm/hmm.rst.  A write fault that breaks COW (the
     * zero page, or a frame shared with the child) replaces the frame and invalidates
     * the notifier during the call, so that round is wasted, through -EBUSY from
     * hmm_range_fault or through read_retry: take read_begin again and retry. The entry
     * still holds its input after -EBUSY, because nothing had been answered yet. */
    for (;;) {
        ck_assert_msg(++rounds <= MAX_ROUNDS, "%s: no answer after %d rounds", row,
                      MAX_ROUNDS);
        range.notifier_seq = mmu_interval_read_begin(&m.notifier);
        mmap_read_lock(mm);
        ret = hmm_range_fault(&range);
        mmap_read_unlock(mm);
        if (ret == -EBUSY) {
            busy++;
            ck_assert_msg(hmm_pfn == in, "%s: -EBUSY left %#lx in the entry, not the input",
                          row, hmm_pfn);
            continue;
        }
        if (ret)
            break;
        pthread_mutex_lock(&m.lock);
        if (!mmu_interval_read_retry(&m.notifier, range.notifier_seq)) {
            out = hmm_pfn;
            pthread_mutex_unlock(&m.lock);
            break;
        }
        pthread_mutex_unlock(&m.lock);
    }

    ck_assert_msg(ret == want->ret, "%s: returned %d, expected %d", row, ret, want->ret);
    pthread_mutex_lock(&m.lock);
    ck_assert_msg(m.invalidations == want->invalidations, "%s: %d invalidations, expected %d",
                  row, m.invalidations, want->invalidations);
    pthread_mutex_unlock(&m.lock);
    /* Every invalidation after read_begin costs exactly one round, and nothing else does. */
    ck_assert_msg(rounds == 1 + want->invalidations, "%s: %d rounds (%d of them -EBUSY)",
                  row, rounds, busy);

    pte_after = sim_pte_get(mm, addr);
    switch (want->pfn) {
    case PFN_UNCHANGED:
        ck_assert_msg(hmm_pfn == in, "%s: entry %#lx after an error, expected the input %#lx",
                      row, hmm_pfn, in);
        ck_assert_msg(pte_after == pte_before, "%s: CPU entry changed %#lx -> %#lx", row,
                      pte_before, pte_after);
        break;
    case PFN_NONE:
        ck_assert_msg(out == want->flags, "%s: answer %#lx, expected exactly %#lx", row, out,
                      want->flags);
        ck_assert_msg(pte_after == pte_before, "%s: CPU entry changed %#lx -> %#lx", row,
                      pte_before, pte_after);
        break;
    case PFN_SAME:
        want_pfn = pfn_before;
        ck_assert_msg(pte_after == pte_before, "%s: CPU entry changed %#lx -> %#lx", row,
                      pte_before, pte_after);
        break;
    case PFN_ZERO:
        want_pfn = page_to_pfn(sim_zero_page());
        break;
    case PFN_NEW:
        want_pfn = pte_pfn(pte_after);
        ck_assert_msg(want_pfn != pfn_before && !is_zero_pfn(want_pfn),
                      "%s: pfn %#lx is not a new frame (before %#lx)", row, want_pfn,
                      pfn_before);
        ck_assert_ptr_nonnull(pfn_to_page(want_pfn));
        break;
    }
    if (want_pfn) {
        /* A valid answer: exactly the pfn and the flags, and the CPU maps the same. */
        ck_assert_msg(out == (want_pfn | want->flags), "%s: answer %#lx, expected %#lx", row,
                      out, want_pfn | want->flags);
        ck_assert_msg(sim_pte_accessible(pte_after) && pte_pfn(pte_after) == want_pfn &&
                          pte_write(pte_after) == !!(want->flags & HMM_PFN_WRITE),
                      "%s: CPU entry %#lx disagrees with the answer %#lx", row, pte_after,
                      out);
        ck_assert_ptr_eq(hmm_pfn_to_page(out), pfn_to_page(want_pfn));
        ck_assert_uint_eq(hmm_pfn_to_map_order(out), 0);
    }

    mmu_interval_notifier_remove(&m.notifier);
    pthread_mutex_destroy(&m.lock);
    if (child) {
        /* The child still sees what was written before the fork. */
        sim_test_expect_bytes(child, addr, 0xc0, PAGE_SIZE);
        mmput(child);
    }
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch05_requests");
    TCase *tc = sim_tcase("requests", 10);

    tcase_add_loop_test(tc, test_request_row, 0, NR_ROWS);
    suite_add_tcase(s, tc);
    return s;
}
