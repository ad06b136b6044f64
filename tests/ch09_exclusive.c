/* Chapter 9: device-exclusive entries.
 *
 * make_device_exclusive() driven directly (its refusals, the conversion, the entry, the
 * counts and the invalidation it announces), then every core path that meets the entry:
 * the CPU's read and write, hmm_range_fault as a snapshot and as a fault, mprotect,
 * munmap, MADV_DONTNEED, exit and fork; then the mirror device's HMM_DMIRROR_EXCLUSIVE and
 * HMM_DMIRROR_CHECK_EXCLUSIVE, with the kernel selftests exclusive, exclusive_mprotect and
 * exclusive_cow (tools/testing/selftests/mm/hmm-tests.c) and their expected values.
 *
 * Expected values are the kernel's (Linux 6.15: mm/rmap.c make_device_exclusive(),
 * mm/memory.c remove_device_exclusive_entry(), restore_exclusive_pte(),
 * copy_nonpresent_pte(); KERNEL-NOTES.md section 6), written out exactly: whole entries
 * (pfn_pte(pfn, bits)), whole notifier records (event, range, flags, owner, mm), counts.
 *
 * The CPU's side is read with sim_pte_get and the swapops helpers.  A restore is seen
 * without a CPU access through hmm_range_fault with HMM_PFN_REQ_FAULT, which faults the
 * entry back the way get_user_pages does: the rebuilt entry is then exactly what
 * restore_exclusive_pte() made (old, so no ACCESSED bit).  After sim_read or sim_write
 * the access itself has set ACCESSED (and DIRTY for a write) on top of it.
 *
 * After fork, the first process to write a page shared copy-on-write gets a copy; the
 * other one is then the frame's only user and reuses it in place on its own write, as
 * do_wp_page() does (wp_can_reuse_anon_folio: one reference left).
 *
 * The kernel selftests are ported as in tests/ch06_hmm_tests.c: the process is an
 * mm_struct, the device file a struct dmirror opened on it, fork() is sim_fork(), the
 * loads and stores of the test are sim_read / sim_write; checks beyond the selftest's own
 * are marked as such. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "recorder.h"

#define P PAGE_SIZE
#define BUFFER_PAGES 1024UL            /* the selftests' HMM_BUFFER_SIZE (4 MiB) in pages */
#define DEVMEM_PAGES 16UL              /* the fixture device's memory (unused here) */
#define INTS_PER_PAGE (P / sizeof(int))
#define BL MMU_NOTIFIER_RANGE_BLOCKABLE
#define V HMM_PFN_VALID
#define W HMM_PFN_WRITE

/* The caller's owner cookie, as a driver passes its device. */
static char owner_cookie;
#define OWNER ((void *)&owner_cookie)

/* Entries as restore_exclusive_pte() rebuilds them, before any CPU access. */
#define RESTORED_RW_DIRTY (_PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY)
/* ...and after the CPU's read (ACCESSED) or write (ACCESSED | DIRTY) went through it. */
#define ACCESSED_RW_DIRTY (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

/* --- helpers ----------------------------------------------------------------------------- */

/* The frame's own bytes, looked at without any CPU access. */
static void expect_frame_pattern(struct page *page, unsigned long seed)
{
    unsigned long bad = sim_pattern_mismatch(sim_page_address(page), P, seed);

    ck_assert_msg(bad == P, "frame %#lx: byte %lu breaks the pattern of seed %lu",
                  page_to_pfn(page), bad, seed);
}

static void expect_frame_zero(struct page *page)
{
    unsigned long bad = sim_bytes_mismatch(sim_page_address(page), P, 0);

    ck_assert_msg(bad == P, "frame %#lx: byte %lu is not zero", page_to_pfn(page), bad);
}

/* The entry at addr is a device-exclusive entry of page; dirty says whether it remembers
 * a dirty entry. */
static void expect_exclusive(struct mm_struct *mm, unsigned long addr, struct page *page,
                             bool dirty)
{
    pte_t pte = sim_pte_get(mm, addr);
    swp_entry_t e;

    ck_assert_msg(is_swap_pte(pte), "entry %#lx at %#lx is not swap-style", pte, addr);
    e = pte_to_swp_entry(pte);
    ck_assert_msg(is_device_exclusive_entry(e), "entry %#lx at %#lx is not device-exclusive",
                  pte, addr);
    ck_assert(!is_device_private_entry(e));
    ck_assert(!is_migration_entry(e));
    ck_assert_uint_eq(swp_offset_pfn(e), page_to_pfn(page));
    ck_assert_ptr_eq(pfn_swap_entry_to_page(e), page);
    ck_assert_int_eq((e.val & SIM_SWP_EXCLUSIVE_DIRTY) != 0, dirty);
}

static bool is_exclusive_at(struct mm_struct *mm, unsigned long addr)
{
    pte_t pte = sim_pte_get(mm, addr);

    return is_swap_pte(pte) && is_device_exclusive_entry(pte_to_swp_entry(pte));
}

/* make_device_exclusive under the mmap read lock, as a driver calls it. */
static struct page *convert(struct mm_struct *mm, unsigned long addr, void *owner)
{
    struct page *page;

    mmap_read_lock(mm);
    page = make_device_exclusive(mm, addr, owner);
    mmap_read_unlock(mm);
    return page;
}

/* A conversion that must succeed; the caller's lock and reference are dropped at once. */
static struct page *convert_and_release(struct mm_struct *mm, unsigned long addr)
{
    struct page *page = convert(mm, addr, OWNER);

    ck_assert_msg(!IS_ERR(page), "make_device_exclusive(%#lx) failed: %ld", addr,
                  IS_ERR(page) ? PTR_ERR(page) : 0L);
    ck_assert(PageLocked(page));
    unlock_page(page);
    put_page(page);
    return page;
}

/* Clear bits of the present entry at addr, as reclaim's aging or writeback would. */
static void pte_clear_bits(struct mm_struct *mm, unsigned long addr, unsigned long bits)
{
    pte_t *ptep;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    ck_assert_ptr_nonnull(ptep);
    ck_assert(pte_present(*ptep));
    *ptep &= ~bits;
    pthread_mutex_unlock(&mm->page_table_lock);
}

static void recorder_on(struct recorder *r, struct mm_struct *mm)
{
    recorder_init(r);
    ck_assert_int_eq(mmu_notifier_register(&r->mn, mm), 0);
}

static void recorder_off(struct recorder *r, struct mm_struct *mm)
{
    mmu_notifier_unregister(&r->mn, mm);
}

