/* Chapter 4 under real concurrency: a toy driver mirrors a 64-page buffer into a device
 * table with the read_begin / read_retry protocol while CPU threads unmap, protect,
 * write (copy-on-write against a forked child) and remap the buffer.  Under the driver's
 * lock, after read_retry said no, the CPU entries must still be the ones snapshotted, and
 * every entry the device holds must agree with the CPU; so must they all at the end. */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "testlib.h"

#define P PAGE_SIZE
#define NPAGES 64
#define DEVICES 3
#define CPUS 2
#define DEVICE_LOOPS 1500
#define CPU_OPS 2000
#define BATCH 4                      /* pages per device fault, at most */
#define REFORK_EVERY 64              /* CPU thread 0 replaces the child this often */

struct entry {
    bool present, writable;
    unsigned long pfn;
};

struct driver {
    struct mmu_interval_notifier notifier;
    pthread_mutex_t lock;            /* the driver's lock: invalidate takes it */
    struct entry dev[NPAGES];
    struct mm_struct *mm, *child;    /* child: CPU thread 0's while the threads run */
    unsigned long addr;
    atomic_ulong loops, retries, invalidations, installed;
    atomic_ulong stale;              /* a snapshot passed read_retry but was stale */
    unsigned long stale_addr;
    pte_t stale_snap, stale_now;
    atomic_ulong stale_entries;      /* an entry held by the device went stale */
    unsigned long stale_entry_addr, stale_entry_pfn;
    pte_t stale_entry_now;
    atomic_ulong cpu_errors;         /* a CPU operation failed in an unexpected way */
    long cpu_error_code;
    int cpu_error_op;
    /* the one forced collision: CPU0 invalidates between device 0's snapshot and check */
    pthread_barrier_t snapshot_taken, invalidated;
    pthread_barrier_t go;            /* every thread starts at once */
};

#define driver_of(p) ((struct driver *)((char *)(p) - offsetof(struct driver, notifier)))

