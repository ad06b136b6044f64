/* Tests of the revocation exercise: CPU reads and writes on device-exclusive entries,
 * what the devices hear and when, a fault that finds the entry gone, a fault that meets
 * a conversion in progress, and a second device's fault. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "recorder.h"

#define P PAGE_SIZE
#define RESTORED (_PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY)

/* The device-exclusive entry of a page that was dirty when converted. */
static pte_t dirty_exclusive_pte(struct page *page)
{
    swp_entry_t entry = make_device_exclusive_entry(page_to_pfn(page));

    entry.val |= SIM_SWP_EXCLUSIVE_DIRTY;
    return swp_entry_to_pte(entry);
}

/* Convert the page at addr, returning it still locked and referenced. */
static struct page *convert_locked(struct mm_struct *mm, unsigned long addr)
{
    struct page *page;

    mmap_read_lock(mm);
    page = make_device_exclusive(mm, addr, NULL);
    mmap_read_unlock(mm);
    ck_assert(!IS_ERR(page));
    ck_assert(PageLocked(page));
    return page;
}

/* Convert the page at addr and let it go: the entry stays until the CPU takes it. */
static struct page *convert(struct mm_struct *mm, unsigned long addr)
{
    struct page *page = convert_locked(mm, addr);

    unlock_page(page);
    put_page(page);
    ck_assert_uint_eq(sim_pte_get(mm, addr), dirty_exclusive_pte(page));
    return page;
}

/* A CPU read of a device-exclusive page: one MMU_NOTIFY_CLEAR without owner over the
 * page, the entry restored (and made young by the read), the counts as they were. */
START_TEST(a_read_takes_the_page_back)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 3 * P);
    struct recorder rec;
    struct page *page;

    sim_test_memset(mm, addr, 0x2a, 3 * P);
    page = convert(mm, addr + P);
    recorder_init(&rec);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    sim_test_expect_bytes(mm, addr + P, 0x2a, P);
    ck_assert_int_eq(rec.n, 2);
    ck_assert_pair(&rec, 0, MMU_NOTIFY_CLEAR, addr + P, addr + 2 * P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr + P),
                      pfn_pte(page_to_pfn(page), RESTORED | _PAGE_ACCESSED));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    ck_assert(!PageLocked(page));
    /* once restored, the page is an ordinary one: more reads tell nobody */
    sim_test_expect_bytes(mm, addr, 0x2a, 3 * P);
    ck_assert_int_eq(rec.n, 2);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* A CPU write: the same single announcement, and the write lands in the same page. */
START_TEST(a_write_takes_the_page_back)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct recorder rec;
    struct page *page;
    uint64_t v = 0x0123456789abcdefULL, back = 0;

    sim_test_memset(mm, addr, 0x11, P);
    page = convert(mm, addr);
    recorder_init(&rec);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    ck_assert_int_eq(sim_write(mm, addr + 64, &v, sizeof(v)), 0);
    ck_assert_int_eq(rec.n, 2);
    ck_assert_pair(&rec, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_ptr_eq(sim_test_mapped_page(mm, addr), page);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), RESTORED | _PAGE_ACCESSED));
    ck_assert_int_eq(sim_read(mm, addr + 64, &back, sizeof(back)), 0);
    ck_assert_uint_eq(back, v);
    sim_test_expect_bytes(mm, addr, 0x11, 64);
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* The kernel selftest `exclusive`: the mirror takes four pages, the CPU increments every
 * word, and the mirror's atomic access is gone. */
