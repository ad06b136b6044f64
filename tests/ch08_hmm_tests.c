/* Chapter 8: the kernel's HMM selftests that need device-private memory
 * (tools/testing/selftests/mm/hmm-tests.c: the 6.x tests without THP, the FLAGS ioctl or
 * file mappings, plus the 4 KiB-page halves of two newer ones), replayed against the
 * simulated test_hmm driver with the kernel's expected values, followed by checks of the
 * decisions API.md section 6 makes where the kernel leaves them open (what a pool that
 * runs dry does, what RELEASE and destroy do).
 *
 * The mapping is chapter 6's:
 *
 *     kernel selftest                      this suite
 *     FIXTURE(hmm): /dev/hmm_dmirror0      one dmirror_device_create() + dmirror_open(mm)
 *     FIXTURE(hmm2): dmirror0 and 1        two devices, each opened on the same mm
 *     mmap / munmap / mprotect             sim_mmap / sim_munmap / sim_mprotect (mm, ...)
 *     loads and stores of the process      sim_read / sim_write (mm, ...)
 *     fork(); the child opens its own fd   sim_fork(mm); dmirror_open(mdevice, child)
 *     kill the child / _exit               mmput(child)
 *     ioctl(fd, HMM_DMIRROR_*, &cmd)       dmirror_ioctl(dmirror, HMM_DMIRROR_*, &cmd)
 *     hmm_migrate_sys_to_dev / _dev_to_sys hmm_migrate_sys_to_dev / hmm_migrate_dev_to_sys
 *
 * What the device sees is read with HMM_DMIRROR_SNAPSHOT, one byte a page:
 * DEV_PRIVATE_LOCAL | WRITE (or | READ) for a page on the snapshotting device, NONE for a
 * page on the other device (its owner differs, so hmm_range_fault reports it not valid),
 * WRITE or READ for an ordinary page in system RAM.  Where the CPU's side matters, the
 * entries are read with sim_pte_get and the swapops helpers.
 *
 * Not ported, and why:
 *   - the THP tests (migrate_anon_huge_*, the use_thp halves of anon_write_child,
 *     migrate_partial_unmap_fault and migrate_remap_fault, the THP benchmark) and
 *     the HMM_DMIRROR_FLAGS fault injection: device-private THP is after the 6.15-6.17
 *     target;
 *   - migrate_remap_fault: it moves migrated memory with mremap, which the simulation has
 *     no call for;
 *   - hmm_gup_test: it needs the gup_test module (get_user_pages and FOLL_LONGTERM pins);
 *     the public API has no GUP entry point;
 *   - the *_coherent fixture variants: DEVICE_COHERENT memory is not simulated;
 *   - exclusive, exclusive_mprotect, exclusive_cow and mixedmap need no device memory
 *     (exclusive access and mmap of the device file belong to other chapters);
 *   - migrate_file_private and the file_* tests: file mappings are optional in API.md.
 * migrate_mixed needs neither mremap nor a file mapping in its 6.x form, so it is whole.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "hmm_ints.h"

#define P PAGE_SIZE
#define NTIMES 10                      /* the kernel's repeat count */
#define BUFFER_PAGES 1024UL            /* HMM_BUFFER_SIZE (4 MiB) in pages */
#define DEVMEM_PAGES 2048UL            /* each fixture device's memory: room for 2 buffers */
#define INTS_PER_PAGE (P / sizeof(int))
#define MAX_DEVICES 2

/* Snapshot bytes of pages on the snapshotting device. */
#define DEV_LOCAL_WRITE (HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE)
#define DEV_LOCAL_READ (HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_READ)

/* --- the fixtures: one process, one or two devices ------------------------------------ */

struct hmm_fixture {
    struct mm_struct *mm;
    unsigned int ndevices;
    struct dmirror_device *mdevice[MAX_DEVICES];
    struct dmirror *dmirror[MAX_DEVICES];    /* dmirror[i] is device i opened on mm */
    unsigned long warnings;                  /* sim_warn_count() at setup */
};

static void fixture_setup_devices(struct hmm_fixture *f, unsigned int ndevices,
                                  unsigned long devmem_pages)
{
    memset(f, 0, sizeof(*f));
    f->warnings = sim_warn_count();
    f->ndevices = ndevices;
    f->mm = sim_mm_create();
    ck_assert_ptr_nonnull(f->mm);
    for (unsigned int i = 0; i < ndevices; i++) {
        f->mdevice[i] = dmirror_device_create(devmem_pages);
        ck_assert_ptr_nonnull(f->mdevice[i]);
        f->dmirror[i] = dmirror_open(f->mdevice[i], f->mm);
        ck_assert_ptr_nonnull(f->dmirror[i]);
    }
}

/* FIXTURE(hmm): the process with /dev/hmm_dmirror0 open. */
static void fixture_setup(struct hmm_fixture *f)
{
    fixture_setup_devices(f, 1, DEVMEM_PAGES);
}

/* FIXTURE(hmm2): two private devices, so two owners that do not know each other's pages. */
static void fixture2_setup(struct hmm_fixture *f)
{
    fixture_setup_devices(f, 2, DEVMEM_PAGES);
}

/* close() every fd, the process exits (freeing what is still on the devices), then the
 * module goes. */
static void fixture_teardown(struct hmm_fixture *f)
{
    for (unsigned int i = 0; i < f->ndevices; i++)
        dmirror_release(f->dmirror[i]);
    mmput(f->mm);
    for (unsigned int i = 0; i < f->ndevices; i++)
        dmirror_device_destroy(f->mdevice[i]);
    ck_assert_msg(sim_warn_count() == f->warnings, "%lu warnings during the test",
                  sim_warn_count() - f->warnings);
}

/* close(fd) and open the same device again: a fresh mirror with an empty page table.
 * Closing moves nothing (API.md section 6): the pages stay on the device. */
