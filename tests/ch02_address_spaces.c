/* Chapter 2: address spaces, VMAs and the calls that change them (mmap, munmap,
 * mprotect, madvise), with every error the entry points report. */
#include <limits.h>
#include <string.h>
#include "testlib.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define P PAGE_SIZE

/* A place for MAP_FIXED mappings, far from where the library puts the others. */
#define BASE 0x100000000UL

/* The bounds and flags of the VMA at addr, looked up under the mmap lock. */
struct vma_info {
    bool found;
    unsigned long start, end, flags;
    struct mm_struct *mm;
};

static struct vma_info lookup(struct mm_struct *mm, unsigned long addr)
{
    struct vma_info info = { false, 0, 0, 0, NULL };
    struct vm_area_struct *vma;

    mmap_read_lock(mm);
    vma = vma_lookup(mm, addr);
    if (vma)
        info = (struct vma_info){ true, vma->vm_start, vma->vm_end, vma->vm_flags,
                                  vma->vm_mm };
    mmap_read_unlock(mm);
    return info;
}

#define VM_RWS (VM_READ | VM_WRITE | VM_SHARED)

/* Fail unless addr lies in a VMA [start, end) whose read/write/shared flags are rws. */
static void expect_vma(struct mm_struct *mm, unsigned long addr, unsigned long start,
                       unsigned long end, unsigned long rws)
{
    struct vma_info v = lookup(mm, addr);

    ck_assert_msg(v.found, "no vma at %#lx", addr);
    ck_assert_uint_eq(v.start, start);
    ck_assert_uint_eq(v.end, end);
    ck_assert_uint_eq(v.flags & VM_RWS, rws);
    ck_assert_ptr_eq(v.mm, mm);
}

static void expect_no_vma(struct mm_struct *mm, unsigned long addr)
{
    struct vma_info v = lookup(mm, addr);

    ck_assert_msg(!v.found, "unexpected vma [%#lx, %#lx) at %#lx", v.start, v.end, addr);
}

/* ------------------------------------------------------------------------------------
 * The life of an mm
 */

/* A new address space has no VMA and no page; mmput frees it. */
START_TEST(test_mm_create_and_mmput)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_ptr_nonnull(mm);
    ck_assert(sim_mm_alive(mm));
    expect_no_vma(mm, SIM_MMAP_MIN_ADDR);
    expect_no_vma(mm, BASE);
    ck_assert_int_eq(mm->map_count, 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmput(mm);
}
END_TEST

/* Two address spaces are independent: the same address holds different data. */
START_TEST(test_mms_are_independent)
{
    struct mm_struct *a = sim_mm_create(), *b = sim_mm_create();

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(sim_test_mmap(a, BASE, P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(b, BASE, P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(a, BASE, 0xaa, P);
    sim_test_memset(b, BASE, 0xbb, P);
    sim_test_expect_bytes(a, BASE, 0xaa, P);
    sim_test_expect_bytes(b, BASE, 0xbb, P);
    ck_assert_uint_ne(pte_pfn(sim_pte_get(a, BASE)), pte_pfn(sim_pte_get(b, BASE)));
    mmput(a);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    sim_test_expect_bytes(b, BASE, 0xbb, P);
    mmput(b);
}
END_TEST

/* mmget adds a user: the address space survives the creator's mmput and is torn down
 * by the last one. */
START_TEST(test_mmget_keeps_mm_alive)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);

    sim_test_memset(mm, addr, 0x5c, 2 * P);
    mmget(mm);
    ck_assert(mmget_not_zero(mm));
    mmput(mm);
    mmput(mm);
    ck_assert(sim_mm_alive(mm));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(mm, addr, 0x5c, 2 * P);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
}
END_TEST

/* The last mmput frees every frame even while mmgrab keeps the structure; from then on
 * mmget_not_zero fails and no VMA is left. */
START_TEST(test_mmget_not_zero_after_last_mmput)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 4 * P);

    sim_test_memset(mm, addr, 0x77, 4 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    mmgrab(mm);
    ck_assert(mmget_not_zero(mm));
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert(!sim_mm_alive(mm));
    ck_assert(!mmget_not_zero(mm));
    ck_assert(!mmget_not_zero(mm));
    expect_no_vma(mm, addr);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmdrop(mm);
}
END_TEST

/* Every entry point refuses an address space that has exited, with -EINVAL, and a
 * torn-down address space maps nothing. */
START_TEST(test_exited_mm_rejects_everything)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    char buf[16] = "unchanged";

    sim_test_memset(mm, addr, 0x33, 2 * P);
    mmgrab(mm);
    mmput(mm);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_mmap(mm, 0, P, RW, PRIV), -EINVAL);
    ck_assert_int_eq(sim_mmap(mm, BASE, P, RW, PRIV | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, addr, P), -EINVAL);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, addr, P, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_read(mm, addr, buf, sizeof(buf)), -EINVAL);
    ck_assert_int_eq(sim_write(mm, addr, buf, sizeof(buf)), -EINVAL);
    ck_assert_str_eq(buf, "unchanged");
    child = sim_fork(mm);
    ck_assert(IS_ERR(child));
    ck_assert_int_eq(PTR_ERR(child), -EINVAL);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    expect_no_vma(mm, addr);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 0);
    mmdrop(mm);
}
END_TEST

