/* Chapter 6: the kernel's HMM selftests (tools/testing/selftests/mm/hmm-tests.c), replayed
 * against the simulated test_hmm driver, with the kernel's expected values.
 *
 * The kernel's fixture opens /dev/hmm_dmirror0 from the test process.  Here the process is
 * an mm_struct, the device file a struct dmirror opened on it, and the ioctl a function
 * call whose buffer is host memory:
 *
 *     kernel selftest                      this suite
 *     open("/dev/hmm_dmirror0")            dmirror_open(mdevice, mm)
 *     mmap / munmap / mprotect             sim_mmap / sim_munmap / sim_mprotect (mm, ...)
 *     loads and stores of the process      sim_read / sim_write (mm, ...)
 *     fork(); the child opens its own fd   sim_fork(mm); dmirror_open(mdevice, child)
 *     ioctl(fd, HMM_DMIRROR_*, &cmd)       dmirror_ioctl(dmirror, HMM_DMIRROR_*, &cmd)
 *
 * Only the scenarios that need no device memory are here: migration, exclusive access,
 * huge pages and file mappings belong to later chapters.  The buffers hold ints, and the
 * data checks are the kernel's: ptr[i] == i (or -i, or i + c) for every int of the range.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "hmm_ints.h"

#define P PAGE_SIZE
#define NTIMES 10                      /* the kernel's repeat count */
#define BUFFER_PAGES 1024UL            /* HMM_BUFFER_SIZE (4 MiB) in pages */
#define DEVMEM_PAGES 256UL             /* the device's memory (unused by this chapter) */
#define INTS_PER_PAGE (P / sizeof(int))

/* --- the fixture: one process with the device open ------------------------------------ */

struct hmm_fixture {
    struct mm_struct *mm;
    struct dmirror_device *mdevice;
    struct dmirror *dmirror;
    unsigned long warnings;            /* sim_warn_count() at setup */
};

static void fixture_setup(struct hmm_fixture *f)
{
    f->warnings = sim_warn_count();
    f->mm = sim_mm_create();
    ck_assert_ptr_nonnull(f->mm);
    f->mdevice = dmirror_device_create(DEVMEM_PAGES);
    ck_assert_ptr_nonnull(f->mdevice);
    f->dmirror = dmirror_open(f->mdevice, f->mm);
    ck_assert_ptr_nonnull(f->dmirror);
}

/* close(fd), then the process exits, then the module goes. */
static void fixture_teardown(struct hmm_fixture *f)
{
    dmirror_release(f->dmirror);
    mmput(f->mm);
    dmirror_device_destroy(f->mdevice);
    ck_assert_msg(sim_warn_count() == f->warnings, "%lu warnings during the test",
                  sim_warn_count() - f->warnings);
}

/* --- open_close ----------------------------------------------------------------------- */

/* Simple NULL test of device open/close. */
START_TEST(test_open_close)
{
    struct hmm_fixture f;

    fixture_setup(&f);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_read ------------------------------------------------------------------------ */

/* A device reads private anonymous memory whose first two pages were never written: page 0
 * has no entry at all, page 1 the zero page (read by the process under PROT_READ). */
START_TEST(test_anon_read)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    int val = -1;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);

    cpu_store_ints(f.mm, b->addr + 2 * P, size - 2 * P, 2 * INTS_PER_PAGE, 1);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ), 0);
    ck_assert_int_eq(sim_read(f.mm, b->addr + P, &val, sizeof(val)), 0);
    ck_assert_int_eq(val, 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);

    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, 2 * P, 0), 2 * P);
    ck_assert_ints((char *)b->mirror + 2 * P, size - 2 * P, 2 * INTS_PER_PAGE, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_read_prot ------------------------------------------------------------------- */

/* A device read of memory under PROT_NONE fails and copies nothing. */
START_TEST(test_anon_read_prot)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ints_fill(b->mirror, size, 0, -1);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_NONE), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), -EFAULT);
    ck_assert_uint_eq(b->cpages, 0);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ), 0);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_ints(b->mirror, size, 0, -1);

    /* Beyond the kernel's version: under PROT_READ the device reads the data and may not
     * write it. */
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);
    ints_fill(b->mirror, size, 0, -1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), -EPERM);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_write ----------------------------------------------------------------------- */

START_TEST(test_anon_write)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ints_fill(b->mirror, size, 0, 1);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_write_prot ------------------------------------------------------------------ */

