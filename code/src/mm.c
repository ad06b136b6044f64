/* Generated from chapters/02-address-spaces.nw by make tangle (sum ef59aa36430b): edit the chapter, not this file. */
#line 2396 "chapters/02-address-spaces.nw"
#include <stdio.h>
#include <stdlib.h>
#include "hmmwb.h"

#line 230 "chapters/02-address-spaces.nw"
static void sim_free_pgtable(struct sim_pgtable *table, int level)
{
    if (level > 0)
        for (int i = 0; i < PTRS_PER_PTE; i++)
            if (table->entry[i])
                sim_free_pgtable((struct sim_pgtable *)table->entry[i], level - 1);
    free(table);
}
#line 256 "chapters/02-address-spaces.nw"
pte_t sim_pte_get(struct mm_struct *mm, unsigned long addr)
{
    pte_t *ptep, pte = 0;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep)
        pte = *ptep;
    pthread_mutex_unlock(&mm->page_table_lock);
    return pte;
}
#line 466 "chapters/02-address-spaces.nw"
void mmap_read_lock(struct mm_struct *mm)
{
    if (!SIM_WARN(!mm, "no address space"))
        pthread_rwlock_rdlock(&mm->mmap_lock);
}

void mmap_read_unlock(struct mm_struct *mm)
{
    if (!SIM_WARN(!mm, "no address space"))
        pthread_rwlock_unlock(&mm->mmap_lock);
}

void mmap_write_lock(struct mm_struct *mm)
{
    if (!SIM_WARN(!mm, "no address space"))
        pthread_rwlock_wrlock(&mm->mmap_lock);
}

void mmap_write_unlock(struct mm_struct *mm)
{
    if (!SIM_WARN(!mm, "no address space"))
        pthread_rwlock_unlock(&mm->mmap_lock);
}
#line 495 "chapters/02-address-spaces.nw"
struct mm_struct *sim_mm_list;
pthread_mutex_t sim_mm_list_lock = PTHREAD_MUTEX_INITIALIZER;

static void sim_mm_list_add(struct mm_struct *mm)
{
    pthread_mutex_lock(&sim_mm_list_lock);
    mm->sim_next = sim_mm_list;
    if (sim_mm_list)
        sim_mm_list->sim_prev = mm;
    sim_mm_list = mm;
    pthread_mutex_unlock(&sim_mm_list_lock);
}

static void sim_mm_list_del(struct mm_struct *mm)
{
    pthread_mutex_lock(&sim_mm_list_lock);
    if (mm->sim_prev)
        mm->sim_prev->sim_next = mm->sim_next;
    else
        sim_mm_list = mm->sim_next;
    if (mm->sim_next)
        mm->sim_next->sim_prev = mm->sim_prev;
    pthread_mutex_unlock(&sim_mm_list_lock);
}
#line 2404 "chapters/02-address-spaces.nw"
static void sim_exit_mmap(struct mm_struct *mm);
static void sim_mm_free(struct mm_struct *mm);
#line 525 "chapters/02-address-spaces.nw"
struct mm_struct *sim_mm_alloc(void)
{
    struct mm_struct *mm = calloc(1, sizeof(*mm));
    pthread_rwlockattr_t attr;

    if (!mm)
        return NULL;
    mm->pgd = calloc(1, sizeof(struct sim_pgtable));
    if (!mm->pgd) {
        free(mm);
        return NULL;
    }
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&mm->mmap_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&mm->page_table_lock, NULL);
    atomic_init(&mm->mm_users, 1);
    atomic_init(&mm->mm_count, 1);

    sim_mm_list_add(mm);
    return mm;
}

struct mm_struct *sim_mm_create(void)
{
    return sim_mm_alloc();
}
#line 608 "chapters/02-address-spaces.nw"
void mmgrab(struct mm_struct *mm)
{
    if (!SIM_WARN(!mm, "NULL mm"))
        atomic_fetch_add(&mm->mm_count, 1);
}

void mmdrop(struct mm_struct *mm)
{
    if (SIM_WARN(!mm, "NULL mm"))
        return;
    if (atomic_fetch_sub(&mm->mm_count, 1) == 1)
        sim_mm_free(mm);
}