static void fixture_reopen(struct hmm_fixture *f, unsigned int i)
{
    dmirror_release(f->dmirror[i]);
    f->dmirror[i] = dmirror_open(f->mdevice[i], f->mm);
    ck_assert_ptr_nonnull(f->dmirror[i]);
}

/* --- the selftests' migration commands (struct hmm_buffer and hmm_cmd are in testlib) -- */

static int hmm_migrate_sys_to_dev(struct dmirror *dmirror, struct hmm_buffer *b,
                                  unsigned long npages)
{
    return hmm_cmd(dmirror, HMM_DMIRROR_MIGRATE_TO_DEV, b, npages);
}

static int hmm_migrate_dev_to_sys(struct dmirror *dmirror, struct hmm_buffer *b,
                                  unsigned long npages)
{
    return hmm_cmd(dmirror, HMM_DMIRROR_MIGRATE_TO_SYS, b, npages);
}

/* A page that holds first in its first int and zeroes after it (what the kernel's
 * migrate_mixed and snapshot tests leave in their pages). */
static void ck_assert_page_head(const void *page, int first)
{
    const int *p = page;

    ck_assert_int_eq(p[0], first);
    ck_assert_uint_eq(sim_bytes_mismatch(p + 1, P - sizeof(int), 0), P - sizeof(int));
}

static void cpu_expect_page_head(struct mm_struct *mm, unsigned long addr, int first)
{
    int *buf = malloc(P);

    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xa5, P);
    ck_assert_int_eq(sim_read(mm, addr, buf, P), 0);
    ck_assert_page_head(buf, first);
    free(buf);
}

/* --- what the device and the CPU see ------------------------------------------------- */

/* HMM_DMIRROR_SNAPSHOT of [addr, + npages) into m, one byte a page; it must succeed. */
static void snapshot(struct dmirror *dmirror, unsigned long addr, unsigned long npages,
                     unsigned char *m)
{
    struct hmm_dmirror_cmd cmd = {
        .addr = addr,
        .ptr = (uint64_t)(uintptr_t)m,
        .npages = npages,
        .cpages = 0xdeadbeef,
        .faults = 0xdeadbeef,
    };

    ck_assert_int_eq(dmirror_ioctl(dmirror, HMM_DMIRROR_SNAPSHOT, &cmd), 0);
    ck_assert_uint_eq(cmd.cpages, npages);
}

/* Every byte of m[0, n) is c. */
#define ck_assert_all_bytes(m, n, c)                                                \
    do {                                                                            \
        const unsigned char *m_ = (const unsigned char *)(m);                       \
        unsigned long n_ = (n);                                                     \
        unsigned long k_ = sim_bytes_mismatch(m_, n_, (unsigned char)(c));          \
        ck_assert_msg(k_ == n_, "byte %lu of %s is %#x, expected %#x", k_, #m,      \
                      k_ < n_ ? m_[k_] : 0, (unsigned)(c));                         \
    } while (0)

static unsigned long count_bytes(const unsigned char *m, unsigned long n, unsigned char c)
{
    unsigned long count = 0;

    for (unsigned long i = 0; i < n; i++)
        count += m[i] == c;
    return count;
}

/* The CPU's entries for [addr, + npages) are device-private entries (writable or not) for
 * pages of mdevice's memory. */
static void expect_device_entries(struct mm_struct *mm, unsigned long addr,
                                  unsigned long npages, struct dmirror_device *mdevice,
                                  bool writable)
{
    for (unsigned long i = 0; i < npages; i++) {
        unsigned long a = addr + i * P;
        pte_t pte = sim_pte_get(mm, a);
        swp_entry_t entry;
        struct page *page;

        ck_assert_msg(is_swap_pte(pte), "entry %#lx at %#lx is not a swap entry",
                      (unsigned long)pte, a);
        entry = pte_to_swp_entry(pte);
        ck_assert_msg(is_device_private_entry(entry),
                      "entry %#lx at %#lx is not a device-private entry",
                      (unsigned long)pte, a);
        ck_assert_msg(is_writable_device_private_entry(entry) == writable,
                      "entry %#lx at %#lx should be %s", (unsigned long)pte, a,
                      writable ? "writable" : "read-only");
        page = pfn_swap_entry_to_page(entry);
        ck_assert_ptr_nonnull(page);
        ck_assert_msg(is_device_private_page(page), "page at %#lx is not device-private", a);
        ck_assert_msg(page_pgmap(page)->owner == dmirror_device_owner(mdevice),
                      "page at %#lx is on another device", a);
    }
}

/* The CPU's entries for [addr, + npages) map pages in system RAM. */
static void expect_present(struct mm_struct *mm, unsigned long addr, unsigned long npages)
{
    for (unsigned long i = 0; i < npages; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);

        ck_assert_msg(pte_present(pte), "no page mapped at %#lx (entry %#lx)",
                      addr + i * P, (unsigned long)pte);
    }
}

/* ==== the kernel's tests ============================================================ */

/* --- migrate -------------------------------------------------------------------------- */

/* hmm.migrate: 1024 written pages of private anonymous memory move to the device, which
 * then reads every one back from its own memory: cpages == npages, int i is i.
 * Beyond the kernel: the CPU now holds writable device-private entries for this device's
 * pages, and the device's snapshot calls every page DEV_PRIVATE_LOCAL | WRITE. */
START_TEST(test_migrate)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);

    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], true);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    hmm_buffer_free(f.mm, b);              /* munmap frees the device's pages */
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- migrate_fault -------------------------------------------------------------------- */

/* hmm.migrate_fault: after the migration the process reads the first half, which faults
 * those pages back to RAM; migrating the whole range again moves that half and keeps the
 * half still on the device: cpages == npages both times, data i both times.
 * Beyond the kernel: the snapshot between the two shows the split exactly. */