/* Records i, i + 1: the conversion's pair, with the caller's owner. */
#define ck_assert_exclusive_pair(r, i, s, own, m)                                          \
    do {                                                                                  \
        ck_assert_rec(r, i, REC_START, MMU_NOTIFY_EXCLUSIVE, s, (s) + P, BL, own, m);     \
        ck_assert_rec(r, (i) + 1, REC_END, MMU_NOTIFY_EXCLUSIVE, s, (s) + P, BL, own, m); \
    } while (0)

/* --- hmm_range_fault over one page, through an interval notifier of the test's own ------ */

struct mirror {
    struct mmu_interval_notifier notifier;
    pthread_mutex_t lock;
    int invalidations;
};

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
                              const struct mmu_notifier_range *range, unsigned long cur_seq)
{
    struct mirror *m = (struct mirror *)sub;

    (void)range;
    pthread_mutex_lock(&m->lock);
    mmu_interval_set_seq(sub, cur_seq);
    m->invalidations++;
    pthread_mutex_unlock(&m->lock);
    return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = { .invalidate = mirror_invalidate };

static void mirror_init(struct mirror *m, struct mm_struct *mm, unsigned long start,
                        unsigned long len)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    ck_assert_int_eq(mmu_interval_notifier_insert(&m->notifier, mm, start, len, &mirror_ops),
                     0);
}

static void mirror_fini(struct mirror *m)
{
    mmu_interval_notifier_remove(&m->notifier);
    pthread_mutex_destroy(&m->lock);
}

/* The driver loop: hmm_range_fault over [start, start + n pages) with per-page requests
 * req[i] (pfn_flags_mask = all request bits), retried on -EBUSY; the answers land in out. */
static int mirror_fault(struct mirror *m, unsigned long start, unsigned long n,
                        const unsigned long *req, unsigned long *out)
{
    struct mm_struct *mm = m->notifier.mm;
    struct hmm_range range = {
        .notifier = &m->notifier,
        .start = start,
        .end = start + n * P,
        .hmm_pfns = out,
        .default_flags = 0,
        .pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
    };

    for (int round = 0; round < 16; round++) {
        int ret;

        memcpy(out, req, n * sizeof(*out));
        range.notifier_seq = mmu_interval_read_begin(&m->notifier);
        mmap_read_lock(mm);
        ret = hmm_range_fault(&range);
        mmap_read_unlock(mm);
        if (ret == -EBUSY)
            continue;
        if (ret)
            return ret;
        pthread_mutex_lock(&m->lock);
        ret = mmu_interval_read_retry(&m->notifier, range.notifier_seq) ? -EBUSY : 0;
        pthread_mutex_unlock(&m->lock);
        if (!ret)
            return 0;
    }
    return -EBUSY;
}

/* --- the selftests' fixture: one process with the mirror device open ------------------- */

struct hmm_fixture {
    struct mm_struct *mm;
    struct dmirror_device *mdevice;
    struct dmirror *dmirror;
    unsigned long warnings;
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

static void fixture_teardown(struct hmm_fixture *f)
{
    dmirror_release(f->dmirror);
    mmput(f->mm);
    dmirror_device_destroy(f->mdevice);
    ck_assert_msg(sim_warn_count() == f->warnings, "%lu warnings during the test",
                  sim_warn_count() - f->warnings);
}

static struct hmm_buffer *buffer_create(struct mm_struct *mm, unsigned long npages)
{
    return hmm_buffer_create(mm, npages, npages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
}

/* A command over [addr, addr + npages pages) with a scratch buffer. */
static int raw_cmd(struct dmirror *dmirror, unsigned int request, unsigned long addr,
                   unsigned long npages, void *buf)
{
    struct hmm_dmirror_cmd cmd = {
        .addr = addr,
        .ptr = (uint64_t)(uintptr_t)buf,
        .npages = npages,
    };

    return dmirror_ioctl(dmirror, request, &cmd);
}

/* The selftests' data: int k of the buffer is k (+ delta). */
static void cpu_store_ints(struct mm_struct *mm, unsigned long addr, unsigned long bytes)
{
    int *buf = malloc(bytes);

    ck_assert_ptr_nonnull(buf);
    for (unsigned long k = 0; k < bytes / sizeof(int); k++)
        buf[k] = (int)k;
    ck_assert_int_eq(sim_write(mm, addr, buf, bytes), 0);
    free(buf);
}

static void ck_assert_ints(const int *p, unsigned long bytes, int delta)
{
    for (unsigned long k = 0; k < bytes / sizeof(int); k++)
        if (p[k] != (int)k + delta)
            ck_abort_msg("int %lu is %d, expected %d", k, p[k], (int)k + delta);
}

/* The selftests' "ASSERT_EQ(ptr[i]++, i)" loop, then "ASSERT_EQ(ptr[i], i + 1)", page by
 * page through the CPU.  One Check assertion per page, not per int: Check logs the place
 * of every assertion that passes, and a million of them took seconds. */
static void cpu_increment_ints(struct mm_struct *mm, unsigned long addr, unsigned long bytes)
{
    int buf[INTS_PER_PAGE];

    for (unsigned long off = 0; off < bytes; off += P) {
        ck_assert_int_eq(sim_read(mm, addr + off, buf, P), 0);
        ck_assert_ints(buf, P, (int)(off / sizeof(int)));
        for (unsigned long k = 0; k < INTS_PER_PAGE; k++)
            buf[k]++;
        ck_assert_int_eq(sim_write(mm, addr + off, buf, P), 0);
    }
    for (unsigned long off = 0; off < bytes; off += P) {
        ck_assert_int_eq(sim_read(mm, addr + off, buf, P), 0);
        ck_assert_ints(buf, P, (int)(off / sizeof(int)) + 1);
    }
}

/* --- 1. refusals ------------------------------------------------------------------------- */

/* What a refused conversion must leave alone at one address. */
struct before {
    pte_t pte;
    int ref, map;
    unsigned long in_use, warnings;
};

static void take_before(struct before *b, struct mm_struct *mm, unsigned long addr)
{
    b->pte = sim_pte_get(mm, addr);
    b->ref = b->map = -1;
    if (pte_present(b->pte) && !is_zero_pfn(pte_pfn(b->pte))) {
        b->ref = page_ref_count(pfn_to_page(pte_pfn(b->pte)));
        b->map = page_mapcount(pfn_to_page(pte_pfn(b->pte)));
        ck_assert(!PageLocked(pfn_to_page(pte_pfn(b->pte))));
    }
    b->in_use = sim_nr_pages_in_use();
    b->warnings = sim_warn_count();
}

static void expect_unchanged(const struct before *b, struct mm_struct *mm, unsigned long addr)
{
    struct before now;

    take_before(&now, mm, addr);
    ck_assert_uint_eq(now.pte, b->pte);
    ck_assert_int_eq(now.ref, b->ref);
    ck_assert_int_eq(now.map, b->map);
    ck_assert_uint_eq(now.in_use, b->in_use);
    ck_assert_uint_eq(now.warnings, b->warnings);
}

/* Convert at addr, demand ERR_PTR(err), and that the entry, its page and the notifier log
 * did not change. */
static void expect_refused(struct mm_struct *mm, unsigned long addr, long err)
{
    struct recorder r;
    struct before b;
    struct page *page;

    take_before(&b, mm, addr);
    recorder_on(&r, mm);
    page = convert(mm, addr, OWNER);
    ck_assert(IS_ERR(page));
    ck_assert_int_eq(PTR_ERR(page), err);
    ck_assert_int_eq(r.n, 0);
    recorder_off(&r, mm);
    expect_unchanged(&b, mm, addr);
}

/* No VMA at the address (a hole, below, far above): -EFAULT, nothing changed. */
START_TEST(refuses_an_address_without_a_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);

