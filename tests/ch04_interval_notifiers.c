/* Chapter 4: interval notifiers.  Who is called, with what, and the sequence protocol:
 * the exact sequence values, read_begin's wait, inserts and removes during an
 * invalidation, non-blockable ranges, release at teardown.  Threads are ordered with
 * barriers and joins; a bounded yield loop only gives a wrong implementation the chance
 * to return early. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "recorder.h"

#define P PAGE_SIZE
#define BLOCKABLE MMU_NOTIFIER_RANGE_BLOCKABLE
#define LOG_MAX 32
#define PATIENCE_MS 1000             /* longest a waiter gets to return too early */

/* The order in which callbacks of all kinds ran. */
static atomic_int order_clock;

/* Two barriers: the callback arrives at `entered` and waits at `release`. */
struct gate {
    pthread_barrier_t entered, release;
};

static void gate_init(struct gate *g)
{
    pthread_barrier_init(&g->entered, NULL, 2);
    pthread_barrier_init(&g->release, NULL, 2);
}

static void gate_destroy(struct gate *g)
{
    pthread_barrier_destroy(&g->entered);
    pthread_barrier_destroy(&g->release);
}

/* --- an interval notifier that records every call ------------------------------------ */

struct call {
    enum mmu_notifier_event event;
    unsigned long start, end;
    unsigned flags;
    void *owner;
    struct mm_struct *mm;
    unsigned long cur_seq;
    pte_t pte;                       /* the CPU entry at `probe` during the call */
    int order;
    int flag;                        /* *watch during the call */
};

enum mode { ACCEPT, REFUSE_NONBLOCK, REFUSE_ALWAYS };

struct sub {
    int tag;                         /* something before the notifier: it is embedded */
    struct mmu_interval_notifier mn;
    pthread_mutex_t lock;            /* the driver's lock: set_seq happens under it */
    struct call log[LOG_MAX];
    int n;
    enum mode mode;
    bool no_set_seq;
    unsigned long probe;
    atomic_int *watch;
    struct gate *gate;               /* the first call waits at this gate */
    bool gate_used;
};

#define sub_of(p) ((struct sub *)((char *)(p) - offsetof(struct sub, mn)))

static bool sub_invalidate(struct mmu_interval_notifier *mn,
                           const struct mmu_notifier_range *r, unsigned long cur_seq)
{
    struct sub *s = sub_of(mn);
    bool accept = s->mode == ACCEPT ||
                  (s->mode == REFUSE_NONBLOCK && mmu_notifier_range_blockable(r));
    struct gate *gate = NULL;

    pthread_mutex_lock(&s->lock);
    if (accept && !s->no_set_seq)
        mmu_interval_set_seq(mn, cur_seq);
    if (s->n < LOG_MAX)
        s->log[s->n] = (struct call){
            .event = r->event, .start = r->start, .end = r->end, .flags = r->flags,
            .owner = r->owner, .mm = r->mm, .cur_seq = cur_seq,
            .pte = s->probe ? sim_pte_get(r->mm, s->probe) : 0,
            .order = atomic_fetch_add(&order_clock, 1),
            .flag = s->watch ? atomic_load(s->watch) : -1,
        };
    s->n++;
    if (s->gate && !s->gate_used) {
        gate = s->gate;
        s->gate_used = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (gate) {
        pthread_barrier_wait(&gate->entered);
        pthread_barrier_wait(&gate->release);
    }
    return accept;
}

static const struct mmu_interval_notifier_ops sub_ops = { .invalidate = sub_invalidate };

static void sub_init(struct sub *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
}

static int sub_calls(struct sub *s)
{
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void sub_insert(struct sub *s, struct mm_struct *mm, unsigned long start,
                       unsigned long length)
{
    ck_assert_int_eq(mmu_interval_notifier_insert(&s->mn, mm, start, length, &sub_ops), 0);
}

/* Assert that call i of s is exactly this. */
#define ck_assert_call(s, i, ev, st, en, fl, seq, m)                                       \
    do {                                                                                  \
        int _i = (i);                                                                     \
        const struct call *_c = &(s)->log[_i];                                            \
        ck_assert_int_gt((s)->n, _i);                                                     \
        ck_assert_int_eq(_c->event, (ev));                                                \
        ck_assert_uint_eq(_c->start, (unsigned long)(st));                                \
        ck_assert_uint_eq(_c->end, (unsigned long)(en));                                  \
        ck_assert_uint_eq(_c->flags, (fl));                                               \
        ck_assert_uint_eq(_c->cur_seq, (unsigned long)(seq));                             \
        ck_assert_ptr_null(_c->owner);                                                    \
        ck_assert_ptr_eq(_c->mm, (m));                                                    \
    } while (0)

/* read_begin of a notifier inserted now, at rest: the global sequence minus one. */
static unsigned long fresh_read_begin(struct mm_struct *mm)
{
    struct sub probe;
    unsigned long seq;

    sub_init(&probe);
    sub_insert(&probe, mm, SIM_TASK_SIZE - P, P);
    seq = mmu_interval_read_begin(&probe.mn);
    mmu_interval_notifier_remove(&probe.mn);
    ck_assert_int_eq(probe.n, 0);
    return seq;
}

/* --- a classic notifier that records, in the same clock, and may wait at a gate ------ */

struct classic {
    struct mmu_notifier mn;          /* first: the callbacks cast */
    pthread_mutex_t lock;
    struct { char kind; enum mmu_notifier_event event; int order; } log[LOG_MAX];
    int n;
    struct gate *gate;               /* the first start waits at this gate */
    bool gate_used;
};

static void classic_add(struct classic *c, char kind, enum mmu_notifier_event event)
{
    pthread_mutex_lock(&c->lock);
    if (c->n < LOG_MAX) {
        c->log[c->n].kind = kind;
        c->log[c->n].event = event;
        c->log[c->n].order = atomic_fetch_add(&order_clock, 1);
    }
    c->n++;
    pthread_mutex_unlock(&c->lock);
}

static int classic_start(struct mmu_notifier *mn, const struct mmu_notifier_range *r)
{
    struct classic *c = (struct classic *)mn;
    struct gate *gate = NULL;

    classic_add(c, 'S', r->event);
    pthread_mutex_lock(&c->lock);
    if (c->gate && !c->gate_used) {
        gate = c->gate;
        c->gate_used = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (gate) {
        pthread_barrier_wait(&gate->entered);
        pthread_barrier_wait(&gate->release);
    }
    return 0;
}

static void classic_end(struct mmu_notifier *mn, const struct mmu_notifier_range *r)
{
    classic_add((struct classic *)mn, 'E', r->event);
}

static void classic_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
    (void)mm;
    classic_add((struct classic *)mn, 'R', MMU_NOTIFY_RELEASE);
}

static const struct mmu_notifier_ops classic_ops = {
    .release = classic_release,
    .invalidate_range_start = classic_start,
    .invalidate_range_end = classic_end,
};

static void classic_init(struct classic *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->mn.ops = &classic_ops;
}

#define ck_assert_classic(c, i, k, ev)                                                     \
    do {                                                                                  \
        ck_assert_int_gt((c)->n, (i));                                                    \
        ck_assert_int_eq((c)->log[i].kind, (k));                                          \
        ck_assert_int_eq((c)->log[i].event, (ev));                                        \
    } while (0)

/* --- helper threads ------------------------------------------------------------------ */

struct job {
    pthread_t thread;
    struct mm_struct *mm;
    unsigned long addr, len;
    struct mmu_interval_notifier *mn;
    atomic_int *watch;               /* read when the job's call returns */
    atomic_int done;
    int saw;
    unsigned long seq;
    int ret;
};

static void *madvise_main(void *arg)
{
    struct job *j = arg;

    j->ret = sim_madvise(j->mm, j->addr, j->len, MADV_DONTNEED);
    atomic_store(&j->done, 1);
    return NULL;
}

static void *read_begin_main(void *arg)
{
    struct job *j = arg;

    j->seq = mmu_interval_read_begin(j->mn);
    j->saw = atomic_load(j->watch);
    atomic_store(&j->done, 1);
    return NULL;
}

static void *remove_main(void *arg)
{
    struct job *j = arg;

    mmu_interval_notifier_remove(j->mn);
    j->saw = atomic_load(j->watch);
    atomic_store(&j->done, 1);
    return NULL;
}

static void job_start(struct job *j, void *(*fn)(void *))
{
    atomic_init(&j->done, 0);
    ck_assert_int_eq(pthread_create(&j->thread, NULL, fn, j), 0);
}

static void job_join(struct job *j)
{
    ck_assert_int_eq(pthread_join(j->thread, NULL), 0);
    ck_assert_int_eq(atomic_load(&j->done), 1);
}

/* The job must still be waiting: give it every chance to return. */
static void expect_waiting(struct job *j, const char *what)
{
    sim_test_let_others_settle(PATIENCE_MS);
    if (atomic_load(&j->done))
        ck_abort_msg("%s returned while it should still wait", what);
}

/* --- fixtures ------------------------------------------------------------------------ */

struct fixture {
    struct mm_struct *mm;
    unsigned long addr;
};

/* An mm with npages of private read-write memory, written. */
static void setup(struct fixture *f, unsigned long npages)
{
    f->mm = sim_mm_create();
    f->addr = sim_test_map_private(f->mm, npages * P);
    sim_test_memset(f->mm, f->addr, 0x5a, npages * P);
}

/* ===================================================================================== */
/* Insertion                                                                             */

START_TEST(test_insert_rejects_bad_input)
{
    static const struct mmu_interval_notifier_ops no_invalidate = { .invalidate = NULL };
    struct fixture f;
    struct sub s;

    setup(&f, 2);
    sub_init(&s);
    ck_assert_int_eq(mmu_interval_notifier_insert(NULL, f.mm, f.addr, P, &sub_ops), -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, f.mm, f.addr, P, NULL), -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, f.mm, f.addr, P, &no_invalidate),
                     -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, NULL, f.addr, P, &sub_ops), -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, f.mm, f.addr, 0, &sub_ops),
                     -EOVERFLOW);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, f.mm, ULONG_MAX - P + 1, 2 * P,
                                                  &sub_ops), -EOVERFLOW);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, f.mm, 2, ULONG_MAX, &sub_ops),
                     -EOVERFLOW);
    mmap_write_lock(f.mm);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(NULL, f.mm, f.addr, P, &sub_ops),
                     -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&s.mn, f.mm, f.addr, P, NULL),
                     -EINVAL);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&s.mn, f.mm, f.addr, 0, &sub_ops),
                     -EOVERFLOW);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&s.mn, f.mm, ULONG_MAX, 2, &sub_ops),
                     -EOVERFLOW);
    mmap_write_unlock(f.mm);
    /* Nothing was inserted and nothing moved. */
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 0);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 1);
    mmput(f.mm);
    ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(test_insert_on_an_exited_mm)
{
    struct mm_struct *mm = sim_mm_create();
    struct sub s;

    sub_init(&s);
    mmgrab(mm);
    mmput(mm);
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, mm, 0x100000, P, &sub_ops), -EINVAL);
    mmap_write_lock(mm);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&s.mn, mm, 0x100000, P, &sub_ops),
                     -EINVAL);
    mmap_write_unlock(mm);
    /* A bad length is a bad length on any mm. */
    ck_assert_int_eq(mmu_interval_notifier_insert(&s.mn, mm, 0x100000, 0, &sub_ops),
                     -EOVERFLOW);
    mmdrop(mm);
    ck_assert_int_eq(s.n, 0);
}
END_TEST