static unsigned long xorshift(unsigned long *s)
{
    unsigned long x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static bool drv_invalidate(struct mmu_interval_notifier *sub,
                           const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct driver *d = driver_of(sub);
    unsigned long end = d->addr + NPAGES * P;
    unsigned long s = range->start > d->addr ? range->start : d->addr;
    unsigned long e = range->end < end ? range->end : end;

    if (mmu_notifier_range_blockable(range))
        pthread_mutex_lock(&d->lock);
    else if (pthread_mutex_trylock(&d->lock))
        return false;
    mmu_interval_set_seq(sub, cur_seq);
    for (unsigned long a = s & PAGE_MASK; a < e; a += P)
        d->dev[(a - d->addr) / P].present = false;
    pthread_mutex_unlock(&d->lock);
    /* A device TLB flush takes a while: let the devices run inside the invalidation. */
    if (atomic_fetch_add(&d->invalidations, 1) % 2)
        sched_yield();
    return true;
}

static const struct mmu_interval_notifier_ops drv_ops = { .invalidate = drv_invalidate };

/* May the device keep a mapping made from snap, now that the CPU entry is now?  The CPU
 * may fill, mark accessed or dirty, or make writable without telling anyone; it may not
 * change the frame, drop the entry or take write permission away. */
static bool still_valid(pte_t snap, pte_t now)
{
    if (!pte_present(snap))
        return true;
    return pte_present(now) && pte_pfn(now) == pte_pfn(snap) &&
           (!pte_write(snap) || pte_write(now));
}

/* The same for an entry the device holds. */
static bool entry_valid(const struct entry *e, pte_t now)
{
    return !e->present || (pte_present(now) && pte_pfn(now) == e->pfn &&
                           (!e->writable || pte_write(now)));
}

/* Called with the driver's lock held: no callback can run, so every entry the device
 * holds must still agree with the CPU (a change to a CPU entry comes after the callback
 * that cleared the device's copy). */
static void check_all_entries(struct driver *d)
{
    for (int i = 0; i < NPAGES; i++) {
        struct entry *e = &d->dev[i];
        pte_t now;

        if (!e->present)
            continue;
        now = sim_pte_get(d->mm, d->addr + i * P);
        if (!entry_valid(e, now) && atomic_fetch_add(&d->stale_entries, 1) == 0) {
            d->stale_entry_addr = d->addr + i * P;
            d->stale_entry_pfn = e->pfn;
            d->stale_entry_now = now;
        }
    }
}

/* --- the device ---------------------------------------------------------------------- */

struct device_thread {
    pthread_t thread;
    struct driver *d;
    int id;
    unsigned long seed;
};

/* One device fault of a few pages: the driver loop of Documentation/mm/hmm.rst. */
static void device_fault(struct driver *d, const int *idx, int n, bool force_collision,
                         bool dawdle)
{
    pte_t snap[BATCH];

    for (;;) {
        unsigned long seq = mmu_interval_read_begin(&d->notifier);

        mmap_read_lock(d->mm);
        for (int j = 0; j < n; j++)
            snap[j] = sim_pte_get(d->mm, d->addr + idx[j] * P);
        mmap_read_unlock(d->mm);
        if (dawdle)
            sched_yield();           /* widen the window, on machines with few cores */
        if (force_collision) {
            pthread_barrier_wait(&d->snapshot_taken);
            pthread_barrier_wait(&d->invalidated);
            force_collision = false;
        }
        pthread_mutex_lock(&d->lock);
        if (mmu_interval_read_retry(&d->notifier, seq)) {
            pthread_mutex_unlock(&d->lock);
            atomic_fetch_add(&d->retries, 1);
            continue;
        }
        /* No invalidation of the range has begun its callback since read_begin, and
         * none can while we hold the lock: the snapshot is still the CPU's truth. */
        for (int j = 0; j < n; j++) {
            unsigned long a = d->addr + idx[j] * P;
            pte_t now = sim_pte_get(d->mm, a);

            if (!still_valid(snap[j], now) && atomic_fetch_add(&d->stale, 1) == 0) {
                d->stale_addr = a;
                d->stale_snap = snap[j];
                d->stale_now = now;
            }
            d->dev[idx[j]] = (struct entry){ pte_present(snap[j]), pte_write(snap[j]),
                                             pte_pfn(snap[j]) };
            if (pte_present(snap[j]))
                atomic_fetch_add(&d->installed, 1);
        }
        check_all_entries(d);
        pthread_mutex_unlock(&d->lock);
        atomic_fetch_add(&d->loops, 1);
        return;
    }
}

static void *device_main(void *arg)
{
    struct device_thread *t = arg;
    struct driver *d = t->d;
    unsigned long s = t->seed;

    pthread_barrier_wait(&d->go);
    for (int loop = 0; loop < DEVICE_LOOPS; loop++) {
        int idx[BATCH], n = 1 + (int)(xorshift(&s) % BATCH);
        char byte = (char)loop;

        for (int j = 0; j < n; j++) {
            idx[j] = (int)(xorshift(&s) % NPAGES);
            /* Fault some pages in first, as hmm_range_fault would; the CPU threads may
             * have them read-only or unmapped just now, which is fine. */
            switch (xorshift(&s) % 3) {
            case 0:
                (void)sim_read(d->mm, d->addr + idx[j] * P + 8, &byte, 1);
                break;
            case 1:
                (void)sim_write(d->mm, d->addr + idx[j] * P + 16, &byte, 1);
                break;
            }
        }
        device_fault(d, idx, n, t->id == 0 && loop == 0, xorshift(&s) % 2);
    }
    return NULL;
}

/* --- the CPUs ------------------------------------------------------------------------ */

struct cpu_thread {
    pthread_t thread;
    struct driver *d;
    int id;
    unsigned long seed;
};

static void cpu_error(struct driver *d, int op, long ret)
{
    if (atomic_fetch_add(&d->cpu_errors, 1) == 0) {
        d->cpu_error_op = op;
        d->cpu_error_code = ret;
    }
}

/* Another CPU thread may have part of the range unmapped for a moment (between its munmap
 * and its MAP_FIXED), or read-only: those errors are expected, nothing else is. */
static void *cpu_main(void *arg)
{
    struct cpu_thread *t = arg;
    struct driver *d = t->d;
    struct mm_struct *mm = d->mm;
    unsigned long s = t->seed;
    long ret;

    pthread_barrier_wait(&d->go);
    if (t->id == 0) {
        pthread_barrier_wait(&d->snapshot_taken);
        ret = sim_madvise(mm, d->addr, NPAGES * P, MADV_DONTNEED);
        if (ret != 0 && ret != -ENOMEM)
            cpu_error(d, -1, ret);
        pthread_barrier_wait(&d->invalidated);
    }
    for (int op = 0; op < CPU_OPS; op++) {
        unsigned long first = xorshift(&s) % NPAGES, n = 1 + xorshift(&s) % 8;
        unsigned long a, len;
        int kind = (int)(xorshift(&s) % 10);

        if (first + n > NPAGES)
            n = NPAGES - first;
        a = d->addr + first * P;
        len = n * P;
        switch (kind) {
        case 0:
        case 1:
            ret = sim_madvise(mm, a, len, MADV_DONTNEED);
            if (ret != 0 && ret != -ENOMEM)
                cpu_error(d, op, ret);
            break;
        case 2:
        case 3:
            ret = sim_mprotect(mm, a, len, kind == 2 ? PROT_READ : PROT_READ | PROT_WRITE);
            if (ret != 0 && ret != -ENOMEM)
                cpu_error(d, op, ret);
            break;
        case 4:
        case 5:
        case 6:
            for (unsigned long i = 0; i < n; i++) {
                char byte = (char)(op + i);

                ret = sim_write(mm, a + i * P + 32, &byte, 1);
                if (ret != 0 && ret != -EFAULT)
                    cpu_error(d, op, ret);
            }
            break;
        case 7:
        case 8:
            if (kind == 7) {
                ret = sim_munmap(mm, a, len);
                if (ret != 0)
                    cpu_error(d, op, ret);
            }
            ret = sim_mmap(mm, a, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
            if (ret != (long)a)
                cpu_error(d, op, ret);
            break;
        default:
            ret = sim_madvise(mm, a, P, MADV_DONTNEED);
            if (ret != 0 && ret != -ENOMEM)
                cpu_error(d, op, ret);
            break;
        }
        sched_yield();               /* let the devices in between operations */
        if (t->id == 0 && op % REFORK_EVERY == REFORK_EVERY - 1) {
            /* A new child shares every page again, so writes copy again. */
            struct mm_struct *child = sim_fork(mm);

            if (IS_ERR(child)) {
                cpu_error(d, op, PTR_ERR(child));
            } else {
                mmput(d->child);
                d->child = child;
            }
        }
    }
    return NULL;
}

/* Real threads, real races: the protocol must keep the device table a subset of the
 * CPU's page table throughout. */
START_TEST(test_driver_loop_against_cpu_threads)
{
    struct driver d;
    struct device_thread dev[DEVICES];
    struct cpu_thread cpu[CPUS];
    int stale_pages = 0, present = 0;

    memset(&d, 0, sizeof(d));
    pthread_mutex_init(&d.lock, NULL);
    pthread_barrier_init(&d.snapshot_taken, NULL, 2);
    pthread_barrier_init(&d.invalidated, NULL, 2);
    pthread_barrier_init(&d.go, NULL, DEVICES + CPUS);
    d.mm = sim_mm_create();
    d.addr = sim_test_map_private(d.mm, NPAGES * P);
    sim_test_memset(d.mm, d.addr, 0x77, NPAGES * P);
    ck_assert_int_eq(mmu_interval_notifier_insert(&d.notifier, d.mm, d.addr, NPAGES * P,
                                                  &drv_ops), 0);
    d.child = sim_fork(d.mm);
    ck_assert(!IS_ERR(d.child));

    for (int i = 0; i < DEVICES; i++) {
        dev[i] = (struct device_thread){ .d = &d, .id = i, .seed = 0x9e3779b97f4a7c15UL * (i + 1) };
        ck_assert_int_eq(pthread_create(&dev[i].thread, NULL, device_main, &dev[i]), 0);
    }
    for (int i = 0; i < CPUS; i++) {
        cpu[i] = (struct cpu_thread){ .d = &d, .id = i, .seed = 0xd1b54a32d192ed03UL * (i + 7) };
        ck_assert_int_eq(pthread_create(&cpu[i].thread, NULL, cpu_main, &cpu[i]), 0);
    }
    for (int i = 0; i < DEVICES; i++)
        ck_assert_int_eq(pthread_join(dev[i].thread, NULL), 0);
    for (int i = 0; i < CPUS; i++)
        ck_assert_int_eq(pthread_join(cpu[i].thread, NULL), 0);

    ck_assert_msg(atomic_load(&d.cpu_errors) == 0, "%lu CPU operations failed; the first, "
                  "op %d, with %ld", atomic_load(&d.cpu_errors), d.cpu_error_op,
                  d.cpu_error_code);
    ck_assert_msg(atomic_load(&d.stale) == 0, "%lu stale snapshots passed read_retry; the "
                  "first at %#lx: snapshot %#lx, CPU entry %#lx", atomic_load(&d.stale),
                  d.stale_addr, d.stale_snap, d.stale_now);
    ck_assert_msg(atomic_load(&d.stale_entries) == 0, "%lu times a device entry was stale "
                  "under the driver's lock; the first at %#lx: device pfn %#lx, CPU entry "
                  "%#lx", atomic_load(&d.stale_entries), d.stale_entry_addr,
                  d.stale_entry_pfn, d.stale_entry_now);
    ck_assert_uint_eq(atomic_load(&d.loops), DEVICES * DEVICE_LOOPS);
    ck_assert_uint_ge(atomic_load(&d.retries), 1);      /* the forced collision, at least */
    /* Quiet now: every present device entry maps what the CPU maps. */
    for (int i = 0; i < NPAGES; i++) {
        struct entry *e = &d.dev[i];
        pte_t now = sim_pte_get(d.mm, d.addr + i * P);

        if (!e->present)
            continue;
        present++;
        if (!entry_valid(e, now)) {
            fprintf(stderr, "page %d: device pfn %#lx%s, CPU entry %#lx\n", i, e->pfn,
                    e->writable ? " writable" : "", now);
            stale_pages++;
        }
    }
    ck_assert_msg(stale_pages == 0, "%d device entries disagree with the CPU", stale_pages);
    fprintf(stderr, "ch04_stress: %lu device faults, %lu retries, %lu invalidations, "
            "%lu pages installed, %d present at the end\n", atomic_load(&d.loops),
            atomic_load(&d.retries), atomic_load(&d.invalidations),
            atomic_load(&d.installed), present);

    mmu_interval_notifier_remove(&d.notifier);
    mmput(d.child);
    mmput(d.mm);
    pthread_barrier_destroy(&d.snapshot_taken);
    pthread_barrier_destroy(&d.invalidated);
    pthread_barrier_destroy(&d.go);
    pthread_mutex_destroy(&d.lock);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch04_stress");
    TCase *tc = sim_tcase("stress", 60);

    tcase_add_test(tc, test_driver_loop_against_cpu_threads);
    suite_add_tcase(s, tc);
    return s;
}