START_TEST(test_migrate_fault)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P, half = npages / 2;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);

    cpu_expect_ints(f.mm, b->addr, size / 2, 0, 1);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, half, HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + half, npages - half, DEV_LOCAL_WRITE);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);

    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- migrate_release ------------------------------------------------------------------ */

/* hmm.migrate_release: HMM_DMIRROR_RELEASE evicts the device's memory; the process then
 * reads its data (the kernel reads the first half; this reads all of it).
 * Beyond the kernel: after the release every CPU entry maps a writable page in RAM again,
 * and the device's memory, given back, takes the whole buffer a second time. */
START_TEST(test_migrate_release)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);

    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_RELEASE, b, npages), 0);

    expect_present(f.mm, b->addr, npages);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- migrate_shared ------------------------------------------------------------------- */

/* hmm.migrate_shared: shared anonymous memory never moves to device-private memory, so
 * the device finds none of the range in its memory: -ENOENT.
 * Beyond the kernel: the same holds once the process has written the pages, which stay
 * in RAM, writable, with their data. */
START_TEST(test_migrate_shared)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_SHARED);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), -ENOENT);

    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), -ENOENT);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- migrate_mixed -------------------------------------------------------------------- */

/* hmm2.migrate_mixed (the 6.x test needs neither mremap nor a file, so it is whole):
 * a PROT_NONE range refuses to migrate (-EINVAL), and so does a range that starts with a
 * PROT_NONE page before a hole.  Then page 2 is a read-only zero page, page 3 a read-only
 * page holding 3, pages 4 and 5 read-write pages holding 3: all four move to device 1
 * (cpages 4), and device 0 then cannot take page 5, which is on device 1 (-ENOENT).
 * Beyond the kernel: what device 1 copied out, both devices' snapshots (device 1's own
 * read-only and writable pages, NONE for device 0), the CPU's entries, and each page's
 * data when the process reads it back. */
START_TEST(test_migrate_mixed)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 6;
    unsigned char m[4];
    int val = -1;

    fixture2_setup(&f);
    b = hmm_buffer_create(f.mm, npages, npages * P, PROT_NONE, MAP_PRIVATE);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[1], b, npages), -EINVAL);

    ck_assert_int_eq(sim_munmap(f.mm, b->addr + P, P), 0);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[1], b, 3), -EINVAL);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 2 * P, P, PROT_READ), 0);
    ck_assert_int_eq(sim_read(f.mm, b->addr + 2 * P, &val, sizeof(val)), 0);
    val += 3;
    ck_assert_int_eq(val, 3);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 3 * P, P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 3 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 3 * P, P, PROT_READ), 0);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 4 * P, 2 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 4 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 5 * P, &val, sizeof(val)), 0);

    memset(b->mirror, 0xee, npages * P);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[1], HMM_DMIRROR_MIGRATE_TO_DEV, b, 2, 4), 0);
    ck_assert_uint_eq(b->cpages, 4);
    ck_assert_page_head(b->mirror, 0);
    for (int i = 1; i < 4; i++)
        ck_assert_page_head((char *)b->mirror + i * P, 3);

    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, b, 5, 1), -ENOENT);

    /* Pages 2 and 3 sit in a read-only VMA, so their entries are read-only. */
    expect_device_entries(f.mm, b->addr + 2 * P, 2, f.mdevice[1], false);
    expect_device_entries(f.mm, b->addr + 4 * P, 2, f.mdevice[1], true);
    snapshot(f.dmirror[1], b->addr + 2 * P, 4, m);
    ck_assert_uint_eq(m[0], DEV_LOCAL_READ);
    ck_assert_uint_eq(m[1], DEV_LOCAL_READ);
    ck_assert_uint_eq(m[2], DEV_LOCAL_WRITE);
    ck_assert_uint_eq(m[3], DEV_LOCAL_WRITE);
    snapshot(f.dmirror[0], b->addr + 2 * P, 4, m);
    ck_assert_all_bytes(m, 4, HMM_DMIRROR_PROT_NONE);

    /* The process reads the four pages back (page 2 was the zero page: a fresh page of
     * zeroes comes back, not the zero page). */
    cpu_expect_page_head(f.mm, b->addr + 2 * P, 0);
    for (int i = 3; i < 6; i++)
        cpu_expect_page_head(f.mm, b->addr + i * P, 3);
    snapshot(f.dmirror[1], b->addr + 2 * P, 4, m);
    ck_assert_uint_eq(m[0], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[1], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[2], HMM_DMIRROR_PROT_WRITE);
    ck_assert_uint_eq(m[3], HMM_DMIRROR_PROT_WRITE);

    /* munmap of the whole range takes the pieces around the hole. */
    ck_assert_int_eq(sim_munmap(f.mm, b->addr, npages * P), 0);
    b->addr = 0;
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- migrate_multiple ----------------------------------------------------------------- */

/* hmm.migrate_multiple (private variant): ten fresh buffers, each moved to the device
 * (cpages == npages, data i) and faulted back by the process's reads (data i).
 * Beyond the kernel: after the reads every page is a writable page in RAM again. */
START_TEST(test_migrate_multiple)
{
    struct hmm_fixture f;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    for (int c = 0; c < NTIMES; c++) {
        struct hmm_buffer *b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE);

        cpu_store_ints(f.mm, b->addr, size, 0, 1);
        ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
        ck_assert_uint_eq(b->cpages, npages);
        ck_assert_ints(b->mirror, size, 0, 1);

        cpu_expect_ints(f.mm, b->addr, size, 0, 1);
        snapshot(f.dmirror[0], b->addr, npages, m);
        ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);

        hmm_buffer_free(f.mm, b);
    }
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- snapshot (hmm2) ------------------------------------------------------------------ */

