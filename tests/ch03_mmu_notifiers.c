/* Chapter 3: MMU notifiers.  A recorder subscribes to an address space and every core
 * path is checked for the exact event, range, flags and owner it sends. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "history.h"
#include "recorder.h"

#define P PAGE_SIZE
#define BLOCKABLE MMU_NOTIFIER_RANGE_BLOCKABLE

struct fixture {
    struct mm_struct *mm;
    unsigned long addr;
    struct recorder rec;
};

/* An mm with npages of private read-write memory, written, and a registered recorder. */
static void setup(struct fixture *f, unsigned long npages)
{
    f->mm = sim_mm_create();
    f->addr = sim_test_map_private(f->mm, npages * P);
    sim_test_memset(f->mm, f->addr, 0x5a, npages * P);
    recorder_init(&f->rec);
    ck_assert_int_eq(mmu_notifier_register(&f->rec.mn, f->mm), 0);
}

static void teardown(struct fixture *f)
{
    mmu_notifier_unregister(&f->rec.mn, f->mm);
    mmput(f->mm);
}

START_TEST(test_register_rejects_bad_input)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder r;
    struct mmu_notifier no_ops = { 0 };

    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(NULL, mm), -EINVAL);
    ck_assert_int_eq(mmu_notifier_register(&no_ops, mm), -EINVAL);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, NULL), -EINVAL);
    mmgrab(mm);
    mmput(mm);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, mm), -EINVAL);
    mmdrop(mm);
    ck_assert_int_eq(r.n, 0);
}
END_TEST

/* Faults that fill empty entries change no mapping a device could hold: no event. */
START_TEST(test_first_touch_sends_nothing)
{
    struct fixture f;
    char buf[8];

    setup(&f, 2);
    f.rec.n = 0;
    ck_assert_int_eq(sim_read(f.mm, f.addr + P, buf, 8), 0);
    unsigned long more = sim_test_map_private(f.mm, 2 * P);
    ck_assert_int_eq(sim_read(f.mm, more, buf, 8), 0);
    ck_assert_int_eq(sim_write(f.mm, more + P, buf, 8), 0);
    ck_assert_int_eq(f.rec.n, 0);
    teardown(&f);
}
END_TEST

START_TEST(test_munmap_sends_one_unmap)
{
    struct fixture f;

    setup(&f, 4);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr + P, 2 * P), 0);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_UNMAP, f.addr + P, f.addr + 3 * P, f.mm);
    teardown(&f);
}
END_TEST

START_TEST(test_map_fixed_over_a_mapping_sends_unmap)
{
    struct fixture f;

    setup(&f, 4);
    ck_assert_int_eq(sim_mmap(f.mm, f.addr + 2 * P, 2 * P, PROT_READ,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
                     (long)(f.addr + 2 * P));
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_UNMAP, f.addr + 2 * P, f.addr + 4 * P, f.mm);
    teardown(&f);
}
END_TEST

/* MADV_DONTNEED notifies each VMA's part of the range separately. */
START_TEST(test_dontneed_sends_clear_per_vma)
{
    struct fixture f;

    setup(&f, 4);
    ck_assert_int_eq(sim_mprotect(f.mm, f.addr + 2 * P, 2 * P, PROT_READ), 0);
    f.rec.n = 0;
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + P, 2 * P, MADV_DONTNEED), 0);
    ck_assert_int_eq(f.rec.n, 4);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, f.mm);
    ck_assert_pair(&f.rec, 2, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, f.mm);
    teardown(&f);
}
END_TEST

/* mprotect splits first and then notifies each VMA whose protection changes, and only
 * those (mm/mprotect.c, mprotect_fixup() returns early for the others). */
START_TEST(test_mprotect_sends_protection_vma)
{
    struct fixture f;

    setup(&f, 4);
    ck_assert_int_eq(sim_mprotect(f.mm, f.addr + P, P, PROT_READ), 0);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_PROTECTION_VMA, f.addr + P, f.addr + 2 * P, f.mm);
    f.rec.n = 0;
    ck_assert_int_eq(sim_mprotect(f.mm, f.addr, 3 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_PROTECTION_VMA, f.addr + P, f.addr + 2 * P, f.mm);
    teardown(&f);
}
END_TEST

