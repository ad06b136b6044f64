#include "hmmwb.h"

struct page *sim_get_user_page_write(struct mm_struct *mm, unsigned long addr,
                                     struct vm_area_struct **vmap)
{
    struct vm_area_struct *vma = vma_lookup(mm, addr);

    if (!vma || !(vma->vm_flags & VM_WRITE) || (vma->vm_flags & (VM_IO | VM_PFNMAP)))
        return ERR_PTR(-EFAULT);
    *vmap = vma;
    for (;;) {
        struct page *page = NULL;
        vm_fault_t ret;
        pte_t *ptep;

        pthread_mutex_lock(&mm->page_table_lock);
        ptep = sim_pte_offset(mm, addr, false);
        if (ptep && sim_pte_accessible(*ptep) && pte_write(*ptep)) {
            page = pfn_to_page(pte_pfn(*ptep));
            get_page(page);
        }
        pthread_mutex_unlock(&mm->page_table_lock);
        if (page)
            return page;
        ret = handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE);
        if (ret & VM_FAULT_ERROR)
            return ERR_PTR(ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT);
    }
}
static bool sim_install_exclusive_entry(struct mm_struct *mm, unsigned long addr,
                                        struct page *page)
{
    swp_entry_t entry = make_device_exclusive_entry(page_to_pfn(page));
    bool done = false;
    pte_t *ptep;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep && sim_pte_accessible(*ptep) && pte_write(*ptep) &&
        pte_pfn(*ptep) == page_to_pfn(page)) {
        if (pte_dirty(*ptep))
            entry.val |= SIM_SWP_EXCLUSIVE_DIRTY;
        *ptep = swp_entry_to_pte(entry);
        done = true;
        sim_trace_event("pte %#lx -> device-exclusive", addr);
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    return done;
}
struct page *sim_make_device_exclusive(struct mm_struct *mm, unsigned long addr,
                                       enum mmu_notifier_event event, void *owner)
{
    struct mmu_notifier_range range;
    struct vm_area_struct *vma;
    struct page *page;

    if (!mm || !sim_mm_alive(mm))
        return ERR_PTR(-EINVAL);
    addr &= PAGE_MASK;
    for (;;) {
        page = sim_get_user_page_write(mm, addr, &vma);
        if (IS_ERR(page))
            return page;
        if (vma->vm_shmem) {
            put_page(page);
            return ERR_PTR(-EOPNOTSUPP);
        }
        lock_page(page);
        mmu_notifier_range_init_owner(&range, event, 0, mm, addr, addr + PAGE_SIZE, owner);
        mmu_notifier_invalidate_range_start(&range);
        if (sim_install_exclusive_entry(mm, addr, page))
            break;
        mmu_notifier_invalidate_range_end(&range);
        unlock_page(page);
        put_page(page);
    }
    mmu_notifier_invalidate_range_end(&range);
    return page;
}

struct page *make_device_exclusive(struct mm_struct *mm, unsigned long addr, void *owner)
{
    return sim_make_device_exclusive(mm, addr, MMU_NOTIFY_EXCLUSIVE, owner);
}
static bool sim_try_fetch_add(struct mm_struct *mm, unsigned long addr, uint64_t value,
                              uint64_t *old)
{
    bool done = false;
    pte_t *ptep;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep && sim_pte_accessible(*ptep) && pte_write(*ptep)) {
        char *frame = sim_page_address(pfn_to_page(pte_pfn(*ptep)));
        uint64_t *word = (uint64_t *)(frame + (addr & ~PAGE_MASK));
        uint64_t was = __atomic_fetch_add(word, value, __ATOMIC_SEQ_CST);

        if (old)
            *old = was;
        *ptep |= _PAGE_ACCESSED | _PAGE_DIRTY;
        done = true;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    return done;
}
int sim_atomic_fetch_add(struct mm_struct *mm, unsigned long addr, uint64_t value,
                         uint64_t *old)
{
    struct vm_area_struct *vma;
    int ret = 0;

    if ((addr & 7) || !mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    vma = vma_lookup(mm, addr);
    if (!vma || !(vma->vm_flags & VM_WRITE))
        ret = -EFAULT;
    while (!ret && !sim_try_fetch_add(mm, addr, value, old)) {
        vm_fault_t f = handle_mm_fault(vma, addr, FAULT_FLAG_WRITE);

        if (f & VM_FAULT_ERROR)
            ret = (f & VM_FAULT_OOM) ? -ENOMEM : -EFAULT;
    }
    mmap_read_unlock(mm);
    mmput(mm);
    return ret;
}

/* Linux 5.14 to 6.14 (mm/rmap.c, make_device_exclusive_range()): the pages of
 * [start, end) made exclusive to the device `owner`, one by one.  The result is what
 * get_user_pages_remote() returned there: the first page's error, or the number of
 * pages converted before the first that could not be. */
int make_device_exclusive_range(struct mm_struct *mm, unsigned long start,
                                unsigned long end, struct page **pages, void *owner)
{
    unsigned long first = start & PAGE_MASK;
    long npages, i;

    if (end < start || !pages)
        return -EINVAL;
    npages = (long)((end - start) >> PAGE_SHIFT);
    for (i = 0; i < npages; i++) {
        struct page *page = make_device_exclusive(mm, first + i * PAGE_SIZE, owner);

        if (IS_ERR(page))
            return i ? (int)i : (int)PTR_ERR(page);
        pages[i] = page;
    }
    return (int)npages;
}
