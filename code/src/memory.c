/* Generated from chapters/02-address-spaces.nw by make tangle (sum 4949e3fc8514): edit the chapter, not this file. */
#line 2422 "chapters/02-address-spaces.nw"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hmmwb.h"

#line 283 "chapters/02-address-spaces.nw"
#define SIM_ZERO_PAGE_PFN (SIM_RAM_START_PFN - 1)

static struct page *sim_zero_page_ptr;
static pthread_once_t sim_zero_page_once = PTHREAD_ONCE_INIT;

static void sim_zero_page_init(void)
{
    struct sim_mem_section *sec = sim_add_section(SIM_ZERO_PAGE_PFN, 1);

    if (!sec) {
        fprintf(stderr, "hmmwb: no host memory for the zero page\n");
        abort();
    }
    sim_zero_page_ptr = &sec->pages[0];
    atomic_store(&sim_zero_page_ptr->_refcount, 1);
    atomic_store(&sim_zero_page_ptr->flags, 1UL << PG_reserved);
}

struct page *sim_zero_page(void)
{
    pthread_once(&sim_zero_page_once, sim_zero_page_init);
    return sim_zero_page_ptr;
}

bool is_zero_pfn(unsigned long pfn)
{
    return pfn == page_to_pfn(sim_zero_page());
}
#line 413 "chapters/02-address-spaces.nw"
static struct page *sim_shmem_get_page(struct sim_shmem *shm, unsigned long index)
{
    struct page *page;