/* Nothing to change, nothing to tell. */
START_TEST(test_mprotect_to_the_same_protection_sends_nothing)
{
    struct fixture f;

    setup(&f, 4);
    f.rec.n = 0;
    ck_assert_int_eq(sim_mprotect(f.mm, f.addr, 4 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(f.rec.n, 0);
    teardown(&f);
}
END_TEST

/* munmap of a range without a VMA succeeds and tells nobody (mm/mmap.c, do_vmi_munmap()). */
START_TEST(test_munmap_of_a_hole_sends_nothing)
{
    struct fixture f;

    setup(&f, 4);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr + 64 * P, 4 * P), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr - 8 * P, 8 * P), 0);
    ck_assert_int_eq(f.rec.n, 0);
    teardown(&f);
}
END_TEST

/* fork write-protects the parent's private VMAs and says so; shared ones are untouched. */
START_TEST(test_fork_sends_protection_page_to_the_parent)
{
    struct fixture f;
    struct mm_struct *child;
    unsigned long shared;

    setup(&f, 3);
    shared = sim_test_map_shared(f.mm, 2 * P);
    sim_test_memset(f.mm, shared, 1, 2 * P);
    f.rec.n = 0;
    child = sim_fork(f.mm);
    ck_assert(!IS_ERR(child));
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_PROTECTION_PAGE, f.addr, f.addr + 3 * P, f.mm);
    mmput(child);
    teardown(&f);
}
END_TEST

/* A copy-on-write break clears exactly one page of the writer; reuse sends nothing. */
START_TEST(test_cow_break_sends_clear_for_the_page)
{
    struct fixture f;
    struct mm_struct *child;

    setup(&f, 2);
    child = sim_fork(f.mm);
    f.rec.n = 0;
    ck_assert_int_eq(sim_write(f.mm, f.addr + P + 10, "x", 1), 0);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, f.mm);
    mmput(child);
    f.rec.n = 0;
    ck_assert_int_eq(sim_write(f.mm, f.addr, "y", 1), 0);
    ck_assert_int_eq(f.rec.n, 0);
    teardown(&f);
}
END_TEST

struct observer {
    struct mmu_notifier mn;
    unsigned long addr;
    pte_t at_start, at_end;
};

static int observe_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct observer *o = (struct observer *)sub;

    o->at_start = sim_pte_get(range->mm, o->addr);
    return 0;
}

static void observe_end(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct observer *o = (struct observer *)sub;

    o->at_end = sim_pte_get(range->mm, o->addr);
}

/* _start runs while the entry is still there, _end after it is gone. */
START_TEST(test_start_before_the_change_end_after)
{
    static const struct mmu_notifier_ops ops = {
        .invalidate_range_start = observe_start,
        .invalidate_range_end = observe_end,
    };
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct observer o = { .mn.ops = &ops, .addr = addr };

    sim_test_memset(mm, addr, 7, P);
    ck_assert_int_eq(mmu_notifier_register(&o.mn, mm), 0);
    ck_assert_int_eq(sim_madvise(mm, addr, P, MADV_DONTNEED), 0);
    ck_assert(pte_present(o.at_start));
    ck_assert_uint_eq(o.at_end, 0);
    mmu_notifier_unregister(&o.mn, mm);
    mmput(mm);
}
END_TEST

/* Teardown: release once, while the pages are still mapped, and nothing after it. */
START_TEST(test_teardown_releases_once)
{
    struct fixture f;

    setup(&f, 2);
    f.rec.n = 0;
    mmput(f.mm);
    ck_assert_int_eq(f.rec.n, 1);
    ck_assert_rec(&f.rec, 0, REC_RELEASE, 0, 0, 0, 0, NULL, f.mm);
    mmu_notifier_unregister(&f.rec.mn, f.mm);
    ck_assert_int_eq(f.rec.n, 1);
}
END_TEST