/* hmm2.snapshot, whole: PROT_NONE page, hole, read-only zero page, read-only page, written
 * read-write page, then page 5 on device 0 and page 6 on device 1.  Device 0 sees page 5
 * as DEV_PRIVATE_LOCAL | WRITE and page 6 as NONE (another owner's page is not valid for
 * it; API.md section 6).  The kernel gives this test a mirror of 7 bytes and still lets
 * each one-page migration copy a whole page into it; here the mirror is 7 pages and the
 * snapshot goes to its own 8 bytes, the last one a guard.
 * Beyond the kernel: device 1's view is the mirror image, a snapshot moves nothing, and
 * once the process has read pages 5 and 6 (zeroes: never written) both are writable
 * pages in RAM for both devices. */
START_TEST(test_snapshot)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 7;
    unsigned char m[8];
    int val = -1;

    fixture2_setup(&f);
    b = hmm_buffer_create(f.mm, npages, npages * P, PROT_NONE, MAP_PRIVATE);

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

    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, b, 5, 1), 0);
    ck_assert_uint_eq(b->cpages, 1);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[1], HMM_DMIRROR_MIGRATE_TO_DEV, b, 6, 1), 0);
    ck_assert_uint_eq(b->cpages, 1);

    memset(m, 0xee, sizeof(m));
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_uint_eq(m[0], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[1], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[2], HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[3], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[4], HMM_DMIRROR_PROT_WRITE);
    ck_assert_uint_eq(m[5], DEV_LOCAL_WRITE);
    ck_assert_uint_eq(m[6], HMM_DMIRROR_PROT_NONE);
    ck_assert_uint_eq(m[7], 0xee);

    memset(m, 0xee, sizeof(m));
    snapshot(f.dmirror[1], b->addr, npages, m);
    ck_assert_uint_eq(m[0], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[1], HMM_DMIRROR_PROT_ERROR);
    ck_assert_uint_eq(m[2], HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[3], HMM_DMIRROR_PROT_READ);
    ck_assert_uint_eq(m[4], HMM_DMIRROR_PROT_WRITE);
    ck_assert_uint_eq(m[5], HMM_DMIRROR_PROT_NONE);
    ck_assert_uint_eq(m[6], DEV_LOCAL_WRITE);
    ck_assert_uint_eq(m[7], 0xee);

    /* Neither snapshot moved a page. */
    expect_device_entries(f.mm, b->addr + 5 * P, 1, f.mdevice[0], true);
    expect_device_entries(f.mm, b->addr + 6 * P, 1, f.mdevice[1], true);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_uint_eq(m[5], DEV_LOCAL_WRITE);
    ck_assert_uint_eq(m[6], HMM_DMIRROR_PROT_NONE);

    sim_test_expect_bytes(f.mm, b->addr + 5 * P, 0, 2 * P);
    for (unsigned int d = 0; d < 2; d++) {
        snapshot(f.dmirror[d], b->addr, npages, m);
        ck_assert_uint_eq(m[5], HMM_DMIRROR_PROT_WRITE);
        ck_assert_uint_eq(m[6], HMM_DMIRROR_PROT_WRITE);
    }

    ck_assert_int_eq(sim_munmap(f.mm, b->addr, npages * P), 0);
    b->addr = 0;
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- double_map (hmm2) ---------------------------------------------------------------- */

/* hmm2.double_map, whole: both devices read the same read-only memory (one fault round
 * each); device 1 then takes the pages into its memory (cpages 6), and device 0's next
 * read must not use its stale entries: it faults once (which brings the pages back from
 * device 1) and reads i.
 * Beyond the kernel: read-only memory moves as read-only device-private entries; device 1
 * sees its pages, device 0 sees NONE; after device 0's read both see read-only RAM. */
START_TEST(test_double_map)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 6, size = npages * P;
    unsigned char m[6];

    fixture2_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ), 0);

    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[1], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[1], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, size, 0, 1);

    expect_device_entries(f.mm, b->addr, npages, f.mdevice[1], false);
    snapshot(f.dmirror[1], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_READ);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_NONE);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    expect_present(f.mm, b->addr, npages);
    for (unsigned int d = 0; d < 2; d++) {
        snapshot(f.dmirror[d], b->addr, npages, m);
        ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_READ);
    }

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- anon_write_child, migrated ------------------------------------------------------- */

/* hmm.anon_write_child with migrate = 1 and no THP (newer kernels loop over migrate = 0
 * and 1; chapter 6 has migrate = 0): the pages go to the device, the process
 * forks, the child reads the parent's values i (faulting the shared device pages back),
 * opens its own mirror and writes through it (cpages == npages, one fault round); the
 * parent's pages keep i.  The kernel skips the data checks of the child's write because
 * the migration overwrote the mirror; here the mirror is refilled with -i, and the child
 * must see -i.
 * Beyond the kernel: fork leaves both processes with read-only device-private entries for
 * the same pages, which the parent's device snapshot shows as DEV_PRIVATE_LOCAL | READ.
 * (The device write is not tried before the child's read: test_hmm then gets its own
 * read-only device page from hmm_range_fault, warns and fails with -EFAULT.) */
