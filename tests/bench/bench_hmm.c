/* Benchmark: the simulation's hot paths against baselines measured in the same run.
 *
 *   snapshot      hmm_range_fault with no fault request over populated memory, per page,
 *                 against a flat loop that reads an array of PTEs and writes pfns
 *   fault-in      hmm_range_fault with REQ_FAULT|REQ_WRITE over fresh memory, per page,
 *                 against memset of the same number of 4 KiB pages of warm host memory
 *                 (what the fault must do at least: zero each page)
 *   invalidate    one one-page invalidation with N interval notifiers, against N = 10
 *   insert        one insert and remove with N notifiers, against N = 10
 *   dmirror-snap  HMM_DMIRROR_SNAPSHOT per page with N notifiers, against N = 10
 *   dmirror-read  HMM_DMIRROR_READ per page (pages already mapped), against memcpy 4 KiB
 *   overhead      host memory per mapped simulated page beyond its 4 KiB (struct page,
 *                 page tables), from the process's resident size; baseline 4 KiB;
 *                 and the size of one struct page against the same 4 KiB
 *   given-back    host memory per page the process's resident size drops by when the
 *                 simulated process exits, against 4 KiB
 *
 * CPU time of this process, median of 5 runs after one warm-up.  Prints a table and
 * writes "row size value baseline" lines to the file named by its argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hmmwb.h"

#define RUNS 5
#define P PAGE_SIZE

static FILE *dat;

static double cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp);
    return v[RUNS / 2];
}

static void row(const char *name, const char *size, double value, double base,
                const char *unit)
{
    printf("%-13s %-10s %12.1f %12.1f %-12s %8.2fx\n", name, size, value, base, unit,
           value / base);
    if (dat)
        fprintf(dat, "%s %s %.2f %.2f\n", name, size, value, base);
}

static bool set_seq(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *r,
                    unsigned long cur_seq)
{
    (void)r;
    mmu_interval_set_seq(mni, cur_seq);
    return true;
}

static const struct mmu_interval_notifier_ops ops = { .invalidate = set_seq };

static double snapshot_ns(struct mm_struct *mm, unsigned long addr, unsigned long n,
                          unsigned long *pfns, unsigned long flags)
{
    struct mmu_interval_notifier mni;
    struct hmm_range range = { .notifier = &mni, .start = addr, .end = addr + n * P,
                               .hmm_pfns = pfns, .default_flags = flags };
    double t0, t;
    int ret;

    mmu_interval_notifier_insert(&mni, mm, addr, n * P, &ops);
    t0 = cpu_ns();
    do {
        range.notifier_seq = mmu_interval_read_begin(&mni);
        mmap_read_lock(mm);
        ret = hmm_range_fault(&range);
        mmap_read_unlock(mm);
    } while (ret == -EBUSY);
    t = cpu_ns() - t0;
    mmu_interval_notifier_remove(&mni);
    return ret ? -1 : t / n;
}

static void bench_snapshot(unsigned long mib)
{
    unsigned long n = mib * 256;
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_mmap(mm, 0, n * P, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS);
    unsigned long *pfns = calloc(n, sizeof(*pfns)), *ptes = malloc(n * sizeof(*ptes));
    double v[RUNS], b[RUNS];
    char size[16], one = 1;

    for (unsigned long i = 0; i < n; i++)
        sim_write(mm, addr + i * P, &one, 1);
    for (unsigned long i = 0; i < n; i++)
        ptes[i] = sim_pte_get(mm, addr + i * P);
    for (int r = -1; r < RUNS; r++) {
        double t0, t1;

        t0 = cpu_ns();
        for (unsigned long i = 0; i < n; i++)
            pfns[i] = (ptes[i] & PTE_PFN_MASK) >> PAGE_SHIFT | HMM_PFN_VALID |
                      ((ptes[i] & _PAGE_RW) ? HMM_PFN_WRITE : 0);
        __asm__ volatile("" : : "r"(pfns) : "memory");
        t1 = cpu_ns();
        if (r >= 0) {
            b[r] = (t1 - t0) / n;
            v[r] = snapshot_ns(mm, addr, n, pfns, 0);
        }
    }
    snprintf(size, sizeof(size), "%luMiB", mib);
    row("snapshot", size, median(v), median(b), "ns/page");
    free(pfns);
    free(ptes);
    mmput(mm);
}

/* Resident host memory of this process, in bytes (/proc/self/statm's second field). */
static double resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;

    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * P;
}

