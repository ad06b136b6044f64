/* Tests of the DMA-bits exercise: hmm_range_fault keeps bits 60-58 of each input entry in
 * its output, as Linux 6.15 does (HMM_PFN_INOUT_FLAGS). */
#include "testlib.h"

#define NPAGES 4
#define DMA_MAPPED (1UL << 60)          /* HMM_PFN_DMA_MAPPED */
#define P2PDMA (1UL << 59)              /* HMM_PFN_P2PDMA */
#define P2PDMA_BUS (1UL << 58)          /* HMM_PFN_P2PDMA_BUS */

struct world {
    struct mm_struct *mm;
    unsigned long addr, pfns[NPAGES];
    struct mmu_interval_notifier n;
};

/* NPAGES of private memory at addr, the first two written; a notifier over them. */
static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    w->mm = sim_mm_create();
    w->addr = sim_test_map_private(w->mm, NPAGES * PAGE_SIZE);
    sim_test_memset(w->mm, w->addr, 0x33, 2 * PAGE_SIZE);
    ck_assert_int_eq(mmu_interval_notifier_insert(&w->n, w->mm, w->addr, NPAGES * PAGE_SIZE,
                                                  &sim_test_seq_only_ops), 0);
}

static void world_fini(struct world *w)
{
    mmu_interval_notifier_remove(&w->n);
    mmput(w->mm);
}

/* hmm_range_fault over [start, start + npages) of the world, retried on -EBUSY. */
static int walk(struct world *w, unsigned long start, int npages, unsigned long *pfns,
                unsigned long default_flags)
{
    struct hmm_range r = { .notifier = &w->n, .start = start,
                           .end = start + npages * PAGE_SIZE, .hmm_pfns = pfns,
                           .default_flags = default_flags };
    int ret;

    do {
        r.notifier_seq = mmu_interval_read_begin(&w->n);
        mmap_read_lock(w->mm);
        ret = hmm_range_fault(&r);
        mmap_read_unlock(w->mm);
    } while (ret == -EBUSY);
    return ret;
}

static unsigned long cpu_pfn(struct world *w, int i)
{
    return pte_pfn(sim_pte_get(w->mm, w->addr + i * PAGE_SIZE));
}

/* A snapshot: present pages answer with their pfn, absent ones with 0, and every entry
 * keeps its three bits. */
START_TEST(bits_survive_a_snapshot)
{
    struct world w;
    unsigned long in[NPAGES] = { DMA_MAPPED, P2PDMA | P2PDMA_BUS, DMA_MAPPED | P2PDMA, 0 };

    world_init(&w);
    memcpy(w.pfns, in, sizeof(in));
    ck_assert_int_eq(walk(&w, w.addr, NPAGES, w.pfns, 0), 0);
    ck_assert_uint_eq(w.pfns[0], cpu_pfn(&w, 0) | HMM_PFN_VALID | HMM_PFN_WRITE | DMA_MAPPED);
    ck_assert_uint_eq(w.pfns[1], cpu_pfn(&w, 1) | HMM_PFN_VALID | HMM_PFN_WRITE | P2PDMA |
                                 P2PDMA_BUS);
    ck_assert_uint_eq(w.pfns[2], DMA_MAPPED | P2PDMA);
    ck_assert_uint_eq(w.pfns[3], 0);
    world_fini(&w);
}
END_TEST

/* A fault for reading: the faulted pages (the zero page) answer VALID, bits kept. */
START_TEST(bits_survive_a_fault)
{
    struct world w;

    world_init(&w);
    for (int i = 0; i < NPAGES; i++)
        w.pfns[i] = P2PDMA_BUS;
    ck_assert_int_eq(walk(&w, w.addr, NPAGES, w.pfns, HMM_PFN_REQ_FAULT), 0);
    for (int i = 0; i < NPAGES; i++) {
        unsigned long write = i < 2 ? HMM_PFN_WRITE : 0;

        ck_assert_uint_eq(w.pfns[i], cpu_pfn(&w, i) | HMM_PFN_VALID | write | P2PDMA_BUS);
    }
    world_fini(&w);
}
END_TEST

