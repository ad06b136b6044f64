/* Chapter 2: page faults as the CPU takes them: the zero page, demand allocation,
 * copy-on-write after fork, shared anonymous memory, running out of RAM, and
 * handle_mm_fault called directly. */
#include <limits.h>
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define P PAGE_SIZE
#define BASE 0x100000000UL

static struct mm_struct *fork_ok(struct mm_struct *mm)
{
    struct mm_struct *child = sim_fork(mm);

    ck_assert_msg(!IS_ERR_OR_NULL(child), "sim_fork failed: %ld", PTR_ERR(child));
    return child;
}

/* ------------------------------------------------------------------------------------
 * Demand faults in private memory
 */

/* The first read of private memory maps the shared zero page read-only, allocating no
 * frame and taking neither a reference nor a map count on the zero page. */
START_TEST(test_first_read_maps_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *zero = sim_zero_page();
    int zero_ref = page_ref_count(zero), zero_map = page_mapcount(zero);
    pte_t pte;

    ck_assert(PageReserved(zero));
    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    for (int i = 0; i < 2; i++) {
        pte = sim_pte_get(mm, addr + i * P);
        ck_assert(pte_present(pte));
        ck_assert(!pte_protnone(pte));
        ck_assert(!pte_write(pte));
        ck_assert(is_zero_pfn(pte_pfn(pte)));
        ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(zero));
    }
    sim_test_expect_bytes(mm, addr + 100, 0, P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(page_ref_count(zero), zero_ref);
    ck_assert_int_eq(page_mapcount(zero), zero_map);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(zero), P, 0), P);
    mmput(mm);
    ck_assert_int_eq(page_ref_count(zero), zero_ref);
}
END_TEST

/* A write to a zero-page entry replaces it by a private, writable, zero-filled frame with
 * one reference and one mapping; the neighbouring page keeps the zero page. */
START_TEST(test_write_replaces_zero_page)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *page;
    pte_t pte;

    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    ck_assert_int_eq(sim_write(mm, addr + 7, "hello", 5), 0);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_present(pte));
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    page = pfn_to_page(pte_pfn(pte));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr + P))));
    sim_test_expect_bytes(mm, addr, 0, 7);
    sim_test_expect_bytes(mm, addr + 12, 0, P - 12);
    {
        char buf[5];

        ck_assert_int_eq(sim_read(mm, addr + 7, buf, 5), 0);
        ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    }
    /* The zero page itself was not written. */
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(sim_zero_page()), P, 0), P);
    mmput(mm);
}
END_TEST

/* A first write to an untouched page allocates a writable private frame directly. */
START_TEST(test_first_write_allocates_frame)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    struct page *page;

    ck_assert_int_eq(sim_write(mm, addr + P, "x", 1), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + 2 * P), 0);
    ck_assert(pte_write(sim_pte_get(mm, addr + P)));
    page = sim_test_mapped_page(mm, addr + P);
    ck_assert(!is_zero_pfn(page_to_pfn(page)));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_uint_eq(((unsigned char *)sim_page_address(page))[0], 'x');
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(mm);
    ck_assert_int_eq(page_ref_count(page), 0);
}
END_TEST

/* Accesses that straddle page boundaries at odd offsets fault in both pages and move
 * exactly the bytes asked for. */
START_TEST(test_unaligned_cross_page_access)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 4 * P);
    unsigned char in[300], out[P + 2];

    sim_fill_pattern(in, sizeof(in), 77);
    ck_assert_int_eq(sim_write(mm, addr + P - 150, in, sizeof(in)), 0);
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert(pte_write(sim_pte_get(mm, addr + P)));
    ck_assert_uint_eq(sim_pte_get(mm, addr + 2 * P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(sim_read(mm, addr + P - 170, out, sizeof(out)), 0);
    ck_assert_uint_eq(sim_bytes_mismatch(out, 20, 0), 20);
    ck_assert_int_eq(memcmp(out + 20, in, sizeof(in)), 0);
    ck_assert_uint_eq(sim_bytes_mismatch(out + 320, 20, 0), 20);
    /* A single byte on each side of the boundary. */
    ck_assert_int_eq(sim_read(mm, addr + P - 1, out, 2), 0);
    ck_assert_uint_eq(out[0], in[149]);
    ck_assert_uint_eq(out[1], in[150]);
    /* Across three pages, the middle one whole. */
    ck_assert_int_eq(sim_write(mm, addr + 2 * P - 1, in, 2), 0);
    ck_assert_int_eq(sim_read(mm, addr + P - 1, out, P + 2), 0);
    ck_assert_uint_eq(out[0], in[149]);
    ck_assert_uint_eq(out[P], in[0]);
    ck_assert_uint_eq(out[P + 1], in[1]);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 3);
    mmput(mm);
}
END_TEST