/* Lengths that end exactly at the top are fine: [1, ULONG_MAX], [0, ULONG_MAX - 1]. */
START_TEST(test_insert_ranges_up_to_the_top)
{
    struct mm_struct *mm = sim_mm_create();
    struct sub a, b, c;
    struct mmu_notifier_range r;

    sub_init(&a);
    sub_init(&b);
    sub_init(&c);
    sub_insert(&a, mm, 1, ULONG_MAX);
    sub_insert(&b, mm, ULONG_MAX - P + 1, P);
    sub_insert(&c, mm, 0, ULONG_MAX);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, 0, 1);
    mmu_notifier_invalidate_range_start(&r);
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(a.n, 0);
    ck_assert_int_eq(b.n, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_call(&c, 0, MMU_NOTIFY_CLEAR, 0, 1, BLOCKABLE, 3, mm);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, ULONG_MAX - P + 1, ULONG_MAX);
    mmu_notifier_invalidate_range_start(&r);
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(a.n, 1);
    ck_assert_int_eq(b.n, 1);
    ck_assert_int_eq(c.n, 2);
    ck_assert_call(&a, 0, MMU_NOTIFY_CLEAR, ULONG_MAX - P + 1, ULONG_MAX, BLOCKABLE, 5, mm);
    ck_assert_call(&b, 0, MMU_NOTIFY_CLEAR, ULONG_MAX - P + 1, ULONG_MAX, BLOCKABLE, 5, mm);
    /* In the tree's order: by start. */
    ck_assert_int_lt(c.log[1].order, a.log[0].order);
    ck_assert_int_lt(a.log[0].order, b.log[0].order);
    mmu_interval_notifier_remove(&a.mn);
    mmu_interval_notifier_remove(&b.mn);
    mmu_interval_notifier_remove(&c.mn);
    mmput(mm);
}
END_TEST

/* insert_locked is for a caller that holds the mmap lock for writing, also the first time
 * an mm gets the tree (insert would deadlock here). */