/* Unregistering from a live mm calls release, and no callback follows. */
START_TEST(test_unregister_releases_a_live_subscriber)
{
    struct fixture f;

    setup(&f, 2);
    f.rec.n = 0;
    mmu_notifier_unregister(&f.rec.mn, f.mm);
    ck_assert_int_eq(f.rec.n, 1);
    ck_assert_rec(&f.rec, 0, REC_RELEASE, 0, 0, 0, 0, NULL, f.mm);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 2 * P), 0);
    ck_assert_int_eq(f.rec.n, 1);
    mmput(f.mm);
    ck_assert_int_eq(f.rec.n, 1);
}
END_TEST

START_TEST(test_second_unregister_warns)
{
    struct fixture f;
    unsigned long warnings = sim_warn_count();

    setup(&f, 1);
    teardown(&f);
    mmu_notifier_unregister(&f.rec.mn, f.mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
}
END_TEST

/* Two subscribers: both see every event, each once. */
START_TEST(test_every_subscriber_sees_every_event)
{
    struct fixture f;
    struct recorder second;

    setup(&f, 2);
    recorder_init(&second);
    ck_assert_int_eq(mmu_notifier_register(&second.mn, f.mm), 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_int_eq(second.n, 2);
    ck_assert_pair(&f.rec, 0, MMU_NOTIFY_CLEAR, f.addr, f.addr + P, f.mm);
    ck_assert_pair(&second, 0, MMU_NOTIFY_CLEAR, f.addr, f.addr + P, f.mm);
    mmu_notifier_unregister(&second.mn, f.mm);
    teardown(&f);
}
END_TEST

/* A non-blockable start that one subscriber refuses: -EAGAIN to the caller, and the
 * subscribers that had started get their end at once. */
START_TEST(test_nonblock_refusal_backs_out)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder first, refuser;
    struct mmu_notifier_range range;

    recorder_init(&first);
    recorder_init(&refuser);
    refuser.fail_start = -EAGAIN;
    ck_assert_int_eq(mmu_notifier_register(&refuser.mn, mm), 0);
    ck_assert_int_eq(mmu_notifier_register(&first.mn, mm), 0);   /* first on the list */
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, BLOCKABLE, mm, 0x10000, 0x20000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
    ck_assert_int_eq(first.n, 2);
    ck_assert_rec(&first, 0, REC_START, MMU_NOTIFY_CLEAR, 0x10000, 0x20000, 0, NULL, mm);
    ck_assert_rec(&first, 1, REC_END, MMU_NOTIFY_CLEAR, 0x10000, 0x20000, 0, NULL, mm);
    ck_assert_int_eq(refuser.n, 1);
    ck_assert_rec(&refuser, 0, REC_START, MMU_NOTIFY_CLEAR, 0x10000, 0x20000, 0, NULL, mm);
    mmu_notifier_unregister(&first.mn, mm);
    mmu_notifier_unregister(&refuser.mn, mm);
    mmput(mm);
}
END_TEST

START_TEST(test_nonblock_start_that_succeeds)
{
    struct mm_struct *mm = sim_mm_create();
    struct recorder r;
    struct mmu_notifier_range range;

    recorder_init(&r);
    ck_assert_int_eq(mmu_notifier_register(&r.mn, mm), 0);
    mmu_notifier_range_init_owner(&range, MMU_NOTIFY_MIGRATE, 0, mm, 0x10000, 0x11000, &r);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), 0);
    mmu_notifier_invalidate_range_end(&range);
    ck_assert_int_eq(r.n, 2);
    ck_assert_rec(&r, 0, REC_START, MMU_NOTIFY_MIGRATE, 0x10000, 0x11000, 0, &r, mm);
    ck_assert_rec(&r, 1, REC_END, MMU_NOTIFY_MIGRATE, 0x10000, 0x11000, 0, &r, mm);
    mmu_notifier_unregister(&r.mn, mm);
    mmput(mm);
}
END_TEST