#define ROUND_TRIP_PAGES 64

/* A large write at an odd offset round-trips exactly through reads of odd sizes, and
 * allocates exactly the pages it touches. */
START_TEST(test_round_trip_many_pages)
{
    enum { LEN = ROUND_TRIP_PAGES * P, OFF = 123 };
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, LEN + P);
    static unsigned char in[LEN], out[LEN];

    sim_fill_pattern(in, LEN, 3);
    ck_assert_int_eq(sim_write(mm, addr + OFF, in, LEN), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), ROUND_TRIP_PAGES + 1);
    memset(out, 0, LEN);
    for (unsigned long done = 0, chunk = 1; done < LEN; chunk = chunk * 3 + 7) {
        unsigned long n = chunk < LEN - done ? chunk : LEN - done;

        ck_assert_int_eq(sim_read(mm, addr + OFF + done, out + done, n), 0);
        done += n;
    }
    ck_assert_int_eq(memcmp(in, out, LEN), 0);
    ck_assert_int_eq(sim_read(mm, addr + OFF, out, LEN), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(out, LEN, 3), LEN);
    sim_test_expect_bytes(mm, addr, 0, OFF);
    sim_test_expect_bytes(mm, addr + OFF + LEN, 0, P - OFF);
    ck_assert_uint_eq(sim_nr_pages_in_use(), ROUND_TRIP_PAGES + 1);
    mmput(mm);
}
END_TEST

/* handle_mm_fault, called with the mmap read lock held: 0 for a legal read (zero page)
 * or write (private frame) and for a spurious fault; VM_FAULT_SIGSEGV for a write to a
 * read-only VMA, any access to a PROT_NONE one, an address outside the VMA and no VMA,
 * with the entry left alone. */