/* A NULL mm is -EINVAL everywhere (ERR_PTR(-EINVAL) for fork), and nothing is mapped. */
START_TEST(test_null_mm_rejected)
{
    char buf[8] = "keep";
    struct mm_struct *child = sim_fork(NULL);

    ck_assert(IS_ERR(child));
    ck_assert_int_eq(PTR_ERR(child), -EINVAL);
    ck_assert_int_eq(sim_mmap(NULL, 0, P, RW, PRIV), -EINVAL);
    ck_assert_int_eq(sim_mmap(NULL, BASE, P, RW, PRIV | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_munmap(NULL, BASE, P), -EINVAL);
    ck_assert_int_eq(sim_mprotect(NULL, BASE, P, PROT_READ), -EINVAL);
    ck_assert_int_eq(sim_madvise(NULL, BASE, P, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_read(NULL, BASE, buf, sizeof(buf)), -EINVAL);
    ck_assert_int_eq(sim_write(NULL, BASE, buf, sizeof(buf)), -EINVAL);
    ck_assert_str_eq(buf, "keep");
    ck_assert(!mmget_not_zero(NULL));
    ck_assert(!sim_mm_alive(NULL));
    ck_assert_ptr_null(vma_lookup(NULL, BASE));
}
END_TEST

/* mmget, mmgrab and mmdrop given NULL each warn once; mmput(NULL) does not crash. */
START_TEST(test_mm_refcount_null_warns)
{
    unsigned long warnings = sim_warn_count();

    mmget(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    mmgrab(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 2);
    mmdrop(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 3);
    mmput(NULL);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* The mmap lock of no address space, and notifier ranges that are missing or name no
 * address space: a warning each, and nothing locked, changed or called. */
START_TEST(test_locks_and_ranges_of_nothing_warn)
{
    struct mmu_notifier_range range;
    unsigned long warnings = sim_warn_count();

    mmap_read_lock(NULL);
    mmap_read_unlock(NULL);
    mmap_write_lock(NULL);
    mmap_write_unlock(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 4);
    mmu_notifier_range_init(NULL, MMU_NOTIFY_UNMAP, 0, NULL, 0, PAGE_SIZE);
    mmu_notifier_range_init_owner(NULL, MMU_NOTIFY_MIGRATE, 0, NULL, 0, PAGE_SIZE, &range);
    ck_assert(!mmu_notifier_range_blockable(NULL));
    mmu_notifier_invalidate_range_start(NULL);
    mmu_notifier_invalidate_range_end(NULL);
    ck_assert_uint_eq(sim_warn_count(), warnings + 9);
    mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, NULL, 0, PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    ck_assert(!mmu_notifier_range_blockable(&range));
    mmu_notifier_invalidate_range_end(&range);
    ck_assert_uint_eq(sim_warn_count(), warnings + 11);
    ck_assert_int_eq(sim_check_invariants(), 1);
}
END_TEST

/* mmget on an address space that has exited is a caller's bug: it warns once and must
 * not bring the torn-down address space back to life. */
START_TEST(test_mmget_on_exited_mm_warns_and_does_not_revive)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long warnings;

    ck_assert_ptr_nonnull(mm);
    mmgrab(mm);
    mmput(mm);
    warnings = sim_warn_count();
    mmget(mm);
    ck_assert_uint_eq(sim_warn_count(), warnings + 1);
    ck_assert(!sim_mm_alive(mm));
    ck_assert(!mmget_not_zero(mm));
    ck_assert_int_eq(sim_mmap(mm, BASE, P, RW, PRIV | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_check_invariants(), 1);
    mmdrop(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * mmap
 */

/* Mappings come back page aligned, at or above 0x10000, inside the user address space,
 * not overlapping, each with a VMA of exactly the rounded-up length. */
START_TEST(test_mmap_returns_aligned_distinct_ranges)
{
    static const unsigned long lens[] = { 1, P, 3 * P + 1, 16 * P, 1UL << 20, P - 1 };
    enum { N = sizeof(lens) / sizeof(lens[0]) };
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr[N];

    for (int i = 0; i < N; i++) {
        addr[i] = sim_test_mmap(mm, 0, lens[i], RW, PRIV);
        ck_assert(PAGE_ALIGNED(addr[i]));
        ck_assert_uint_ge(addr[i], 0x10000);
        ck_assert_uint_le(addr[i] + PAGE_ALIGN(lens[i]), SIM_TASK_SIZE);
        for (int j = 0; j < i; j++)
            ck_assert(addr[i] + PAGE_ALIGN(lens[i]) <= addr[j] ||
                      addr[j] + PAGE_ALIGN(lens[j]) <= addr[i]);
    }
    ck_assert_int_eq(mm->map_count, N);
    for (int i = 0; i < N; i++) {
        unsigned long end = addr[i] + PAGE_ALIGN(lens[i]);

        expect_vma(mm, addr[i], addr[i], end, VM_READ | VM_WRITE);
        expect_vma(mm, end - 1, addr[i], end, VM_READ | VM_WRITE);
    }
    /* No page is touched by mmap itself. */
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr[0]), 0);
    mmput(mm);
}
END_TEST

/* A length that is not a page multiple maps whole pages: the last byte of the page is
 * usable and the byte after it is not. */
START_TEST(test_mmap_len_rounded_up)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_mmap(mm, BASE, 10, RW, PRIV | MAP_FIXED);
    char c = 0x3c;

    ck_assert_uint_eq(addr, BASE);
    expect_vma(mm, BASE, BASE, BASE + P, VM_READ | VM_WRITE);
    ck_assert_int_eq(sim_write(mm, BASE + P - 1, &c, 1), 0);
    ck_assert_int_eq(sim_write(mm, BASE + P, &c, 1), -EFAULT);
    ck_assert_int_eq(sim_read(mm, BASE + P, &c, 1), -EFAULT);
    mmput(mm);
}
END_TEST

/* A free, aligned hint is where the mapping goes; a busy one is moved elsewhere and
 * leaves the mapping in the way untouched. */
START_TEST(test_mmap_hint)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long a, b;

    a = sim_test_mmap(mm, BASE, 4 * P, RW, PRIV);
    ck_assert_uint_eq(a, BASE);
    sim_test_memset(mm, BASE, 0x44, 4 * P);
    b = sim_test_mmap(mm, BASE + P, 2 * P, RW, PRIV);
    ck_assert_uint_ne(b, BASE + P);
    ck_assert(b + 2 * P <= BASE || BASE + 4 * P <= b);
    expect_vma(mm, BASE, BASE, BASE + 4 * P, VM_READ | VM_WRITE);
    expect_vma(mm, b, b, b + 2 * P, VM_READ | VM_WRITE);
    sim_test_expect_bytes(mm, BASE, 0x44, 4 * P);
    /* A hint right after the first mapping is free. */
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 4 * P, P, PROT_READ, PRIV), BASE + 4 * P);
    expect_vma(mm, BASE + 4 * P, BASE + 4 * P, BASE + 5 * P, VM_READ);
    /* A hint below the minimum is ignored, never obeyed. */
    ck_assert_uint_ge(sim_test_mmap(mm, 0x1000, P, RW, PRIV), 0x10000);
    mmput(mm);
}
END_TEST

/* MAP_FIXED over part of a mapping replaces it: the old data is gone, its frames are
 * freed, and the VMAs on either side keep their data. */
START_TEST(test_mmap_fixed_replaces_mapping)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 4 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0xaa, 4 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + P, 2 * P, PROT_READ, PRIV | MAP_FIXED),
                      BASE + P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_int_eq(mm->map_count, 3);
    expect_vma(mm, BASE, BASE, BASE + P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + P, BASE + P, BASE + 3 * P, VM_READ);
    expect_vma(mm, BASE + 3 * P, BASE + 3 * P, BASE + 4 * P, VM_READ | VM_WRITE);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + P), 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 2 * P), 0);
    sim_test_expect_bytes(mm, BASE, 0xaa, P);
    sim_test_expect_bytes(mm, BASE + P, 0, 2 * P);
    sim_test_expect_bytes(mm, BASE + 3 * P, 0xaa, P);
    sim_test_memset(mm, BASE + 3 * P, 0xbb, P);
    ck_assert_int_eq(sim_write(mm, BASE + P, "x", 1), -EFAULT);
    /* MAP_FIXED over a whole mapping and beyond it. */
    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 8 * P, RW, SHARED | MAP_FIXED), BASE);
    ck_assert_int_eq(mm->map_count, 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    expect_vma(mm, BASE + 7 * P, BASE, BASE + 8 * P, VM_READ | VM_WRITE | VM_SHARED);
    sim_test_expect_bytes(mm, BASE, 0, 8 * P);
    mmput(mm);
}
END_TEST