    sim_test_fill_pages(mm, addr, 3, 1);
    ck_assert_int_eq(sim_munmap(mm, addr + P, P), 0);
    expect_refused(mm, addr + P, -EFAULT);
    expect_refused(mm, addr + P + 100, -EFAULT);
    expect_refused(mm, SIM_MMAP_MIN_ADDR, -EFAULT);
    expect_refused(mm, SIM_TASK_SIZE - P, -EFAULT);
    ck_assert(!is_exclusive_at(mm, addr));
    ck_assert(!is_exclusive_at(mm, addr + 2 * P));
    sim_test_expect_pages(mm, addr, 1, 1);
    sim_test_expect_pages(mm, addr + 2 * P, 1, 3);
    mmput(mm);
}
END_TEST

/* A read-only VMA, populated or not: -EFAULT (GUP FOLL_WRITE), nothing changed. */
START_TEST(refuses_a_read_only_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);

    sim_test_fill_pages(mm, addr, 2, 10);
    ck_assert_int_eq(sim_mprotect(mm, addr, 3 * P, PROT_READ), 0);
    ck_assert(pte_present(sim_pte_get(mm, addr)));
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    expect_refused(mm, addr, -EFAULT);
    expect_refused(mm, addr + P, -EFAULT);
    expect_refused(mm, addr + 2 * P, -EFAULT);           /* never touched */
    ck_assert(pte_none(sim_pte_get(mm, addr + 2 * P)));
    sim_test_expect_pages(mm, addr, 2, 10);
    mmput(mm);
}
END_TEST

/* A PROT_NONE VMA, populated or not: -EFAULT, the protnone entry untouched. */
START_TEST(refuses_a_prot_none_vma)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);

    sim_test_fill_pages(mm, addr, 1, 20);
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, PROT_NONE), 0);
    ck_assert(pte_protnone(sim_pte_get(mm, addr)));
    expect_refused(mm, addr, -EFAULT);
    expect_refused(mm, addr + P, -EFAULT);
    ck_assert(pte_protnone(sim_pte_get(mm, addr)));
    ck_assert(pte_none(sim_pte_get(mm, addr + P)));
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, PROT_READ | PROT_WRITE), 0);
    sim_test_expect_pages(mm, addr, 1, 20);
    mmput(mm);
}
END_TEST

/* MAP_SHARED: -EOPNOTSUPP after GUP faulted it in; data intact, no exclusive entry. */
START_TEST(refuses_shared_memory)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 2 * P);
    struct recorder r;
    struct page *page;
    pte_t pte;

    sim_test_fill_pages(mm, addr, 1, 30);
    expect_refused(mm, addr, -EOPNOTSUPP);
    sim_test_expect_pages(mm, addr, 1, 30);

    /* the untouched page: GUP allocated and mapped it before the refusal */
    ck_assert(pte_none(sim_pte_get(mm, addr + P)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    recorder_on(&r, mm);
    page = convert(mm, addr + P, OWNER);
    ck_assert(IS_ERR(page));
    ck_assert_int_eq(PTR_ERR(page), -EOPNOTSUPP);
    ck_assert_int_eq(r.n, 0);
    recorder_off(&r, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    pte = sim_pte_get(mm, addr + P);
    ck_assert(pte_present(pte));
    ck_assert(pte_write(pte));
    ck_assert(!is_exclusive_at(mm, addr + P));
    page = pfn_to_page(pte_pfn(pte));
    ck_assert(!PageLocked(page));
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_frame_zero(page);
    sim_test_expect_bytes(mm, addr + P, 0, P);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* A NULL mm and an exited mm (kept by mmgrab): -EINVAL, no warning. */
START_TEST(refuses_a_null_or_exited_mm)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    unsigned long warnings = sim_warn_count();
    struct page *page;

    page = make_device_exclusive(NULL, addr, OWNER);
    ck_assert(IS_ERR(page));
    ck_assert_int_eq(PTR_ERR(page), -EINVAL);

    sim_test_fill_pages(mm, addr, 1, 40);
    mmgrab(mm);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    page = convert(mm, addr, OWNER);
    ck_assert(IS_ERR(page));
    ck_assert_int_eq(PTR_ERR(page), -EINVAL);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    mmdrop(mm);
}
END_TEST

/* --- 2. the conversion ------------------------------------------------------------------- */

/* Page back locked, +1 ref, same mapcount, exclusive pfn entry, one EXCLUSIVE pair. */
START_TEST(converts_a_written_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *page, *got;
    pte_t next;
    struct recorder r;

    sim_test_fill_pages(mm, addr, 2, 50);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    next = sim_pte_get(mm, addr + P);

    recorder_on(&r, mm);
    got = convert(mm, addr, OWNER);
    ck_assert_ptr_eq(got, page);
    ck_assert(PageLocked(page));
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      swp_entry_to_pte(make_device_exclusive_entry(page_to_pfn(page))) |
                      SIM_SWP_EXCLUSIVE_DIRTY);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), next);
    ck_assert_int_eq(r.n, 2);
    ck_assert_exclusive_pair(&r, 0, addr, OWNER, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);

    unlock_page(page);
    put_page(page);
    ck_assert(!PageLocked(page));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    expect_frame_pattern(page, 50);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(r.n, 2);
    recorder_off(&r, mm);
    mmput(mm);
}
END_TEST