/* Refusing a blockable range is the subscriber's bug: a warning, and the walk goes on. */
START_TEST(test_blockable_refusal_warns_and_continues)
{
    struct fixture f;
    struct recorder refuser;
    unsigned long warnings = sim_warn_count();

    setup(&f, 2);
    recorder_init(&refuser);
    refuser.fail_start = -EAGAIN;
    ck_assert_int_eq(mmu_notifier_register(&refuser.mn, f.mm), 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(f.rec.n, 2);
    ck_assert_int_eq(refuser.n, 2);
    ck_assert_uint_eq(sim_pte_get(f.mm, f.addr), 0);
    mmu_notifier_unregister(&refuser.mn, f.mm);
    teardown(&f);
}
END_TEST

struct counted {
    struct mmu_notifier mn;
    int id;
};

static int nr_alloc, nr_free;

static struct mmu_notifier *counted_alloc(struct mm_struct *mm)
{
    struct counted *c = calloc(1, sizeof(*c));

    (void)mm;
    c->id = ++nr_alloc;
    return &c->mn;
}

static void counted_free(struct mmu_notifier *sub)
{
    nr_free++;
    free(sub);
}

static struct mmu_notifier *failing_alloc(struct mm_struct *mm)
{
    (void)mm;
    return ERR_PTR(-ENOMEM);
}

static const struct mmu_notifier_ops counted_ops = {
    .alloc_notifier = counted_alloc, .free_notifier = counted_free,
};
static const struct mmu_notifier_ops other_ops = {
    .alloc_notifier = counted_alloc, .free_notifier = counted_free,
};

/* One subscription per ops and mm, freed by the last put and not before. */
START_TEST(test_get_shares_and_put_frees)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *a = mmu_notifier_get(&counted_ops, mm);
    struct mmu_notifier *b = mmu_notifier_get(&counted_ops, mm);
    struct mmu_notifier *c = mmu_notifier_get(&other_ops, mm);

    ck_assert(!IS_ERR(a) && !IS_ERR(b) && !IS_ERR(c));
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_ne(a, c);
    ck_assert_int_eq(nr_alloc, 2);
    ck_assert_ptr_eq(a->mm, mm);
    ck_assert_ptr_eq(a->ops, &counted_ops);
    mmu_notifier_put(a);
    ck_assert_int_eq(nr_free, 0);
    mmu_notifier_put(b);
    ck_assert_int_eq(nr_free, 1);
    b = mmu_notifier_get(&counted_ops, mm);
    ck_assert_int_eq(nr_alloc, 3);
    mmu_notifier_put(b);
    mmu_notifier_put(c);
    ck_assert_int_eq(nr_free, 3);
    mmput(mm);
}
END_TEST

START_TEST(test_get_rejects_bad_input)
{
    static const struct mmu_notifier_ops no_alloc = { .free_notifier = counted_free };
    static const struct mmu_notifier_ops fails = {
        .alloc_notifier = failing_alloc, .free_notifier = counted_free,
    };
    struct mm_struct *mm = sim_mm_create();

    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(NULL, mm)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&no_alloc, mm)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&counted_ops, NULL)), -EINVAL);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&fails, mm)), -ENOMEM);
    mmgrab(mm);
    mmput(mm);
    ck_assert_int_eq(PTR_ERR(mmu_notifier_get(&counted_ops, mm)), -EINVAL);
    mmdrop(mm);
    ck_assert_int_eq(nr_alloc, 0);
}
END_TEST

/* A shared subscription outliving its mm: the teardown unlinks it, the put frees it. */
START_TEST(test_put_after_teardown)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier *a = mmu_notifier_get(&counted_ops, mm);

    mmput(mm);
    ck_assert_int_eq(nr_free, 0);
    mmu_notifier_put(a);
    ck_assert_int_eq(nr_free, 1);
}
END_TEST