/* The lowest and the highest page a fixed mapping may take are usable. */
START_TEST(test_mmap_fixed_at_the_bounds)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long top = (1UL << 47) - 2 * P;

    ck_assert_uint_eq(sim_test_mmap(mm, 0x10000, P, RW, PRIV | MAP_FIXED), 0x10000);
    ck_assert_uint_eq(sim_test_mmap(mm, top, P, RW, PRIV | MAP_FIXED), top);
    expect_vma(mm, top + P - 1, top, top + P, VM_READ | VM_WRITE);
    sim_test_memset(mm, 0x10000, 0x10, P);
    sim_test_memset(mm, top, 0x7f, P);
    sim_test_expect_bytes(mm, 0x10000, 0x10, P);
    sim_test_expect_bytes(mm, top, 0x7f, P);
    ck_assert_int_eq(sim_read(mm, top + P, &(char){ 0 }, 1), -EFAULT);
    ck_assert_int_eq(sim_munmap(mm, top, P), 0);
    ck_assert_int_eq(sim_munmap(mm, 0x10000, P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

struct mmap_case {
    unsigned long addr, len;
    int prot, flags;
    long expected;
};

/* Every bad argument of sim_mmap, with the exact error, and no VMA left behind. */
START_TEST(test_mmap_bad_arguments)
{
    static const struct mmap_case cases[] = {
        { 0, 0, RW, PRIV, -EINVAL },
        { BASE, 0, RW, PRIV | MAP_FIXED, -EINVAL },
        { 0, P, PROT_READ | 0x100, PRIV, -EINVAL },
        { 0, P, 0x40000000, PRIV, -EINVAL },
        { 0, P, RW, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -EINVAL },
        { 0, P, RW, MAP_ANONYMOUS, -EINVAL },
        { 0, P, RW, MAP_PRIVATE, -EINVAL },
        { 0, P, RW, MAP_SHARED, -EINVAL },
        { BASE, P, RW, MAP_PRIVATE | MAP_FIXED, -EINVAL },
        { 0, P, RW, PRIV | MAP_GROWSDOWN, -EINVAL },
        { BASE + 1, P, RW, PRIV | MAP_FIXED, -EINVAL },
        { BASE + P / 2, P, RW, SHARED | MAP_FIXED, -EINVAL },
        { 0, P, RW, PRIV | MAP_FIXED, -EPERM },
        { 0x1000, P, RW, PRIV | MAP_FIXED, -EPERM },
        { 0xf000, P, RW, SHARED | MAP_FIXED, -EPERM },
        { 0, ULONG_MAX, RW, PRIV, -ENOMEM },
        { 0, ULONG_MAX - P + 2, RW, PRIV, -ENOMEM },
        { 0, 1UL << 47, RW, PRIV, -ENOMEM },
        { 0, (1UL << 47) - P + 1, RW, SHARED, -ENOMEM },
        { 0, (1UL << 47) - P, RW, PRIV, -ENOMEM },
        { (1UL << 47) - P, P, RW, PRIV | MAP_FIXED, -ENOMEM },
        { (1UL << 47) - 2 * P, 2 * P, RW, PRIV | MAP_FIXED, -ENOMEM },
        { 1UL << 47, P, RW, PRIV | MAP_FIXED, -ENOMEM },
        { ULONG_MAX & PAGE_MASK, P, RW, PRIV | MAP_FIXED, -ENOMEM },
        { BASE, ULONG_MAX & PAGE_MASK, RW, PRIV | MAP_FIXED, -ENOMEM },
    };
    struct mm_struct *mm = sim_mm_create();

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct mmap_case *c = &cases[i];

        ck_assert_msg(sim_mmap(mm, c->addr, c->len, c->prot, c->flags) == c->expected,
                      "case %u: sim_mmap(%#lx, %#lx, %#x, %#x) = %ld, expected %ld", i,
                      c->addr, c->len, c->prot, c->flags,
                      sim_mmap(mm, c->addr, c->len, c->prot, c->flags), c->expected);
        ck_assert_int_eq(mm->map_count, 0);
    }
    ck_assert_int_eq(sim_mmap(NULL, 0, P, RW, PRIV), -EINVAL);
    expect_no_vma(mm, BASE);
    /* The same arguments, made valid, work. */
    ck_assert_uint_eq(sim_test_mmap(mm, BASE, P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + P, P, PROT_NONE, SHARED | MAP_FIXED),
                      BASE + P);
    mmput(mm);
}
END_TEST

/* A failed MAP_FIXED request leaves the mapping it would have replaced untouched. */
START_TEST(test_mmap_fixed_failure_changes_nothing)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x66, 2 * P);
    ck_assert_int_eq(sim_mmap(mm, BASE, P, RW | 0x100, PRIV | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_mmap(mm, BASE, P, RW, MAP_PRIVATE | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_mmap(mm, BASE + 1, P, RW, PRIV | MAP_FIXED), -EINVAL);
    ck_assert_int_eq(sim_mmap(mm, BASE, 0, RW, PRIV | MAP_FIXED), -EINVAL);
    expect_vma(mm, BASE, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    sim_test_expect_bytes(mm, BASE, 0x66, 2 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* With the upper part of the address space taken, new mappings are still found room
 * below it. */
START_TEST(test_mmap_finds_room_below_a_full_top)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long low = (1UL << 47) - (1UL << 40), top = SIM_TASK_SIZE;
    unsigned long addr[16];

    ck_assert_uint_eq(sim_test_mmap(mm, low, top - low, PROT_NONE, PRIV | MAP_FIXED), low);
    for (int i = 0; i < 16; i++) {
        addr[i] = sim_test_mmap(mm, 0, (i + 1) * P, RW, i % 2 ? SHARED : PRIV);
        ck_assert_uint_ge(addr[i], 0x10000);
        ck_assert_uint_le(addr[i] + (i + 1) * P, low);
        for (int j = 0; j < i; j++)
            ck_assert(addr[i] + (i + 1) * P <= addr[j] || addr[j] + (j + 1) * P <= addr[i]);
        sim_test_memset(mm, addr[i], (unsigned char)i, (i + 1) * P);
    }
    for (int i = 0; i < 16; i++)
        sim_test_expect_bytes(mm, addr[i], (unsigned char)i, (i + 1) * P);
    ck_assert_int_eq(sim_munmap(mm, low, top - low), 0);
    mmput(mm);
}
END_TEST

/* When no gap is large enough, a placement request is -ENOMEM. */
START_TEST(test_mmap_no_room)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long half = ((1UL << 47) / 2) & PAGE_MASK;

    ck_assert_uint_eq(sim_test_mmap(mm, half, P, PROT_NONE, PRIV | MAP_FIXED), half);
    /* Neither side of the page at half has room for half of the address space. */
    ck_assert_int_eq(sim_mmap(mm, 0, half, RW, PRIV), -ENOMEM);
    ck_assert_int_eq(mm->map_count, 1);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * munmap
 */

/* Bad munmap arguments are -EINVAL and change nothing; unmapping a hole succeeds. */
START_TEST(test_munmap_bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x21, 2 * P);
    ck_assert_int_eq(sim_munmap(mm, BASE + 1, P), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, BASE + P / 2, P), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, BASE, 0), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, BASE, ULONG_MAX), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, BASE, ULONG_MAX - BASE + 1), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, BASE, -BASE - P), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, (1UL << 47) - P, 2 * P), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, 1UL << 47, P), -EINVAL);
    ck_assert_int_eq(sim_munmap(mm, ULONG_MAX & PAGE_MASK, P), -EINVAL);
    ck_assert_int_eq(sim_munmap(NULL, BASE, P), -EINVAL);
    expect_vma(mm, BASE, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    sim_test_expect_bytes(mm, BASE, 0x21, 2 * P);
    /* Nothing mapped there: success, and nothing else changes. */
    ck_assert_int_eq(sim_munmap(mm, BASE + 4 * P, 8 * P), 0);
    ck_assert_int_eq(sim_munmap(mm, 0x10000, P), 0);
    ck_assert_int_eq(sim_munmap(mm, (1UL << 47) - 2 * P, P), 0);
    ck_assert_int_eq(mm->map_count, 1);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* munmap in the middle of a mapping splits it in two exact VMAs; the hole faults and
 * its frames are freed; the rest keeps its data. */
START_TEST(test_munmap_middle_splits)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned char want[8 * P], buf[8 * P];

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 8 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_fill_pattern(want, sizeof(want), 2);
    ck_assert_int_eq(sim_write(mm, BASE, want, sizeof(want)), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 8);
    ck_assert_int_eq(sim_munmap(mm, BASE + 3 * P, 2 * P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 6);
    ck_assert_int_eq(mm->map_count, 2);
    expect_vma(mm, BASE, BASE, BASE + 3 * P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + 3 * P - 1, BASE, BASE + 3 * P, VM_READ | VM_WRITE);
    expect_no_vma(mm, BASE + 3 * P);
    expect_no_vma(mm, BASE + 5 * P - 1);
    expect_vma(mm, BASE + 5 * P, BASE + 5 * P, BASE + 8 * P, VM_READ | VM_WRITE);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 3 * P), 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 4 * P), 0);
    ck_assert_int_eq(sim_read(mm, BASE + 3 * P, buf, 1), -EFAULT);
    ck_assert_int_eq(sim_write(mm, BASE + 4 * P + 10, buf, 1), -EFAULT);
    ck_assert_int_eq(sim_read(mm, BASE, buf, 8 * P), -EFAULT);
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(sim_read(mm, BASE, buf, 3 * P), 0);
    ck_assert_int_eq(sim_read(mm, BASE + 5 * P, buf + 5 * P, 3 * P), 0);
    ck_assert_int_eq(memcmp(buf, want, 3 * P), 0);
    ck_assert_int_eq(memcmp(buf + 5 * P, want + 5 * P, 3 * P), 0);
    mmput(mm);
}
END_TEST