START_TEST(test_insert_locked_under_the_mmap_lock)
{
    struct fixture f;
    struct sub s, t;

    setup(&f, 2);
    sub_init(&s);
    sub_init(&t);
    mmap_write_lock(f.mm);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&s.mn, f.mm, f.addr, 2 * P,
                                                         &sub_ops), 0);
    ck_assert_int_eq(mmu_interval_notifier_insert_locked(&t.mn, f.mm, f.addr + P, P,
                                                         &sub_ops), 0);
    mmap_write_unlock(f.mm);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 1);
    ck_assert_uint_eq(mmu_interval_read_begin(&t.mn), 1);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(t.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    ck_assert_call(&t, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    mmu_interval_notifier_remove(&s.mn);
    mmu_interval_notifier_remove(&t.mn);
    mmput(f.mm);
}
END_TEST

/* A removed notifier may be inserted again, elsewhere. */
START_TEST(test_reinsert_after_remove)
{
    struct fixture f;
    struct sub s;

    setup(&f, 4);
    sub_init(&s);
    sub_insert(&s, f.mm, f.addr, P);
    mmu_interval_notifier_remove(&s.mn);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 0);
    sub_insert(&s, f.mm, f.addr + 2 * P, P);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + 2 * P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 1);
    /* Two invalidations missed the tree, so this is the first odd value. */
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, BLOCKABLE, 3,
                   f.mm);
    mmu_interval_notifier_remove(&s.mn);
    mmput(f.mm);
}
END_TEST

/* ===================================================================================== */
/* Who is called, with what                                                              */

/* Only overlapping notifiers are called, in the order of their starts, with the exact
 * range, event and flags and the odd sequence value; the ends are exclusive. */
START_TEST(test_only_overlapping_notifiers_are_called)
{
    struct fixture f;
    struct sub n1, n2, n3, far;

    setup(&f, 8);
    sub_init(&n1);
    sub_init(&n2);
    sub_init(&n3);
    sub_init(&far);
    sub_insert(&n2, f.mm, f.addr + 2 * P, 2 * P);    /* [2, 4) */
    sub_insert(&n1, f.mm, f.addr, 2 * P);            /* [0, 2) */
    sub_insert(&n3, f.mm, f.addr + P, 2 * P);        /* [1, 3) */
    sub_insert(&far, f.mm, f.addr + 6 * P, 2 * P);   /* [6, 8) */
    /* [1, 2): n1 and n3; n2 begins exactly at the end. */
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(n1.n, 1);
    ck_assert_int_eq(n2.n, 0);
    ck_assert_int_eq(n3.n, 1);
    ck_assert_call(&n1, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    ck_assert_call(&n3, 0, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    ck_assert_int_lt(n1.log[0].order, n3.log[0].order);
    /* [2, 3): n3 and n2; n1 ends just before. */
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + 2 * P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(n1.n, 1);
    ck_assert_int_eq(n2.n, 1);
    ck_assert_int_eq(n3.n, 2);
    ck_assert_call(&n3, 1, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, BLOCKABLE, 5,
                   f.mm);
    ck_assert_call(&n2, 0, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, BLOCKABLE, 5,
                   f.mm);
    ck_assert_int_lt(n3.log[1].order, n2.log[0].order);
    /* [4, 6): nobody. */
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + 4 * P, 2 * P, MADV_DONTNEED), 0);
    /* [0, 8): everybody, once each, by start. */
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 8 * P), 0);
    ck_assert_int_eq(n1.n, 2);
    ck_assert_int_eq(n2.n, 2);
    ck_assert_int_eq(n3.n, 3);
    ck_assert_int_eq(far.n, 1);
    ck_assert_call(&n1, 1, MMU_NOTIFY_UNMAP, f.addr, f.addr + 8 * P, BLOCKABLE, 7, f.mm);
    ck_assert_call(&n3, 2, MMU_NOTIFY_UNMAP, f.addr, f.addr + 8 * P, BLOCKABLE, 7, f.mm);
    ck_assert_call(&n2, 1, MMU_NOTIFY_UNMAP, f.addr, f.addr + 8 * P, BLOCKABLE, 7, f.mm);
    ck_assert_call(&far, 0, MMU_NOTIFY_UNMAP, f.addr, f.addr + 8 * P, BLOCKABLE, 7, f.mm);
    ck_assert_int_lt(n1.log[1].order, n3.log[2].order);
    ck_assert_int_lt(n3.log[2].order, n2.log[1].order);
    ck_assert_int_lt(n2.log[1].order, far.log[0].order);
    mmu_interval_notifier_remove(&n1.mn);
    mmu_interval_notifier_remove(&n2.mn);
    mmu_interval_notifier_remove(&n3.mn);
    mmu_interval_notifier_remove(&far.mn);
    mmput(f.mm);
}
END_TEST

/* The global sequence starts at 2; a notifier at rest reads global - 1; each invalidation
 * that hits the tree hands out the next odd value and leaves the global one above it. */
START_TEST(test_sequence_values)
{
    struct fixture f;
    struct sub s, quiet;

    setup(&f, 2);
    sub_init(&s);
    sub_init(&quiet);
    sub_insert(&s, f.mm, f.addr, P);
    quiet.no_set_seq = true;                      /* a driver that never sets the seq */
    sub_insert(&quiet, f.mm, f.addr, P);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 1);
    ck_assert_uint_eq(mmu_interval_read_begin(&quiet.mn), 1);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 1);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.log[0].cur_seq, 3);
    ck_assert_uint_eq(quiet.log[0].cur_seq, 3);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 3);
    ck_assert_uint_eq(mmu_interval_read_begin(&quiet.mn), 1);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 3);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(s.log[1].cur_seq, 5);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 5);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 5);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 2 * P), 0);
    ck_assert_uint_eq(s.log[2].cur_seq, 7);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 7);
    ck_assert_int_eq(s.n, 3);
    mmu_interval_notifier_remove(&s.mn);
    mmu_interval_notifier_remove(&quiet.mn);
    mmput(f.mm);
}
END_TEST

/* An invalidation that hits no notifier leaves the sequence even: nobody is called, and
 * the next one that does hit hands out 3. */
START_TEST(test_non_overlapping_invalidations_keep_the_sequence)
{
    struct fixture f;
    struct sub s;
    struct mm_struct *child;

    setup(&f, 4);
    sub_init(&s);
    sub_insert(&s, f.mm, f.addr, P);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_mprotect(f.mm, f.addr + P, 3 * P, PROT_READ), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr + 3 * P, P), 0);
    ck_assert_int_eq(s.n, 0);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 1);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 1);
    child = sim_fork(f.mm);                       /* VMAs [0, 1) and [1, 3): one hit */
    ck_assert(!IS_ERR(child));
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_PROTECTION_PAGE, f.addr, f.addr + P, BLOCKABLE, 3, f.mm);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 3);
    mmput(child);
    mmu_interval_notifier_remove(&s.mn);
    mmput(f.mm);
}
END_TEST