START_TEST(test_handle_mm_fault_directly)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long rw = sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED);
    unsigned long ro = sim_test_mmap(mm, BASE + 4 * P, P, PROT_READ, PRIV | MAP_FIXED);
    unsigned long none = sim_test_mmap(mm, BASE + 6 * P, P, PROT_NONE, PRIV | MAP_FIXED);
    struct vm_area_struct *vma_rw, *vma_ro, *vma_none;
    pte_t pte;

    mmap_read_lock(mm);
    vma_rw = vma_lookup(mm, rw);
    vma_ro = vma_lookup(mm, ro);
    vma_none = vma_lookup(mm, none);
    ck_assert_ptr_nonnull(vma_rw);
    ck_assert_ptr_nonnull(vma_ro);
    ck_assert_ptr_nonnull(vma_none);

    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + 5, 0), 0);
    pte = sim_pte_get(mm, rw);
    ck_assert(pte_present(pte));
    ck_assert(!pte_write(pte));
    ck_assert(is_zero_pfn(pte_pfn(pte)));
    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + 5, 0), 0);
    ck_assert_uint_eq(sim_pte_get(mm, rw) & ~_PAGE_ACCESSED, pte & ~_PAGE_ACCESSED);

    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + P + 9, FAULT_FLAG_WRITE), 0);
    pte = sim_pte_get(mm, rw + P);
    ck_assert(pte_present(pte));
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + P, FAULT_FLAG_WRITE), 0);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, rw + P)), pte_pfn(pte));
    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + P, 0), 0);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, rw + P)), pte_pfn(pte));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);

    /* The zero-page entry written through handle_mm_fault gets its own frame. */
    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw, FAULT_FLAG_WRITE), 0);
    pte = sim_pte_get(mm, rw);
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);

    ck_assert_uint_eq(handle_mm_fault(vma_ro, ro, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(sim_pte_get(mm, ro), 0);
    ck_assert_uint_eq(handle_mm_fault(vma_ro, ro, 0), 0);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, ro))));
    ck_assert_uint_eq(handle_mm_fault(vma_ro, ro, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
    ck_assert(!pte_write(sim_pte_get(mm, ro)));

    ck_assert_uint_eq(handle_mm_fault(vma_none, none, 0), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(handle_mm_fault(vma_none, none, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(sim_pte_get(mm, none), 0);

    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw + 2 * P, 0), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(handle_mm_fault(vma_rw, rw - 1, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(handle_mm_fault(NULL, rw, 0), VM_FAULT_SIGSEGV);
    ck_assert_uint_eq(sim_pte_get(mm, rw + 2 * P), 0);
    ck_assert_uint_eq(sim_pte_get(mm, rw - P), 0);
    mmap_read_unlock(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * fork and copy-on-write
 */

/* The exact state right after fork of a written private page: both entries read-only on
 * the same frame, mapped twice, referenced twice, no new frame. */
START_TEST(test_fork_shares_private_frames_read_only)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct page *page;
    pte_t ppte, cpte;

    sim_test_memset(mm, addr, 0x3e, 2 * P);
    page = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    ck_assert_ptr_ne(child, mm);
    ppte = sim_pte_get(mm, addr);
    cpte = sim_pte_get(child, addr);
    ck_assert(pte_present(ppte));
    ck_assert(pte_present(cpte));
    ck_assert(!pte_write(ppte));
    ck_assert(!pte_write(cpte));
    ck_assert_uint_eq(pte_pfn(ppte), page_to_pfn(page));
    ck_assert_uint_eq(pte_pfn(cpte), page_to_pfn(page));
    ck_assert_int_eq(page_mapcount(page), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(child, addr, 0x3e, 2 * P);
    sim_test_expect_bytes(mm, addr, 0x3e, 2 * P);
    /* Reading takes no copy. */
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    mmput(child);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* Parent writes first: it gets a new frame; the child keeps the old one and the old
 * data; then the child's write reuses the old frame in place. */
START_TEST(test_cow_parent_writes_first)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old, *new;
    pte_t pte;

    sim_test_memset(mm, addr, 0x01, P);
    old = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    sim_test_memset(mm, addr, 0x02, 10);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_write(pte));
    ck_assert_uint_ne(pte_pfn(pte), page_to_pfn(old));
    new = pfn_to_page(pte_pfn(pte));
    ck_assert_int_eq(page_ref_count(new), 1);
    ck_assert_int_eq(page_mapcount(new), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    ck_assert_int_eq(page_mapcount(old), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    /* The copy carries the old contents under the new write. */
    sim_test_expect_bytes(mm, addr, 0x02, 10);
    sim_test_expect_bytes(mm, addr + 10, 0x01, P - 10);
    sim_test_expect_bytes(child, addr, 0x01, P);
    ck_assert(!pte_write(sim_pte_get(child, addr)));

    sim_test_memset(child, addr + 100, 0x03, 10);
    pte = sim_pte_get(child, addr);
    ck_assert(pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(old));
    ck_assert_int_eq(page_mapcount(old), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(child, addr + 100, 0x03, 10);
    sim_test_expect_bytes(mm, addr + 100, 0x01, 10);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_bytes(child, addr, 0x01, 100);
    mmput(child);
}
END_TEST

/* Child writes first: the mirror image. */
START_TEST(test_cow_child_writes_first)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *old;
    pte_t pte;

    sim_test_memset(mm, addr, 0x11, P);
    old = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    sim_test_memset(child, addr, 0x22, P);
    pte = sim_pte_get(child, addr);
    ck_assert(pte_write(pte));
    ck_assert_uint_ne(pte_pfn(pte), page_to_pfn(old));
    ck_assert_int_eq(page_mapcount(old), 1);
    ck_assert_int_eq(page_ref_count(old), 1);
    sim_test_expect_bytes(mm, addr, 0x11, P);
    sim_test_memset(mm, addr, 0x33, P);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), page_to_pfn(old));
    sim_test_expect_bytes(child, addr, 0x22, P);
    sim_test_expect_bytes(mm, addr, 0x33, P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(child);
    mmput(mm);
}
END_TEST

/* Once the child is gone, the parent's first write reuses its frame: no copy. */
START_TEST(test_cow_after_child_exit_reuses_frame)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x44, P);
    page = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    mmput(child);
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    ck_assert_int_eq(page_ref_count(page), 1);
    sim_test_memset(mm, addr, 0x45, 1);
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), page_to_pfn(page));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_bytes(mm, addr + 1, 0x44, P - 1);
    mmput(mm);
}
END_TEST

/* An extra reference (a driver holding the page) forces a copy even for the only
 * mapper, and the holder's frame keeps the old data. */
START_TEST(test_cow_copies_when_page_is_pinned)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x50, P);
    page = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    mmput(child);
    get_page(page);
    sim_test_memset(mm, addr, 0x51, P);
    ck_assert_uint_ne(pte_pfn(sim_pte_get(mm, addr)), page_to_pfn(page));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert_uint_eq(sim_bytes_mismatch(sim_page_address(page), P, 0x50), P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    put_page(page);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(mm);
}
END_TEST

/* Three generations share one frame (three mappings, three references); each writer in
 * turn gets its own copy, and the last one reuses the original. */
START_TEST(test_cow_three_generations)
{
    struct mm_struct *a = sim_mm_create(), *b, *c;
    unsigned long addr = sim_test_map_private(a, P);
    struct page *page;

    sim_test_memset(a, addr, 0xa0, P);
    page = sim_test_mapped_page(a, addr);
    b = fork_ok(a);
    c = fork_ok(b);
    ck_assert_int_eq(page_mapcount(page), 3);
    ck_assert_int_eq(page_ref_count(page), 3);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(c, addr)), page_to_pfn(page));
    sim_test_memset(b, addr, 0xb0, P);
    ck_assert_int_eq(page_mapcount(page), 2);
    sim_test_memset(a, addr, 0xa1, P);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_int_eq(page_ref_count(page), 1);
    sim_test_memset(c, addr, 0xc0, P);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(c, addr)), page_to_pfn(page));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 3);
    sim_test_expect_bytes(a, addr, 0xa1, P);
    sim_test_expect_bytes(b, addr, 0xb0, P);
    sim_test_expect_bytes(c, addr, 0xc0, P);
    mmput(b);
    mmput(a);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(c);
}
END_TEST