START_TEST(test_anon_write_child_migrated)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    struct dmirror *child_dmirror;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ints_fill(b->mirror, size, 0, -1);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], false);
    expect_device_entries(child, b->addr, npages, f.mdevice[0], false);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_READ);

    cpu_expect_ints(child, b->addr, size, 0, 1);

    ints_fill(b->mirror, size, 0, -1);
    child_dmirror = dmirror_open(f.mdevice[0], child);
    ck_assert_ptr_nonnull(child_dmirror);
    ck_assert_int_eq(hmm_cmd(child_dmirror, HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    cpu_expect_ints(child, b->addr, size, 0, -1);
    dmirror_release(child_dmirror);
    mmput(child);

    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- hmm_cow_in_device ---------------------------------------------------------------- */

/* hmm.hmm_cow_in_device (private variant): four pages on the device, a fork, and the
 * parent writes them: each write first brings the page back to RAM, then copies it, so
 * the parent's device finally sees four writable pages in RAM (PROT_WRITE).  The kernel
 * writes the values the pages already hold; this writes -i, so that the child, which
 * keeps i, can be told apart.
 * Beyond the kernel: after the fork both processes hold read-only device-private entries,
 * and the child still reads i after the parent's writes. */
START_TEST(test_hmm_cow_in_device)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    unsigned long npages = 4, size = npages * P;
    unsigned char m[4];

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);

    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], false);
    expect_device_entries(child, b->addr, npages, f.mdevice[0], false);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_READ);

    cpu_store_ints(f.mm, b->addr, size, 0, -1);
    cpu_expect_ints(child, b->addr, size, 0, 1);
    mmput(child);                      /* kill(pid, SIGTERM) */

    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, b->addr, size, 0, -1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- migrate_partial_unmap_fault, 4 KiB pages ----------------------------------------- */

/* hmm.migrate_partial_unmap_fault without THP (a newer kernel test whose use_thp = 0 half
 * needs nothing beyond 6.x): a PMD-sized buffer (512 pages) on the device, half of it
 * unmapped at offset 0, 1/4 or 1/2, and the process reads what is left back with its data.
 * Beyond the kernel: the unmapped half is gone for the CPU, and its device pages go back
 * to the device (the teardown finds every frame returned). */
START_TEST(test_migrate_partial_unmap_fault)
{
    struct hmm_fixture f;
    const unsigned long npages = 1UL << (PMD_SHIFT - PAGE_SHIFT), size = npages * P;
    const unsigned long unmap_pages = npages / 2;
    const unsigned long offsets[3] = { 0, npages / 4, npages / 2 };
    int val;

    fixture_setup(&f);
    for (int j = 0; j < 3; j++) {
        unsigned long off = offsets[j], after = off + unmap_pages;
        struct hmm_buffer *b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE);

        cpu_store_ints(f.mm, b->addr, size, 0, 1);
        ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
        ck_assert_uint_eq(b->cpages, npages);
        ck_assert_ints(b->mirror, size, 0, 1);

        ck_assert_int_eq(sim_munmap(f.mm, b->addr + off * P, unmap_pages * P), 0);

        if (off)
            cpu_expect_ints(f.mm, b->addr, off * P, 0, 1);
        if (after < npages)
            cpu_expect_ints(f.mm, b->addr + after * P, (npages - after) * P,
                            (long)(after * INTS_PER_PAGE), 1);
        ck_assert_int_eq(sim_read(f.mm, b->addr + off * P, &val, sizeof(val)), -EFAULT);

        ck_assert_int_eq(sim_munmap(f.mm, b->addr, size), 0);
        b->addr = 0;
        hmm_buffer_free(f.mm, b);
    }
    fixture_teardown(&f);
}
END_TEST

/* ==== device pages, beyond the kernel's tests ======================================== */

/* --- anon_read of pages on the device ------------------------------------------------- */

/* The device reads pages that live in its own memory.  Right after the migration they
 * are in its page table: cpages == npages and no fault round at all.  Through a freshly
 * opened mirror (empty page table) one fault round maps them, and hmm_range_fault hands
 * the device its own pages without moving them: the snapshot still says
 * DEV_PRIVATE_LOCAL | WRITE and the CPU entries are still device-private. */
START_TEST(test_anon_read_device)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 0);
    ck_assert_ints(b->mirror, size, 0, 1);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    fixture_reopen(&f, 0);
    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);
    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], true);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    /* The mirror that migrated them is closed; the CPU still gets them back. */
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- anon_write into pages on the device ---------------------------------------------- */

/* The device writes pages that live in its own memory: no fault round right after the
 * migration (the entries are writable), one round through a freshly opened mirror, and
 * neither write moves a page.  A read through the device then finds its writes without a
 * fault; the process reads them back from RAM, after which every page is in RAM. */
START_TEST(test_anon_write_device)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    ints_fill(b->mirror, size, 0, -1);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 0);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    fixture_reopen(&f, 0);
    ints_fill(b->mirror, size, 7, 3);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_WRITE, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], true);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 0);
    ck_assert_ints(b->mirror, size, 7, 3);

    cpu_expect_ints(f.mm, b->addr, size, 7, 3);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- mprotect of pages on the device -------------------------------------------------- */

/* mprotect(PROT_READ) over pages on the device keeps them there but makes their entries
 * read-only, and takes the device's own writable mappings away: the snapshot says
 * DEV_PRIVATE_LOCAL | READ and the next device read takes a fault round.  Once the process
 * has read them back they are read-only pages in RAM, and a device write is refused with
 * -EPERM.  (A device write while they are still on the device is not tried: test_hmm gets
 * its own read-only device page from hmm_range_fault, warns and fails with -EFAULT.) */
START_TEST(test_mprotect_device_pages)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 100, size = npages * P;
    unsigned char m[100];

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, size, PROT_READ), 0);
    expect_device_entries(f.mm, b->addr, npages, f.mdevice[0], false);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_READ);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_READ);

    ints_fill(b->mirror, size, 0, -1);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_WRITE, b, npages), -EPERM);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- migrate_to_ram: the CPU touches a page on the device ----------------------------- */

/* A load from a page on the device brings that page, and only that page (test_hmm's
 * handler moves the faulting page alone), back to RAM with its data, writable; a store
 * into another does the same and then stores.  The device's own entries for those two
 * pages are gone, so its next read takes one fault round, moves nothing else and sees
 * the store; the process's read of everything brings the rest back. */