/* A read-only mapping: the device reads the zero page, may not write, and after
 * mprotect(PROT_READ | PROT_WRITE) writes every page, the zero page replaced. */
START_TEST(test_anon_write_prot)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ, MAP_PRIVATE);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, 1), 0);
    ck_assert_cmd(b, 1, 1);

    ints_fill(b->mirror, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), -EPERM);
    sim_test_expect_bytes(f.mm, b->addr, 0, size);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_write_child, anon_write_child_shared ---------------------------------------- */

/* The child's half of the kernel's fork tests: the child sees the parent's values, opens
 * its own mirror of its own mm and writes -i through it. */
static void child_writes_through_its_device(struct hmm_fixture *f, struct mm_struct *child,
                                            struct hmm_buffer *b, unsigned long npages)
{
    unsigned long size = npages * P;
    struct dmirror *child_dmirror;

    cpu_expect_ints(child, b->addr, size, 0, 1);
    ck_assert_ints(b->mirror, size, 0, -1);

    child_dmirror = dmirror_open(f->mdevice, child);
    ck_assert_ptr_nonnull(child_dmirror);
    ck_assert_int_eq(hmm_cmd(child_dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(child, b->addr, size, 0, -1);
    dmirror_release(child_dmirror);
}

/* Private memory: the device's write in the child copies on write; the parent's pages keep
 * their values.  (The kernel also runs this with THP and after migration to the device;
 * both need later chapters.) */
START_TEST(test_anon_write_child)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ints_fill(b->mirror, size, 0, -1);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    child_writes_through_its_device(&f, child, b, npages);
    mmput(child);                      /* the child's _exit(0) */

    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* Shared memory: the child's device writes the very pages the parent maps. */
START_TEST(test_anon_write_child_shared)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ints_fill(b->mirror, size, 0, -1);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    child_writes_through_its_device(&f, child, b, npages);
    mmput(child);

    cpu_expect_ints(f.mm, b->addr, size, 0, -1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_read_multiple --------------------------------------------------------------- */

/* Ten fresh buffers in a row, each read once through the same device. */
START_TEST(test_anon_read_multiple)
{
    struct hmm_fixture f;
    unsigned long npages = BUFFER_PAGES, size = npages * P;

    fixture_setup(&f);
    for (long c = 0; c < NTIMES; c++) {
        struct hmm_buffer *b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE);

        cpu_store_ints(f.mm, b->addr, size, c, 1);
        ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
        ck_assert_cmd(b, npages, 1);
        ck_assert_ints(b->mirror, size, c, 1);
        hmm_buffer_free(f.mm, b);
    }
    fixture_teardown(&f);
}
END_TEST

/* --- anon_teardown -------------------------------------------------------------------- */

/* The kernel's unmap_buffer() thread: unmap the second half of the buffer while the device
 * reads it.  Instead of a random sleep, both sides leave a barrier together and the thread
 * spins a different number of turns each round, so that the unmap lands at different
 * points of the read. */
struct unmapper {
    struct mm_struct *mm;
    unsigned long addr, len;
    unsigned long spins;
    pthread_barrier_t *start;
    int ret;
};

static void *unmap_half(void *arg)
{
    struct unmapper *u = arg;

    pthread_barrier_wait(u->start);
    for (volatile unsigned long i = 0; i < u->spins; i++)
        ;
    u->ret = sim_munmap(u->mm, u->addr, u->len);
    return NULL;
}

#define TEARDOWN_ROUNDS 24

START_TEST(test_anon_teardown)
{
    struct hmm_fixture f;
    unsigned long npages = BUFFER_PAGES, size = npages * P, half = size / 2;

    fixture_setup(&f);
    for (long c = 0; c < TEARDOWN_ROUNDS; c++) {
        struct hmm_buffer *b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE);
        pthread_barrier_t start;
        pthread_t thread;
        struct unmapper u = {
            .mm = f.mm, .addr = b->addr + half, .len = half,
            .spins = (unsigned long)c * c * 2000, .start = &start, .ret = 1,
        };
        int rc;

        cpu_store_ints(f.mm, b->addr, size, c, 1);
        memset(b->mirror, 0, size);
        ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
        ck_assert_int_eq(pthread_create(&thread, NULL, unmap_half, &u), 0);
        pthread_barrier_wait(&start);

        rc = hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        pthread_barrier_destroy(&start);
        ck_assert_int_eq(u.ret, 0);

        if (rc == 0) {
            /* The kernel's checks: the read won the race and saw everything. */
            ck_assert_cmd(b, npages, 1);
            ck_assert_ints(b->mirror, size, c, 1);
        } else {
            /* The unmap won: the fault of a page that is gone fails.  Whatever was copied
             * before came from the right frames. */
            ck_assert_int_eq(rc, -EFAULT);
            ck_assert_uint_lt(b->cpages, npages);
            ck_assert_ints(b->mirror, b->cpages * P, c, 1);
        }

        /* Either way the first half is intact, still mirrored (the unmap invalidated only
         * the second half), and the second half is gone for the CPU and the device. */
        cpu_expect_ints(f.mm, b->addr, half, c, 1);
        ck_assert_int_eq(sim_read(f.mm, b->addr + half, b->mirror, P), -EFAULT);
        ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages / 2), 0);
        ck_assert_cmd(b, npages / 2, 0);
        ck_assert_ints(b->mirror, half, c, 1);
        {
            struct hmm_buffer second = { .addr = b->addr + half, .mirror = b->mirror };

            ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, &second, 1), -EFAULT);
        }

        b->size = half;
        hmm_buffer_free(f.mm, b);
    }
    fixture_teardown(&f);
}
END_TEST