/* Zero-page entries are copied as zero-page entries; a write in either process gets a
 * fresh zeroed frame and leaves the other on the zero page. */
START_TEST(test_fork_of_zero_page_mappings)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    pte_t pte;

    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    child = fork_ok(mm);
    for (int i = 0; i < 2; i++) {
        pte = sim_pte_get(child, addr + i * P);
        ck_assert(pte_present(pte));
        ck_assert(!pte_write(pte));
        ck_assert(is_zero_pfn(pte_pfn(pte)));
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    sim_test_memset(child, addr + 10, 0x5f, 1);
    pte = sim_pte_get(child, addr);
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_bytes(child, addr, 0, 10);
    sim_test_expect_bytes(child, addr + 11, 0, 2 * P - 11);
    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    sim_test_memset(mm, addr + P, 0x60, P);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(child, addr + P))));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
    mmput(child);
}
END_TEST

/* The child gets every VMA with the same bounds and flags, and untouched memory stays
 * untouched (no entry) in both. */
START_TEST(test_fork_copies_vma_layout)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    struct {
        unsigned long start, len;
        int prot, flags;
        unsigned long vm;
    } maps[] = {
        { BASE, 2 * P, RW, PRIV, VM_READ | VM_WRITE },
        { BASE + 3 * P, P, PROT_READ, PRIV, VM_READ },
        { BASE + 4 * P, P, PROT_NONE, PRIV, 0 },
        { BASE + 6 * P, 3 * P, RW, SHARED, VM_READ | VM_WRITE | VM_SHARED },
        { BASE + 9 * P, P, PROT_READ, SHARED, VM_READ | VM_SHARED },
    };
    enum { N = sizeof(maps) / sizeof(maps[0]) };

    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(sim_test_mmap(mm, maps[i].start, maps[i].len, maps[i].prot,
                                        maps[i].flags | MAP_FIXED),
                          maps[i].start);
    child = fork_ok(mm);
    ck_assert_int_eq(child->map_count, N);
    mmap_read_lock(child);
    for (int i = 0; i < N; i++) {
        struct vm_area_struct *vma = vma_lookup(child, maps[i].start + maps[i].len - 1);

        ck_assert_ptr_nonnull(vma);
        ck_assert_uint_eq(vma->vm_start, maps[i].start);
        ck_assert_uint_eq(vma->vm_end, maps[i].start + maps[i].len);
        ck_assert_uint_eq(vma->vm_flags & (VM_READ | VM_WRITE | VM_SHARED), maps[i].vm);
        ck_assert_ptr_eq(vma->vm_mm, child);
    }
    ck_assert_ptr_null(vma_lookup(child, BASE + 2 * P));
    ck_assert_ptr_null(vma_lookup(child, BASE + 5 * P));
    mmap_read_unlock(child);
    for (int i = 0; i < N; i++) {
        ck_assert_uint_eq(sim_pte_get(mm, maps[i].start), 0);
        ck_assert_uint_eq(sim_pte_get(child, maps[i].start), 0);
    }
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
    mmput(child);
}
END_TEST

