/* Generated from chapters/07-device-private.nw by make tangle (sum 9bb18efcf050): edit the chapter, not this file. */
#line 922 "chapters/07-device-private.nw"
#include <pthread.h>
#include <stdlib.h>
#include "hmmwb.h"

#line 93 "chapters/07-device-private.nw"
#define SIM_DEVICE_PFN_BASE (1UL << 32)      /* 16 TiB: far above any RAM we simulate */
#define SIM_MAX_PARKED 64

static pthread_mutex_t sim_devmem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dev_pagemap *sim_pgmap_list;           /* every registered pagemap */
static unsigned long sim_devmem_next_pfn = SIM_DEVICE_PFN_BASE;
static struct sim_mem_section *sim_parked[SIM_MAX_PARKED];
static int sim_nr_parked;
#line 109 "chapters/07-device-private.nw"
static struct sim_mem_section *sim_devmem_section(unsigned long nr_pages)
{
    struct sim_mem_section *sec = NULL;

    for (int i = 0; i < sim_nr_parked; i++) {
        if (sim_parked[i]->nr_pages == nr_pages) {
            sec = sim_parked[i];
            sim_parked[i] = sim_parked[--sim_nr_parked];
            return sec;
        }
    }
    sec = sim_add_section(sim_devmem_next_pfn, nr_pages);
    if (sec)
        sim_devmem_next_pfn += nr_pages;
    return sec;
}

static void sim_devmem_init_pages(struct dev_pagemap *pgmap, struct sim_mem_section *sec)
{
    for (unsigned long i = 0; i < sec->nr_pages; i++) {
        struct page *page = &sec->pages[i];

        atomic_store(&page->flags, 0);
        atomic_store(&page->_refcount, 0);
        atomic_store(&page->_mapcount, 0);
        page->free_next = NULL;
        page->pgmap = pgmap;
        page->zone_device_data = NULL;
    }
}
#line 149 "chapters/07-device-private.nw"
void *memremap_pages(struct dev_pagemap *pgmap, unsigned long nr_pages)
{
    struct sim_mem_section *sec;

    if (!pgmap || pgmap->type != MEMORY_DEVICE_PRIVATE || !pgmap->ops ||
        !pgmap->ops->page_free || !pgmap->ops->migrate_to_ram || !pgmap->owner ||
        pgmap->sim_section || nr_pages == 0 || nr_pages > SIM_RAM_MAX_PAGES)
        return ERR_PTR(-EINVAL);
    pthread_mutex_lock(&sim_devmem_lock);
    sec = sim_devmem_section(nr_pages);
    if (sec) {
        sim_devmem_init_pages(pgmap, sec);
        pgmap->sim_section = sec;
        pgmap->range.start = sec->start_pfn;
        pgmap->range.end = sec->start_pfn + nr_pages - 1;
        pgmap->sim_next = sim_pgmap_list;
        sim_pgmap_list = pgmap;
    }
    pthread_mutex_unlock(&sim_devmem_lock);
    if (!sec)
        return ERR_PTR(-ENOMEM);
    return sec->data;
}
#line 184 "chapters/07-device-private.nw"
static void sim_pgmap_unlink(struct dev_pagemap *pgmap)
{
    struct dev_pagemap **pp = &sim_pgmap_list;

    while (*pp && *pp != pgmap)
        pp = &(*pp)->sim_next;
    if (*pp)
        *pp = pgmap->sim_next;
}

void memunmap_pages(struct dev_pagemap *pgmap)
{
    struct sim_mem_section *sec;

    if (SIM_WARN(!pgmap || !pgmap->sim_section, "pagemap not registered"))
        return;
    sec = pgmap->sim_section;
    for (unsigned long i = 0; i < sec->nr_pages; i++)
        if (SIM_WARN(page_ref_count(&sec->pages[i]) != 0,
                     "device pfn %#lx still in use", sec->pages[i].pfn))
            return;
    pthread_mutex_lock(&sim_devmem_lock);
    sim_pgmap_unlink(pgmap);
    if (sim_nr_parked < SIM_MAX_PARKED)
        sim_parked[sim_nr_parked++] = sec;
    pthread_mutex_unlock(&sim_devmem_lock);
    pgmap->sim_section = NULL;
}
#line 226 "chapters/07-device-private.nw"
bool is_device_private_page(const struct page *page)
{
    return page && page->pgmap && page->pgmap->type == MEMORY_DEVICE_PRIVATE;
}

struct dev_pagemap *page_pgmap(const struct page *page)
{
    return page ? page->pgmap : NULL;
}