/* An unaligned address converts its own page, range = that page; NULL owner kept. */
START_TEST(rounds_an_unaligned_address_down)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    struct page *page, *last, *got;
    struct recorder r;

    sim_test_fill_pages(mm, addr, 3, 60);
    page = sim_test_mapped_page(mm, addr + P);
    last = sim_test_mapped_page(mm, addr + 2 * P);
    recorder_on(&r, mm);
    got = convert(mm, addr + P + 0x123, NULL);
    ck_assert_ptr_eq(got, page);
    ck_assert_int_eq(r.n, 2);
    ck_assert_exclusive_pair(&r, 0, addr + P, NULL, mm);
    expect_exclusive(mm, addr + P, page, true);
    ck_assert(!is_exclusive_at(mm, addr));
    ck_assert(!is_exclusive_at(mm, addr + 2 * P));
    unlock_page(got);
    put_page(got);

    /* the last byte of a page is still that page */
    got = convert(mm, addr + 3 * P - 1, OWNER);
    ck_assert_ptr_eq(got, last);
    expect_exclusive(mm, addr + 2 * P, last, true);
    ck_assert_int_eq(r.n, 4);
    ck_assert_exclusive_pair(&r, 2, addr + 2 * P, OWNER, mm);
    unlock_page(got);
    put_page(got);
    recorder_off(&r, mm);
    sim_test_expect_pages(mm, addr, 3, 60);
    mmput(mm);
}
END_TEST

/* pte_none is faulted in writable first: a private zeroed frame, no other event. */
START_TEST(converts_an_untouched_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct recorder r;
    struct page *page;

    ck_assert(pte_none(sim_pte_get(mm, addr)));
    recorder_on(&r, mm);
    page = convert(mm, addr, OWNER);
    ck_assert(!IS_ERR(page));
    ck_assert(!is_zero_pfn(page_to_pfn(page)));
    ck_assert(!is_device_private_page(page));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert(PageLocked(page));
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    expect_frame_zero(page);
    ck_assert_int_eq(r.n, 2);
    ck_assert_exclusive_pair(&r, 0, addr, OWNER, mm);
    unlock_page(page);
    put_page(page);
    recorder_off(&r, mm);
    sim_test_expect_bytes(mm, addr, 0, P);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    mmput(mm);
}
END_TEST

/* A zero-page mapping is COW-copied first (CLEAR pair): a private zeroed frame. */
START_TEST(converts_a_zero_page_mapping)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct recorder r;
    struct page *page;
    unsigned char c = 0xff;

    ck_assert_int_eq(sim_read(mm, addr, &c, 1), 0);
    ck_assert_int_eq(c, 0);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);

    recorder_on(&r, mm);
    page = convert(mm, addr, OWNER);
    ck_assert(!IS_ERR(page));
    ck_assert(!is_zero_pfn(page_to_pfn(page)));
    ck_assert_ptr_ne(page, sim_zero_page());
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    expect_frame_zero(page);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_exclusive_pair(&r, 2, addr, OWNER, mm);
    unlock_page(page);
    put_page(page);
    recorder_off(&r, mm);
    sim_test_expect_bytes(mm, addr, 0, P);
    mmput(mm);
}
END_TEST

/* A page shared with a fork child: COW broken first, the child keeps the old one. */
START_TEST(breaks_cow_with_a_child_first)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old, *page;
    struct recorder r;

    sim_test_fill_pages(mm, addr, 1, 70);
    old = sim_test_mapped_page(mm, addr);
    child = sim_fork(mm);
    ck_assert_ptr_nonnull(child);
    ck_assert_int_eq(page_mapcount(old), 2);
    ck_assert_int_eq(page_ref_count(old), 2);

    recorder_on(&r, mm);
    page = convert(mm, addr, OWNER);
    ck_assert(!IS_ERR(page));
    ck_assert_ptr_ne(page, old);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    expect_frame_pattern(page, 70);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_exclusive_pair(&r, 2, addr, OWNER, mm);
    unlock_page(page);
    put_page(page);
    recorder_off(&r, mm);

    ck_assert_int_eq(page_mapcount(old), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    ck_assert(pte_present(sim_pte_get(child, addr)));
    ck_assert(!pte_write(sim_pte_get(child, addr)));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(child, addr)), page_to_pfn(old));
    ck_assert(!is_exclusive_at(child, addr));
    expect_frame_pattern(old, 70);
    sim_test_expect_pages(child, addr, 1, 70);
    sim_test_fill_pages(child, addr, 1, 71);          /* the child's page is its own now: reused */
    ck_assert_ptr_eq(sim_test_mapped_page(child, addr), old);
    sim_test_expect_pages(mm, addr, 1, 70);
    ck_assert_ptr_eq(sim_test_mapped_page(mm, addr), page);
    mmput(child);
    mmput(mm);
}
END_TEST

/* Converting twice: GUP revokes (CLEAR pair), then the same page converts again. */
START_TEST(converting_twice_revokes_then_converts)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page, *again;
    struct recorder r;

    sim_test_fill_pages(mm, addr, 1, 80);
    page = convert_and_release(mm, addr);
    recorder_on(&r, mm);
    again = convert(mm, addr, OWNER);
    ck_assert_ptr_eq(again, page);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_exclusive(mm, addr, page, true);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_exclusive_pair(&r, 2, addr, OWNER, mm);
    unlock_page(page);
    put_page(page);
    recorder_off(&r, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_pages(mm, addr, 1, 80);
    mmput(mm);
}
END_TEST

/* --- 3. revocation by the CPU ------------------------------------------------------------ */

/* A CPU read revokes: one ownerless CLEAR pair; present, RW, dirty, read-accessed. */
START_TEST(a_cpu_read_restores_the_entry)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct recorder r;
    struct page *page;

    sim_test_fill_pages(mm, addr, 2, 90);
    page = convert_and_release(mm, addr + P);
    recorder_on(&r, mm);
    sim_test_expect_pages(mm, addr + P, 1, 91);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr + P, addr + 2 * P, mm);
    ck_assert_ptr_eq(r.log[0].owner, NULL);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P),
                      pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert(!PageLocked(page));
    sim_test_expect_pages(mm, addr, 2, 90);
    ck_assert_int_eq(r.n, 2);
    recorder_off(&r, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* A CPU write revokes the same way and writes into the same frame (no copy). */
START_TEST(a_cpu_write_restores_the_entry)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct recorder r;
    struct page *page;

    sim_test_fill_pages(mm, addr, 1, 100);
    page = convert_and_release(mm, addr);
    recorder_on(&r, mm);
    sim_test_fill_pages(mm, addr, 1, 101);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    expect_frame_pattern(page, 101);
    sim_test_expect_pages(mm, addr, 1, 101);
    ck_assert_int_eq(r.n, 2);
    recorder_off(&r, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(mm);
}
END_TEST

/* A restore with no CPU access (hmm read fault): present, RW, dirty, NOT accessed. */
START_TEST(a_restored_entry_is_old)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P), req = HMM_PFN_REQ_FAULT, out;
    struct mirror m;
    struct recorder r;
    struct page *page;

    sim_test_fill_pages(mm, addr, 1, 110);
    page = convert_and_release(mm, addr);
    mirror_init(&m, mm, addr, P);
    recorder_on(&r, mm);
    ck_assert_int_eq(mirror_fault(&m, addr, 1, &req, &out), 0);
    ck_assert_uint_eq(out, page_to_pfn(page) | V | W);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), RESTORED_RW_DIRTY));
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_int_eq(m.invalidations, 1);
    /* the CPU's read then marks it accessed, and nothing more is announced */
    sim_test_expect_pages(mm, addr, 1, 110);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    ck_assert_int_eq(r.n, 2);
    recorder_off(&r, mm);
    mirror_fini(&m);
    mmput(mm);
}
END_TEST