/* A length that is not a page multiple unmaps the whole last page. */
START_TEST(test_munmap_len_rounded_up)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 3 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x12, 3 * P);
    ck_assert_int_eq(sim_munmap(mm, BASE, 1), 0);
    expect_no_vma(mm, BASE);
    expect_no_vma(mm, BASE + P - 1);
    expect_vma(mm, BASE + P, BASE + P, BASE + 3 * P, VM_READ | VM_WRITE);
    ck_assert_int_eq(sim_munmap(mm, BASE + P, P + 1), 0);
    ck_assert_int_eq(mm->map_count, 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

/* One munmap over the tail of one VMA, a whole second one and the head of a third. */
START_TEST(test_munmap_across_vmas)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 4 * P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 4 * P, 2 * P, PROT_READ, PRIV | MAP_FIXED),
                      BASE + 4 * P);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 6 * P, 4 * P, RW, SHARED | MAP_FIXED),
                      BASE + 6 * P);
    sim_test_memset(mm, BASE, 0x31, 4 * P);
    sim_test_expect_bytes(mm, BASE + 4 * P, 0, 2 * P);
    sim_test_memset(mm, BASE + 6 * P, 0x32, 4 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 8);
    ck_assert_int_eq(sim_munmap(mm, BASE + 2 * P, 6 * P), 0);
    ck_assert_int_eq(mm->map_count, 2);
    expect_vma(mm, BASE, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    expect_no_vma(mm, BASE + 2 * P);
    expect_no_vma(mm, BASE + 5 * P);
    expect_no_vma(mm, BASE + 8 * P - 1);
    expect_vma(mm, BASE + 8 * P, BASE + 8 * P, BASE + 10 * P,
               VM_READ | VM_WRITE | VM_SHARED);
    /* The private frames of the range are freed; the shared object keeps all of its
     * frames while any part of it is mapped, as a shmem file would. */
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2 + 4);
    sim_test_expect_bytes(mm, BASE, 0x31, 2 * P);
    sim_test_expect_bytes(mm, BASE + 8 * P, 0x32, 2 * P);
    /* Unmapping everything, holes included. */
    ck_assert_int_eq(sim_munmap(mm, BASE, 16 * P), 0);
    ck_assert_int_eq(mm->map_count, 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * mprotect
 */

/* Bad mprotect arguments have the exact error; a hole anywhere in the range is -ENOMEM
 * and changes nothing at all. */
START_TEST(test_mprotect_bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 3 * P, P, RW, PRIV | MAP_FIXED),
                      BASE + 3 * P);
    sim_test_memset(mm, BASE, 0x45, 2 * P);
    sim_test_memset(mm, BASE + 3 * P, 0x46, P);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 1, P, PROT_READ), -EINVAL);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 1, 0, PROT_READ), -EINVAL);
    ck_assert_int_eq(sim_mprotect(mm, BASE, P, PROT_READ | 0x100), -EINVAL);
    ck_assert_int_eq(sim_mprotect(mm, BASE, P, 0x40000000), -EINVAL);
    ck_assert_int_eq(sim_mprotect(mm, BASE, 0, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 64 * P, 0, PROT_NONE), 0);
    ck_assert_int_eq(sim_mprotect(mm, BASE, ULONG_MAX, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE, -BASE, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE, -BASE + P, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE, 4 * P, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE + P, 3 * P, PROT_NONE), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE - P, 2 * P, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 2 * P, P, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(mm, BASE + 3 * P, 2 * P, PROT_READ), -ENOMEM);
    ck_assert_int_eq(sim_mprotect(NULL, BASE, P, PROT_READ), -EINVAL);
    /* Nothing changed: same VMAs, same flags, entries still writable. */
    ck_assert_int_eq(mm->map_count, 2);
    expect_vma(mm, BASE, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + 3 * P, BASE + 3 * P, BASE + 4 * P, VM_READ | VM_WRITE);
    for (unsigned long a = BASE; a < BASE + 4 * P; a += P)
        if (a != BASE + 2 * P)
            ck_assert(pte_write(sim_pte_get(mm, a)));
    sim_test_memset(mm, BASE, 0x47, 2 * P);
    sim_test_memset(mm, BASE + 3 * P, 0x48, P);
    mmput(mm);
}
END_TEST

/* mprotect(PROT_READ) write-protects the entries in place; writes then fault and change
 * nothing; back to read-write, the frame is written in place. */
START_TEST(test_mprotect_read_only_then_write)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P), pfn;
    pte_t pte;

    sim_test_memset(mm, addr, 0x5a, 2 * P);
    pfn = pte_pfn(sim_pte_get(mm, addr));
    /* A length short of a page multiple covers the whole last page. */
    ck_assert_int_eq(sim_mprotect(mm, addr, P + 1, PROT_READ), 0);
    expect_vma(mm, addr, addr, addr + 2 * P, VM_READ);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_present(pte));
    ck_assert(!pte_protnone(pte));
    ck_assert(!pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), pfn);
    ck_assert_int_eq(sim_write(mm, addr + 100, "zz", 2), -EFAULT);
    ck_assert_int_eq(sim_write(mm, addr + P - 1, "zz", 2), -EFAULT);
    sim_test_expect_bytes(mm, addr, 0x5a, 2 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);

    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, RW), 0);
    expect_vma(mm, addr, addr, addr + 2 * P, VM_READ | VM_WRITE);
    sim_test_memset(mm, addr, 0x5b, 2 * P);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_write(pte));
    ck_assert_uint_eq(pte_pfn(pte), pfn);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(mm, addr, 0x5b, 2 * P);
    mmput(mm);
}
END_TEST

/* fork: the child's copy of an entry is old (not yet accessed) and keeps the dirty bit;
 * the parent's keeps both; both are read-only (mm/memory.c, __copy_present_ptes()). */
START_TEST(test_fork_child_entries_start_old)
{
    struct mm_struct *mm = sim_mm_create(), *child;
    unsigned long addr = sim_test_map_private(mm, P);
    pte_t parent_pte, child_pte;

    sim_test_memset(mm, addr, 0x21, P);
    child = sim_fork(mm);
    ck_assert(!IS_ERR_OR_NULL(child));
    parent_pte = sim_pte_get(mm, addr);
    child_pte = sim_pte_get(child, addr);
    ck_assert_uint_eq(pte_pfn(parent_pte), pte_pfn(child_pte));
    ck_assert(!pte_write(parent_pte) && !pte_write(child_pte));
    ck_assert(parent_pte & _PAGE_ACCESSED);
    ck_assert(!(child_pte & _PAGE_ACCESSED));
    ck_assert(parent_pte & _PAGE_DIRTY);
    ck_assert(child_pte & _PAGE_DIRTY);
    mmput(child);
    mmput(mm);
}
END_TEST