START_TEST(test_migrate_to_ram)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 100, size = npages * P;
    unsigned char m[100];
    int val = 0, *mirror;
    pte_t pte;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    mirror = b->mirror;
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    ck_assert_int_eq(sim_read(f.mm, b->addr + 40 * P + 8, &val, sizeof(val)), 0);
    ck_assert_int_eq(val, pattern_int(0, 1, 40 * INTS_PER_PAGE + 2));
    pte = sim_pte_get(f.mm, b->addr + 40 * P);
    ck_assert(pte_present(pte));
    ck_assert(pte_write(pte));
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, 40, DEV_LOCAL_WRITE);
    ck_assert_uint_eq(m[40], HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + 41, npages - 41, DEV_LOCAL_WRITE);

    val = -5;
    ck_assert_int_eq(sim_write(f.mm, b->addr + 41 * P, &val, sizeof(val)), 0);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, 40, DEV_LOCAL_WRITE);
    ck_assert_all_bytes(m + 40, 2, HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + 42, npages - 42, DEV_LOCAL_WRITE);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_int_eq(mirror[41 * INTS_PER_PAGE], -5);
    mirror[41 * INTS_PER_PAGE] = pattern_int(0, 1, 41 * INTS_PER_PAGE);
    ck_assert_ints(b->mirror, size, 0, 1);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, 40, DEV_LOCAL_WRITE);
    ck_assert_all_bytes(m + 42, npages - 42, DEV_LOCAL_WRITE);

    ck_assert_int_eq(sim_read(f.mm, b->addr + 41 * P, &val, sizeof(val)), 0);
    ck_assert_int_eq(val, -5);
    val = pattern_int(0, 1, 41 * INTS_PER_PAGE);
    ck_assert_int_eq(sim_write(f.mm, b->addr + 41 * P, &val, sizeof(val)), 0);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    expect_present(f.mm, b->addr, npages);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- MIGRATE_TO_SYS ------------------------------------------------------------------- */

/* The device moves its pages back itself.  Another device moves none of them (cpages 0:
 * they are not its own); a sub-range moves exactly those pages; the rest moves with the
 * rest of the range (cpages counts only what moved), after which everything is a
 * writable page in RAM holding its data and a further MIGRATE_TO_SYS finds nothing.  The
 * device's page table forgot the pages it gave back: a read takes one fault round. */
START_TEST(test_migrate_to_sys)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES, size = npages * P;
    unsigned char *m = malloc(npages);

    ck_assert_ptr_nonnull(m);
    fixture2_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    ck_assert_int_eq(hmm_migrate_dev_to_sys(f.dmirror[1], b, npages), 0);
    ck_assert_uint_eq(b->cpages, 0);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, DEV_LOCAL_WRITE);

    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_SYS, b, 10, 10), 0);
    ck_assert_uint_eq(b->cpages, 10);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, 10, DEV_LOCAL_WRITE);
    ck_assert_all_bytes(m + 10, 10, HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + 20, npages - 20, DEV_LOCAL_WRITE);

    ck_assert_int_eq(hmm_migrate_dev_to_sys(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages - 10);
    expect_present(f.mm, b->addr, npages);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    ck_assert_int_eq(hmm_migrate_dev_to_sys(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, 0);

    memset(b->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_READ, b, npages), 0);
    ck_assert_cmd(b, npages, 1);
    ck_assert_ints(b->mirror, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
    free(m);
}
END_TEST

/* --- cow_in_device, the child first --------------------------------------------------- */

/* hmm_cow_in_device the other way round: after the fork the child touches the shared
 * device pages first.  Its fault migrates them for both processes (the parent's entries
 * become read-only RAM pages too); the parent's write then copies on write, and each
 * process keeps its own values. */
START_TEST(test_cow_in_device_child_first)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    unsigned long npages = 4, size = npages * P;
    unsigned char m[4];

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);

    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    cpu_expect_ints(child, b->addr, size, 0, 1);

    expect_present(f.mm, b->addr, npages);
    expect_present(child, b->addr, npages);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_READ);

    cpu_store_ints(f.mm, b->addr, size, 0, -1);
    cpu_expect_ints(child, b->addr, size, 0, 1);
    cpu_expect_ints(f.mm, b->addr, size, 0, -1);
    mmput(child);

    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* ==== device memory: the pool (API.md section 6) ===================================== */

#define SMALL_POOL 4UL

/* A device with 4 pages of memory asked to take 8: it moves 4, leaves 4 in RAM and
 * returns -ENOMEM; every page keeps its data.  Pages that come back (CPU faults,
 * HMM_DMIRROR_RELEASE, munmap, the exit of another process) are reused, and a device
 * write reaches pages wherever they are. */