struct slow {
    struct mmu_notifier mn;
    atomic_int in_callback, unregistering, calls;
};

static int slow_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct slow *s = (struct slow *)sub;

    (void)range;
    atomic_fetch_add(&s->calls, 1);
    atomic_store(&s->in_callback, 1);
    while (!atomic_load(&s->unregistering))
        sched_yield();
    sim_test_let_others_settle(1000);   /* stay inside until unregister is seen waiting */
    atomic_store(&s->in_callback, 0);
    return 0;
}

static void *slow_munmap(void *arg)
{
    struct fixture *f = arg;

    ck_assert_int_eq(sim_munmap(f->mm, f->addr, P), 0);
    return NULL;
}

/* Unregister waits for a callback that is running; none runs after it returns. */
START_TEST(test_unregister_waits_for_running_callbacks)
{
    static const struct mmu_notifier_ops ops = { .invalidate_range_start = slow_start };
    struct fixture f;
    struct slow s = { .mn.ops = &ops };
    pthread_t t;

    setup(&f, 2);
    ck_assert_int_eq(mmu_notifier_register(&s.mn, f.mm), 0);
    pthread_create(&t, NULL, slow_munmap, &f);
    while (!atomic_load(&s.in_callback))
        sched_yield();
    atomic_store(&s.unregistering, 1);
    mmu_notifier_unregister(&s.mn, f.mm);
    ck_assert_int_eq(atomic_load(&s.in_callback), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr + P, P), 0);
    ck_assert_int_eq(atomic_load(&s.calls), 1);
    teardown(&f);
}
END_TEST

/* --- the last put, from a callback ---------------------------------------------------- */

/* A shared subscription that puts its own last reference when told to, from release or
 * from the start of an invalidation, and can be held inside that start until let go.
 * Counts are atomic: the free may run on a thread of the library's. */
struct putter {
    struct mmu_notifier mn;
    atomic_int put_in_release, put_in_start, hold_in_start, in_start;
};

static atomic_int putters_made, putters_freed, putter_starts;

static struct mmu_notifier *putter_alloc(struct mm_struct *mm)
{
    struct putter *pt = calloc(1, sizeof(*pt));

    (void)mm;
    if (!pt)
        return ERR_PTR(-ENOMEM);
    atomic_fetch_add(&putters_made, 1);
    return &pt->mn;
}

static void putter_free(struct mmu_notifier *sub)
{
    atomic_fetch_add(&putters_freed, 1);
    free(sub);
}

static void putter_release(struct mmu_notifier *sub, struct mm_struct *mm)
{
    struct putter *pt = (struct putter *)sub;

    (void)mm;
    if (atomic_exchange(&pt->put_in_release, 0))
        mmu_notifier_put(sub);
}

static int putter_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct putter *pt = (struct putter *)sub;

    (void)range;
    atomic_fetch_add(&putter_starts, 1);
    if (atomic_exchange(&pt->put_in_start, 0))
        mmu_notifier_put(sub);
    atomic_store(&pt->in_start, 1);
    while (atomic_load(&pt->hold_in_start))
        sched_yield();
    atomic_store(&pt->in_start, 0);
    return 0;
}

static const struct mmu_notifier_ops putter_ops = {
    .release = putter_release, .invalidate_range_start = putter_start,
    .alloc_notifier = putter_alloc, .free_notifier = putter_free,
};

static struct putter *get_putter(struct mm_struct *mm)
{
    struct mmu_notifier *sub = mmu_notifier_get(&putter_ops, mm);

    ck_assert(!IS_ERR_OR_NULL(sub));
    return (struct putter *)sub;
}

/* Linux allows the last put from release (mm/mmu_notifier.c, the comment above
 * mmu_notifier_put(), Linux 6.15; amdkfd does it).  The teardown returns, and the
 * subscription is freed once, by the time mmput() returns. */