/* MAP_FIXED_NOREPLACE maps at exactly the address asked for, and refuses with -EEXIST a
 * range that meets a mapping, which stays as it was (mm/mmap.c, do_mmap()). */
START_TEST(test_mmap_fixed_noreplace)
{
    struct mm_struct *mm = sim_mm_create();
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
    unsigned long addr = sim_test_map_private(mm, 2 * P);

    sim_test_memset(mm, addr, 0x77, 2 * P);
    ck_assert_int_eq(sim_mmap(mm, addr + P, 2 * P, RW, flags), -EEXIST);
    ck_assert_int_eq(sim_mmap(mm, addr - P, 2 * P, RW, flags), -EEXIST);
    sim_test_expect_bytes(mm, addr, 0x77, 2 * P);
    ck_assert_int_eq(sim_mmap(mm, addr + 2 * P, P, RW, flags), (long)(addr + 2 * P));
    ck_assert_int_eq(sim_mmap(mm, addr + 4 * P + 1, P, RW, flags), -EINVAL);
    mmput(mm);
}
END_TEST

/* MAP_POPULATE is accepted; anonymous MAP_SHARED_VALIDATE is -EINVAL, as in Linux. */
START_TEST(test_mmap_populate_and_shared_validate)
{
    struct mm_struct *mm = sim_mm_create();
    long addr = sim_mmap(mm, 0, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);

    ck_assert_int_gt(addr, 0);
    sim_test_expect_bytes(mm, addr, 0, 2 * P);
    ck_assert_int_eq(sim_mmap(mm, 0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), -EINVAL);
    mmput(mm);
}
END_TEST

/* Back to read-write, a shared mapping's entries are writable at once, on the same
 * frames (mm/mprotect.c, change_pte_range(): the VMA's new page protection). */
START_TEST(test_mprotect_shared_read_write_is_writable_at_once)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 2 * P), pfn;

    sim_test_memset(mm, addr, 0x5a, 2 * P);
    pfn = pte_pfn(sim_pte_get(mm, addr));
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, PROT_READ), 0);
    ck_assert(!pte_write(sim_pte_get(mm, addr)));
    ck_assert_int_eq(sim_mprotect(mm, addr, 2 * P, RW), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(pte_write(sim_pte_get(mm, addr + i * P)), "page %d not writable", i);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), pfn);
    sim_test_expect_bytes(mm, addr, 0x5a, 2 * P);
    mmput(mm);
}
END_TEST

/* PROT_NONE keeps the frames mapped (protnone entries, same pfn) but every access
 * faults; back to read-write, the data is intact. */
START_TEST(test_mprotect_none_keeps_data)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 4 * P);
    unsigned char buf[4 * P], out[4 * P];
    unsigned long pfn[4];

    sim_fill_pattern(buf, sizeof(buf), 9);
    ck_assert_int_eq(sim_write(mm, addr, buf, 3 * P), 0);
    for (int i = 0; i < 3; i++)
        pfn[i] = pte_pfn(sim_pte_get(mm, addr + i * P));
    ck_assert_int_eq(sim_mprotect(mm, addr, 4 * P, PROT_NONE), 0);
    expect_vma(mm, addr, addr, addr + 4 * P, 0);
    for (int i = 0; i < 3; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);

        ck_assert(pte_present(pte));
        ck_assert(pte_protnone(pte));
        ck_assert(!pte_write(pte));
        ck_assert_uint_eq(pte_pfn(pte), pfn[i]);
    }
    ck_assert_uint_eq(sim_pte_get(mm, addr + 3 * P), 0);
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(sim_read(mm, addr, out, 1), -EFAULT);
    ck_assert_int_eq(sim_read(mm, addr + 3 * P, out, 1), -EFAULT);
    ck_assert_int_eq(sim_write(mm, addr, out, 1), -EFAULT);
    ck_assert_uint_eq(sim_bytes_mismatch(out, sizeof(out), 0xee), sizeof(out));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 3);

    ck_assert_int_eq(sim_mprotect(mm, addr, 4 * P, RW), 0);
    ck_assert_int_eq(sim_read(mm, addr, out, 3 * P), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(out, 3 * P, 9), 3 * P);
    sim_test_expect_bytes(mm, addr + 3 * P, 0, P);
    for (int i = 0; i < 3; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);

        ck_assert(pte_present(pte));
        ck_assert(!pte_protnone(pte));
        ck_assert_uint_eq(pte_pfn(pte), pfn[i]);
    }
    ck_assert_int_eq(sim_write(mm, addr + 10, "ok", 2), 0);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), pfn[0]);
    mmput(mm);
}
END_TEST

/* mprotect of the middle of a mapping splits it into three exact VMAs. */
START_TEST(test_mprotect_splits_vma)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 4 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x61, 4 * P);
    ck_assert_int_eq(sim_mprotect(mm, BASE + P, 2 * P, PROT_READ), 0);
    ck_assert_int_eq(mm->map_count, 3);
    expect_vma(mm, BASE, BASE, BASE + P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + P, BASE + P, BASE + 3 * P, VM_READ);
    expect_vma(mm, BASE + 3 * P, BASE + 3 * P, BASE + 4 * P, VM_READ | VM_WRITE);
    ck_assert(pte_write(sim_pte_get(mm, BASE)));
    ck_assert(!pte_write(sim_pte_get(mm, BASE + P)));
    ck_assert(!pte_write(sim_pte_get(mm, BASE + 2 * P)));
    ck_assert(pte_write(sim_pte_get(mm, BASE + 3 * P)));
    sim_test_memset(mm, BASE, 0x62, P);
    sim_test_memset(mm, BASE + 3 * P, 0x63, P);
    ck_assert_int_eq(sim_write(mm, BASE + 2 * P, "x", 1), -EFAULT);
    /* A write spanning a writable VMA and the read-only one changes nothing. */
    ck_assert_int_eq(sim_write(mm, BASE + P - 2, "abcd", 4), -EFAULT);
    sim_test_expect_bytes(mm, BASE, 0x62, P);
    sim_test_expect_bytes(mm, BASE + P, 0x61, 2 * P);
    sim_test_expect_bytes(mm, BASE + 3 * P, 0x63, P);
    /* One mprotect over all three VMAs. */
    ck_assert_int_eq(sim_mprotect(mm, BASE, 4 * P, PROT_NONE), 0);
    for (unsigned long a = BASE; a < BASE + 4 * P; a += P) {
        ck_assert(pte_protnone(sim_pte_get(mm, a)));
        ck_assert_uint_eq(lookup(mm, a).flags & VM_RWS, 0);
    }
    ck_assert_int_eq(sim_mprotect(mm, BASE, 4 * P, PROT_READ), 0);
    sim_test_expect_bytes(mm, BASE, 0x62, P);
    sim_test_expect_bytes(mm, BASE + P, 0x61, 2 * P);
    sim_test_expect_bytes(mm, BASE + 3 * P, 0x63, P);
    mmput(mm);
}
END_TEST

/* A zero-page entry stays read-only through mprotect(PROT_READ|PROT_WRITE); the next
 * write gets a private frame. */