START_TEST(the_device_loses_its_access)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdev = dmirror_device_create(1);
    struct dmirror *d = dmirror_open(mdev, mm);
    unsigned long n = 4 * P / sizeof(int), addr = sim_test_map_private(mm, 4 * P);
    int *buf = malloc(4 * P), *mirror = malloc(4 * P);
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)mirror, .npages = 4 };
    struct hmm_dmirror_cmd check = { .addr = addr, .ptr = (uintptr_t)mirror, .npages = 4 };

    for (unsigned long i = 0; i < n; i++)
        buf[i] = i;
    ck_assert_int_eq(sim_write(mm, addr, buf, 4 * P), 0);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_EXCLUSIVE, &c), 0);
    ck_assert_uint_eq(c.cpages, 4);
    for (unsigned long i = 0; i < n; i++)
        ck_assert_int_eq(mirror[i], i);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_CHECK_EXCLUSIVE, &check), -EPERM);

    ck_assert_int_eq(sim_read(mm, addr, buf, 4 * P), 0);
    for (unsigned long i = 0; i < n; i++)
        ck_assert_int_eq(buf[i]++, i);
    ck_assert_int_eq(sim_write(mm, addr, buf, 4 * P), 0);
    ck_assert_int_eq(dmirror_ioctl(d, HMM_DMIRROR_CHECK_EXCLUSIVE, &check), 0);
    memset(buf, 0, 4 * P);
    ck_assert_int_eq(sim_read(mm, addr, buf, 4 * P), 0);
    for (unsigned long i = 0; i < n; i++)
        ck_assert_int_eq(buf[i], i + 1);
    for (int i = 0; i < 4; i++)
        ck_assert(pte_present(sim_pte_get(mm, addr + i * P)));
    free(buf);
    free(mirror);
    dmirror_release(d);
    dmirror_device_destroy(mdev);
    mmput(mm);
}
END_TEST

/* A subscriber that looks at the page and its entry when the revocation starts and when
 * it ends, without waiting for the page-table lock. */
struct observer {
    struct mmu_notifier mn;              /* first: a subscriber casts to an observer */
    struct page *page;
    unsigned long addr;
    int starts, ends;
    bool ptl_held[2], locked[2];
    pte_t pte[2];
    int refs[2];
};

static void observe(struct observer *o, const struct mmu_notifier_range *range, int when)
{
    struct mm_struct *mm = range->mm;
    pte_t *ptep;

    if (range->start > o->addr || range->end <= o->addr)
        return;
    o->locked[when] = PageLocked(o->page);
    o->refs[when] = page_ref_count(o->page);
    if (pthread_mutex_trylock(&mm->page_table_lock)) {
        o->ptl_held[when] = true;
        return;
    }
    ptep = sim_pte_offset(mm, o->addr, false);
    o->pte[when] = ptep ? *ptep : 0;
    pthread_mutex_unlock(&mm->page_table_lock);
}

static int observe_start(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct observer *o = (struct observer *)sub;

    o->starts++;
    observe(o, range, 0);
    return 0;
}

static void observe_end(struct mmu_notifier *sub, const struct mmu_notifier_range *range)
{
    struct observer *o = (struct observer *)sub;

    o->ends++;
    observe(o, range, 1);
}

static const struct mmu_notifier_ops observer_ops = {
    .invalidate_range_start = observe_start,
    .invalidate_range_end = observe_end,
};

/* The order: when the devices hear of it the page is locked and referenced twice, and
 * the entry is still device-exclusive; when the invalidation ends the entry is back, the
 * page unlocked and the fault's reference dropped.  No lock of the page table is held
 * while the devices are told. */
START_TEST(in_the_right_order)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct observer o = { .mn.ops = &observer_ops };
    struct page *page;

    sim_test_memset(mm, addr, 0x2e, P);
    page = convert(mm, addr);
    o.page = page;
    o.addr = addr;
    ck_assert_int_eq(mmu_notifier_register(&o.mn, mm), 0);
    sim_test_expect_bytes(mm, addr, 0x2e, P);
    ck_assert_int_eq(o.starts, 1);
    ck_assert_int_eq(o.ends, 1);
    ck_assert(!o.ptl_held[0]);
    ck_assert(o.locked[0]);
    ck_assert_int_eq(o.refs[0], 2);
    ck_assert_uint_eq(o.pte[0], dirty_exclusive_pte(page));
    ck_assert(!o.ptl_held[1]);
    ck_assert(!o.locked[1]);
    ck_assert_int_eq(o.refs[1], 1);
    ck_assert_uint_eq(o.pte[1], pfn_pte(page_to_pfn(page), RESTORED));
    mmu_notifier_unregister(&o.mn, mm);
    mmput(mm);
}
END_TEST