/* --- snapshot ------------------------------------------------------------------------- */

/* The kernel's hmm2 snapshot test without its two migrated pages (chapter 8): a PROT_NONE
 * page, a hole, a read-only zero page, a read-only page, a written read-write page; in
 * place of the pages on device 0 and device 1, a read-write page the process only read
 * (the zero page) and one it never touched. */
START_TEST(test_snapshot)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 7;
    unsigned char *m;
    int val = -1;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, npages + 1, PROT_NONE, MAP_PRIVATE);
    m = b->mirror;
    memset(m, 0xee, npages + 1);

    ck_assert_int_eq(sim_munmap(f.mm, b->addr + P, P), 0);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 2 * P, P, PROT_READ), 0);
    ck_assert_int_eq(sim_read(f.mm, b->addr + 2 * P, &val, sizeof(val)), 0);
    val += 3;
    ck_assert_int_eq(val, 3);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 3 * P, P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 3 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 3 * P, P, PROT_READ), 0);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 4 * P, 3 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 4 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(sim_read(f.mm, b->addr + 5 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(val, 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    ck_assert_uint_eq(m[0], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[1], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[2], HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[3], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[4], HMM_DMIRROR_PROT_WRITE);
    ck_assert_uint_eq(m[5], HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[6], HMM_DMIRROR_PROT_NONE);
    ck_assert_uint_eq(m[7], 0xee);     /* one byte a page, not one more */

    /* A snapshot faults nothing: page 6 is still empty for the CPU's next look. */
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_uint_eq(m[6], HMM_DMIRROR_PROT_NONE);

    /* The hole is a separate mapping's business now: unmap the other pieces. */
    ck_assert_int_eq(sim_munmap(f.mm, b->addr, npages * P), 0);
    b->addr = 0;
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* A snapshot over several of the driver's 32-page chunks tracks the device's own reads and
 * writes: nothing, then zero pages, then writable frames. */
START_TEST(test_snapshot_follows_the_device)
{
    struct hmm_fixture f;
    struct hmm_buffer *b, snap;
    unsigned long npages = 100, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    snap = (struct hmm_buffer){ .addr = b->addr, .mirror = m };

    memset(m, 0xee, npages);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, &snap, npages), 0);
    ck_assert_uint_eq(snap.cpages, npages);
    ck_assert_uint_eq(sim_bytes_mismatch(m, npages, HMM_DMIRROR_PROT_NONE), npages);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, &snap, npages), 0);
    ck_assert_uint_eq(snap.cpages, npages);
    ck_assert_uint_eq(sim_bytes_mismatch(m, npages,
                                         HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ),
                      npages);

    ints_fill(b->mirror, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, &snap, npages), 0);
    ck_assert_uint_eq(snap.cpages, npages);
    ck_assert_uint_eq(sim_bytes_mismatch(m, npages, HMM_DMIRROR_PROT_WRITE), npages);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* A page the snapshot has already recorded is zapped by another thread while the walk
 * crosses into the next page table (sim_hmm_walk_hook, at the 2 MiB boundary inside the
 * first 32-page chunk).  The snapshot's temporary interval notifier sees the
 * invalidation, the walk is retried, and the page is reported as it is now (absent),
 * not as it was (writable): lib/test_hmm.c, dmirror_snapshot_invalidate() and the
 * mmu_interval_read_retry() loop of dmirror_range_snapshot(), Linux 6.15. */