/* Protnone entries are inherited with their data: once the child makes the range
 * accessible it reads the parent's bytes, and its writes are copied, not shared. */
START_TEST(test_fork_of_protnone_mapping)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x6d, P);
    page = sim_test_mapped_page(mm, addr);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_NONE), 0);
    child = fork_ok(mm);
    ck_assert(pte_protnone(sim_pte_get(child, addr)));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(child, addr)), page_to_pfn(page));
    ck_assert_int_eq(page_mapcount(page), 2);
    ck_assert_int_eq(sim_read(child, addr, &(char){ 0 }, 1), -EFAULT);
    ck_assert_int_eq(sim_mprotect(child, addr, P, RW), 0);
    sim_test_expect_bytes(child, addr, 0x6d, P);
    sim_test_memset(child, addr, 0x6e, P);
    ck_assert_uint_ne(pte_pfn(sim_pte_get(child, addr)), page_to_pfn(page));
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ), 0);
    sim_test_expect_bytes(mm, addr, 0x6d, P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(child);
    mmput(mm);
}
END_TEST

/* DONTNEED in the parent after fork: the parent sees zeroes, the child keeps the data,
 * and the frame is now the child's alone. */
START_TEST(test_dontneed_after_fork)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    struct page *page;

    sim_test_memset(mm, addr, 0x7a, P);
    page = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    ck_assert_int_eq(sim_madvise(mm, addr, P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_bytes(mm, addr, 0, P);
    sim_test_expect_bytes(child, addr, 0x7a, P);
    sim_test_memset(child, addr, 0x7b, 1);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(child, addr)), page_to_pfn(page));
    mmput(child);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

/* MAP_FIXED in the parent over a page it shares with a child drops only the parent's
 * mapping. */
START_TEST(test_map_fixed_over_cow_page)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    struct page *page;

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x8c, P);
    page = sim_test_mapped_page(mm, BASE);
    child = fork_ok(mm);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE, P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    sim_test_expect_bytes(mm, BASE, 0, P);
    sim_test_expect_bytes(child, BASE, 0x8c, P);
    mmput(mm);
    mmput(child);
}
END_TEST

/* The parent and its child, each with private, COW-shared and shared memory, are torn
 * down in either order without leaving a frame behind. */