void mmget(struct mm_struct *mm)
{
    if (SIM_WARN(!mm, "NULL mm"))
        return;
    SIM_WARN(!mmget_not_zero(mm), "mm had no users");
}

bool mmget_not_zero(struct mm_struct *mm)
{
    int users;

    if (!mm)
        return false;
    users = atomic_load(&mm->mm_users);
    while (users > 0)
        if (atomic_compare_exchange_weak(&mm->mm_users, &users, users + 1))
            return true;
    return false;
}

void mmput(struct mm_struct *mm)
{
    if (!mm)
        return;
    if (atomic_fetch_sub(&mm->mm_users, 1) == 1) {
        sim_exit_mmap(mm);
        mmdrop(mm);
    }
}

bool sim_mm_alive(struct mm_struct *mm)
{
    return mm && atomic_load(&mm->mm_users) > 0;
}
#line 571 "chapters/02-address-spaces.nw"
int sim_mm_list_snapshot(struct mm_struct ***out)
{
    struct mm_struct **mms = NULL;
    int n = 0, cap = 0;

    pthread_mutex_lock(&sim_mm_list_lock);
    for (struct mm_struct *mm = sim_mm_list; mm; mm = mm->sim_next)
        cap++;
    mms = calloc(cap ? cap : 1, sizeof(*mms));
    for (struct mm_struct *mm = sim_mm_list; mms && mm; mm = mm->sim_next) {
        int count = atomic_load(&mm->mm_count);

        while (count > 0 && !atomic_compare_exchange_weak(&mm->mm_count, &count, count + 1))
            ;
        if (count > 0)
            mms[n++] = mm;
    }
    pthread_mutex_unlock(&sim_mm_list_lock);
    *out = mms;
    return mms ? n : -ENOMEM;
}

void sim_mm_list_release(struct mm_struct **mms, int n)
{
    for (int i = 0; i < n; i++)
        mmdrop(mms[i]);
    free(mms);
}
#line 662 "chapters/02-address-spaces.nw"
static void sim_mm_free(struct mm_struct *mm)
{
    sim_mm_list_del(mm);
#line 172 "chapters/03-mmu-notifiers.nw"
    __mmu_notifier_subscriptions_destroy(mm);
#line 666 "chapters/02-address-spaces.nw"
    pthread_rwlock_destroy(&mm->mmap_lock);
    pthread_mutex_destroy(&mm->page_table_lock);
    free(mm);
}
#line 379 "chapters/02-address-spaces.nw"
struct sim_shmem *sim_shmem_create(unsigned long nr_pages)
{
    struct sim_shmem *shm = calloc(1, sizeof(*shm));

    if (!shm)
        return NULL;
    shm->pages = calloc(nr_pages, sizeof(struct page *));
    if (!shm->pages) {
        free(shm);
        return NULL;
    }
    atomic_init(&shm->refs, 1);
    pthread_mutex_init(&shm->lock, NULL);
    shm->nr_pages = nr_pages;
    return shm;
}

void sim_shmem_put(struct sim_shmem *shm)
{
    if (!shm || atomic_fetch_sub(&shm->refs, 1) != 1)
        return;
    for (unsigned long i = 0; i < shm->nr_pages; i++)
        if (shm->pages[i])
            put_page(shm->pages[i]);
    pthread_mutex_destroy(&shm->lock);
    free(shm->pages);
    free(shm);
}
#line 854 "chapters/02-address-spaces.nw"
static void sim_zap_pte(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep)
{
    pte_t pte = *ptep;

    *ptep = 0;
    if (pte_present(pte)) {
        struct page *page = pfn_to_page(pte_pfn(pte));

        if (is_zero_pfn(pte_pfn(pte)))
            return;
        if (SIM_WARN(!page, "entry %#lx at %#lx maps no frame", pte, addr))
            return;
        atomic_fetch_sub(&page->_mapcount, 1);
        put_page(page);
        return;
    }
#line 393 "chapters/07-device-private.nw"
    if (is_device_private_entry(pte_to_swp_entry(pte))) {
        struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(pte));

        atomic_fetch_sub(&page->_mapcount, 1);
        put_page(page);
        return;
    }
