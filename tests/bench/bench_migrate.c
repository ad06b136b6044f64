/* Benchmark: moving memory to a mirror device and back, against memcpy.
 *
 * For each size, a process maps and fills a buffer; the device migrates it in
 * (HMM_DMIRROR_MIGRATE_TO_DEV) and back (HMM_DMIRROR_MIGRATE_TO_SYS).  The baseline,
 * measured in the same run on the same machine, is memcpy of the same bytes there and
 * back (two copies), which is the least any migration must do.  The device command also
 * copies every page back into the caller's buffer (the selftests' check of what arrived),
 * a third copy, so the table reports that command and the ratio both ways.
 *
 * Times are CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), the median of 7 runs
 * after one warm-up run.  Output: one table row per size, and the same numbers as
 * "key value" lines in build/bench/migrate.dat for plotting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hmmwb.h"

#define RUNS 7

static double cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

struct result {
    double memcpy_ns, to_dev_ns, to_sys_ns;
};

static int bench_size(unsigned long npages, struct result *r)
{
    unsigned long bytes = npages * PAGE_SIZE;
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *dev = dmirror_device_create(npages);
    struct dmirror *d = dev ? dmirror_open(dev, mm) : NULL;
    char *a = malloc(bytes), *b = malloc(bytes);
    double tm[RUNS], td[RUNS], ts[RUNS];
    long addr;
    int ret = -1;

    if (!d || !a || !b)
        goto out;
    addr = sim_mmap(mm, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    memset(a, 0x5a, bytes);
    memset(b, 0, bytes);
    if (addr < 0 || sim_write(mm, addr, a, bytes))
        goto out;
    for (int run = -1; run < RUNS; run++) {
        struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)b, .npages = npages };
        double t0 = cpu_ns(), t1, t2, t3;

        memcpy(b, a, bytes);
        memcpy(a, b, bytes);
        t1 = cpu_ns();
        if (dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_DEV, &c) || c.cpages != npages)
            goto out;
        t2 = cpu_ns();
        if (dmirror_ioctl(d, HMM_DMIRROR_MIGRATE_TO_SYS, &c) || c.cpages != npages)
            goto out;
        t3 = cpu_ns();
        if (run >= 0) {
            tm[run] = t1 - t0;
            td[run] = t2 - t1;
            ts[run] = t3 - t2;
        }
    }
    r->memcpy_ns = median(tm, RUNS) / npages;
    r->to_dev_ns = median(td, RUNS) / npages;
    r->to_sys_ns = median(ts, RUNS) / npages;
    ret = 0;
out:
    dmirror_release(d);
    mmput(mm);
    dmirror_device_destroy(dev);
    free(a);
    free(b);
    return ret;
}

int main(int argc, char **argv)
{
    static const unsigned long sizes_mib[] = { 1, 4, 16, 64 };
    FILE *dat = fopen(argc > 1 ? argv[1] : "build/bench/migrate.dat", "w");

    printf("%-8s %14s %14s %14s %16s %14s\n", "size", "memcpy x2", "to device",
           "to system", "round trip", "ratio");
    printf("%-8s %14s %14s %14s %16s %14s\n", "", "ns/page", "ns/page", "ns/page",
           "ns/page", "vs memcpy x2");
    for (unsigned i = 0; i < sizeof(sizes_mib) / sizeof(sizes_mib[0]); i++) {
        unsigned long npages = sizes_mib[i] * 256;
        struct result r;

        if (bench_size(npages, &r)) {
            fprintf(stderr, "bench_migrate: %lu MiB failed\n", sizes_mib[i]);
            return 1;
        }
        char label[16];

        snprintf(label, sizeof(label), "%lu MiB", sizes_mib[i]);
        printf("%-8s %14.0f %14.0f %14.0f %16.0f %13.2fx\n", label, r.memcpy_ns,
               r.to_dev_ns, r.to_sys_ns, r.to_dev_ns + r.to_sys_ns,
               (r.to_dev_ns + r.to_sys_ns) / r.memcpy_ns);
        if (dat)
            fprintf(dat, "%lu %.1f %.1f %.1f\n", sizes_mib[i], r.memcpy_ns, r.to_dev_ns,
                    r.to_sys_ns);
    }
    if (dat)
        fclose(dat);
    return 0;
}