START_TEST(test_teardown_frees_every_frame)
{
    for (int order = 0; order < 2; order++) {
        struct mm_struct *mm = sim_mm_create(), *child;
        unsigned long priv = sim_test_map_private(mm, 8 * P);
        unsigned long shared = sim_test_map_shared(mm, 8 * P);

        sim_test_memset(mm, priv, 0x90, 8 * P);
        sim_test_memset(mm, shared, 0x91, 4 * P);
        sim_test_expect_bytes(mm, shared + 4 * P, 0, 2 * P);
        child = fork_ok(mm);
        sim_test_memset(child, priv, 0x92, 2 * P);
        sim_test_memset(child, shared + 6 * P, 0x93, 2 * P);
        sim_test_expect_bytes(mm, shared + 6 * P, 0x93, 2 * P);
        ck_assert_uint_eq(sim_nr_pages_in_use(), 8 + 2 + 8);
        mmput(order ? child : mm);
        ck_assert_uint_eq(sim_nr_pages_in_use(), 8 + 8);
        mmput(order ? mm : child);
        ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    }
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Shared anonymous memory
 */

/* After fork, parent and child see each other's writes in the same frame, both ways. */
START_TEST(test_shared_memory_after_fork)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_shared(mm, 2 * P);
    struct page *page;
    pte_t ppte, cpte;

    sim_test_memset(mm, addr, 0xc1, P);
    page = sim_test_mapped_page(mm, addr);
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    child = fork_ok(mm);
    /* Nothing is copied or write-protected for shared memory. */
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert_uint_eq(sim_pte_get(child, addr), 0);
    sim_test_expect_bytes(child, addr, 0xc1, P);
    ppte = sim_pte_get(mm, addr);
    cpte = sim_pte_get(child, addr);
    ck_assert_uint_eq(pte_pfn(ppte), pte_pfn(cpte));
    ck_assert(pte_write(cpte));
    ck_assert_int_eq(page_ref_count(page), 3);
    ck_assert_int_eq(page_mapcount(page), 2);
    sim_test_memset(child, addr + 10, 0xc2, 5);
    sim_test_expect_bytes(mm, addr + 10, 0xc2, 5);
    sim_test_memset(mm, addr + 20, 0xc3, 5);
    sim_test_expect_bytes(child, addr + 20, 0xc3, 5);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), page_to_pfn(page));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(child, addr)), page_to_pfn(page));
    /* A page first touched in the child after fork is shared too. */
    sim_test_memset(child, addr + P, 0xc4, P);
    sim_test_expect_bytes(mm, addr + P, 0xc4, P);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr + P)),
                      pte_pfn(sim_pte_get(child, addr + P)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(page_ref_count(page), 2);
    sim_test_expect_bytes(child, addr, 0xc1, 10);
    mmput(child);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* The first read of shared memory allocates the object's frame (shared memory has no
 * zero page), mapped writable when the VMA is. */
START_TEST(test_shared_first_read)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long rw = sim_test_map_shared(mm, P);
    unsigned long ro = sim_test_mmap(mm, 0, P, PROT_READ, SHARED);
    pte_t pte;

    sim_test_expect_bytes(mm, rw, 0, P);
    pte = sim_pte_get(mm, rw);
    ck_assert(pte_present(pte));
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    sim_test_expect_bytes(mm, ro, 0, P);
    pte = sim_pte_get(mm, ro);
    ck_assert(pte_present(pte));
    ck_assert(!pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    ck_assert_int_eq(sim_write(mm, ro, "x", 1), -EFAULT);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* Shared memory made read-only and writable again is written in place: no copy, and
 * the other process sees the write. */
START_TEST(test_shared_mprotect_writes_in_place)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_shared(mm, P), pfn;

    sim_test_memset(mm, addr, 0xd1, P);
    pfn = pte_pfn(sim_pte_get(mm, addr));
    child = fork_ok(mm);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ), 0);
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    ck_assert_int_eq(sim_write(mm, addr, "x", 1), -EFAULT);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, RW), 0);
    sim_test_memset(mm, addr, 0xd2, 1);
    ck_assert(pte_write(sim_pte_get(mm, addr)));
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), pfn);
    sim_test_expect_bytes(child, addr, 0xd2, 1);
    sim_test_expect_bytes(child, addr + 1, 0xd1, P - 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(child);
    mmput(mm);
}
END_TEST

/* Splitting a shared mapping (munmap, mprotect) keeps each remaining page bound to its
 * own page of the object: zapped and faulted in again, in this process or a child, every
 * page still holds its own data. */