/* An entry clean at conversion is restored writable and clean. */
START_TEST(a_clean_entry_is_restored_clean)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P), req = HMM_PFN_REQ_FAULT, out;
    struct mirror m;
    struct page *page;

    sim_test_fill_pages(mm, addr, 1, 120);
    pte_clear_bits(mm, addr, _PAGE_DIRTY | _PAGE_ACCESSED);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW));
    ck_assert_ptr_eq(convert_and_release(mm, addr), page);
    expect_exclusive(mm, addr, page, false);
    mirror_init(&m, mm, addr, P);
    ck_assert_int_eq(mirror_fault(&m, addr, 1, &req, &out), 0);
    ck_assert_uint_eq(out, page_to_pfn(page) | V | W);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW));
    mirror_fini(&m);
    /* a read through it: accessed, still clean */
    sim_test_expect_pages(mm, addr, 1, 120);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED));
    mmput(mm);
}
END_TEST

/* mprotect(PROT_READ) keeps the entry; the restore makes it read-only and clean. */
START_TEST(mprotect_read_keeps_the_entry)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P), req = HMM_PFN_REQ_FAULT, out;
    struct page *p0, *p1;
    pte_t e0, e1;
    struct recorder r;
    struct mirror m;
    unsigned char c = 0;

    sim_test_fill_pages(mm, addr, 2, 130);
    p0 = convert_and_release(mm, addr);
    p1 = convert_and_release(mm, addr + P);
    e0 = sim_pte_get(mm, addr);
    e1 = sim_pte_get(mm, addr + P);
    recorder_on(&r, mm);
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, PROT_READ), 0);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_PROTECTION_VMA, addr, addr + 2 * P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr), e0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), e1);
    expect_exclusive(mm, addr, p0, true);
    expect_exclusive(mm, addr + P, p1, true);

    /* a CPU write is a SIGSEGV now, and changes nothing */
    ck_assert_int_eq(sim_write(mm, addr, &c, 1), -EFAULT);
    ck_assert_uint_eq(sim_pte_get(mm, addr), e0);
    ck_assert_int_eq(r.n, 2);

    /* page 0: the CPU's read */
    sim_test_expect_pages(mm, addr, 1, 130);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 2, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(p0), _PAGE_PRESENT | _PAGE_ACCESSED));
    /* page 1: a device's read fault */
    mirror_init(&m, mm, addr + P, P);
    ck_assert_int_eq(mirror_fault(&m, addr + P, 1, &req, &out), 0);
    ck_assert_uint_eq(out, page_to_pfn(p1) | V);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), pfn_pte(page_to_pfn(p1), _PAGE_PRESENT));
    ck_assert_int_eq(r.n, 6);
    ck_assert_pair(&r, 4, MMU_NOTIFY_CLEAR, addr + P, addr + 2 * P, mm);
    mirror_fini(&m);
    recorder_off(&r, mm);
    sim_test_expect_pages(mm, addr, 2, 130);
    ck_assert_int_eq(page_ref_count(p0), 1);
    ck_assert_int_eq(page_ref_count(p1), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* PROT_NONE keeps the entry, refuses the CPU unrevoked; back to RW, a read restores. */
START_TEST(prot_none_keeps_the_entry)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct recorder r;
    struct page *page;
    unsigned char c;
    pte_t e;

    sim_test_fill_pages(mm, addr, 1, 140);
    page = convert_and_release(mm, addr);
    e = sim_pte_get(mm, addr);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_NONE), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), e);
    recorder_on(&r, mm);
    ck_assert_int_eq(sim_read(mm, addr, &c, 1), -EFAULT);
    ck_assert_int_eq(r.n, 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), e);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ | PROT_WRITE), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), e);
    ck_assert_int_eq(r.n, 2);
    sim_test_expect_pages(mm, addr, 1, 140);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 2, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    recorder_off(&r, mm);
    mmput(mm);
}
END_TEST

struct reader {
    struct mm_struct *mm;
    unsigned long addr;
    unsigned char buf[P];
    int ret;
    atomic_int done;
};

static void *reader_thread(void *arg)
{
    struct reader *rd = arg;

    rd->ret = sim_read(rd->mm, rd->addr, rd->buf, P);
    atomic_store(&rd->done, 1);
    return NULL;
}

/* A CPU fault waits for the page lock the conversion returned held. */
START_TEST(the_cpu_waits_for_the_page_lock)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct reader rd = { .mm = mm, .addr = addr, .ret = -1 };
    struct timespec pause = { 0, 100 * 1000 * 1000 };
    struct recorder r;
    struct page *page;
    pthread_t t;

    sim_test_fill_pages(mm, addr, 1, 150);
    page = convert(mm, addr, OWNER);
    ck_assert(!IS_ERR(page));
    recorder_on(&r, mm);
    ck_assert_int_eq(pthread_create(&t, NULL, reader_thread, &rd), 0);
    nanosleep(&pause, NULL);
    ck_assert_int_eq(atomic_load(&rd.done), 0);
    ck_assert_int_eq(r.n, 0);
    expect_exclusive(mm, addr, page, true);
    unlock_page(page);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(rd.ret, 0);
    ck_assert_uint_eq(sim_pattern_mismatch(rd.buf, P, 150), P);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(page), ACCESSED_RW_DIRTY));
    ck_assert_int_eq(page_ref_count(page), 2);
    put_page(page);
    recorder_off(&r, mm);
    mmput(mm);
}
END_TEST

/* --- 4. zap and exit --------------------------------------------------------------------- */