START_TEST(test_read_retry_and_check_retry)
{
    struct fixture f;
    struct sub s, quiet;
    unsigned long seq;

    setup(&f, 2);
    sub_init(&s);
    sub_init(&quiet);
    quiet.no_set_seq = true;
    sub_insert(&s, f.mm, f.addr, P);
    sub_insert(&quiet, f.mm, f.addr, P);
    seq = mmu_interval_read_begin(&s.mn);
    ck_assert_uint_eq(seq, 1);
    ck_assert(!mmu_interval_read_retry(&s.mn, seq));
    ck_assert(!mmu_interval_check_retry(&s.mn, seq));
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + P, P, MADV_DONTNEED), 0);   /* elsewhere */
    ck_assert(!mmu_interval_read_retry(&s.mn, seq));
    ck_assert(!mmu_interval_check_retry(&s.mn, seq));
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);       /* hits */
    ck_assert(mmu_interval_read_retry(&s.mn, seq));
    ck_assert(mmu_interval_check_retry(&s.mn, seq));
    ck_assert(mmu_interval_read_retry(&s.mn, seq));          /* asking does not reset it */
    seq = mmu_interval_read_begin(&s.mn);
    ck_assert_uint_eq(seq, 3);
    ck_assert(!mmu_interval_read_retry(&s.mn, seq));
    ck_assert(!mmu_interval_check_retry(&s.mn, seq));
    /* Only the callback's set_seq moves a notifier's number. */
    ck_assert_int_eq(quiet.n, 1);
    ck_assert(!mmu_interval_read_retry(&quiet.mn, mmu_interval_read_begin(&quiet.mn)));
    ck_assert(!mmu_interval_read_retry(&quiet.mn, 1));
    mmu_interval_notifier_remove(&s.mn);
    mmu_interval_notifier_remove(&quiet.mn);
    mmput(f.mm);
}
END_TEST

/* Chapter 3's table, seen by one interval notifier over a private buffer: the same events
 * and ranges, each invalidation with the next odd number.  Notifiers over a shared
 * mapping and over an untouched one hear nothing. */
START_TEST(test_every_core_path_reaches_the_notifier)
{
    struct fixture f;
    struct sub w, sh, idle;
    struct mm_struct *child;
    unsigned long shared, untouched, A;
    int k = 0;

    setup(&f, 4);
    A = f.addr;
    shared = sim_test_map_shared(f.mm, 2 * P);
    sim_test_memset(f.mm, shared, 1, 2 * P);
    untouched = sim_test_map_shared(f.mm, P);
    sub_init(&w);
    sub_init(&sh);
    sub_init(&idle);
    sub_insert(&w, f.mm, A, 4 * P);
    sub_insert(&sh, f.mm, shared, 2 * P);
    sub_insert(&idle, f.mm, untouched, P);

    ck_assert_int_eq(sim_mprotect(f.mm, A + P, P, PROT_READ), 0);
    ck_assert_call(&w, k++, MMU_NOTIFY_PROTECTION_VMA, A + P, A + 2 * P, BLOCKABLE, 3, f.mm);
    /* one per VMA part */
    ck_assert_int_eq(sim_madvise(f.mm, A, 3 * P, MADV_DONTNEED), 0);
    ck_assert_call(&w, k++, MMU_NOTIFY_CLEAR, A, A + P, BLOCKABLE, 5, f.mm);
    ck_assert_call(&w, k++, MMU_NOTIFY_CLEAR, A + P, A + 2 * P, BLOCKABLE, 7, f.mm);
    ck_assert_call(&w, k++, MMU_NOTIFY_CLEAR, A + 2 * P, A + 3 * P, BLOCKABLE, 9, f.mm);
    ck_assert_int_eq(sim_mprotect(f.mm, A + P, P, PROT_READ | PROT_WRITE), 0);
    ck_assert_call(&w, k++, MMU_NOTIFY_PROTECTION_VMA, A + P, A + 2 * P, BLOCKABLE, 11, f.mm);
    /* first touch fills empty entries: nothing */
    sim_test_memset(f.mm, A, 0x11, 4 * P);
    ck_assert_int_eq(w.n, k);
    /* fork: each private VMA of the parent, write-protected */
    child = sim_fork(f.mm);
    ck_assert(!IS_ERR(child));
    ck_assert_call(&w, k++, MMU_NOTIFY_PROTECTION_PAGE, A, A + P, BLOCKABLE, 13, f.mm);
    ck_assert_call(&w, k++, MMU_NOTIFY_PROTECTION_PAGE, A + P, A + 2 * P, BLOCKABLE, 15, f.mm);
    ck_assert_call(&w, k++, MMU_NOTIFY_PROTECTION_PAGE, A + 2 * P, A + 4 * P, BLOCKABLE, 17,
                   f.mm);
    ck_assert_int_eq(w.n, k);
    /* copy-on-write: the one page; then the copy is reused silently */
    ck_assert_int_eq(sim_write(f.mm, A + 2 * P + 10, "x", 1), 0);
    ck_assert_call(&w, k++, MMU_NOTIFY_CLEAR, A + 2 * P, A + 3 * P, BLOCKABLE, 19, f.mm);
    ck_assert_int_eq(sim_write(f.mm, A + 2 * P + 11, "y", 1), 0);
    ck_assert_int_eq(w.n, k);
    mmput(child);
    ck_assert_int_eq(sim_write(f.mm, A + 3 * P, "z", 1), 0);   /* sole owner now: reuse */
    ck_assert_int_eq(w.n, k);
    /* munmap: the whole range once, across VMAs */
    ck_assert_int_eq(sim_munmap(f.mm, A + P, 2 * P), 0);
    ck_assert_call(&w, k++, MMU_NOTIFY_UNMAP, A + P, A + 3 * P, BLOCKABLE, 21, f.mm);
    /* MAP_FIXED over a mapping */
    ck_assert_int_eq(sim_mmap(f.mm, A + 2 * P, 2 * P, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), (long)(A + 2 * P));
    ck_assert_call(&w, k++, MMU_NOTIFY_UNMAP, A + 2 * P, A + 4 * P, BLOCKABLE, 23, f.mm);
    ck_assert_int_eq(w.n, k);
    ck_assert_int_eq(sh.n, 0);
    ck_assert_int_eq(idle.n, 0);
    /* the shared mapping's own events */
    ck_assert_int_eq(sim_madvise(f.mm, shared + P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(sh.n, 1);
    ck_assert_call(&sh, 0, MMU_NOTIFY_CLEAR, shared + P, shared + 2 * P, BLOCKABLE, 25, f.mm);
    ck_assert_int_eq(w.n, k);
    ck_assert_int_eq(idle.n, 0);
    mmu_interval_notifier_remove(&w.mn);
    mmu_interval_notifier_remove(&sh.mn);
    mmu_interval_notifier_remove(&idle.mn);
    mmput(f.mm);
}
END_TEST

/* Faults that fill empty entries send nothing; writing over the zero page is a
 * copy-on-write of that page. */
START_TEST(test_faults_on_empty_entries_send_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a = sim_test_map_private(mm, 2 * P);
    struct sub s;
    char buf[8];

    sub_init(&s);
    sub_insert(&s, mm, a, 2 * P);
    ck_assert_int_eq(sim_read(mm, a, buf, 8), 0);
    ck_assert_int_eq(sim_write(mm, a + P, buf, 8), 0);
    ck_assert_int_eq(sim_read(mm, a + P, buf, 8), 0);
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_eq(sim_write(mm, a + 5, buf, 8), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, a, a + P, BLOCKABLE, 3, mm);
    mmu_interval_notifier_remove(&s.mn);
    mmput(mm);
}
END_TEST

/* Interval notifiers are called before the classic subscribers' starts, whichever was
 * there first. */
START_TEST(test_interval_notifiers_before_classic_ones)
{
    struct fixture f;
    struct classic c;
    struct sub s;

    setup(&f, 2);
    classic_init(&c);
    sub_init(&s);
    ck_assert_int_eq(mmu_notifier_register(&c.mn, f.mm), 0);   /* before the tree exists */
    sub_insert(&s, f.mm, f.addr, 2 * P);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr + P, P), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(c.n, 4);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, f.addr, f.addr + P, BLOCKABLE, 3, f.mm);
    ck_assert_call(&s, 1, MMU_NOTIFY_UNMAP, f.addr + P, f.addr + 2 * P, BLOCKABLE, 5, f.mm);
    ck_assert_classic(&c, 0, 'S', MMU_NOTIFY_CLEAR);
    ck_assert_classic(&c, 1, 'E', MMU_NOTIFY_CLEAR);
    ck_assert_classic(&c, 2, 'S', MMU_NOTIFY_UNMAP);
    ck_assert_classic(&c, 3, 'E', MMU_NOTIFY_UNMAP);
    ck_assert_int_lt(s.log[0].order, c.log[0].order);
    ck_assert_int_lt(c.log[1].order, s.log[1].order);
    ck_assert_int_lt(s.log[1].order, c.log[2].order);
    mmu_interval_notifier_remove(&s.mn);
    mmu_notifier_unregister(&c.mn, f.mm);
    mmput(f.mm);
}
END_TEST