START_TEST(test_snapshot_retries_after_an_invalidation)
{
    const unsigned long npages = 32, zapped = 5;
    const unsigned long a = 0x200000000UL - 16 * P;   /* 16 pages either side of 2 MiB */
    struct hmm_fixture f;
    struct hmm_buffer snap;
    struct sim_test_injector inj;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    ck_assert_uint_eq(sim_test_mmap(f.mm, a, npages * P, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a);
    cpu_store_ints(f.mm, a, npages * P, 0, 1);
    snap = (struct hmm_buffer){ .addr = a, .mirror = m };
    memset(m, 0xee, npages);

    sim_test_injector_start(&inj, f.mm, a + zapped * P, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_SNAPSHOT, &snap, npages), 0);
    sim_test_injector_stop(&inj);
    ck_assert_int_eq(inj.injected, 1);
    ck_assert_uint_eq(inj.first_addr, 0x200000000UL);
    ck_assert_int_eq(inj.hook_calls, 2);              /* the walk, and its retry */
    ck_assert_uint_eq(snap.cpages, npages);
    for (unsigned long i = 0; i < npages; i++)
        ck_assert_msg(m[i] == (i == zapped ? HMM_DMIRROR_PROT_NONE : HMM_DMIRROR_PROT_WRITE),
                      "page %lu: %#x", i, m[i]);

    ck_assert_int_eq(sim_munmap(f.mm, a, npages * P), 0);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- double_map (its first half; the rest migrates) ----------------------------------- */

/* Two devices read the same read-only memory; each has its own table and faults once. */
START_TEST(test_double_map)
{
    struct hmm_fixture f;
    struct dmirror_device *mdevice1;
    struct dmirror *dmirror1;
    struct hmm_buffer *b;
    unsigned long npages = 6, size = npages * P;

    fixture_setup(&f);
    mdevice1 = dmirror_device_create(DEVMEM_PAGES);
    ck_assert_ptr_nonnull(mdevice1);
    dmirror1 = dmirror_open(mdevice1, f.mm);
    ck_assert_ptr_nonnull(dmirror1);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ), 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(dmirror1, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    dmirror_release(dmirror1);
    dmirror_device_destroy(mdevice1);
    fixture_teardown(&f);
}
END_TEST

/* --- fault rounds, exactly ------------------------------------------------------------ */

/* One fault round covers the whole rest of the range (in 32-page chunks): 100 fresh pages
 * take one round, a second read none.  The read left zero pages, read-only, so a write
 * takes one round of its own; after it, reads and writes take none, and a store by the
 * process into a writable page changes no entry, so the device sees it at once. */
START_TEST(test_fault_rounds)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 100, size = npages * P;
    int val = 12345;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);

    memset(b->mirror, 0x5a, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, size, 0), size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 0);

    ints_fill(b->mirror, size, 7, 3);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(f.mm, b->addr, size, 7, 3);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 0);

    ck_assert_int_eq(sim_write(f.mm, b->addr + 40 * P, &val, sizeof(val)), 0);
    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 0);
    ck_assert_int_eq(((int *)b->mirror)[40 * INTS_PER_PAGE], val);
    ((int *)b->mirror)[40 * INTS_PER_PAGE] = pattern_int(7, 3, 40 * INTS_PER_PAGE);
    ck_assert_ints(b->mirror, size, 7, 3);

    /* mprotect of one page in the middle takes that page's entry away: the read copies up
     * to it, then one round faults the rest; a write stops there with -EPERM. */
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 50 * P, P, PROT_READ), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), -EPERM);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* A range that runs into a hole: the read faults up to the hole and fails there. */
START_TEST(test_read_into_a_hole)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 40, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(sim_munmap(f.mm, b->addr + 35 * P, 5 * P), 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), -EFAULT);
    /* A write may copy the pages before the hole before it fails: give it the data they
     * already hold. */
    ints_fill(b->mirror, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), -EFAULT);
    /* Nothing of the 35 mapped pages was lost: they read back through the device. */
    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, 35), 0);
    ck_assert_uint_eq(b->cpages, 35);
    ck_assert_ints(b->mirror, 35 * P, 0, 1);

    b->size = 35 * P;
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- the mirror follows the CPU's changes ------------------------------------------- */