/* munmap of an exclusive entry frees the frame: one UNMAP pair, no warning. */
START_TEST(munmap_frees_the_frame)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    unsigned long warnings = sim_warn_count();
    struct recorder r;

    sim_test_fill_pages(mm, addr, 2, 160);
    convert_and_release(mm, addr);
    convert_and_release(mm, addr + P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    recorder_on(&r, mm);
    ck_assert_int_eq(sim_munmap(mm, addr, P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_UNMAP, addr, addr + P, mm);
    ck_assert(pte_none(sim_pte_get(mm, addr)));
    ck_assert(is_exclusive_at(mm, addr + P));
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(sim_munmap(mm, addr + P, P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    recorder_off(&r, mm);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    mmput(mm);
}
END_TEST

/* MADV_DONTNEED frees the frame: one CLEAR pair, later reads see zeroes. */
START_TEST(madv_dontneed_frees_the_frame)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    unsigned long warnings = sim_warn_count();
    struct recorder r;

    sim_test_fill_pages(mm, addr, 2, 170);
    convert_and_release(mm, addr);
    recorder_on(&r, mm);
    ck_assert_int_eq(sim_madvise(mm, addr, 2 * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + 2 * P, mm);
    ck_assert(pte_none(sim_pte_get(mm, addr)));
    ck_assert(pte_none(sim_pte_get(mm, addr + P)));
    recorder_off(&r, mm);
    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings);
    mmput(mm);
}
END_TEST

/* Exit frees the frames; a reference the driver still holds outlives the exit. */
START_TEST(exit_frees_the_frames)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    unsigned long warnings = sim_warn_count();
    struct page *held;

    sim_test_fill_pages(mm, addr, 3, 180);
    convert_and_release(mm, addr);
    convert_and_release(mm, addr + P);
    held = convert(mm, addr + 2 * P, OWNER);
    ck_assert(!IS_ERR(held));
    unlock_page(held);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 3);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_int_eq(page_ref_count(held), 1);
    ck_assert_int_eq(page_mapcount(held), 0);
    expect_frame_pattern(held, 182);
    put_page(held);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_warn_count(), warnings);
}
END_TEST

/* --- 5. fork ----------------------------------------------------------------------------- */

/* fork restores, shares RO (map 2, ref 2); the first writer copies, the last reuses. */
START_TEST(fork_restores_and_shares_copy_on_write)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    pte_t shared;
    struct recorder r;
    struct page *page, *copy;

    sim_test_fill_pages(mm, addr, 1, 190);
    page = convert_and_release(mm, addr);
    recorder_on(&r, mm);
    child = sim_fork(mm);
    ck_assert_ptr_nonnull(child);
    ck_assert_int_eq(r.n, 2);
    ck_assert_pair(&r, 0, MMU_NOTIFY_PROTECTION_PAGE, addr, addr + P, mm);
    shared = pfn_pte(page_to_pfn(page), _PAGE_PRESENT | _PAGE_DIRTY);
    ck_assert_uint_eq(sim_pte_get(mm, addr), shared);
    ck_assert_uint_eq(sim_pte_get(child, addr), shared);
    ck_assert_int_eq(page_mapcount(page), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_int_eq(sim_check_invariants(), 0);

    /* reads share */
    sim_test_expect_pages(mm, addr, 1, 190);
    sim_test_expect_pages(child, addr, 1, 190);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_int_eq(r.n, 2);

    /* the parent writes first: a copy */
    sim_test_fill_pages(mm, addr, 1, 191);
    copy = sim_test_mapped_page(mm, addr);
    ck_assert_ptr_ne(copy, page);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 2, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_int_eq(page_ref_count(page), 1);
    sim_test_expect_pages(child, addr, 1, 190);

    /* the child writes: its frame is its own, reused in place */
    sim_test_fill_pages(child, addr, 1, 192);
    ck_assert_ptr_eq(sim_test_mapped_page(child, addr), page);
    ck_assert(pte_write(sim_pte_get(child, addr)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_pages(mm, addr, 1, 191);
    sim_test_expect_pages(child, addr, 1, 192);
    recorder_off(&r, mm);
    mmput(child);
    mmput(mm);
}
END_TEST

/* After fork the child writing first copies; the parent, left alone, reuses. */
START_TEST(fork_child_writes_first)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_fill_pages(mm, addr, 1, 200);
    page = convert_and_release(mm, addr);
    child = sim_fork(mm);
    ck_assert_ptr_nonnull(child);
    sim_test_fill_pages(child, addr, 1, 201);
    ck_assert_ptr_ne(sim_test_mapped_page(child, addr), page);
    ck_assert_int_eq(page_mapcount(page), 1);
    sim_test_fill_pages(mm, addr, 1, 202);
    ck_assert_ptr_eq(sim_test_mapped_page(mm, addr), page);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_pages(mm, addr, 1, 202);
    sim_test_expect_pages(child, addr, 1, 201);
    mmput(mm);
    sim_test_expect_pages(child, addr, 1, 201);
    mmput(child);
}
END_TEST

/* --- 6. hmm_range_fault ------------------------------------------------------------------ */

/* A snapshot answers 0 for an exclusive entry and leaves it, no invalidation. */
START_TEST(a_snapshot_answers_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P), req[3] = { 0, 0, 0 }, out[3];
    struct mirror m;
    struct recorder r;
    struct page *p0;
    pte_t e;

    sim_test_fill_pages(mm, addr, 2, 210);
    p0 = sim_test_mapped_page(mm, addr);
    convert_and_release(mm, addr + P);
    e = sim_pte_get(mm, addr + P);
    mirror_init(&m, mm, addr, 3 * P);
    recorder_on(&r, mm);
    ck_assert_int_eq(mirror_fault(&m, addr, 3, req, out), 0);
    ck_assert_uint_eq(out[0], page_to_pfn(p0) | V | W);
    ck_assert_uint_eq(out[1], 0);
    ck_assert_uint_eq(out[2], 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), e);
    ck_assert_int_eq(r.n, 0);
    ck_assert_int_eq(m.invalidations, 0);
    recorder_off(&r, mm);
    mirror_fini(&m);
    mmput(mm);
}
END_TEST