/* The last mmput: RELEASE over everything, blockable, while the pages are still mapped;
 * then the teardown's own UNMAP over everything; the interval notifier before the classic
 * subscriber each time.  The notifier outlives the mm's users and is removed after. */
START_TEST(test_teardown_release_then_unmap_then_remove)
{
    struct fixture f;
    struct classic c;
    struct sub s;

    setup(&f, 2);
    classic_init(&c);
    sub_init(&s);
    sub_insert(&s, f.mm, f.addr, 2 * P);
    ck_assert_int_eq(mmu_notifier_register(&c.mn, f.mm), 0);
    s.probe = f.addr;
    mmput(f.mm);
    ck_assert_int_eq(s.n, 2);
    ck_assert_call(&s, 0, MMU_NOTIFY_RELEASE, 0, ULONG_MAX, BLOCKABLE, 3, f.mm);
    ck_assert_call(&s, 1, MMU_NOTIFY_UNMAP, 0, ULONG_MAX, BLOCKABLE, 5, f.mm);
    ck_assert(pte_present(s.log[0].pte));
    ck_assert(pte_present(s.log[1].pte));
    ck_assert_uint_eq(pte_pfn(s.log[0].pte), pte_pfn(s.log[1].pte));
    /* classic: release, then nothing (release unlinked it) */
    ck_assert_int_eq(c.n, 1);
    ck_assert_classic(&c, 0, 'R', MMU_NOTIFY_RELEASE);
    ck_assert_int_lt(s.log[0].order, c.log[0].order);
    ck_assert_int_lt(c.log[0].order, s.log[1].order);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 5);
    mmu_interval_notifier_remove(&s.mn);
    mmu_notifier_unregister(&c.mn, f.mm);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(c.n, 1);
}
END_TEST

/* ===================================================================================== */
/* Concurrency: read_begin, insert and remove against a running invalidation             */

/* Two invalidations of the same range in flight: both hand out 3, and the sequence turns
 * even only when the second of them ends. */
START_TEST(test_overlapping_invalidations_end_once)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier_range r1, r2;
    struct sub s;
    atomic_int ending = 0;
    struct job reader = { .watch = &ending };

    sub_init(&s);
    sub_insert(&s, mm, 0x100000, P);
    mmu_notifier_range_init(&r1, MMU_NOTIFY_CLEAR, 0, mm, 0x100000, 0x101000);
    mmu_notifier_range_init(&r2, MMU_NOTIFY_CLEAR, 0, mm, 0x0, 0x200000);
    mmu_notifier_invalidate_range_start(&r1);
    mmu_notifier_invalidate_range_start(&r2);
    ck_assert_int_eq(s.n, 2);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, 0x100000, 0x101000, BLOCKABLE, 3, mm);
    ck_assert_call(&s, 1, MMU_NOTIFY_CLEAR, 0, 0x200000, BLOCKABLE, 3, mm);
    mmu_notifier_invalidate_range_end(&r1);
    reader.mn = &s.mn;
    job_start(&reader, read_begin_main);
    expect_waiting(&reader, "read_begin with one invalidation still running");
    atomic_store(&ending, 1);
    mmu_notifier_invalidate_range_end(&r2);
    job_join(&reader);
    ck_assert_int_eq(reader.saw, 1);
    ck_assert_uint_eq(reader.seq, 3);
    ck_assert_uint_eq(fresh_read_begin(mm), 3);
    mmu_interval_notifier_remove(&s.mn);
    mmput(mm);
}
END_TEST

/* Run MADV_DONTNEED over [f->addr, f->addr + inv_len) and hold it open twice: inside
 * s's callback, then after it in the start of a classic subscriber registered behind
 * it.  At each stop, `waiter` (running fn on s) must still be waiting; the invalidation
 * then ends and both threads are joined.  Returns the invalidation's result. */
static int waiter_waits_for_the_end(struct fixture *f, struct sub *s, unsigned long inv_len,
                                    struct job *waiter, void *(*fn)(void *), const char *what)
{
    struct classic c;
    struct gate g1, g2;
    atomic_int ending = 0;
    struct job inv = { .mm = f->mm, .addr = f->addr, .len = inv_len };
    char during[96], after[96];

    snprintf(during, sizeof(during), "%s during the callback", what);
    snprintf(after, sizeof(after), "%s after the callback, before the end", what);
    classic_init(&c);
    gate_init(&g1);
    gate_init(&g2);
    ck_assert_int_eq(mmu_notifier_register(&c.mn, f->mm), 0);
    s->gate = &g1;
    c.gate = &g2;
    job_start(&inv, madvise_main);
    pthread_barrier_wait(&g1.entered);            /* inside the interval callback */
    waiter->mn = &s->mn;
    waiter->watch = &ending;
    job_start(waiter, fn);
    expect_waiting(waiter, during);
    pthread_barrier_wait(&g1.release);
    pthread_barrier_wait(&g2.entered);            /* callback returned, not ended yet */
    expect_waiting(waiter, after);
    atomic_store(&ending, 1);
    pthread_barrier_wait(&g2.release);
    job_join(&inv);
    job_join(waiter);
    mmu_notifier_unregister(&c.mn, f->mm);
    gate_destroy(&g1);
    gate_destroy(&g2);
    return inv.ret;
}

/* read_begin sleeps while its notifier is inside an invalidation: through the callback
 * and after it, until the invalidation ends (a classic subscriber's start holds the
 * invalidation open after the interval callback returned). */
START_TEST(test_read_begin_waits_for_the_end)
{
    struct fixture f;
    struct sub s;
    struct job reader = { 0 };

    setup(&f, 4);
    sub_init(&s);
    sub_insert(&s, f.mm, f.addr, 2 * P);
    ck_assert_int_eq(waiter_waits_for_the_end(&f, &s, 4 * P, &reader, read_begin_main,
                                              "read_begin"), 0);
    ck_assert_int_eq(reader.saw, 1);
    ck_assert_uint_eq(reader.seq, 3);
    ck_assert_uint_eq(sim_pte_get(f.mm, f.addr), 0);
    mmu_interval_notifier_remove(&s.mn);
    mmput(f.mm);
}
END_TEST