START_TEST(test_shared_split_keeps_offsets)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned char buf[P];

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 6 * P, RW, SHARED | MAP_FIXED), BASE);
    for (int i = 0; i < 6; i++)
        sim_test_memset(mm, BASE + i * P, 0xe0 + i, P);
    ck_assert_int_eq(sim_munmap(mm, BASE + P, P), 0);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 4 * P, P, PROT_READ), 0);
    ck_assert_int_eq(mm->map_count, 4);
    ck_assert_int_eq(sim_madvise(mm, BASE, 6 * P, MADV_DONTNEED), -ENOMEM);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(sim_pte_get(mm, BASE + i * P), 0);
    for (int i = 0; i < 6; i++)
        if (i != 1)
            sim_test_expect_bytes(mm, BASE + i * P, 0xe0 + i, P);
    child = fork_ok(mm);
    for (int i = 5; i >= 0; i--)
        if (i != 1)
            sim_test_expect_bytes(child, BASE + i * P, 0xe0 + i, P);
    sim_test_memset(child, BASE + 5 * P, 0xf5, P);
    sim_test_expect_bytes(mm, BASE + 5 * P, 0xf5, P);
    ck_assert_int_eq(sim_read(child, BASE + P, buf, 1), -EFAULT);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 6);
    mmput(mm);
    mmput(child);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Running out of RAM.  Each test sizes the machine first and creates the zero page,
 * which the fault paths need, before filling up what is left.
 */

#define OOM_RAM 8

/* Boot a machine of nr_pages frames, make sure the zero page exists, and return how many
 * frames are free for the test (the zero page may or may not be one of the machine's). */
static unsigned long small_machine(unsigned long nr_pages)
{
    unsigned long n;

    ck_assert_int_eq(sim_ram_configure(nr_pages), 0);
    ck_assert_ptr_nonnull(sim_zero_page());
    n = sim_nr_free_pages();
    ck_assert_uint_ge(n, nr_pages - 1);
    ck_assert_uint_le(n, nr_pages);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    return n;
}

/* A write fault with no frame left is -ENOMEM and changes nothing; it succeeds once a
 * frame is freed. */
START_TEST(test_oom_write_fault)
{
    unsigned long n = small_machine(OOM_RAM);
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * OOM_RAM * P);
    unsigned long full = addr + n * P, zero = addr + (n + 1) * P;
    char c = 1;

    for (unsigned long i = 0; i < n; i++)
        ck_assert_int_eq(sim_write(mm, addr + i * P, &c, 1), 0);
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    ck_assert_int_eq(sim_write(mm, full, &c, 1), -ENOMEM);
    ck_assert_uint_eq(sim_pte_get(mm, full), 0);
    /* Reading needs no frame. */
    sim_test_expect_bytes(mm, zero, 0, P);
    /* A zero-page entry cannot be copied either. */
    ck_assert_int_eq(sim_write(mm, zero, &c, 1), -ENOMEM);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, zero))));
    ck_assert(!pte_write(sim_pte_get(mm, zero)));
    /* handle_mm_fault says why. */
    mmap_read_lock(mm);
    ck_assert_uint_eq(handle_mm_fault(vma_lookup(mm, addr), full, FAULT_FLAG_WRITE),
                      VM_FAULT_OOM);
    ck_assert_uint_eq(handle_mm_fault(vma_lookup(mm, addr), zero, FAULT_FLAG_WRITE),
                      VM_FAULT_OOM);
    mmap_read_unlock(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), n);
    ck_assert_int_eq(sim_check_invariants(), 0);
    ck_assert_int_eq(sim_madvise(mm, addr, P, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_write(mm, zero, &c, 1), 0);
    ck_assert(pte_write(sim_pte_get(mm, zero)));
    mmput(mm);
    ck_assert_uint_eq(sim_nr_free_pages(), n);
}
END_TEST

/* A shared fault with no frame left is -ENOMEM, for a read as well (shared memory has
 * no zero page). */
START_TEST(test_oom_shared_fault)
{
    unsigned long n = small_machine(OOM_RAM);
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 2 * OOM_RAM * P);
    unsigned long full = addr + n * P;
    char c = 1;

    for (unsigned long i = 0; i < n; i++)
        ck_assert_int_eq(sim_write(mm, addr + i * P, &c, 1), 0);
    ck_assert_int_eq(sim_write(mm, full, &c, 1), -ENOMEM);
    ck_assert_int_eq(sim_read(mm, full, &c, 1), -ENOMEM);
    ck_assert_int_eq(c, 1);
    ck_assert_uint_eq(sim_pte_get(mm, full), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), n);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_free_pages(), n);
}
END_TEST

/* A copy-on-write fault with no frame left is -ENOMEM and leaves the shared frame
 * exactly as it was: same entry, two mappings, two references. */