/* REQ_FAULT (+/- REQ_WRITE) revokes with one CLEAR pair, answers VALID|WRITE|pfn. */
START_TEST(a_fault_revokes_and_answers_write)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    unsigned long req[2] = { HMM_PFN_REQ_FAULT, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE };
    unsigned long out[2];
    struct page *p0, *p1;
    struct mirror m;
    struct recorder r;

    sim_test_fill_pages(mm, addr, 2, 220);
    p0 = convert_and_release(mm, addr);
    p1 = convert_and_release(mm, addr + P);
    mirror_init(&m, mm, addr, 2 * P);
    recorder_on(&r, mm);
    ck_assert_int_eq(mirror_fault(&m, addr, 2, req, out), 0);
    ck_assert_uint_eq(out[0], page_to_pfn(p0) | V | W);
    ck_assert_uint_eq(out[1], page_to_pfn(p1) | V | W);
    ck_assert_int_eq(r.n, 4);
    ck_assert_pair(&r, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_pair(&r, 2, MMU_NOTIFY_CLEAR, addr + P, addr + 2 * P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr), pfn_pte(page_to_pfn(p0), RESTORED_RW_DIRTY));
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), pfn_pte(page_to_pfn(p1), RESTORED_RW_DIRTY));
    ck_assert_int_eq(page_ref_count(p0), 1);
    ck_assert_int_eq(page_ref_count(p1), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    recorder_off(&r, mm);
    mirror_fini(&m);
    sim_test_expect_pages(mm, addr, 2, 220);
    mmput(mm);
}
END_TEST

/* --- 7. the mirror device ---------------------------------------------------------------- */

/* EXCLUSIVE: every page converted, cpages == npages, data out, no ref kept. */
START_TEST(dmirror_exclusive_converts_and_copies_out)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    memset(b->mirror, 0, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_uint_eq(b->faults, 0);
    ck_assert_ints(b->mirror, b->size, 0);
    for (unsigned long i = 0; i < npages; i++) {
        pte_t pte = sim_pte_get(f.mm, b->addr + i * P);
        struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(pte));

        expect_exclusive(f.mm, b->addr + i * P, page, true);
        ck_assert_int_eq(page_ref_count(page), 1);
        ck_assert_int_eq(page_mapcount(page), 1);
        ck_assert(!PageLocked(page));
    }
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), -EPERM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), npages);
    ck_assert_int_eq(sim_check_invariants(), 0);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* CHECK_EXCLUSIVE stays -EPERM, page by page, until the CPU has touched the pages.  A
 * touch of page k revokes its entry, and the invalidation erases the device's entries of
 * pages k and k + 1: test_hmm's erase runs through end >> PAGE_SHIFT inclusive
 * (dmirror_do_update()), while its check stops short of end (dmirror_check_atomic()). */
START_TEST(check_exclusive_until_every_page_is_touched)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 8;
    char scratch[P];
    int x;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    for (unsigned long k = 0; k < npages; k++) {
        ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages),
                         k == 0 || k + 1 < npages ? -EPERM : 0);
        /* one int of page k, read by the CPU (alternately a write) */
        if (k & 1) {
            x = (int)(k * INTS_PER_PAGE);
            ck_assert_int_eq(sim_write(f.mm, b->addr + k * P, &x, sizeof(x)), 0);
        } else {
            ck_assert_int_eq(sim_read(f.mm, b->addr + k * P, &x, sizeof(x)), 0);
            ck_assert_int_eq(x, (int)(k * INTS_PER_PAGE));
        }
        ck_assert(!is_exclusive_at(f.mm, b->addr + k * P));
        for (unsigned long j = 0; j < npages; j++)
            ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE,
                                     b->addr + j * P, 1, scratch),
                             j <= k + 1 ? 0 : -EPERM);
        if (k + 1 < npages)
            ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b->addr,
                                     k + 1, scratch), 0);
    }
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), 0);
    for (unsigned long off = 0; off < b->size; off += P) {
        int page[INTS_PER_PAGE];

        ck_assert_int_eq(sim_read(f.mm, b->addr + off, page, P), 0);
        ck_assert_ints(page, P, (int)(off / sizeof(int)));
    }
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* EXCLUSIVE into a read-only VMA: earlier pages converted and held, -EFAULT. */
START_TEST(dmirror_exclusive_stops_at_a_bad_vma)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 3;
    pte_t ro;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr + 2 * P, P, PROT_READ), 0);
    ro = sim_pte_get(f.mm, b->addr + 2 * P);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), -EFAULT);
    ck_assert(is_exclusive_at(f.mm, b->addr));
    ck_assert(is_exclusive_at(f.mm, b->addr + P));
    ck_assert_uint_eq(sim_pte_get(f.mm, b->addr + 2 * P), ro);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b->addr, 2, b->mirror),
                     -EPERM);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b->addr + 2 * P, 1,
                             b->mirror), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* EXCLUSIVE into MAP_SHARED: earlier pages converted and held, -EOPNOTSUPP. */
START_TEST(dmirror_exclusive_stops_at_shared_memory)
{
    struct hmm_fixture f;
    unsigned long addr;
    char buf[3 * P];

    fixture_setup(&f);
    addr = sim_test_map_private(f.mm, 3 * P);
    ck_assert_uint_eq(sim_test_mmap(f.mm, addr + 2 * P, P, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), addr + 2 * P);
    cpu_store_ints(f.mm, addr, 3 * P);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, addr, 3, buf), -EOPNOTSUPP);
    ck_assert(is_exclusive_at(f.mm, addr));
    ck_assert(is_exclusive_at(f.mm, addr + P));
    ck_assert(pte_present(sim_pte_get(f.mm, addr + 2 * P)));
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, addr, 3, buf), -EPERM);
    ck_assert_int_eq(sim_read(f.mm, addr, buf, 3 * P), 0);
    ck_assert_ints((const int *)buf, 3 * P, 0);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, addr, 3, buf), 0);
    ck_assert_int_eq(sim_munmap(f.mm, addr, 3 * P), 0);
    fixture_teardown(&f);
}
END_TEST

/* hmm-tests.c exclusive: data read back, CPU increments revoke, CHECK gives 0. */
START_TEST(test_exclusive)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, b->size, 0);
    cpu_increment_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), 0);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* hmm-tests.c exclusive_mprotect: a device WRITE after PROT_READ is -EPERM. */
START_TEST(test_exclusive_mprotect)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = BUFFER_PAGES;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    ck_assert_ints(b->mirror, b->size, 0);
    ck_assert_int_eq(sim_mprotect(f.mm, b->addr, b->size, PROT_READ), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_WRITE, b, npages), -EPERM);
    /* beyond the selftest: nothing was written, the entries are still exclusive */
    ck_assert(is_exclusive_at(f.mm, b->addr));
    ck_assert(is_exclusive_at(f.mm, b->addr + b->size - P));
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* hmm-tests.c exclusive_cow: after fork both processes see i, then i + 1. */
START_TEST(test_exclusive_cow)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct mm_struct *child;
    unsigned long npages = BUFFER_PAGES;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(b->cpages, npages);
    child = sim_fork(f.mm);
    ck_assert_ptr_nonnull(child);
    /* beyond the selftest: fork took every page back from the device */
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), npages);
    cpu_increment_ints(f.mm, b->addr, b->size);
    cpu_increment_ints(child, b->addr, b->size);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2 * npages);
    ck_assert_int_eq(sim_munmap(child, b->addr, b->size), 0);
    mmput(child);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* --- 8. bad input ------------------------------------------------------------------------ */