/* A notifier the running invalidation did not touch reads at once. */
START_TEST(test_read_begin_of_an_untouched_notifier_does_not_wait)
{
    struct fixture f;
    struct sub hit, other;
    struct gate g;
    struct job inv;

    setup(&f, 4);
    sub_init(&hit);
    sub_init(&other);
    gate_init(&g);
    sub_insert(&hit, f.mm, f.addr, P);
    sub_insert(&other, f.mm, f.addr + 3 * P, P);
    hit.gate = &g;
    inv = (struct job){ .mm = f.mm, .addr = f.addr, .len = 2 * P };
    job_start(&inv, madvise_main);
    pthread_barrier_wait(&g.entered);
    ck_assert_uint_eq(mmu_interval_read_begin(&other.mn), 1);
    ck_assert(!mmu_interval_read_retry(&other.mn, 1));
    ck_assert(mmu_interval_check_retry(&hit.mn, 1));  /* already set by the callback */
    pthread_barrier_wait(&g.release);
    job_join(&inv);
    ck_assert_int_eq(other.n, 0);
    mmu_interval_notifier_remove(&hit.mn);
    mmu_interval_notifier_remove(&other.mn);
    mmput(f.mm);
    gate_destroy(&g);
}
END_TEST

/* An insert while an invalidation that hit the tree runs is deferred: that invalidation
 * (and another started meanwhile) does not call it, read_begin on it waits for the end,
 * and the next invalidation calls it. */
START_TEST(test_insert_during_an_invalidation_is_deferred)
{
    struct fixture f;
    struct sub n, d;
    struct mmu_notifier_range r1, r2;
    atomic_int ending = 0;
    struct job reader = { .watch = &ending };

    setup(&f, 4);
    sub_init(&n);
    sub_init(&d);
    sub_insert(&n, f.mm, f.addr, 4 * P);
    mmu_notifier_range_init(&r1, MMU_NOTIFY_CLEAR, 0, f.mm, f.addr, f.addr + 4 * P);
    mmu_notifier_invalidate_range_start(&r1);
    ck_assert_int_eq(n.n, 1);
    sub_insert(&d, f.mm, f.addr, 4 * P);
    mmu_notifier_range_init(&r2, MMU_NOTIFY_CLEAR, 0, f.mm, f.addr + P, f.addr + 2 * P);
    mmu_notifier_invalidate_range_start(&r2);
    ck_assert_int_eq(n.n, 2);
    ck_assert_call(&n, 1, MMU_NOTIFY_CLEAR, f.addr + P, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    ck_assert_int_eq(d.n, 0);
    mmu_notifier_invalidate_range_end(&r2);
    reader.mn = &d.mn;
    job_start(&reader, read_begin_main);
    expect_waiting(&reader, "read_begin on a deferred notifier");
    atomic_store(&ending, 1);
    mmu_notifier_invalidate_range_end(&r1);
    job_join(&reader);
    ck_assert_int_eq(reader.saw, 1);
    ck_assert_uint_eq(reader.seq, 3);
    ck_assert_int_eq(d.n, 0);
    ck_assert_uint_eq(mmu_interval_read_begin(&d.mn), 3);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 3);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + 2 * P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(d.n, 1);
    ck_assert_call(&d, 0, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, BLOCKABLE, 5,
                   f.mm);
    ck_assert_call(&n, 2, MMU_NOTIFY_CLEAR, f.addr + 2 * P, f.addr + 3 * P, BLOCKABLE, 5,
                   f.mm);
    mmu_interval_notifier_remove(&n.mn);
    mmu_interval_notifier_remove(&d.mn);
    mmput(f.mm);
}
END_TEST

/* An insert while only invalidations that missed the tree run goes in at once and makes
 * the sequence odd: a second invalidation calls it, and read_begin on it waits until the
 * last invalidation ends. */
START_TEST(test_insert_during_an_invalidation_that_missed_the_tree)
{
    struct mm_struct *mm = sim_mm_create();
    struct sub n, e;
    struct mmu_notifier_range r1, r2;
    atomic_int ending = 0;
    struct job reader = { .watch = &ending };

    sub_init(&n);
    sub_init(&e);
    sub_insert(&n, mm, 0x100000, P);
    mmu_notifier_range_init(&r1, MMU_NOTIFY_CLEAR, 0, mm, 0x200000, 0x201000);
    mmu_notifier_invalidate_range_start(&r1);
    ck_assert_int_eq(n.n, 0);
    sub_insert(&e, mm, 0x200000, P);
    mmu_notifier_range_init(&r2, MMU_NOTIFY_UNMAP, 0, mm, 0x200000, 0x202000);
    mmu_notifier_invalidate_range_start(&r2);
    ck_assert_int_eq(e.n, 1);
    ck_assert_call(&e, 0, MMU_NOTIFY_UNMAP, 0x200000, 0x202000, BLOCKABLE, 3, mm);
    mmu_notifier_invalidate_range_end(&r2);
    reader.mn = &e.mn;
    job_start(&reader, read_begin_main);
    expect_waiting(&reader, "read_begin while the first invalidation runs");
    atomic_store(&ending, 1);
    mmu_notifier_invalidate_range_end(&r1);
    job_join(&reader);
    ck_assert_int_eq(reader.saw, 1);
    ck_assert_uint_eq(reader.seq, 3);
    ck_assert_uint_eq(fresh_read_begin(mm), 3);
    ck_assert_uint_eq(mmu_interval_read_begin(&n.mn), 1);
    ck_assert_int_eq(n.n, 0);
    mmu_interval_notifier_remove(&n.mn);
    mmu_interval_notifier_remove(&e.mn);
    mmput(mm);
}
END_TEST

/* remove waits for a running invalidation to end, through its callback and after it; no
 * callback runs after remove returns. */
START_TEST(test_remove_waits_for_a_running_invalidation)
{
    struct fixture f;
    struct sub s;
    struct job remover = { 0 };

    setup(&f, 4);
    sub_init(&s);
    sub_insert(&s, f.mm, f.addr, 4 * P);
    ck_assert_int_eq(waiter_waits_for_the_end(&f, &s, P, &remover, remove_main, "remove"), 0);
    ck_assert_int_eq(remover.saw, 1);
    ck_assert_int_eq(sub_calls(&s), 1);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, 4 * P, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 4 * P), 0);
    ck_assert_int_eq(sub_calls(&s), 1);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 3);            /* nothing hit since */
    mmput(f.mm);
    ck_assert_int_eq(sub_calls(&s), 1);
}
END_TEST

/* Removing a notifier that the running walk has not reached yet: the tree is frozen, so
 * the walk still calls it, and remove returns only after that call and the end. */