/* A fault that finds, once it holds the page lock, that the entry it faulted on is gone
 * (the page was unmapped meanwhile) still announces, but restores nothing: the empty
 * entry stays empty, and the page is unlocked and held only by whoever held it. */
START_TEST(a_changed_entry_is_left_alone)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, 2 * P);
    struct recorder rec;
    struct page *page;
    struct vm_fault vmf;
    pte_t orig;

    sim_test_memset(mm, addr, 0x5d, 2 * P);
    page = convert_locked(mm, addr + P);
    unlock_page(page);                       /* keep the conversion's reference */
    orig = sim_pte_get(mm, addr + P);
    ck_assert_uint_eq(orig, dirty_exclusive_pte(page));
    ck_assert_int_eq(sim_madvise(mm, addr + P, P, MADV_DONTNEED), 0);
    ck_assert(pte_none(sim_pte_get(mm, addr + P)));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);

    recorder_init(&rec);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    mmap_read_lock(mm);
    vmf = (struct vm_fault){ .vma = vma_lookup(mm, addr + P), .address = addr + P,
                             .orig_pte = orig };
    pthread_mutex_lock(&mm->page_table_lock);
    ck_assert_uint_eq(sim_remove_device_exclusive_entry(&vmf), 0);
    ck_assert_int_eq(pthread_mutex_trylock(&mm->page_table_lock), 0);   /* released */
    pthread_mutex_unlock(&mm->page_table_lock);
    mmap_read_unlock(mm);

    ck_assert_int_eq(rec.n, 2);
    ck_assert_pair(&rec, 0, MMU_NOTIFY_CLEAR, addr + P, addr + 2 * P, mm);
    ck_assert(pte_none(sim_pte_get(mm, addr + P)));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 0);
    ck_assert(!PageLocked(page));
    put_page(page);
    /* the address works as any unmapped one: a fresh zero page on the next read */
    sim_test_expect_bytes(mm, addr + P, 0, P);
    sim_test_expect_bytes(mm, addr, 0x5d, P);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

struct reader {
    struct mm_struct *mm;
    unsigned long addr;
    unsigned char buf[64];
    int ret;
    atomic_bool done;
};

static void *read_it(void *arg)
{
    struct reader *r = arg;

    r->ret = sim_read(r->mm, r->addr, r->buf, sizeof(r->buf));
    atomic_store(&r->done, true);
    return NULL;
}

/* A CPU read that faults while a conversion still holds the page lock waits for it, and
 * tells nobody before it has the lock; then it takes the page back. */
START_TEST(it_waits_for_a_conversion)
{
    struct mm_struct *mm = sim_mm_create();
    unsigned long addr = sim_test_map_private(mm, P);
    struct reader r = { .mm = mm, .addr = addr + 128 };
    struct recorder rec;
    struct page *page;
    pthread_t t;

    sim_test_memset(mm, addr, 0x73, P);
    page = convert_locked(mm, addr);
    recorder_init(&rec);
    ck_assert_int_eq(mmu_notifier_register(&rec.mn, mm), 0);
    pthread_create(&t, NULL, read_it, &r);
    /* wait until the fault holds its reference (or the read is over), then a little */
    for (int i = 0; i < 1000 && page_ref_count(page) < 3 && !atomic_load(&r.done); i++)
        usleep(1000);
    usleep(20 * 1000);
    ck_assert_msg(!atomic_load(&r.done), "the read went through while the page was locked");
    ck_assert_int_eq(rec.n, 0);
    ck_assert_uint_eq(sim_pte_get(mm, addr), dirty_exclusive_pte(page));
    ck_assert_int_eq(page_ref_count(page), 3);   /* the entry, the conversion, the fault */
    unlock_page(page);
    put_page(page);
    pthread_join(t, NULL);
    ck_assert_int_eq(r.ret, 0);
    ck_assert_uint_eq(sim_bytes_mismatch(r.buf, sizeof(r.buf), 0x73), sizeof(r.buf));
    ck_assert_int_eq(rec.n, 2);
    ck_assert_pair(&rec, 0, MMU_NOTIFY_CLEAR, addr, addr + P, mm);
    ck_assert_uint_eq(sim_pte_get(mm, addr),
                      pfn_pte(page_to_pfn(page), RESTORED | _PAGE_ACCESSED));
    ck_assert_int_eq(page_ref_count(page), 1);
    ck_assert_int_eq(page_mapcount(page), 1);
    mmu_notifier_unregister(&rec.mn, mm);
    mmput(mm);
}
END_TEST