START_TEST(test_mprotect_keeps_zero_page_read_only)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    pte_t pte;

    sim_test_expect_bytes(mm, addr, 0, P);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_READ), 0);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, RW), 0);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_present(pte));
    ck_assert(!pte_write(pte));
    ck_assert(is_zero_pfn(pte_pfn(pte)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    sim_test_memset(mm, addr, 0x01, P);
    pte = sim_pte_get(mm, addr);
    ck_assert(pte_write(pte));
    ck_assert(!is_zero_pfn(pte_pfn(pte)));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 1);
    mmput(mm);
}
END_TEST

/* A mapping made write-only by mprotect still takes writes (its VMA has VM_WRITE), and
 * the data is there when it becomes readable again. */
START_TEST(test_mprotect_write_only_still_writable)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    char buf[10];

    sim_test_memset(mm, addr, 0x0a, P);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, PROT_WRITE), 0);
    expect_vma(mm, addr, addr, addr + P, VM_WRITE);
    ck_assert_int_eq(sim_write(mm, addr + 8, "write-only", 10), 0);
    ck_assert_int_eq(sim_mprotect(mm, addr, P, RW), 0);
    ck_assert_int_eq(sim_read(mm, addr + 8, buf, 10), 0);
    ck_assert_int_eq(memcmp(buf, "write-only", 10), 0);
    sim_test_expect_bytes(mm, addr, 0x0a, 8);
    sim_test_expect_bytes(mm, addr + 18, 0x0a, P - 18);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * madvise(MADV_DONTNEED)
 */

/* Bad madvise arguments have the exact error; len 0 succeeds; a range with no mapping
 * is -ENOMEM. */
START_TEST(test_madvise_bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    sim_test_memset(mm, BASE, 0x19, 2 * P);
    ck_assert_int_eq(sim_madvise(mm, BASE + 1, P, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE, P, 9999), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE, P, -1), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE + 1, 0, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE, ULONG_MAX, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE, -BASE + P, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(NULL, BASE, P, MADV_DONTNEED), -EINVAL);
    ck_assert_int_eq(sim_madvise(mm, BASE, 0, MADV_DONTNEED), 0);
    ck_assert_int_eq(sim_madvise(mm, BASE + 64 * P, 0, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(mm, BASE, 0x19, 2 * P);
    ck_assert_int_eq(sim_madvise(mm, BASE + 8 * P, 4 * P, MADV_DONTNEED), -ENOMEM);
    ck_assert_int_eq(sim_madvise(mm, 0x10000, P, MADV_DONTNEED), -ENOMEM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(mm, BASE, 0x19, 2 * P);
    mmput(mm);
}
END_TEST

/* MADV_NORMAL, MADV_WILLNEED and MADV_FREE are accepted and change nothing (no memory
 * pressure, no swap); MADV_FREE on shared memory is -EINVAL and stops the walk there, as
 * in mm/madvise.c; holes are -ENOMEM after the mapped parts, as for MADV_DONTNEED. */
START_TEST(test_madvise_hints_change_nothing)
{
    static const int hints[] = { MADV_NORMAL, MADV_WILLNEED, MADV_FREE };
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 2 * P, P, RW, SHARED | MAP_FIXED), BASE + 2 * P);
    sim_test_memset(mm, BASE, 0x5a, 3 * P);
    for (unsigned i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        ck_assert_int_eq(sim_madvise(mm, BASE, 2 * P, hints[i]), 0);
        ck_assert_int_eq(sim_madvise(mm, BASE, 4 * P, hints[i]),
                         hints[i] == MADV_FREE ? -EINVAL : -ENOMEM);
        ck_assert_int_eq(sim_madvise(mm, BASE + 2 * P, P, hints[i]),
                         hints[i] == MADV_FREE ? -EINVAL : 0);
        ck_assert_int_eq(sim_madvise(mm, BASE + 1, P, hints[i]), -EINVAL);
        ck_assert_uint_eq(sim_nr_pages_in_use(), 3);
        sim_test_expect_bytes(mm, BASE, 0x5a, 3 * P);
    }
    ck_assert_int_eq(sim_madvise(mm, BASE + 8 * P, P, MADV_FREE), -ENOMEM);
    mmput(mm);
}
END_TEST

/* A range with holes (at the start, the middle or the end) is -ENOMEM, yet every mapped
 * part of it is zapped. */
START_TEST(test_madvise_hole_zaps_mapped_parts)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE + P, 2 * P, RW, PRIV | MAP_FIXED), BASE + P);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 4 * P, 2 * P, RW, PRIV | MAP_FIXED),
                      BASE + 4 * P);
    sim_test_memset(mm, BASE + P, 0x71, 2 * P);
    sim_test_memset(mm, BASE + 4 * P, 0x72, 2 * P);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    /* Hole in the middle only. */
    ck_assert_int_eq(sim_madvise(mm, BASE + 2 * P, 3 * P, MADV_DONTNEED), -ENOMEM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 2 * P), 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 4 * P), 0);
    sim_test_expect_bytes(mm, BASE + P, 0x71, P);
    sim_test_expect_bytes(mm, BASE + 2 * P, 0, P);
    sim_test_expect_bytes(mm, BASE + 4 * P, 0, P);
    sim_test_expect_bytes(mm, BASE + 5 * P, 0x72, P);
    /* Holes at both ends and in the middle. */
    ck_assert_int_eq(sim_madvise(mm, BASE, 8 * P, MADV_DONTNEED), -ENOMEM);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    for (unsigned long a = BASE; a < BASE + 8 * P; a += P)
        ck_assert_uint_eq(sim_pte_get(mm, a), 0);
    sim_test_expect_bytes(mm, BASE + P, 0, 2 * P);
    sim_test_expect_bytes(mm, BASE + 4 * P, 0, 2 * P);
    /* The VMAs themselves stay. */
    expect_vma(mm, BASE + P, BASE + P, BASE + 3 * P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + 4 * P, BASE + 4 * P, BASE + 6 * P, VM_READ | VM_WRITE);
    mmput(mm);
}
END_TEST

/* DONTNEED on private memory frees exactly the frames of the range; the next read sees
 * zeroes through the zero page; the rest of the mapping keeps its data. */