START_TEST(test_remove_of_a_notifier_the_walk_has_not_reached)
{
    struct fixture f;
    struct sub first, second;
    struct gate g;
    atomic_int ending = 0;
    struct job inv, remover = { .watch = &ending };

    setup(&f, 4);
    sub_init(&first);
    sub_init(&second);
    gate_init(&g);
    sub_insert(&first, f.mm, f.addr, P);
    sub_insert(&second, f.mm, f.addr + P, P);
    first.gate = &g;
    second.watch = &remover.done;                /* has remove returned? */
    inv = (struct job){ .mm = f.mm, .addr = f.addr, .len = 2 * P };
    job_start(&inv, madvise_main);
    pthread_barrier_wait(&g.entered);
    ck_assert_int_eq(sub_calls(&second), 0);
    remover.mn = &second.mn;
    job_start(&remover, remove_main);
    expect_waiting(&remover, "remove of a notifier the walk will still call");
    atomic_store(&ending, 1);
    pthread_barrier_wait(&g.release);
    job_join(&remover);
    job_join(&inv);
    ck_assert_int_eq(remover.saw, 1);
    ck_assert_int_eq(second.n, 1);
    ck_assert_int_eq(second.log[0].flag, 0);     /* called before remove returned */
    ck_assert_call(&second, 0, MMU_NOTIFY_CLEAR, f.addr, f.addr + 2 * P, BLOCKABLE, 3, f.mm);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 4 * P), 0);
    ck_assert_int_eq(second.n, 1);
    ck_assert_int_eq(first.n, 2);
    mmu_interval_notifier_remove(&first.mn);
    mmput(f.mm);
    gate_destroy(&g);
}
END_TEST

/* A notifier still waiting to be inserted is just dropped: remove does not wait, and the
 * notifier is never inserted nor called. */
START_TEST(test_remove_of_a_deferred_insert)
{
    struct fixture f;
    struct sub n, d;
    struct mmu_notifier_range r;

    setup(&f, 2);
    sub_init(&n);
    sub_init(&d);
    sub_insert(&n, f.mm, f.addr, 2 * P);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, f.mm, f.addr, f.addr + P);
    mmu_notifier_invalidate_range_start(&r);
    sub_insert(&d, f.mm, f.addr, 2 * P);
    mmu_interval_notifier_remove(&d.mn);         /* must not wait for the end */
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_int_eq(sim_munmap(f.mm, f.addr, 2 * P), 0);
    ck_assert_int_eq(d.n, 0);
    ck_assert_int_eq(n.n, 2);
    ck_assert_call(&n, 1, MMU_NOTIFY_UNMAP, f.addr, f.addr + 2 * P, BLOCKABLE, 5, f.mm);
    mmu_interval_notifier_remove(&n.mn);
    mmput(f.mm);
    ck_assert_int_eq(d.n, 0);
}
END_TEST

/* With only invalidations that missed the tree running, remove takes effect at once. */
START_TEST(test_remove_during_an_invalidation_that_missed_it)
{
    struct mm_struct *mm = sim_mm_create();
    struct sub n, keep;
    struct mmu_notifier_range r;

    sub_init(&n);
    sub_init(&keep);
    sub_insert(&n, mm, 0x100000, P);
    sub_insert(&keep, mm, 0x300000, P);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, 0x200000, 0x201000);
    mmu_notifier_invalidate_range_start(&r);
    mmu_interval_notifier_remove(&n.mn);         /* must not wait for the end */
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(n.n, 0);
    ck_assert_int_eq(keep.n, 0);
    ck_assert_uint_eq(fresh_read_begin(mm), 1);
    mmu_interval_notifier_remove(&keep.mn);
    mmput(mm);
}
END_TEST

/* ===================================================================================== */
/* Non-blockable ranges                                                                  */

/* A notifier that would have to sleep refuses a non-blockable range: -EAGAIN, the
 * classic subscribers are not called, the sequence is even again and no end is due. */
START_TEST(test_nonblock_refusal)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier_range r;
    struct recorder rec;
    struct sub s;

    recorder_init(&rec);
    sub_init(&s);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    s.mode = REFUSE_NONBLOCK;
    sub_insert(&s, mm, 0x100000, 0x10000);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, BLOCKABLE, mm, 0x108000, 0x109000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&r), -EAGAIN);
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, 0x108000, 0x109000, 0, 3, mm);
    ck_assert_int_eq(rec.n, 0);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 1);     /* it did not set its seq */
    ck_assert_uint_eq(fresh_read_begin(mm), 3);
    /* The same range, blockable, is accepted. */
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, 0x108000, 0x109000);
    mmu_notifier_invalidate_range_start(&r);
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(s.n, 2);
    ck_assert_call(&s, 1, MMU_NOTIFY_CLEAR, 0x108000, 0x109000, BLOCKABLE, 5, mm);
    ck_assert_int_eq(rec.n, 2);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 5);
    mmu_interval_notifier_remove(&s.mn);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* A non-blockable range the notifiers accept: flags 0 all the way, and an end. */
START_TEST(test_nonblock_accepted)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier_range r;
    struct recorder rec;
    struct sub s;

    recorder_init(&rec);
    sub_init(&s);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    sub_insert(&s, mm, 0x100000, 0x10000);
    mmu_notifier_range_init_owner(&r, MMU_NOTIFY_CLEAR, 0, mm, 0x100000, 0x101000, NULL);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&r), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, 0x100000, 0x101000, 0, 3, mm);
    ck_assert_int_eq(rec.n, 1);
    ck_assert_rec(&rec, 0, REC_START, MMU_NOTIFY_CLEAR, 0x100000, 0x101000, 0, NULL, mm);
    mmu_notifier_invalidate_range_end(&r);
    ck_assert_int_eq(rec.n, 2);
    ck_assert_uint_eq(fresh_read_begin(mm), 3);
    mmu_interval_notifier_remove(&s.mn);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* A classic subscriber refusing after the interval notifiers accepted: the tree's part
 * is ended too, so nothing is left in flight. */
START_TEST(test_classic_nonblock_refusal_ends_the_tree_part)
{
    struct mm_struct *mm = sim_mm_create();
    struct mmu_notifier_range r;
    struct recorder rec;
    struct sub s;

    recorder_init(&rec);
    rec.fail_start = -EAGAIN;
    rec.fail_only_nonblock = 1;
    sub_init(&s);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    sub_insert(&s, mm, 0x100000, 0x10000);
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, 0x100000, 0x101000);
    ck_assert_int_eq(mmu_notifier_invalidate_range_start_nonblock(&r), -EAGAIN);
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, 0x100000, 0x101000, 0, 3, mm);
    ck_assert_int_eq(rec.n, 1);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_uint_eq(mmu_interval_read_begin(&s.mn), 3);
    ck_assert_uint_eq(fresh_read_begin(mm), 3);
    mmu_interval_notifier_remove(&s.mn);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* ===================================================================================== */
/* Misuse: warnings                                                                      */