/* A second device's fault is a CPU fault too: its read of two of the four pages another
 * device holds ends that device's access to those two, and only those. */
START_TEST(another_device_takes_it_back)
{
    struct mm_struct *mm = sim_mm_create();
    struct dmirror_device *mdev_a = dmirror_device_create(1), *mdev_b = dmirror_device_create(1);
    struct dmirror *a = dmirror_open(mdev_a, mm), *b = dmirror_open(mdev_b, mm);
    unsigned long addr = sim_test_map_private(mm, 4 * P);
    unsigned char *buf = malloc(4 * P), *data = malloc(4 * P);
    struct hmm_dmirror_cmd c = { .addr = addr, .ptr = (uintptr_t)buf, .npages = 4 };
    struct hmm_dmirror_cmd r = { .addr = addr + P, .ptr = (uintptr_t)buf, .npages = 2 };
    struct hmm_dmirror_cmd check;

    sim_fill_pattern(data, 4 * P, 9);
    ck_assert_int_eq(sim_write(mm, addr, data, 4 * P), 0);
    ck_assert_int_eq(dmirror_ioctl(a, HMM_DMIRROR_EXCLUSIVE, &c), 0);
    ck_assert_uint_eq(c.cpages, 4);
    memset(buf, 0, 4 * P);
    ck_assert_int_eq(dmirror_ioctl(b, HMM_DMIRROR_READ, &r), 0);
    ck_assert_uint_eq(r.cpages, 2);
    ck_assert_uint_eq(r.faults, 1);
    ck_assert_int_eq(memcmp(buf, data + P, 2 * P), 0);
    for (int i = 0; i < 4; i++) {
        pte_t pte = sim_pte_get(mm, addr + i * P);

        ck_assert_int_eq(pte_present(pte), i == 1 || i == 2);
        check = (struct hmm_dmirror_cmd){ .addr = addr + i * P, .ptr = (uintptr_t)buf,
                                          .npages = 1 };
        /* a erases each revoked page and the one after it (test_hmm's inclusive erase) */
        ck_assert_int_eq(dmirror_ioctl(a, HMM_DMIRROR_CHECK_EXCLUSIVE, &check),
                         i >= 1 ? 0 : -EPERM);
    }
    free(buf);
    free(data);
    dmirror_release(a);
    dmirror_release(b);
    dmirror_device_destroy(mdev_a);
    dmirror_device_destroy(mdev_b);
    mmput(mm);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("exclusive-fault");
    TCase *tc = sim_tcase("fault", 5);

    tcase_add_test(tc, a_read_takes_the_page_back);
    tcase_add_test(tc, a_write_takes_the_page_back);
    tcase_add_test(tc, the_device_loses_its_access);
    tcase_add_test(tc, in_the_right_order);
    tcase_add_test(tc, a_changed_entry_is_left_alone);
    tcase_add_test(tc, it_waits_for_a_conversion);
    tcase_add_test(tc, another_device_takes_it_back);
    suite_add_tcase(s, tc);
    return s;
}