START_TEST(test_madvise_dontneed_private)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 8 * P);
    unsigned char buf[8 * P];

    sim_fill_pattern(buf, sizeof(buf), 5);
    ck_assert_int_eq(sim_write(mm, addr, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 8);
    ck_assert_int_eq(sim_madvise(mm, addr + 2 * P, 4 * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    for (int i = 2; i < 6; i++)
        ck_assert_uint_eq(sim_pte_get(mm, addr + i * P), 0);
    expect_vma(mm, addr, addr, addr + 8 * P, VM_READ | VM_WRITE);
    ck_assert_int_eq(sim_read(mm, addr, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(sim_pattern_mismatch(buf, 2 * P, 5), 2 * P);
    ck_assert_uint_eq(sim_bytes_mismatch(buf + 2 * P, 4 * P, 0), 4 * P);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, addr + 3 * P))));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    /* A partial length covers its whole last page. */
    ck_assert_int_eq(sim_madvise(mm, addr + 6 * P, P + 1, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    sim_test_expect_bytes(mm, addr + 6 * P, 0, 2 * P);
    mmput(mm);
}
END_TEST

/* DONTNEED on shared memory drops this process's entries only: the frames stay with the
 * shared object and the next access finds the same data in the same frame. */
START_TEST(test_madvise_dontneed_shared_keeps_data)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_shared(mm, 4 * P), pfn;
    struct page *page;

    sim_test_memset(mm, addr, 0x99, 4 * P);
    page = sim_test_mapped_page(mm, addr);
    pfn = page_to_pfn(page);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert_int_eq(sim_madvise(mm, addr, 4 * P, MADV_DONTNEED), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 4);
    sim_test_expect_bytes(mm, addr, 0x99, 4 * P);
    ck_assert_uint_eq(pte_pfn(sim_pte_get(mm, addr)), pfn);
    ck_assert_int_eq(page_ref_count(page), 2);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * sim_read and sim_write: argument checks and all-or-nothing faults
 */

/* NULL buffers, empty accesses, unmapped and wrapping ranges. */
START_TEST(test_rw_bad_arguments)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    char buf[64];

    ck_assert_int_eq(sim_read(mm, addr, NULL, 1), -EINVAL);
    ck_assert_int_eq(sim_write(mm, addr, NULL, 1), -EINVAL);
    ck_assert_int_eq(sim_read(mm, addr, NULL, 0), 0);
    ck_assert_int_eq(sim_write(mm, addr, NULL, 0), 0);
    ck_assert_int_eq(sim_read(mm, 0, buf, 0), 0);
    ck_assert_int_eq(sim_write(mm, BASE, buf, 0), 0);
    ck_assert_int_eq(sim_read(mm, 0, buf, 1), -EFAULT);
    ck_assert_int_eq(sim_read(mm, BASE, buf, sizeof(buf)), -EFAULT);
    ck_assert_int_eq(sim_write(mm, BASE, buf, sizeof(buf)), -EFAULT);
    ck_assert_int_eq(sim_read(mm, ULONG_MAX - 10, buf, sizeof(buf)), -EFAULT);
    ck_assert_int_eq(sim_write(mm, ULONG_MAX - 10, buf, sizeof(buf)), -EFAULT);
    ck_assert_int_eq(sim_read(mm, addr, buf, ULONG_MAX), -EFAULT);
    ck_assert_int_eq(sim_write(mm, addr + P, buf, -addr - P), -EFAULT);
    ck_assert_int_eq(sim_write(mm, addr + P, buf, -(addr + P) + 1), -EFAULT);
    ck_assert_uint_eq(sim_pte_get(mm, addr), 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

/* An access that runs off the end of a mapping faults before touching anything: the
 * buffer is not written, no entry is filled in, no frame is allocated. */
START_TEST(test_rw_partially_unmapped_changes_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned char buf[3 * P];

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    memset(buf, 0xcd, sizeof(buf));
    ck_assert_int_eq(sim_read(mm, BASE + P, buf, 2 * P), -EFAULT);
    ck_assert_uint_eq(sim_bytes_mismatch(buf, sizeof(buf), 0xcd), sizeof(buf));
    ck_assert_int_eq(sim_write(mm, BASE, buf, 3 * P), -EFAULT);
    ck_assert_int_eq(sim_read(mm, BASE - 1, buf, 2), -EFAULT);
    ck_assert_uint_eq(sim_bytes_mismatch(buf, sizeof(buf), 0xcd), sizeof(buf));
    ck_assert_uint_eq(sim_pte_get(mm, BASE), 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    sim_test_expect_bytes(mm, BASE, 0, 2 * P);
    mmput(mm);
}
END_TEST

/* A write that starts in a writable VMA and ends in a read-only one is -EFAULT and
 * changes nothing, whether the writable part was populated or not. */
START_TEST(test_write_into_read_only_changes_nothing)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned char buf[2 * P];

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 2 * P, P, PROT_READ, PRIV | MAP_FIXED),
                      BASE + 2 * P);
    memset(buf, 0x22, sizeof(buf));
    /* Nothing populated yet. */
    ck_assert_int_eq(sim_write(mm, BASE + P, buf, 2 * P), -EFAULT);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + P), 0);
    ck_assert_uint_eq(sim_pte_get(mm, BASE + 2 * P), 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    /* The writable part populated. */
    sim_test_memset(mm, BASE, 0x11, 2 * P);
    sim_test_expect_bytes(mm, BASE + 2 * P, 0, P);
    ck_assert_int_eq(sim_write(mm, BASE + P / 2, buf, 2 * P), -EFAULT);
    ck_assert_int_eq(sim_write(mm, BASE + 2 * P - 1, buf, 2), -EFAULT);
    sim_test_expect_bytes(mm, BASE, 0x11, 2 * P);
    sim_test_expect_bytes(mm, BASE + 2 * P, 0, P);
    ck_assert(is_zero_pfn(pte_pfn(sim_pte_get(mm, BASE + 2 * P))));
    ck_assert_uint_eq(sim_nr_pages_in_use(), 2);
    mmput(mm);
}
END_TEST

/* PROT_NONE and PROT_READ mappings: what may be read and written, and nothing faulted in
 * by a refused access. */
START_TEST(test_protection_of_new_mappings)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long none = sim_test_mmap(mm, 0, P, PROT_NONE, PRIV);
    unsigned long ro = sim_test_mmap(mm, 0, P, PROT_READ, PRIV);
    unsigned long sh_none = sim_test_mmap(mm, 0, P, PROT_NONE, SHARED);
    char c = 1;

    ck_assert_int_eq(sim_read(mm, none, &c, 1), -EFAULT);
    ck_assert_int_eq(sim_write(mm, none, &c, 1), -EFAULT);
    ck_assert_int_eq(sim_read(mm, sh_none, &c, 1), -EFAULT);
    ck_assert_int_eq(sim_write(mm, sh_none, &c, 1), -EFAULT);
    ck_assert_int_eq(c, 1);
    ck_assert_uint_eq(sim_pte_get(mm, none), 0);
    ck_assert_uint_eq(sim_pte_get(mm, sh_none), 0);
    ck_assert_int_eq(sim_write(mm, ro, &c, 1), -EFAULT);
    ck_assert_uint_eq(sim_pte_get(mm, ro), 0);
    ck_assert_int_eq(sim_read(mm, ro, &c, 1), 0);
    ck_assert_int_eq(c, 0);
    ck_assert_uint_eq(sim_nr_pages_in_use(), 0);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * vma_lookup
 */

/* vma_lookup finds the VMA holding an address, with exact bounds and flags, and nothing
 * just outside it. */
START_TEST(test_vma_lookup_bounds_and_flags)
{
    struct mm_struct *mm = sim_mm_create();

    ck_assert_uint_eq(sim_test_mmap(mm, BASE, 2 * P, RW, PRIV | MAP_FIXED), BASE);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 3 * P, P, PROT_READ, PRIV | MAP_FIXED),
                      BASE + 3 * P);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 4 * P, 3 * P, RW, SHARED | MAP_FIXED),
                      BASE + 4 * P);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 8 * P, P, PROT_READ, SHARED | MAP_FIXED),
                      BASE + 8 * P);
    ck_assert_uint_eq(sim_test_mmap(mm, BASE + 10 * P, P, PROT_NONE, PRIV | MAP_FIXED),
                      BASE + 10 * P);
    expect_no_vma(mm, BASE - 1);
    expect_vma(mm, BASE, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    expect_vma(mm, BASE + 2 * P - 1, BASE, BASE + 2 * P, VM_READ | VM_WRITE);
    expect_no_vma(mm, BASE + 2 * P);
    expect_no_vma(mm, BASE + 3 * P - 1);
    expect_vma(mm, BASE + 3 * P, BASE + 3 * P, BASE + 4 * P, VM_READ);
    expect_vma(mm, BASE + 4 * P, BASE + 4 * P, BASE + 7 * P,
               VM_READ | VM_WRITE | VM_SHARED);
    expect_vma(mm, BASE + 7 * P - 1, BASE + 4 * P, BASE + 7 * P,
               VM_READ | VM_WRITE | VM_SHARED);
    expect_no_vma(mm, BASE + 7 * P);
    expect_vma(mm, BASE + 8 * P + 5, BASE + 8 * P, BASE + 9 * P, VM_READ | VM_SHARED);
    expect_vma(mm, BASE + 10 * P, BASE + 10 * P, BASE + 11 * P, 0);
    expect_no_vma(mm, BASE + 11 * P);
    expect_no_vma(mm, 0);
    expect_no_vma(mm, ULONG_MAX);
    ck_assert_int_eq(mm->map_count, 5);
    mmput(mm);
}
END_TEST