START_TEST(test_put_from_release)
{
    struct mm_struct *mm = sim_mm_create();
    struct putter *pt;

    atomic_store(&putters_freed, 0);
    pt = get_putter(mm);
    atomic_store(&pt->put_in_release, 1);
    mmput(mm);
    ck_assert_int_eq(atomic_load(&putters_freed), 1);
}
END_TEST

/* The last put from an invalidation callback returns, the invalidation completes, and a
 * get made after it finds no subscription to share: it makes a new one (which may lie
 * where the old one did, once that is freed).  The teardown frees both. */
START_TEST(test_put_from_an_invalidation)
{
    struct fixture f;
    struct putter *pt, *again;

    atomic_store(&putters_made, 0);
    atomic_store(&putters_freed, 0);
    setup(&f, 2);
    pt = get_putter(f.mm);
    atomic_store(&pt->put_in_start, 1);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, P), 0);
    ck_assert_int_eq(f.rec.n, 2);
    again = get_putter(f.mm);
    ck_assert_int_eq(atomic_load(&putters_made), 2);
    mmu_notifier_put(&again->mn);
    teardown(&f);
    ck_assert_int_eq(atomic_load(&putters_freed), 2);
}
END_TEST

static void *munmap_first_page(void *arg)
{
    struct fixture *f = arg;

    ck_assert_int_eq(sim_munmap(f->mm, f->addr, P), 0);
    return NULL;
}

/* Another thread is inside the subscription's callback when its last put comes: the put
 * returns at once, and the free waits until the callback has returned. */
START_TEST(test_put_does_not_wait_for_a_running_callback)
{
    struct fixture f;
    struct putter *pt;
    pthread_t t;

    atomic_store(&putters_freed, 0);
    setup(&f, 2);
    pt = get_putter(f.mm);
    atomic_store(&pt->hold_in_start, 1);
    ck_assert_int_eq(pthread_create(&t, NULL, munmap_first_page, &f), 0);
    while (!atomic_load(&pt->in_start))
        sched_yield();
    mmu_notifier_put(&pt->mn);
    sim_test_let_others_settle(200);
    ck_assert_int_eq(atomic_load(&putters_freed), 0);
    ck_assert_int_eq(atomic_load(&pt->in_start), 1);   /* still inside: not freed */
    atomic_store(&pt->hold_in_start, 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    teardown(&f);
    ck_assert_int_eq(atomic_load(&putters_freed), 1);
}
END_TEST

/* Seed 000: told only "invalidate [start, end)", a mirror must drop what a mirror told
 * the event can keep read-only; after fork's write-protect the pages are all there. */
START_TEST(test_history_event_saves_mappings)
{
    for (int knows = 0; knows <= 1; knows++) {
        struct mm_struct *mm = sim_mm_create(), *child;
        unsigned long addr = sim_test_map_private(mm, TOY_PAGES * P);
        struct toy_mirror m;

        sim_test_memset(mm, addr, 3, TOY_PAGES * P);
        toy_mirror_init(&m, addr, knows);
        for (int i = 0; i < TOY_PAGES; i++)
            toy_mirror_map(&m, i, true);
        ck_assert_int_eq(mmu_notifier_register(&m.notifier, mm), 0);
        child = sim_fork(mm);
        ck_assert(!IS_ERR(child));
        mmput(child);
        ck_assert_int_eq(m.dropped, knows ? 0 : TOY_PAGES);
        ck_assert_int_eq(m.downgraded, knows ? TOY_PAGES : 0);
        for (int i = 0; i < TOY_PAGES; i++) {
            ck_assert(m.present[i] == (bool)knows);
            ck_assert(!m.writable[i]);
        }
        ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_NONE), 0);  /* not to what: drop */
        ck_assert(!m.present[0]);
        mmu_notifier_unregister(&m.notifier, mm);
        mmput(mm);
    }
}
END_TEST

/* The non-blocking start of no range, or of a range of no address space: -EINVAL and a
 * warning; of an address space without subscribers: 0, the flag cleared. */