START_TEST(test_double_remove_warns)
{
    struct fixture f;
    struct sub s, never;
    unsigned long warnings = sim_warn_count();

    setup(&f, 2);
    sub_init(&s);
    sub_init(&never);
    sub_insert(&s, f.mm, f.addr, P);
    mmu_interval_notifier_remove(&s.mn);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    mmu_interval_notifier_remove(&s.mn);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    mmu_interval_notifier_remove(&never.mn);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    mmu_interval_notifier_remove(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 0);
    mmput(f.mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* The read side asked about no notifier, or about one never inserted: a warning each and
 * nothing else.  The retry questions answer "retry", the one answer that cannot make a
 * driver trust a stale snapshot; read_begin, with no number to begin from, ULONG_MAX. */
START_TEST(test_read_side_without_a_notifier_warns)
{
    struct sub never;
    unsigned long warnings = sim_warn_count();

    sub_init(&never);
    ck_assert(mmu_interval_read_retry(NULL, 0));
    ck_assert(mmu_interval_check_retry(NULL, 0));
    mmu_interval_set_seq(NULL, 1);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    ck_assert_uint_eq(mmu_interval_read_begin(NULL), ULONG_MAX);
    ck_assert_uint_eq(mmu_interval_read_begin(&never.mn), ULONG_MAX);
    ck_assert_uint_eq(sim_warn_count(), warnings + 5);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* Refusing a blockable range is the notifier's bug: one warning, and the walk goes on to
 * the next notifier and the change itself. */
START_TEST(test_blockable_refusal_warns_and_continues)
{
    struct fixture f;
    struct sub refuser, next;
    unsigned long warnings = sim_warn_count();

    setup(&f, 2);
    sub_init(&refuser);
    sub_init(&next);
    refuser.mode = REFUSE_NONBLOCK;               /* refuses only what it may refuse... */
    sub_insert(&refuser, f.mm, f.addr, 2 * P);
    sub_insert(&next, f.mm, f.addr + P, P);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    refuser.mode = REFUSE_ALWAYS;                 /* ...and now refuses anything */
    sim_test_memset(f.mm, f.addr, 3, 2 * P);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_int_eq(refuser.n, 2);
    ck_assert_int_eq(next.n, 2);
    ck_assert_call(&next, 1, MMU_NOTIFY_CLEAR, f.addr, f.addr + 2 * P, BLOCKABLE, 5, f.mm);
    ck_assert_int_lt(refuser.log[1].order, next.log[1].order);
    ck_assert_uint_eq(sim_pte_get(f.mm, f.addr), 0);
    ck_assert_uint_eq(sim_pte_get(f.mm, f.addr + P), 0);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_uint_eq(fresh_read_begin(f.mm), 5);
    mmu_interval_notifier_remove(&refuser.mn);
    mmu_interval_notifier_remove(&next.mn);
    mmput(f.mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* Release may not be refused either: the teardown warns for RELEASE and for its UNMAP,
 * and completes. */
START_TEST(test_refused_release_warns)
{
    struct fixture f;
    struct sub s;
    unsigned long warnings = sim_warn_count();

    setup(&f, 2);
    sub_init(&s);
    s.mode = REFUSE_ALWAYS;
    sub_insert(&s, f.mm, f.addr, 2 * P);
    mmput(f.mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    ck_assert_int_eq(s.n, 2);
    ck_assert_call(&s, 0, MMU_NOTIFY_RELEASE, 0, ULONG_MAX, BLOCKABLE, 3, f.mm);
    ck_assert_call(&s, 1, MMU_NOTIFY_UNMAP, 0, ULONG_MAX, BLOCKABLE, 5, f.mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    mmu_interval_notifier_remove(&s.mn);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
}
END_TEST

/* Inserting a notifier that is already inserted is bad input: it is refused (API.md: no
 * entry point may corrupt state on bad input; the errno is not specified), and the first
 * insertion stays as it was. */
START_TEST(test_second_insert_is_refused)
{
    struct fixture f;
    struct sub s, other;

    setup(&f, 4);
    sub_init(&s);
    sub_init(&other);
    sub_insert(&s, f.mm, f.addr, P);
    sub_insert(&other, f.mm, f.addr + 2 * P, P);
    ck_assert_int_lt(mmu_interval_notifier_insert(&s.mn, f.mm, f.addr + 3 * P, P, &sub_ops),
                     0);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr + 3 * P, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_eq(sim_madvise(f.mm, f.addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_call(&s, 0, MMU_NOTIFY_CLEAR, f.addr, f.addr + P, BLOCKABLE, 3, f.mm);
    mmu_interval_notifier_remove(&s.mn);
    mmu_interval_notifier_remove(&other.mn);
    ck_assert_int_eq(sim_check_notifiers(), 0);
    mmput(f.mm);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch04_interval_notifiers");
    TCase *insert = sim_tcase("insert", 5);
    TCase *calls = sim_tcase("calls", 5);
    TCase *conc = sim_tcase("concurrency", 10);
    TCase *nonblock = sim_tcase("nonblock", 5);
    TCase *misuse = sim_tcase_unchecked("misuse", 5);

    tcase_add_test(insert, test_insert_rejects_bad_input);
    tcase_add_test(insert, test_insert_on_an_exited_mm);
    tcase_add_test(insert, test_insert_ranges_up_to_the_top);
    tcase_add_test(insert, test_insert_locked_under_the_mmap_lock);
    tcase_add_test(insert, test_reinsert_after_remove);
    tcase_add_test(calls, test_only_overlapping_notifiers_are_called);
    tcase_add_test(calls, test_sequence_values);
    tcase_add_test(calls, test_non_overlapping_invalidations_keep_the_sequence);
    tcase_add_test(calls, test_read_retry_and_check_retry);
    tcase_add_test(calls, test_every_core_path_reaches_the_notifier);
    tcase_add_test(calls, test_faults_on_empty_entries_send_nothing);
    tcase_add_test(calls, test_interval_notifiers_before_classic_ones);
    tcase_add_test(calls, test_teardown_release_then_unmap_then_remove);
    tcase_add_test(conc, test_overlapping_invalidations_end_once);
    tcase_add_test(conc, test_read_begin_waits_for_the_end);
    tcase_add_test(conc, test_read_begin_of_an_untouched_notifier_does_not_wait);
    tcase_add_test(conc, test_insert_during_an_invalidation_is_deferred);
    tcase_add_test(conc, test_insert_during_an_invalidation_that_missed_the_tree);
    tcase_add_test(conc, test_remove_waits_for_a_running_invalidation);
    tcase_add_test(conc, test_remove_of_a_notifier_the_walk_has_not_reached);
    tcase_add_test(conc, test_remove_of_a_deferred_insert);
    tcase_add_test(conc, test_remove_during_an_invalidation_that_missed_it);
    tcase_add_test(nonblock, test_nonblock_refusal);
    tcase_add_test(nonblock, test_nonblock_accepted);
    tcase_add_test(nonblock, test_classic_nonblock_refusal_ends_the_tree_part);
    tcase_add_test(misuse, test_double_remove_warns);
    tcase_add_test(misuse, test_read_side_without_a_notifier_warns);
    tcase_add_test(misuse, test_blockable_refusal_warns_and_continues);
    tcase_add_test(misuse, test_refused_release_warns);
    tcase_add_test(misuse, test_second_insert_is_refused);
    suite_add_tcase(s, insert);
    suite_add_tcase(s, calls);
    suite_add_tcase(s, conc);
    suite_add_tcase(s, nonblock);
    suite_add_tcase(s, misuse);
    return s;
}