#line 182 "chapters/08-migration.nw"
    if (is_migration_entry(pte_to_swp_entry(pte)))
        return;
#line 255 "chapters/09-device-exclusive.nw"
    if (is_device_exclusive_entry(pte_to_swp_entry(pte))) {
        struct page *page = pfn_swap_entry_to_page(pte_to_swp_entry(pte));

        atomic_fetch_sub(&page->_mapcount, 1);
        put_page(page);
        return;
    }
#line 871 "chapters/02-address-spaces.nw"
    SIM_WARN(true, "unknown entry %#lx at %#lx", pte, addr);
    (void)vma;
}
#line 884 "chapters/02-address-spaces.nw"
void sim_zap_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
    struct mm_struct *mm = vma->vm_mm;

    pthread_mutex_lock(&mm->page_table_lock);
    for (unsigned long addr = start; addr < end;) {
        pte_t *ptep = sim_pte_offset(mm, addr, false);

        if (ptep && !pte_none(*ptep))
            sim_zap_pte(vma, addr, ptep);
        addr = sim_next_pte_addr(ptep, addr);
    }
    pthread_mutex_unlock(&mm->page_table_lock);
}
#line 1287 "chapters/02-address-spaces.nw"
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr)
{
    if (!mm)
        return NULL;
    for (struct vm_area_struct *vma = mm->mmap; vma && vma->vm_start <= addr;
         vma = vma->vm_next)
        if (addr < vma->vm_end)
            return vma;
    return NULL;
}
#line 1303 "chapters/02-address-spaces.nw"
void sim_vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
    struct vm_area_struct *prev = NULL, *next = mm->mmap;

    while (next && next->vm_start < vma->vm_start) {
        prev = next;
        next = next->vm_next;
    }
    vma->vm_prev = prev;
    vma->vm_next = next;
    if (prev)
        prev->vm_next = vma;
    else
        mm->mmap = vma;
    if (next)
        next->vm_prev = vma;
    mm->map_count++;
}

void sim_vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
    if (vma->vm_prev)
        vma->vm_prev->vm_next = vma->vm_next;
    else
        mm->mmap = vma->vm_next;
    if (vma->vm_next)
        vma->vm_next->vm_prev = vma->vm_prev;
    mm->map_count--;
}

void sim_vma_free(struct vm_area_struct *vma)
{
    sim_shmem_put(vma->vm_shmem);
    free(vma);
}
#line 1345 "chapters/02-address-spaces.nw"
static int sim_split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
                         unsigned long addr)
{
    struct vm_area_struct *tail = malloc(sizeof(*tail));

    if (!tail)
        return -ENOMEM;
    *tail = *vma;
    tail->vm_start = addr;
    tail->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
    if (tail->vm_shmem)
        atomic_fetch_add(&tail->vm_shmem->refs, 1);
    vma->vm_end = addr;
    sim_vma_link(mm, tail);
    return 0;
}

int sim_split_at(struct mm_struct *mm, unsigned long addr)
{
    struct vm_area_struct *vma = vma_lookup(mm, addr);

    if (!vma || vma->vm_start == addr)
        return 0;
    return sim_split_vma(mm, vma, addr);
}
#line 2034 "chapters/02-address-spaces.nw"
static void sim_exit_mmap(struct mm_struct *mm)
{
    struct mmu_notifier_range range;
    struct vm_area_struct *vma;

    mmu_notifier_release(mm);
    mmap_write_lock(mm);
    mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, 0, ULONG_MAX);
    mmu_notifier_invalidate_range_start(&range);
    while ((vma = mm->mmap)) {
        sim_zap_range(vma, vma->vm_start, vma->vm_end);
        sim_vma_unlink(mm, vma);
        sim_vma_free(vma);
    }
    mmu_notifier_invalidate_range_end(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    sim_free_pgtable(mm->pgd, SIM_PT_LEVELS - 1);
    mm->pgd = NULL;
    pthread_mutex_unlock(&mm->page_table_lock);
    mmap_write_unlock(mm);
}