START_TEST(test_pool_exhaustion)
{
    struct hmm_fixture f;
    struct hmm_buffer *a, *c, *other;
    struct mm_struct *mm2;
    struct dmirror *dmirror2;
    unsigned long npages = 2 * SMALL_POOL, size = npages * P, half = SMALL_POOL;
    unsigned char m[2 * SMALL_POOL];

    fixture_setup_devices(&f, 1, SMALL_POOL);
    a = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, a->addr, size, 0, 1);

    /* Eight pages into four. */
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], a, npages), -ENOMEM);
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_uint_eq(count_bytes(m, npages, DEV_LOCAL_WRITE), SMALL_POOL);
    ck_assert_uint_eq(count_bytes(m, npages, HMM_DMIRROR_PROT_WRITE), npages - SMALL_POOL);
    cpu_expect_ints(f.mm, a->addr, size, 0, 1);
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);

    /* The faults gave the memory back: four pages fit, four more do not, and the failed
     * attempt moves nothing. */
    memset(a->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, a, 0, half), 0);
    ck_assert_uint_eq(a->cpages, half);
    ck_assert_ints(a->mirror, half * P, 0, 1);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, a, half, half),
                     -ENOMEM);
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_all_bytes(m, half, DEV_LOCAL_WRITE);
    ck_assert_all_bytes(m + half, npages - half, HMM_DMIRROR_PROT_WRITE);

    /* Both kinds of page stay usable: the device writes all eight (one fault round for
     * the four in RAM), the four on the device stay there, the process reads it all. */
    ints_fill(a->mirror, size, 100, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_WRITE, a, npages), 0);
    ck_assert_cmd(a, npages, 1);
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_all_bytes(m, half, DEV_LOCAL_WRITE);
    ck_assert_all_bytes(m + half, npages - half, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, a->addr, size, 100, 1);

    /* HMM_DMIRROR_RELEASE gives the memory back. */
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, a, 0, half), 0);
    ck_assert_uint_eq(a->cpages, half);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_RELEASE, a, npages), 0);
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_all_bytes(m, npages, HMM_DMIRROR_PROT_WRITE);
    memset(a->mirror, 0, size);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, a, half, half), 0);
    ck_assert_uint_eq(a->cpages, half);
    ck_assert_ints(a->mirror, half * P, 100 + (long)(half * INTS_PER_PAGE), 1);
    cpu_expect_ints(f.mm, a->addr, half * P, 100, 1);

    /* munmap gives it back: pages 4..7 are on the device when the buffer goes. */
    snapshot(f.dmirror[0], a->addr, npages, m);
    ck_assert_all_bytes(m, half, HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + half, npages - half, DEV_LOCAL_WRITE);
    hmm_buffer_free(f.mm, a);

    /* Another process fills the pool; while it lives this one gets nothing, and its
     * exit gives the memory back. */
    mm2 = sim_mm_create();
    ck_assert_ptr_nonnull(mm2);
    dmirror2 = dmirror_open(f.mdevice[0], mm2);
    ck_assert_ptr_nonnull(dmirror2);
    other = hmm_buffer_create(mm2, SMALL_POOL, SMALL_POOL * P, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE);
    cpu_store_ints(mm2, other->addr, SMALL_POOL * P, 50, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(dmirror2, other, SMALL_POOL), 0);
    ck_assert_uint_eq(other->cpages, SMALL_POOL);

    c = hmm_buffer_create(f.mm, SMALL_POOL, SMALL_POOL * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, c->addr, SMALL_POOL * P, 5, 1);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], c, SMALL_POOL), -ENOMEM);
    snapshot(f.dmirror[0], c->addr, SMALL_POOL, m);
    ck_assert_all_bytes(m, SMALL_POOL, HMM_DMIRROR_PROT_WRITE);
    cpu_expect_ints(f.mm, c->addr, SMALL_POOL * P, 5, 1);

    dmirror_release(dmirror2);
    mmput(mm2);                        /* exits with its pages on the device */
    free(other->mirror);
    free(other);

    memset(c->mirror, 0, SMALL_POOL * P);
    ck_assert_int_eq(hmm_migrate_sys_to_dev(f.dmirror[0], c, SMALL_POOL), 0);
    ck_assert_uint_eq(c->cpages, SMALL_POOL);
    ck_assert_ints(c->mirror, SMALL_POOL * P, 5, 1);

    hmm_buffer_free(f.mm, c);
    fixture_teardown(&f);
}
END_TEST

#define CYCLES 200
#define CYCLE_PAGES 16UL

/* Two hundred devices, one after another, each taking a process's 16 pages and going
 * away in one of five ways: destroyed with the pages still on it (destroy evicts them),
 * after the CPU faulted them back, after HMM_DMIRROR_RELEASE, after MIGRATE_TO_SYS, or
 * after the process exited with its pages on it.  No creation fails, no migration runs
 * out, the data always survives in RAM, no cycle leaves frames behind, and when the last
 * process and device are gone nothing is in use. */
START_TEST(test_device_create_destroy_cycles)
{
    unsigned long warnings = sim_warn_count();
    unsigned long size = CYCLE_PAGES * P, baseline = 0;
    struct mm_struct *mm = sim_mm_create();
    struct hmm_buffer *b;

    ck_assert_ptr_nonnull(mm);
    b = hmm_buffer_create(mm, CYCLE_PAGES, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);

    for (long c = 0; c < CYCLES; c++) {
        struct dmirror_device *mdevice = dmirror_device_create(CYCLE_PAGES);
        struct dmirror *dmirror;

        ck_assert_msg(mdevice != NULL, "device %ld could not be created", c);
        dmirror = dmirror_open(mdevice, mm);
        ck_assert_ptr_nonnull(dmirror);

        cpu_store_ints(mm, b->addr, size, c, 1);
        ck_assert_int_eq(hmm_migrate_sys_to_dev(dmirror, b, CYCLE_PAGES), 0);
        ck_assert_uint_eq(b->cpages, CYCLE_PAGES);
        ck_assert_ints(b->mirror, size, c, 1);

        switch (c % 5) {
        case 0:                        /* destroy evicts */
        case 4:                        /* the process exits */
            break;
        case 1:
            cpu_expect_ints(mm, b->addr, size, c, 1);
            break;
        case 2:
            ck_assert_int_eq(hmm_cmd(dmirror, HMM_DMIRROR_RELEASE, b, CYCLE_PAGES), 0);
            break;
        case 3:
            ck_assert_int_eq(hmm_migrate_dev_to_sys(dmirror, b, CYCLE_PAGES), 0);
            ck_assert_uint_eq(b->cpages, CYCLE_PAGES);
            break;
        }
        dmirror_release(dmirror);

        if (c % 5 == 4) {
            mmput(mm);
            dmirror_device_destroy(mdevice);
            free(b->mirror);
            free(b);
            mm = sim_mm_create();
            ck_assert_ptr_nonnull(mm);
            b = hmm_buffer_create(mm, CYCLE_PAGES, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
            continue;
        }

        dmirror_device_destroy(mdevice);
        expect_present(mm, b->addr, CYCLE_PAGES);
        cpu_expect_ints(mm, b->addr, size, c, 1);

        /* From the second round of five on (every path taken once, a fresh process like
         * the first), each cycle ends with exactly what the first such cycle had. */
        if (c == 5)
            baseline = sim_nr_pages_in_use();
        else if (c > 5)
            ck_assert_msg(sim_nr_pages_in_use() == baseline,
                          "cycle %ld ends with %lu frames in use, cycle 5 with %lu", c,
                          sim_nr_pages_in_use(), baseline);
    }

    hmm_buffer_free(mm, b);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings);
}
END_TEST