/* The device read zero pages; the process then writes, replacing each zero page with a
 * frame of its own.  The device must not keep reading the zero page: one fault round, and
 * it sees the new data. */
START_TEST(test_read_after_cpu_write)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 40, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, size, 0), size);

    cpu_store_ints(f.mm, b->addr, size, 5, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 5, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* MADV_DONTNEED takes the pages away: the device's entries go too, and its next read
 * faults in fresh zero-filled memory where the pages were zapped. */
START_TEST(test_read_after_madvise_dontneed)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 40, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ints_fill(b->mirror, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);

    ck_assert_int_eq(sim_madvise(f.mm, b->addr + 10 * P, 20 * P, MADV_DONTNEED), 0);
    memset(b->mirror, 0xee, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, 10 * P, 0, 1);
    ck_assert_uint_eq(sim_bytes_mismatch((char *)b->mirror + 10 * P, 20 * P, 0), 20 * P);
    ck_assert_ints((char *)b->mirror + 30 * P, 10 * P, 30 * INTS_PER_PAGE, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* The parent's side of anon_write_child: fork write-protects the parent's private pages,
 * so the parent's device, which had them writable, must fault again and copy on write;
 * the child keeps the old values. */
START_TEST(test_anon_write_parent_after_fork)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    struct dmirror *child_dmirror;
    unsigned long npages = 64, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ints_fill(b->mirror, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);

    ints_fill(b->mirror, size, 0, -1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(f.mm, b->addr, size, 0, -1);
    cpu_expect_ints(child, b->addr, size, 0, 1);

    child_dmirror = dmirror_open(f.mdevice, child);
    ck_assert_ptr_nonnull(child_dmirror);
    ck_assert_int_eq(hmm_cmd(child_dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);
    dmirror_release(child_dmirror);
    mmput(child);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- bad input ------------------------------------------------------------------------ */

START_TEST(test_open_rejects_bad_input)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdevice = dmirror_device_create(DEVMEM_PAGES);

    ck_assert_ptr_nonnull(mdevice);
    ck_assert_ptr_null(dmirror_open(NULL, mm));
    ck_assert_ptr_null(dmirror_open(mdevice, NULL));

    mmgrab(mm);
    mmput(mm);                         /* the process exits */
    ck_assert_ptr_null(dmirror_open(mdevice, mm));
    mmdrop(mm);

    ck_assert_ptr_null(dmirror_device_create(SIM_RAM_MAX_PAGES + 1));
    dmirror_release(NULL);
    dmirror_device_destroy(NULL);
    dmirror_device_destroy(mdevice);
}
END_TEST

static const unsigned int data_commands[] = {
    HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_SNAPSHOT,
};
#define NR_DATA_COMMANDS (sizeof(data_commands) / sizeof(data_commands[0]))

/* Bad arguments are refused before anything happens: the memory, the device's table and
 * the host buffer stay as they were. */
START_TEST(test_ioctl_rejects_bad_input)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4, size = npages * P;
    unsigned char *m;
    const uint64_t top = ULONG_MAX & PAGE_MASK;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    m = b->mirror;
    memset(m, 0xee, size);

    for (unsigned i = 0; i < NR_DATA_COMMANDS; i++) {
        unsigned int op = data_commands[i];
        struct hmm_dmirror_cmd good = {
            .addr = b->addr, .ptr = (uint64_t)(uintptr_t)m, .npages = npages,
        };
        struct hmm_dmirror_cmd c;

        ck_assert_int_eq(dmirror_ioctl(NULL, op, &good), -EINVAL);
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, NULL), -EINVAL);

        c = good, c.addr += 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.addr += P / 2;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.npages = 0;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.addr = top, c.npages = 2;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.npages = (ULONG_MAX >> PAGE_SHIFT) + 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.npages = UINT64_MAX;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.npages = (UINT64_MAX - b->addr) / P + 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EINVAL);
        c = good, c.ptr = 0;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, op, &c), -EFAULT);
    }

    /* Numbers no command has. */
    {
        const unsigned int unknown[] = { HMM_DMIRROR_RELEASE + 1, HMM_DMIRROR_RELEASE + 2,
                                         100, 0x4800, UINT_MAX };

        for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
            struct hmm_dmirror_cmd c = {
                .addr = b->addr, .ptr = (uint64_t)(uintptr_t)m, .npages = npages,
            };

            ck_assert_int_eq(dmirror_ioctl(f.dmirror, unknown[i], &c), -EINVAL);
        }
    }

    ck_assert_uint_eq(sim_bytes_mismatch(m, size, 0xee), size);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    /* No refused command reached the device: the first good read faults. */
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(m, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* The commands that move memory need device memory and migration.  Until the library has
 * migration (API.md section 5, whose MIGRATE_PFN_* macros come with it) they are unknown
 * numbers: -EINVAL, with nothing done.  Once it has, the test no longer applies. */
#ifndef MIGRATE_PFN_VALID
START_TEST(test_ioctl_later_commands)
{
    static const unsigned int later[] = {
        HMM_DMIRROR_MIGRATE_TO_DEV, HMM_DMIRROR_MIGRATE_TO_SYS, HMM_DMIRROR_EXCLUSIVE,
        HMM_DMIRROR_CHECK_EXCLUSIVE, HMM_DMIRROR_RELEASE,
    };
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    memset(b->mirror, 0xee, size);

    for (unsigned i = 0; i < sizeof(later) / sizeof(later[0]); i++)
        ck_assert_int_eq(hmm_cmd(f.dmirror, later[i], b, npages), -EINVAL);

    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, size, 0xee), size);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST
#endif

/* The migration commands refuse a range without a VMA: -EINVAL now and, as in
 * lib/test_hmm.c, once they exist. */
START_TEST(test_ioctl_migrate_without_a_vma)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ck_assert_int_eq(sim_munmap(f.mm, b->addr, size), 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_MIGRATE_TO_DEV, b, npages), -EINVAL);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_MIGRATE_TO_SYS, b, npages), -EINVAL);

    b->addr = 0;
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* The process exits while its device file stays open: the mirror's entries go with the
 * address space, and every command on the open file fails with -EINVAL. */
START_TEST(test_commands_after_exit)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 8, size = npages * P;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);

    mmput(f.mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    memset(b->mirror, 0xee, size);
    for (unsigned i = 0; i < NR_DATA_COMMANDS; i++)
        ck_assert_int_eq(hmm_cmd(f.dmirror, data_commands[i], b, npages), -EINVAL);
    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, size, 0xee), size);

    dmirror_release(f.dmirror);
    dmirror_device_destroy(f.mdevice);
    free(b->mirror);
    free(b);
    ck_assert_uint_eq(sim_warn_count(), f.warnings);
}
END_TEST

/* --- the suite ------------------------------------------------------------------------ */

Suite *test_suite(void)
{
    Suite *s = suite_create("ch06_hmm_tests");
    TCase *kernel = sim_tcase("kernel selftests", 30);
    TCase *race = sim_tcase("teardown race", 60);
    TCase *more = sim_tcase("coherence", 10);
    TCase *bad = sim_tcase("bad input", 10);

    tcase_add_test(kernel, test_open_close);
    tcase_add_test(kernel, test_anon_read);
    tcase_add_test(kernel, test_anon_read_prot);
    tcase_add_test(kernel, test_anon_write);
    tcase_add_test(kernel, test_anon_write_prot);
    tcase_add_test(kernel, test_anon_write_child);
    tcase_add_test(kernel, test_anon_write_child_shared);
    tcase_add_test(kernel, test_anon_read_multiple);
    tcase_add_test(kernel, test_snapshot);
    tcase_add_test(kernel, test_double_map);
    tcase_add_test(race, test_anon_teardown);
    tcase_add_test(more, test_fault_rounds);
    tcase_add_test(more, test_snapshot_follows_the_device);
    tcase_add_test(more, test_snapshot_retries_after_an_invalidation);
    tcase_add_test(more, test_read_into_a_hole);
    tcase_add_test(more, test_read_after_cpu_write);
    tcase_add_test(more, test_read_after_madvise_dontneed);
    tcase_add_test(more, test_anon_write_parent_after_fork);
    tcase_add_test(bad, test_open_rejects_bad_input);
    tcase_add_test(bad, test_ioctl_rejects_bad_input);
#ifndef MIGRATE_PFN_VALID
    tcase_add_test(bad, test_ioctl_later_commands);
#endif
    tcase_add_test(bad, test_ioctl_migrate_without_a_vma);
    tcase_add_test(bad, test_commands_after_exit);
    suite_add_tcase(s, kernel);
    suite_add_tcase(s, race);
    suite_add_tcase(s, more);
    suite_add_tcase(s, bad);
    return s;
}