/* Host memory per simulated page mapped by a process, beyond the page's own 4 KiB: its
 * struct page, its share of the page tables, and whatever else the simulation keeps.
 * The baseline is the 4 KiB of data itself, so the ratio is the overhead's fraction. */
static void bench_overhead(unsigned long mib)
{
    unsigned long n = mib * 256;
    struct mm_struct *mm = sim_mm_create();
    double before = resident_bytes(), after;
    unsigned long addr = sim_mmap(mm, 0, n * P, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS);
    char size[16], one = 1;

    for (unsigned long i = 0; i < n; i++)
        sim_write(mm, addr + i * P, &one, 1);
    after = resident_bytes();
    snprintf(size, sizeof(size), "%luMiB", mib);
    row("overhead", size, (after - before) / n - P, P, "bytes/page");
    row("descriptor", "struct-page", sizeof(struct page), P, "bytes/page");
    mmput(mm);
    row("given-back", size, (after - resident_bytes()) / n, P, "bytes/page");
}

static void bench_fault_in(unsigned long mib)
{
    unsigned long n = mib * 256;
    unsigned long *pfns = calloc(n, sizeof(*pfns));
    char *buf = malloc(n * P);
    double v[RUNS], b[RUNS];
    char size[16];

    memset(buf, 1, n * P);                     /* the host's pages exist: warm, as the
                                                  simulated frames are after the warm-up */
    for (int r = -1; r < RUNS; r++) {
        struct mm_struct *mm = sim_mm_create();
        unsigned long addr = sim_mmap(mm, 0, n * P, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS);
        double t0, t1;

        t0 = cpu_ns();
        for (unsigned long i = 0; i < n; i++) {
            memset(buf + i * P, (int)i, P);
            __asm__ volatile("" : : "r"(buf) : "memory");
        }
        t1 = cpu_ns();
        if (r >= 0) {
            b[r] = (t1 - t0) / n;
            v[r] = snapshot_ns(mm, addr, n, pfns, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
        } else {
            snapshot_ns(mm, addr, n, pfns, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
        }
        mmput(mm);
    }
    snprintf(size, sizeof(size), "%luMiB", mib);
    row("fault-in", size, median(v), median(b), "ns/page");
    free(pfns);
    free(buf);
}

/* N interval notifiers of one page each, one page apart, on a fresh mm. */
static struct mmu_interval_notifier *many(struct mm_struct *mm, unsigned long base,
                                          unsigned long n)
{
    struct mmu_interval_notifier *subs = calloc(n, sizeof(*subs));

    for (unsigned long i = 0; i < n; i++)
        mmu_interval_notifier_insert(&subs[i], mm, base + 2 * i * P, P, &ops);
    return subs;
}

static void few_and_many(const char *name, unsigned long nmany,
                         double (*measure)(struct mm_struct *, unsigned long, unsigned long))
{
    double v[RUNS], b[RUNS];
    char size[16];

    for (int r = -1; r < RUNS; r++) {
        double few = 0, lots = 0;

        for (int k = 0; k < 2; k++) {
            unsigned long n = k ? nmany : 10;
            struct mm_struct *mm = sim_mm_create();
            unsigned long base = sim_mmap(mm, 0, 2 * n * P + 64 * P, PROT_READ | PROT_WRITE,
                                          MAP_PRIVATE | MAP_ANONYMOUS);
            struct mmu_interval_notifier *subs = many(mm, base, n);
            double t = measure(mm, base, n);

            for (unsigned long i = 0; i < n; i++)
                mmu_interval_notifier_remove(&subs[i]);
            free(subs);
            mmput(mm);
            *(k ? &lots : &few) = t;
        }
        if (r >= 0) {
            v[r] = lots;
            b[r] = few;
        }
    }
    snprintf(size, sizeof(size), "%lu", nmany);
    row(name, size, median(v), median(b), "ns/op");
}

static double measure_invalidate(struct mm_struct *mm, unsigned long base, unsigned long n)
{
    struct mmu_notifier_range range;
    unsigned long addr = base + 2 * (n / 2) * P;
    double t0 = cpu_ns();

    for (int i = 0; i < 10000; i++) {
        mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + P);
        mmu_notifier_invalidate_range_start(&range);
        mmu_notifier_invalidate_range_end(&range);
    }
    return (cpu_ns() - t0) / 10000;
}

static double measure_insert(struct mm_struct *mm, unsigned long base, unsigned long n)
{
    struct mmu_interval_notifier extra;
    double t0 = cpu_ns();

    for (int i = 0; i < 10000; i++) {
        mmu_interval_notifier_insert(&extra, mm, base + 2 * n * P, P, &ops);
        mmu_interval_notifier_remove(&extra);
    }
    return (cpu_ns() - t0) / 10000;
}

static struct dmirror_device *bench_dev;

static double measure_dmirror_snapshot(struct mm_struct *mm, unsigned long base,
                                       unsigned long n)
{
    struct dmirror *d = dmirror_open(bench_dev, mm);
    unsigned char perm[64];
    struct hmm_dmirror_cmd c = { .addr = base + 2 * n * P, .ptr = (uintptr_t)perm,
                                 .npages = 64 };
    double t0 = cpu_ns();

    for (int i = 0; i < 100; i++)
        dmirror_ioctl(d, HMM_DMIRROR_SNAPSHOT, &c);
    dmirror_release(d);
    return (cpu_ns() - t0) / (100 * 64);
}

static void bench_dmirror_read(unsigned long mib)
{
    unsigned long n = mib * 256;
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_mmap(mm, 0, n * P, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS);
    struct dmirror *d = dmirror_open(bench_dev, mm);
    char *buf = malloc(n * P), *src = malloc(n * P);
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = n };
    double v[RUNS], b[RUNS];
    char size[16];

    memset(src, 3, n * P);
    sim_write(mm, addr, src, n * P);
    dmirror_ioctl(d, HMM_DMIRROR_READ, &c);           /* map everything on the device */
    for (int r = -1; r < RUNS; r++) {
        double t0 = cpu_ns(), t1, t2;

        memcpy(buf, src, n * P);
        __asm__ volatile("" : : "r"(buf) : "memory");
        t1 = cpu_ns();
        dmirror_ioctl(d, HMM_DMIRROR_READ, &c);
        t2 = cpu_ns();
        if (r >= 0) {
            b[r] = (t1 - t0) / n;
            v[r] = (t2 - t1) / n;
        }
    }
    snprintf(size, sizeof(size), "%luMiB", mib);
    row("dmirror-read", size, median(v), median(b), "ns/page");
    dmirror_release(d);
    mmput(mm);
    free(buf);
    free(src);
}