START_TEST(test_nonblock_start_of_nothing)
{
    struct mmu_notifier_range range;
    struct mm_struct *mm = sim_mm_create();
    unsigned long warnings = sim_warn_count();

    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(NULL), -EINVAL);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, BLOCKABLE, NULL, 0, P);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), -EINVAL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, BLOCKABLE, mm, 0, P);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&range), 0);
    ck_assert(!mmu_notifier_range_blockable(&range));
    mmput(mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
}
END_TEST

/* A subscriber that asks only for release is skipped by every invalidation, and still
 * released once. */
static atomic_int releases_seen;

static void count_release(struct mmu_notifier *sub, struct mm_struct *mm)
{
    (void)sub;
    (void)mm;
    atomic_fetch_add(&releases_seen, 1);
}

START_TEST(test_a_release_only_subscriber)
{
    static const struct mmu_notifier_ops release_only = { .release = count_release };
    struct mmu_notifier mn = { .ops = &release_only };
    struct fixture f;

    atomic_store(&releases_seen, 0);
    setup(&f, 2);
    ck_assert_int_eq(mmu_notifier_register(&mn, f.mm), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, P), 0);
    ck_assert_int_eq(f.rec.n, 2);                       /* the recorder still hears it */
    ck_assert_int_eq(atomic_load(&releases_seen), 0);
    mmu_notifier_unregister(&f.rec.mn, f.mm);
    mmput(f.mm);
    ck_assert_int_eq(atomic_load(&releases_seen), 1);
    mmu_notifier_unregister(&mn, f.mm);
    ck_assert_int_eq(atomic_load(&releases_seen), 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch03_mmu_notifiers");
    TCase *events = sim_tcase("events", 5);
    TCase *life = sim_tcase("lifetime", 5);
    TCase *failures = sim_tcase_unchecked("failures", 5);
    TCase *history = sim_tcase("history", 5);

    tcase_add_test(events, test_first_touch_sends_nothing);
    tcase_add_test(events, test_munmap_sends_one_unmap);
    tcase_add_test(events, test_map_fixed_over_a_mapping_sends_unmap);
    tcase_add_test(events, test_dontneed_sends_clear_per_vma);
    tcase_add_test(events, test_mprotect_sends_protection_vma);
    tcase_add_test(events, test_mprotect_to_the_same_protection_sends_nothing);
    tcase_add_test(events, test_munmap_of_a_hole_sends_nothing);
    tcase_add_test(events, test_fork_sends_protection_page_to_the_parent);
    tcase_add_test(events, test_cow_break_sends_clear_for_the_page);
    tcase_add_test(events, test_start_before_the_change_end_after);
    tcase_add_test(events, test_every_subscriber_sees_every_event);
    tcase_add_test(events, test_nonblock_refusal_backs_out);
    tcase_add_test(events, test_nonblock_start_that_succeeds);
    tcase_add_test(life, test_register_rejects_bad_input);
    tcase_add_test(life, test_teardown_releases_once);
    tcase_add_test(life, test_unregister_releases_a_live_subscriber);
    tcase_add_test(life, test_get_shares_and_put_frees);
    tcase_add_test(life, test_get_rejects_bad_input);
    tcase_add_test(life, test_put_after_teardown);
    tcase_add_test(life, test_unregister_waits_for_running_callbacks);
    tcase_add_test(life, test_put_from_release);
    tcase_add_test(life, test_put_from_an_invalidation);
    tcase_add_test(life, test_put_does_not_wait_for_a_running_callback);
    tcase_add_test(failures, test_second_unregister_warns);
    tcase_add_test(failures, test_blockable_refusal_warns_and_continues);
    tcase_add_test(failures, test_nonblock_start_of_nothing);
    tcase_add_test(life, test_a_release_only_subscriber);
    tcase_add_test(history, test_history_event_saves_mappings);
    suite_add_tcase(s, events);
    suite_add_tcase(s, life);
    suite_add_tcase(s, failures);
    suite_add_tcase(s, history);
    return s;
}