void zone_device_page_init(struct page *page)
{
    if (SIM_WARN(!is_device_private_page(page), "not a device page"))
        return;
    SIM_WARN(page_ref_count(page) != 0, "device pfn %#lx is not free", page->pfn);
    atomic_store(&page->_mapcount, 0);
    atomic_store(&page->_refcount, 1);
    lock_page(page);
}
#line 269 "chapters/07-device-private.nw"
void sim_device_page_free(struct page *page)
{
    SIM_WARN(page_mapcount(page) != 0, "freeing mapped device pfn %#lx", page->pfn);
    SIM_WARN(PageLocked(page), "freeing locked device pfn %#lx", page->pfn);
    atomic_store(&page->_mapcount, 0);
    atomic_store(&page->flags, 0);
    page->pgmap->ops->page_free(page);
}
#line 746 "chapters/07-device-private.nw"
static int sim_census_device_entry(struct mm_struct *mm, struct vm_area_struct *vma,
                                   unsigned long addr, pte_t pte, int **counts)
{
    swp_entry_t entry = pte_to_swp_entry(pte);
    struct page *page;
    int i = 0;

#line 213 "chapters/08-migration.nw"
    if (is_migration_entry(entry))
        return sim_invariant_failed("mm %p %#lx: migration entry %#lx at rest",
                                    (void *)mm, addr, pte);
#line 754 "chapters/07-device-private.nw"
    if (!is_device_private_entry(entry))
        return 0;
    page = pfn_swap_entry_to_page(entry);
    for (struct dev_pagemap *p = sim_pgmap_list; p; p = p->sim_next, i++) {
        if (page && page->pgmap == p && page_ref_count(page) > 0) {
            counts[i][page->pfn - p->range.start]++;
            if (vma->vm_shmem ||
                (is_writable_device_private_entry(entry) && !(vma->vm_flags & VM_WRITE)))
                return sim_invariant_failed("mm %p %#lx: entry %#lx disagrees with vma",
                                            (void *)mm, addr, pte);
            return 0;
        }
    }
    return sim_invariant_failed("mm %p %#lx: entry %#lx maps a free or unknown device page",
                                (void *)mm, addr, pte);
}
#line 781 "chapters/07-device-private.nw"
static int sim_census_device_entries(int **counts)
{
    struct mm_struct **mms;
    int bad = 0, n = sim_mm_list_snapshot(&mms);

    if (n < 0)
        return sim_invariant_failed("out of host memory for the device census");
    for (int i = 0; i < n; i++) {
        struct mm_struct *mm = mms[i];

        if (!sim_mm_alive(mm))
            continue;
        mmap_read_lock(mm);
        pthread_mutex_lock(&mm->page_table_lock);
        for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next) {
            for (unsigned long addr = vma->vm_start; addr < vma->vm_end;) {
                pte_t *ptep = sim_pte_offset(mm, addr, false);

                if (ptep && is_swap_pte(*ptep))
                    bad += sim_census_device_entry(mm, vma, addr, *ptep, counts);
                addr = sim_next_pte_addr(ptep, addr);
            }
        }
        pthread_mutex_unlock(&mm->page_table_lock);
        mmap_read_unlock(mm);
    }
    sim_mm_list_release(mms, n);
    return bad;
}
#line 815 "chapters/07-device-private.nw"
static int sim_check_device_page(struct page *page, int mapped)
{
    int ref = page_ref_count(page), map = page_mapcount(page);

    if (ref == 0 && (map || PageLocked(page)))
        return sim_invariant_failed("free device pfn %#lx: map %d locked %d", page->pfn,
                                    map, PageLocked(page));
    if (ref < 0 || map != mapped || mapped > ref)
        return sim_invariant_failed("device pfn %#lx: ref %d map %d, mapped by %d entries",
                                    page->pfn, ref, map, mapped);
    return 0;
}

int sim_check_device_memory(void)
{
    int bad = 0, n = 0, i = 0, **counts;

    pthread_mutex_lock(&sim_devmem_lock);
    for (struct dev_pagemap *p = sim_pgmap_list; p; p = p->sim_next)
        n++;
    counts = calloc(n ? n : 1, sizeof(*counts));
    for (struct dev_pagemap *p = sim_pgmap_list; counts && p; p = p->sim_next, i++)
        counts[i] = calloc(p->sim_section->nr_pages, sizeof(int));
    for (i = 0; counts && i < n; i++)
        if (!counts[i])
            bad = 1;
    if (!counts || bad) {
        bad = sim_invariant_failed("out of host memory for the device census");
        goto out;
    }
    bad += sim_census_device_entries(counts);
    i = 0;
    for (struct dev_pagemap *p = sim_pgmap_list; p; p = p->sim_next, i++)
        for (unsigned long j = 0; j < p->sim_section->nr_pages; j++)
            bad += sim_check_device_page(&p->sim_section->pages[j], counts[i][j]);
out:
    for (i = 0; counts && i < n; i++)
        free(counts[i]);
    free(counts);
    pthread_mutex_unlock(&sim_devmem_lock);
    return bad;
}