/* Both commands: -EINVAL (unaligned, 0, wrap, huge), -EFAULT (NULL), no change. */
START_TEST(commands_refuse_bad_arguments)
{
    static const unsigned int cmds[] = { HMM_DMIRROR_EXCLUSIVE, HMM_DMIRROR_CHECK_EXCLUSIVE };
    struct hmm_fixture f;
    struct hmm_buffer *b;
    struct recorder r;
    unsigned long npages = 4, top = ULONG_MAX & PAGE_MASK;
    pte_t before[4];

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    for (unsigned long i = 0; i < npages; i++)
        before[i] = sim_pte_get(f.mm, b->addr + i * P);
    recorder_on(&r, f.mm);
    for (int c = 0; c < 2; c++) {
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr + 1, npages, b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr + P / 2, 1, b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr, 0, b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], top, 1, b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], top - P, 4, b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr, (ULONG_MAX >> PAGE_SHIFT) + 1,
                                 b->mirror), -EINVAL);
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr, ULONG_MAX, b->mirror), -EINVAL);
        /* EXCLUSIVE copies the data out; CHECK_EXCLUSIVE never touches the buffer */
        ck_assert_int_eq(raw_cmd(f.dmirror, cmds[c], b->addr, npages, NULL),
                         cmds[c] == HMM_DMIRROR_EXCLUSIVE ? -EFAULT : 0);
        ck_assert_int_eq(dmirror_ioctl(f.dmirror, cmds[c], NULL), -EINVAL);
        ck_assert_int_eq(dmirror_ioctl(NULL, cmds[c], NULL), -EINVAL);
    }
    ck_assert_int_eq(r.n, 0);
    for (unsigned long i = 0; i < npages; i++)
        ck_assert_uint_eq(sim_pte_get(f.mm, b->addr + i * P), before[i]);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), 0);
    recorder_off(&r, f.mm);
    hmm_buffer_free(f.mm, b);
    fixture_teardown(&f);
}
END_TEST

/* The process exits while the mirror stays open (a file outlives its process).  The
 * exit's release invalidation has emptied the device's table, so CHECK_EXCLUSIVE finds no
 * atomic entry left: 0.  EXCLUSIVE has no address space to work on: -EINVAL
 * (lib/test_hmm.c, dmirror_exclusive(): mmget_not_zero(), Linux 6.15).  No warning. */
START_TEST(commands_after_the_process_exited)
{
    struct hmm_fixture f;
    struct hmm_buffer *b;
    unsigned long npages = 4;

    fixture_setup(&f);
    b = buffer_create(f.mm, npages);
    cpu_store_ints(f.mm, b->addr, b->size);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b, npages), 0);
    ck_assert_int_eq(hmm_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b, npages), -EPERM);
    mmput(f.mm);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_CHECK_EXCLUSIVE, b->addr, npages,
                             b->mirror), 0);
    ck_assert_int_eq(raw_cmd(f.dmirror, HMM_DMIRROR_EXCLUSIVE, b->addr, npages, b->mirror),
                     -EINVAL);
    b->addr = 0;                              /* the mapping went with the process */
    hmm_buffer_free(f.mm, b);
    dmirror_release(f.dmirror);
    dmirror_device_destroy(f.mdevice);
    ck_assert_uint_eq(sim_warn_count(), f.warnings);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch09 exclusive");
    TCase *tc = sim_tcase("refusals", 10);

    tcase_add_test(tc, refuses_an_address_without_a_vma);
    tcase_add_test(tc, refuses_a_read_only_vma);
    tcase_add_test(tc, refuses_a_prot_none_vma);
    tcase_add_test(tc, refuses_shared_memory);
    tcase_add_test(tc, refuses_a_null_or_exited_mm);
    tcase_add_test(tc, commands_after_the_process_exited);
    suite_add_tcase(s, tc);
    tc = sim_tcase("conversion", 10);
    tcase_add_test(tc, converts_a_written_page);
    tcase_add_test(tc, rounds_an_unaligned_address_down);
    tcase_add_test(tc, converts_an_untouched_page);
    tcase_add_test(tc, converts_a_zero_page_mapping);
    tcase_add_test(tc, breaks_cow_with_a_child_first);
    tcase_add_test(tc, converting_twice_revokes_then_converts);
    suite_add_tcase(s, tc);
    tc = sim_tcase("revocation", 10);
    tcase_add_test(tc, a_cpu_read_restores_the_entry);
    tcase_add_test(tc, a_cpu_write_restores_the_entry);
    tcase_add_test(tc, a_restored_entry_is_old);
    tcase_add_test(tc, a_clean_entry_is_restored_clean);
    tcase_add_test(tc, mprotect_read_keeps_the_entry);
    tcase_add_test(tc, prot_none_keeps_the_entry);
    tcase_add_test(tc, the_cpu_waits_for_the_page_lock);
    suite_add_tcase(s, tc);
    tc = sim_tcase("zap and exit", 10);
    tcase_add_test(tc, munmap_frees_the_frame);
    tcase_add_test(tc, madv_dontneed_frees_the_frame);
    tcase_add_test(tc, exit_frees_the_frames);
    suite_add_tcase(s, tc);
    tc = sim_tcase("fork", 10);
    tcase_add_test(tc, fork_restores_and_shares_copy_on_write);
    tcase_add_test(tc, fork_child_writes_first);
    suite_add_tcase(s, tc);
    tc = sim_tcase("hmm_range_fault", 10);
    tcase_add_test(tc, a_snapshot_answers_nothing);
    tcase_add_test(tc, a_fault_revokes_and_answers_write);
    suite_add_tcase(s, tc);
    tc = sim_tcase("mirror device", 60);
    tcase_add_test(tc, dmirror_exclusive_converts_and_copies_out);
    tcase_add_test(tc, check_exclusive_until_every_page_is_touched);
    tcase_add_test(tc, dmirror_exclusive_stops_at_a_bad_vma);
    tcase_add_test(tc, dmirror_exclusive_stops_at_shared_memory);
    tcase_add_test(tc, test_exclusive);
    tcase_add_test(tc, test_exclusive_mprotect);
    tcase_add_test(tc, test_exclusive_cow);
    suite_add_tcase(s, tc);
    tc = sim_tcase("bad input", 10);
    tcase_add_test(tc, commands_refuse_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}
