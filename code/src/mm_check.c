/* Generated from chapters/02-address-spaces.nw by make tangle (sum 1f51137b8590): edit the chapter, not this file. */
#line 2466 "chapters/02-address-spaces.nw"
#include <stdlib.h>
#include "hmmwb.h"

#line 2099 "chapters/02-address-spaces.nw"
struct sim_map_census {
    unsigned long first_pfn, nr;
    int *mapped;                 /* entries that map each frame */
    int *held;                   /* references held by shared objects */
};
#line 2186 "chapters/02-address-spaces.nw"
static unsigned long sim_count_entries(struct sim_pgtable *table, int level)
{
    unsigned long n = 0;

    if (!table)
        return 0;
    for (int i = 0; i < PTRS_PER_PTE; i++) {
        if (!table->entry[i])
            continue;
        n += level ? sim_count_entries((struct sim_pgtable *)table->entry[i], level - 1)
                   : 1;
    }
    return n;
}
#line 2208 "chapters/02-address-spaces.nw"
static unsigned long sim_census_number;

static int sim_census_shmem(struct sim_map_census *census, struct sim_shmem *shm)
{
    if (shm->census == sim_census_number)
        return 0;
    shm->census = sim_census_number;
    pthread_mutex_lock(&shm->lock);
    for (unsigned long i = 0; i < shm->nr_pages; i++) {
        unsigned long pfn = shm->pages[i] ? page_to_pfn(shm->pages[i]) : 0;

        if (pfn && pfn - census->first_pfn < census->nr)
            census->held[pfn - census->first_pfn]++;
    }
    pthread_mutex_unlock(&shm->lock);
    return 0;
}
#line 2073 "chapters/02-address-spaces.nw"
static int sim_check_vmas(struct mm_struct *mm)
{
    unsigned long prev_end = 0;
    int bad = 0, n = 0;

    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next, n++) {
        if (vma->vm_start >= vma->vm_end || vma->vm_start < prev_end ||
            !PAGE_ALIGNED(vma->vm_start) || !PAGE_ALIGNED(vma->vm_end) ||
            vma->vm_start < SIM_MMAP_MIN_ADDR || vma->vm_end > SIM_TASK_SIZE ||
            vma->vm_mm != mm || (vma->vm_next && vma->vm_next->vm_prev != vma))
            bad += sim_invariant_failed("mm %p: bad vma [%#lx, %#lx)", (void *)mm,
                                        vma->vm_start, vma->vm_end);
        prev_end = vma->vm_end;
    }
    if (n != mm->map_count)
        bad += sim_invariant_failed("mm %p: %d vmas, map_count %d", (void *)mm, n,
                                    mm->map_count);
    return bad;
}
#line 2111 "chapters/02-address-spaces.nw"
static int sim_check_present_pte(struct sim_map_census *census, struct mm_struct *mm,
                                 struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
    unsigned long pfn = pte_pfn(pte);
    struct page *page = pfn_to_page(pfn);

    if (!page || page_ref_count(page) <= 0)
        return sim_invariant_failed("mm %p %#lx: entry %#lx maps a free or bad frame",
                                    (void *)mm, addr, pte);
    if (!is_zero_pfn(pfn) && pfn - census->first_pfn < census->nr)
        census->mapped[pfn - census->first_pfn]++;
    if ((pte_write(pte) && (!(vma->vm_flags & VM_WRITE) || is_zero_pfn(pfn))) ||
        (pte_protnone(pte) && (vma->vm_flags & VM_ACCESS_FLAGS)))
        return sim_invariant_failed("mm %p %#lx: entry %#lx disagrees with vma flags %#lx",
                                    (void *)mm, addr, pte, vma->vm_flags);
    return 0;
}
#line 2140 "chapters/02-address-spaces.nw"
static int sim_census_swap_pte(struct sim_map_census *census, struct mm_struct *mm,
                               struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
    swp_entry_t entry = pte_to_swp_entry(pte);

#line 292 "chapters/09-device-exclusive.nw"
    if (is_device_exclusive_entry(entry)) {
        unsigned long pfn = swp_offset_pfn(entry);
        struct page *page = pfn_to_page(pfn);

        if (!page || page_ref_count(page) <= 0 || vma->vm_shmem)
            return sim_invariant_failed("mm %p %#lx: exclusive entry %#lx maps a bad frame",
                                        (void *)mm, addr, pte);
        if (pfn - census->first_pfn < census->nr)
            census->mapped[pfn - census->first_pfn]++;
        return 0;
    }
#line 2146 "chapters/02-address-spaces.nw"
    (void)census, (void)mm, (void)vma, (void)addr, (void)entry;
    return 0;
}
#line 2156 "chapters/02-address-spaces.nw"
static int sim_check_ptes(struct sim_map_census *census, struct mm_struct *mm)
{
    int bad = 0;
    unsigned long nr_entries = 0;

    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next) {
        for (unsigned long addr = vma->vm_start; addr < vma->vm_end;) {
            pte_t *ptep = sim_pte_offset(mm, addr, false);

            if (ptep && pte_present(*ptep))
                bad += sim_check_present_pte(census, mm, vma, addr, *ptep);
            else if (ptep && is_swap_pte(*ptep))
                bad += sim_census_swap_pte(census, mm, vma, addr, *ptep);
            if (ptep && !pte_none(*ptep))
                nr_entries++;
            addr = sim_next_pte_addr(ptep, addr);
        }
        if (vma->vm_shmem)
            bad += sim_census_shmem(census, vma->vm_shmem);
    }
    if (nr_entries != sim_count_entries(mm->pgd, SIM_PT_LEVELS - 1))
        bad += sim_invariant_failed("mm %p: entries outside every vma", (void *)mm);
    return bad;
}
#line 2234 "chapters/02-address-spaces.nw"
static int sim_check_census(struct sim_map_census *census)
{
    int bad = 0;

    for (unsigned long i = 0; i < census->nr; i++) {
        struct page *page = pfn_to_page(census->first_pfn + i);

        if (page_mapcount(page) != census->mapped[i])
            bad += sim_invariant_failed("pfn %#lx: mapcount %d, mapped by %d entries",
                                        page_to_pfn(page), page_mapcount(page),
                                        census->mapped[i]);
        if (census->mapped[i] + census->held[i] > page_ref_count(page) &&
            !PageReserved(page))
            bad += sim_invariant_failed("pfn %#lx: refcount %d below %d mappings + %d held",
                                        page_to_pfn(page), page_ref_count(page),
                                        census->mapped[i], census->held[i]);
    }
    return bad;
}

int sim_check_address_spaces(void)
{
    struct sim_map_census census = { SIM_RAM_START_PFN, sim_nr_ram_pages(), NULL, NULL };
    struct mm_struct **mms;
    int bad = 0, n = sim_mm_list_snapshot(&mms);

    census.mapped = calloc(census.nr, sizeof(int));
    census.held = calloc(census.nr, sizeof(int));
    sim_census_number++;
    for (int i = 0; i < n && census.mapped && census.held; i++) {
        struct mm_struct *mm = mms[i];

        if (!sim_mm_alive(mm))
            continue;
        mmap_read_lock(mm);
        pthread_mutex_lock(&mm->page_table_lock);
        bad += sim_check_vmas(mm) + sim_check_ptes(&census, mm);
        pthread_mutex_unlock(&mm->page_table_lock);
        mmap_read_unlock(mm);
    }
    if (n >= 0)
        sim_mm_list_release(mms, n);
    if (census.mapped && census.held && n >= 0)
        bad += sim_check_census(&census);
    else
        bad += sim_invariant_failed("out of host memory for the census");
    free(census.mapped);
    free(census.held);
    return bad;
}