START_TEST(test_oom_cow_copy)
{
    unsigned long n = small_machine(4);
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, n * P);
    struct page *page;
    pte_t before;

    sim_test_memset(mm, addr, 0x4f, n * P);
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    page = sim_test_mapped_page(mm, addr);
    child = fork_ok(mm);
    before = sim_pte_get(mm, addr);
    ck_assert_int_eq(sim_write(mm, addr, "x", 1), -ENOMEM);
    ck_assert_int_eq(sim_write(child, addr, "x", 1), -ENOMEM);
    ck_assert_uint_eq(sim_pte_get(mm, addr), before);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 2);
    sim_test_expect_bytes(mm, addr, 0x4f, n * P);
    sim_test_expect_bytes(child, addr, 0x4f, n * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), n);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(child);
    sim_test_memset(mm, addr, 0x50, P);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), page_to_pfn(page));
    mmput(mm);
}
END_TEST

/* With RAM exhausted before the first read fault of the process, reading fresh memory
 * still works: the zero page needs no new frame. */
START_TEST(test_read_with_ram_exhausted)
{
    struct page *pages[4];
    struct mm_struct *mm;
    unsigned long addr;

    ck_assert_int_eq(sim_ram_configure(4), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_ptr_nonnull(pages[i] = alloc_page());
    mm = sim_mm_create();
    addr = sim_test_map_private(mm, P);
    sim_test_expect_bytes(mm, addr, 0, P);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr))));
    mmput(mm);
    for (int i = 0; i < 4; i++)
        put_page(pages[i]);
}
END_TEST

/* A process that used the last frame of RAM can still exit. */
START_TEST(test_exit_with_ram_exhausted)
{
    struct mm_struct *mm;
    unsigned long addr;

    ck_assert_int_eq(sim_ram_configure(1), 0);
    mm = sim_mm_create();
    addr = sim_test_map_private(mm, P);
    sim_test_memset(mm, addr, 0x0f, P);
    ck_assert_uint_eq(sim_nr_free_pages(), 0);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch02_faults");
    TCase *tc;

    tc = sim_tcase("demand", 5);
    tcase_add_test(tc, test_first_read_maps_zero_page);
    tcase_add_test(tc, test_write_replaces_zero_page);
    tcase_add_test(tc, test_first_write_allocates_frame);
    tcase_add_test(tc, test_unaligned_cross_page_access);
    tcase_add_test(tc, test_round_trip_many_pages);
    tcase_add_test(tc, test_handle_mm_fault_directly);
    suite_add_tcase(s, tc);

    tc = sim_tcase("fork", 5);
    tcase_add_test(tc, test_fork_shares_private_frames_read_only);
    tcase_add_test(tc, test_cow_parent_writes_first);
    tcase_add_test(tc, test_cow_child_writes_first);
    tcase_add_test(tc, test_cow_after_child_exit_reuses_frame);
    tcase_add_test(tc, test_cow_copies_when_page_is_pinned);
    tcase_add_test(tc, test_cow_three_generations);
    tcase_add_test(tc, test_fork_of_zero_page_mappings);
    tcase_add_test(tc, test_fork_copies_vma_layout);
    tcase_add_test(tc, test_fork_of_protnone_mapping);
    tcase_add_test(tc, test_dontneed_after_fork);
    tcase_add_test(tc, test_map_fixed_over_cow_page);
    tcase_add_test(tc, test_teardown_frees_every_frame);
    suite_add_tcase(s, tc);

    tc = sim_tcase("shared", 5);
    tcase_add_test(tc, test_shared_memory_after_fork);
    tcase_add_test(tc, test_shared_first_read);
    tcase_add_test(tc, test_shared_mprotect_writes_in_place);
    tcase_add_test(tc, test_shared_split_keeps_offsets);
    suite_add_tcase(s, tc);

    tc = sim_tcase("oom", 5);
    tcase_add_test(tc, test_oom_write_fault);
    tcase_add_test(tc, test_oom_shared_fault);
    tcase_add_test(tc, test_oom_cow_copy);
    tcase_add_test(tc, test_read_with_ram_exhausted);
    tcase_add_test(tc, test_exit_with_ram_exhausted);
    suite_add_tcase(s, tc);
    return s;
}