/* A PROT_NONE VMA answers HMM_PFN_ERROR for a snapshot, and the bits stay beside it. */
START_TEST(bits_survive_an_error)
{
    struct world w;

    world_init(&w);
    ck_assert_int_eq(sim_mprotect(w.mm, w.addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_NONE), 0);
    w.pfns[2] = DMA_MAPPED;
    w.pfns[3] = P2PDMA;
    ck_assert_int_eq(walk(&w, w.addr + 2 * PAGE_SIZE, 2, w.pfns + 2, 0), 0);
    ck_assert_uint_eq(w.pfns[2], HMM_PFN_ERROR | DMA_MAPPED);
    ck_assert_uint_eq(w.pfns[3], HMM_PFN_ERROR | P2PDMA);
    world_fini(&w);
}
END_TEST

/* Request, order and pfn bits of the input are gone from the output. */
START_TEST(other_input_bits_are_replaced)
{
    struct world w;
    unsigned long junk = HMM_PFN_REQ_WRITE | HMM_PFN_ERROR | (31UL << HMM_PFN_ORDER_SHIFT) |
                         0xabcdeUL;

    world_init(&w);
    for (int i = 0; i < NPAGES; i++)
        w.pfns[i] = junk | DMA_MAPPED;
    ck_assert_int_eq(walk(&w, w.addr, NPAGES, w.pfns, 0), 0);
    ck_assert_uint_eq(w.pfns[0], cpu_pfn(&w, 0) | HMM_PFN_VALID | HMM_PFN_WRITE | DMA_MAPPED);
    ck_assert_uint_eq(w.pfns[3], DMA_MAPPED);
    world_fini(&w);
}
END_TEST

/* The bits request nothing: with every bit set and no REQ_FAULT, nothing is faulted. */
START_TEST(the_bits_ask_for_nothing)
{
    struct world w;
    struct hmm_range r;

    world_init(&w);
    for (int i = 0; i < NPAGES; i++)
        w.pfns[i] = DMA_MAPPED | P2PDMA | P2PDMA_BUS;
    r = (struct hmm_range){ .notifier = &w.n, .start = w.addr,
                            .end = w.addr + NPAGES * PAGE_SIZE, .hmm_pfns = w.pfns,
                            .pfn_flags_mask = ~0UL };
    do {
        r.notifier_seq = mmu_interval_read_begin(&w.n);
        mmap_read_lock(w.mm);
        r.default_flags = 0;
        ck_assert_int_ne(hmm_range_fault(&r), -EFAULT);
        mmap_read_unlock(w.mm);
    } while (mmu_interval_read_retry(&w.n, r.notifier_seq));
    ck_assert(pte_none(sim_pte_get(w.mm, w.addr + 2 * PAGE_SIZE)));
    ck_assert(pte_none(sim_pte_get(w.mm, w.addr + 3 * PAGE_SIZE)));
    ck_assert_uint_eq(w.pfns[3], DMA_MAPPED | P2PDMA | P2PDMA_BUS);
    world_fini(&w);
}
END_TEST

/* Far from the written pages no page table exists: the hole is answered in one piece,
 * and each of its entries keeps its own bits. */
START_TEST(bits_survive_a_range_without_tables)
{
    struct world w;
    unsigned long far, pfns[3] = { DMA_MAPPED, 0, P2PDMA };

    world_init(&w);
    far = sim_test_map_private(w.mm, 1UL << 30);    /* a fresh GiB: no tables in it */
    mmu_interval_notifier_remove(&w.n);
    ck_assert_int_eq(mmu_interval_notifier_insert(&w.n, w.mm, far, 3 * PAGE_SIZE,
                                                  &sim_test_seq_only_ops), 0);
    ck_assert_int_eq(walk(&w, far, 3, pfns, 0), 0);
    ck_assert_uint_eq(pfns[0], DMA_MAPPED);
    ck_assert_uint_eq(pfns[1], 0);
    ck_assert_uint_eq(pfns[2], P2PDMA);
    pfns[1] = P2PDMA_BUS;
    ck_assert_int_eq(walk(&w, far, 3, pfns, HMM_PFN_REQ_FAULT), 0);
    ck_assert_uint_eq(pfns[1], pte_pfn(sim_pte_get(w.mm, far + PAGE_SIZE)) | HMM_PFN_VALID |
                               P2PDMA_BUS);
    world_fini(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("dma-bits");
    TCase *tc = sim_tcase("dma-bits", 5);

    tcase_add_test(tc, bits_survive_a_snapshot);
    tcase_add_test(tc, bits_survive_a_fault);
    tcase_add_test(tc, bits_survive_an_error);
    tcase_add_test(tc, other_input_bits_are_replaced);
    tcase_add_test(tc, the_bits_ask_for_nothing);
    tcase_add_test(tc, bits_survive_a_range_without_tables);
    suite_add_tcase(s, tc);
    return s;
}