int main(int argc, char **argv)
{
    dat = fopen(argc > 1 ? argv[1] : "build/bench/bench_hmm.dat", "w");
    if (sim_ram_configure(320UL * 1024 * 1024 / P * 4 + 1024)) {   /* 1.25 GiB and a bit */
        fprintf(stderr, "bench_hmm: cannot configure RAM\n");
        return 1;
    }
    bench_dev = dmirror_device_create(16);
    printf("%-13s %-10s %12s %12s %-12s %9s\n", "what", "size", "value", "baseline", "unit",
           "ratio");
    static const unsigned long sizes[] = { 1, 16, 256, 1024 };

    bench_overhead(256);        /* first: its frames' host memory must not be touched yet */

    for (int i = 0; i < 4; i++)
        bench_snapshot(sizes[i]);
    for (int i = 0; i < 3; i++)
        bench_fault_in(sizes[i]);
    for (unsigned long n = 100; n <= 100000; n *= 10)
        few_and_many("invalidate", n, measure_invalidate);
    for (unsigned long n = 100; n <= 100000; n *= 10)
        few_and_many("insert", n, measure_insert);
    for (unsigned long n = 100; n <= 100000; n *= 10)
        few_and_many("dmirror-snap", n, measure_dmirror_snapshot);
    for (unsigned long mib = 1; mib <= 256; mib *= 16)
        bench_dmirror_read(mib);
    dmirror_device_destroy(bench_dev);
    if (dat)
        fclose(dat);
    return 0;
}