/* ------------------------------------------------------------------------------------
 * Notifier ranges (the core's half; nobody listens yet)
 */

/* The range initialisers fill in every field (owner only through _init_owner), the
 * events have the kernel's values, and _start marks the range blockable. */
START_TEST(test_notifier_range_init)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct mmu_notifier_range r;
    int owner;

    ck_assert_int_eq(MMU_NOTIFY_UNMAP, 0);
    ck_assert_int_eq(MMU_NOTIFY_CLEAR, 1);
    ck_assert_int_eq(MMU_NOTIFY_PROTECTION_VMA, 2);
    ck_assert_int_eq(MMU_NOTIFY_PROTECTION_PAGE, 3);
    ck_assert_int_eq(MMU_NOTIFY_SOFT_DIRTY, 4);
    ck_assert_int_eq(MMU_NOTIFY_RELEASE, 5);
    ck_assert_int_eq(MMU_NOTIFY_MIGRATE, 6);
    ck_assert_int_eq(MMU_NOTIFY_EXCLUSIVE, 7);
    ck_assert_int_eq(MMU_NOTIFIER_RANGE_BLOCKABLE, 1);

    memset(&r, 0xa5, sizeof(r));
    mmu_notifier_range_init(&r, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + P);
    ck_assert_ptr_eq(r.mm, mm);
    ck_assert_uint_eq(r.start, addr);
    ck_assert_uint_eq(r.end, addr + P);
    ck_assert_uint_eq(r.flags, 0);
    ck_assert_int_eq(r.event, MMU_NOTIFY_CLEAR);
    ck_assert_ptr_null(r.owner);
    ck_assert(!mmu_notifier_range_blockable(&r));

    memset(&r, 0xa5, sizeof(r));
    mmu_notifier_range_init_owner(&r, MMU_NOTIFY_MIGRATE, MMU_NOTIFIER_RANGE_BLOCKABLE, mm,
                                  addr, addr + 2 * P, &owner);
    ck_assert_ptr_eq(r.mm, mm);
    ck_assert_uint_eq(r.start, addr);
    ck_assert_uint_eq(r.end, addr + 2 * P);
    ck_assert_uint_eq(r.flags, MMU_NOTIFIER_RANGE_BLOCKABLE);
    ck_assert_int_eq(r.event, MMU_NOTIFY_MIGRATE);
    ck_assert_ptr_eq(r.owner, &owner);
    ck_assert(mmu_notifier_range_blockable(&r));

    sim_test_memset(mm, addr, 0x5e, P);
    mmu_notifier_range_init(&r, MMU_NOTIFY_UNMAP, 0, mm, addr, addr + P);
    mmu_notifier_invalidate_range_start(&r);
    ck_assert(mmu_notifier_range_blockable(&r));
    ck_assert_int_eq(r.event, MMU_NOTIFY_UNMAP);
    mmu_notifier_invalidate_range_end(&r);
    /* With no subscriber, the bracket changes nothing. */
    sim_test_expect_bytes(mm, addr, 0x5e, P);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch02_address_spaces");
    TCase *tc;

    tc = sim_tcase("mm", 5);
    tcase_add_test(tc, test_mm_create_and_mmput);
    tcase_add_test(tc, test_mms_are_independent);
    tcase_add_test(tc, test_mmget_keeps_mm_alive);
    tcase_add_test(tc, test_mmget_not_zero_after_last_mmput);
    tcase_add_test(tc, test_exited_mm_rejects_everything);
    tcase_add_test(tc, test_null_mm_rejected);
    suite_add_tcase(s, tc);

    tc = sim_tcase_unchecked("mm_warnings", 5);
    tcase_add_test(tc, test_mm_refcount_null_warns);
    tcase_add_test(tc, test_locks_and_ranges_of_nothing_warn);
    tcase_add_test(tc, test_mmget_on_exited_mm_warns_and_does_not_revive);
    suite_add_tcase(s, tc);

    tc = sim_tcase("mmap", 5);
    tcase_add_test(tc, test_mmap_returns_aligned_distinct_ranges);
    tcase_add_test(tc, test_mmap_len_rounded_up);
    tcase_add_test(tc, test_mmap_hint);
    tcase_add_test(tc, test_mmap_fixed_replaces_mapping);
    tcase_add_test(tc, test_mmap_fixed_at_the_bounds);
    tcase_add_test(tc, test_mmap_bad_arguments);
    tcase_add_test(tc, test_mmap_fixed_failure_changes_nothing);
    tcase_add_test(tc, test_mmap_no_room);
    tcase_add_test(tc, test_mmap_finds_room_below_a_full_top);
    suite_add_tcase(s, tc);

    tc = sim_tcase("munmap", 5);
    tcase_add_test(tc, test_munmap_bad_arguments);
    tcase_add_test(tc, test_munmap_middle_splits);
    tcase_add_test(tc, test_munmap_len_rounded_up);
    tcase_add_test(tc, test_munmap_across_vmas);
    suite_add_tcase(s, tc);

    tc = sim_tcase("mprotect", 5);
    tcase_add_test(tc, test_mprotect_bad_arguments);
    tcase_add_test(tc, test_mprotect_read_only_then_write);
    tcase_add_test(tc, test_mprotect_shared_read_write_is_writable_at_once);
    tcase_add_test(tc, test_mmap_fixed_noreplace);
    tcase_add_test(tc, test_fork_child_entries_start_old);
    tcase_add_test(tc, test_mmap_populate_and_shared_validate);
    tcase_add_test(tc, test_mprotect_none_keeps_data);
    tcase_add_test(tc, test_mprotect_splits_vma);
    tcase_add_test(tc, test_mprotect_keeps_zero_page_read_only);
    suite_add_tcase(s, tc);

    /* A short timeout: a broken fault path loops here rather than failing. */
    tc = sim_tcase("mprotect_write_only", 2);
    tcase_add_test(tc, test_mprotect_write_only_still_writable);
    suite_add_tcase(s, tc);

    tc = sim_tcase("madvise", 5);
    tcase_add_test(tc, test_madvise_bad_arguments);
    tcase_add_test(tc, test_madvise_hints_change_nothing);
    tcase_add_test(tc, test_madvise_hole_zaps_mapped_parts);
    tcase_add_test(tc, test_madvise_dontneed_private);
    tcase_add_test(tc, test_madvise_dontneed_shared_keeps_data);
    suite_add_tcase(s, tc);

    tc = sim_tcase("access", 5);
    tcase_add_test(tc, test_rw_bad_arguments);
    tcase_add_test(tc, test_rw_partially_unmapped_changes_nothing);
    tcase_add_test(tc, test_write_into_read_only_changes_nothing);
    tcase_add_test(tc, test_protection_of_new_mappings);
    tcase_add_test(tc, test_vma_lookup_bounds_and_flags);
    tcase_add_test(tc, test_notifier_range_init);
    suite_add_tcase(s, tc);
    return s;
}