    pthread_mutex_lock(&shm->lock);
    page = shm->pages[index];
    if (!page) {
        page = alloc_page();
        shm->pages[index] = page;
    }
    if (page)
        get_page(page);
    pthread_mutex_unlock(&shm->lock);
    return page;
}
#line 2429 "chapters/02-address-spaces.nw"
static vm_fault_t sim_handle_pte_fault(struct vm_fault *vmf);
#line 943 "chapters/02-address-spaces.nw"
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
                           unsigned int flags)
{
    struct vm_fault vmf = {
        .vma = vma,
        .address = address & PAGE_MASK,
        .flags = flags,
    };

    if (!vma || address < vma->vm_start || address >= vma->vm_end)
        return VM_FAULT_SIGSEGV;
    if (!(vma->vm_flags & sim_access_flags(flags & FAULT_FLAG_WRITE)))
        return VM_FAULT_SIGSEGV;
    return sim_handle_pte_fault(&vmf);
}
#line 2431 "chapters/02-address-spaces.nw"
static vm_fault_t sim_do_none_fault(struct vm_fault *vmf, pte_t *ptep);
static vm_fault_t sim_do_swap_page(struct vm_fault *vmf);
#line 963 "chapters/02-address-spaces.nw"
static vm_fault_t sim_handle_pte_fault(struct vm_fault *vmf)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    pte_t *ptep;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, vmf->address, true);
    if (!ptep) {
        pthread_mutex_unlock(&mm->page_table_lock);
        return VM_FAULT_OOM;
    }
    vmf->orig_pte = *ptep;
    if (pte_none(vmf->orig_pte))
        return sim_do_none_fault(vmf, ptep);
    if (is_swap_pte(vmf->orig_pte))
        return sim_do_swap_page(vmf);
    if ((vmf->flags & FAULT_FLAG_WRITE) && !pte_write(vmf->orig_pte))
        return sim_do_wp_page(vmf, ptep);
    *ptep |= _PAGE_ACCESSED;
    pthread_mutex_unlock(&mm->page_table_lock);
    return 0;
}
#line 2434 "chapters/02-address-spaces.nw"
static vm_fault_t sim_do_shared_fault(struct vm_fault *vmf, pte_t *ptep);
#line 1001 "chapters/02-address-spaces.nw"
static vm_fault_t sim_do_none_fault(struct vm_fault *vmf, pte_t *ptep)
{
    struct vm_area_struct *vma = vmf->vma;
    struct mm_struct *mm = vma->vm_mm;
    bool write = vmf->flags & FAULT_FLAG_WRITE;
    struct page *page;

    if (vma->vm_shmem)
        return sim_do_shared_fault(vmf, ptep);
    if (!write) {
        *ptep = pfn_pte(page_to_pfn(sim_zero_page()), _PAGE_PRESENT | _PAGE_ACCESSED);
        pthread_mutex_unlock(&mm->page_table_lock);
        return 0;
    }
    page = alloc_page();
    if (!page) {
        pthread_mutex_unlock(&mm->page_table_lock);
        return VM_FAULT_OOM;
    }
    atomic_fetch_add(&page->_mapcount, 1);
    *ptep = pfn_pte(page_to_pfn(page),
                    _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);
    pthread_mutex_unlock(&mm->page_table_lock);
    return 0;
}
#line 1031 "chapters/02-address-spaces.nw"
static vm_fault_t sim_do_shared_fault(struct vm_fault *vmf, pte_t *ptep)
{
    struct vm_area_struct *vma = vmf->vma;
    unsigned long index = vma->vm_pgoff + ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
    unsigned long bits = _PAGE_PRESENT | _PAGE_ACCESSED;
    struct page *page = sim_shmem_get_page(vma->vm_shmem, index);

    if (!page) {
        pthread_mutex_unlock(&vma->vm_mm->page_table_lock);
        return VM_FAULT_OOM;
    }
    if (vma->vm_flags & VM_WRITE)
        bits |= _PAGE_RW | ((vmf->flags & FAULT_FLAG_WRITE) ? _PAGE_DIRTY : 0);
    atomic_fetch_add(&page->_mapcount, 1);
    *ptep = pfn_pte(page_to_pfn(page), bits);
    pthread_mutex_unlock(&vma->vm_mm->page_table_lock);
    return 0;
}
#line 1058 "chapters/02-address-spaces.nw"
static vm_fault_t sim_do_swap_page(struct vm_fault *vmf)
{
    struct mm_struct *mm = vmf->vma->vm_mm;
    swp_entry_t entry = pte_to_swp_entry(vmf->orig_pte);

#line 381 "chapters/07-device-private.nw"
    if (is_device_private_entry(entry))
        return sim_do_device_private_fault(vmf);
#line 169 "chapters/08-migration.nw"
    if (is_migration_entry(entry))
        return sim_migration_entry_wait(vmf);
#line 221 "chapters/09-device-exclusive.nw"
    if (is_device_exclusive_entry(entry))
        return sim_remove_device_exclusive_entry(vmf);
#line 1064 "chapters/02-address-spaces.nw"
    pthread_mutex_unlock(&mm->page_table_lock);
    SIM_WARN(true, "bad entry %#lx at %#lx", vmf->orig_pte, vmf->address);
    (void)entry;
    return VM_FAULT_SIGBUS;
}
#line 1171 "chapters/02-address-spaces.nw"
static bool sim_try_access(struct mm_struct *mm, unsigned long addr, void *buf,
                           size_t len, bool write)
{
    pte_t *ptep;
    bool done = false;

    pthread_mutex_lock(&mm->page_table_lock);
    ptep = sim_pte_offset(mm, addr, false);
    if (ptep && sim_pte_accessible(*ptep) && (!write || pte_write(*ptep))) {
        char *frame = sim_page_address(pfn_to_page(pte_pfn(*ptep)));

        if (write)
            memcpy(frame + (addr & ~PAGE_MASK), buf, len);
        else
            memcpy(buf, frame + (addr & ~PAGE_MASK), len);
        *ptep |= _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
        done = true;
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    return done;
}

static int sim_access_page(struct vm_area_struct *vma, unsigned long addr, void *buf,
                           size_t len, bool write)
{
    while (!sim_try_access(vma->vm_mm, addr, buf, len, write)) {
        vm_fault_t ret = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0);

        if (ret & VM_FAULT_OOM)
            return -ENOMEM;
        if (ret & VM_FAULT_ERROR)
            return -EFAULT;
    }
    return 0;
}
#line 1218 "chapters/02-address-spaces.nw"
bool sim_range_accessible(struct mm_struct *mm, unsigned long start, unsigned long end,
                          unsigned long any_of)
{
    unsigned long addr = start;

    while (addr < end) {
        struct vm_area_struct *vma = vma_lookup(mm, addr);

        if (!vma || (any_of && !(vma->vm_flags & any_of)))
            return false;
        addr = vma->vm_end;
    }
    return true;
}
#line 1244 "chapters/02-address-spaces.nw"
static int sim_access(struct mm_struct *mm, unsigned long addr, void *buf,
                      unsigned long len, bool write)
{
    unsigned long end = addr + len;
    int ret = 0;

    if (!buf && len)
        return -EINVAL;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    if (end < addr || !sim_range_accessible(mm, addr, end, sim_access_flags(write)))
        ret = -EFAULT;
    for (unsigned long a = addr; !ret && a < end;) {
        size_t n = (size_t)(((a & PAGE_MASK) + PAGE_SIZE < end ?
                             (a & PAGE_MASK) + PAGE_SIZE : end) - a);

        ret = sim_access_page(vma_lookup(mm, a), a, (char *)buf + (a - addr), n, write);
        a += n;
    }
    mmap_read_unlock(mm);
    mmput(mm);
    return ret;
}

int sim_read(struct mm_struct *mm, unsigned long addr, void *buf, unsigned long len)
{
    return sim_access(mm, addr, buf, len, false);
}

int sim_write(struct mm_struct *mm, unsigned long addr, const void *buf,
              unsigned long len)
{
    return sim_access(mm, addr, (void *)buf, len, true);
}