/* ==== bad input ====================================================================== */

static const unsigned int migrate_commands[] = {
    HMM_DMIRROR_MIGRATE_TO_DEV, HMM_DMIRROR_MIGRATE_TO_SYS,
};
#define NR_MIGRATE_COMMANDS (sizeof(migrate_commands) / sizeof(migrate_commands[0]))

/* The migration commands check their arguments before they move anything (API.md section
 * 6): every bad request fails, and the two pages in RAM, the two on the device and the
 * host buffer are as they were.  A NULL buffer for MIGRATE_TO_DEV is -EFAULT (the kernel
 * would have moved the pages before failing to copy them out; API.md has it fail first). */
/* HMM_DMIRROR_RELEASE copies nothing out, so it needs no buffer: with ptr 0 it still
 * evicts every page of the device, with its data. */
START_TEST(test_release_needs_no_buffer)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4, size = npages * P;
    struct hmm_dmirror_cmd c;

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_cmd(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, b, npages), 0);
    c = (struct hmm_dmirror_cmd){ .addr = b->addr, .ptr = 0, .npages = npages };
    ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], HMM_DMIRROR_RELEASE, &c), 0);
    for (unsigned long i = 0; i < npages; i++)
        ck_assert(pte_present(sim_pte_get(f.mm, b->addr + i * P)));
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

START_TEST(test_migrate_rejects_bad_input)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4, size = npages * P;
    const uint64_t top = ULONG_MAX & PAGE_MASK;
    unsigned char m[4];

    fixture_setup(&f);
    b = hmm_buffer_create(f.mm, npages, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    cpu_store_ints(f.mm, b->addr, size, 0, 1);
    ck_assert_int_eq(hmm_cmd_at(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, b, 2, 2), 0);
    ck_assert_uint_eq(b->cpages, 2);
    memset(b->mirror, 0xee, size);

    for (unsigned int i = 0; i < NR_MIGRATE_COMMANDS; i++) {
        unsigned int op = migrate_commands[i];
        struct hmm_dmirror_cmd good = {
            .addr = b->addr, .ptr = (uint64_t)(uintptr_t)b->mirror, .npages = npages,
        };
        struct hmm_dmirror_cmd c;

        ck_assert_int_eq(dmirror_ioctl(NULL, op, &good), -EINVAL);
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, NULL), -EINVAL);

        c = good, c.addr += 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.addr += P / 2;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.npages = 0;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.addr = top, c.npages = 2;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.npages = (ULONG_MAX >> PAGE_SHIFT) + 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.npages = UINT64_MAX;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
        c = good, c.npages = (UINT64_MAX - b->addr) / P + 1;
        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], op, &c), -EINVAL);
    }
    {
        struct hmm_dmirror_cmd c = { .addr = b->addr, .ptr = 0, .npages = npages };

        ck_assert_int_eq(dmirror_ioctl(f.dmirror[0], HMM_DMIRROR_MIGRATE_TO_DEV, &c), -EFAULT);
    }

    ck_assert_uint_eq(sim_bytes_mismatch(b->mirror, size, 0xee), size);
    snapshot(f.dmirror[0], b->addr, npages, m);
    ck_assert_all_bytes(m, 2, HMM_DMIRROR_PROT_WRITE);
    ck_assert_all_bytes(m + 2, 2, DEV_LOCAL_WRITE);
    cpu_expect_ints(f.mm, b->addr, size, 0, 1);

    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- the suite ------------------------------------------------------------------------ */

Suite *test_suite(void)
{
    Suite *s = suite_create("ch08_hmm_tests");
    TCase *kernel = sim_tcase("kernel selftests", 60);
    TCase *device = sim_tcase("device pages", 30);
    TCase *pool = sim_tcase("device memory", 60);
    TCase *bad = sim_tcase("bad input", 10);

    tcase_add_test(kernel, test_migrate);
    tcase_add_test(kernel, test_migrate_fault);
    tcase_add_test(kernel, test_migrate_release);
    tcase_add_test(kernel, test_migrate_shared);
    tcase_add_test(kernel, test_migrate_mixed);
    tcase_add_test(kernel, test_migrate_multiple);
    tcase_add_test(kernel, test_snapshot);
    tcase_add_test(kernel, test_double_map);
    tcase_add_test(kernel, test_anon_write_child_migrated);
    tcase_add_test(kernel, test_hmm_cow_in_device);
    tcase_add_test(kernel, test_migrate_partial_unmap_fault);
    tcase_add_test(device, test_anon_read_device);
    tcase_add_test(device, test_anon_write_device);
    tcase_add_test(device, test_mprotect_device_pages);
    tcase_add_test(device, test_migrate_to_ram);
    tcase_add_test(device, test_migrate_to_sys);
    tcase_add_test(device, test_cow_in_device_child_first);
    tcase_add_test(pool, test_pool_exhaustion);
    tcase_add_test(pool, test_device_create_destroy_cycles);
    tcase_add_test(bad, test_migrate_rejects_bad_input);
    tcase_add_test(bad, test_release_needs_no_buffer);
    suite_add_tcase(s, kernel);
    suite_add_tcase(s, device);
    suite_add_tcase(s, pool);
    suite_add_tcase(s, bad);
    return s;
}
