/* Generated from chapters/02-address-spaces.nw by make tangle (sum c504bbb88d14): edit the chapter, not this file. */
#line 2446 "chapters/02-address-spaces.nw"
#include <stdlib.h>
#include "hmmwb.h"

#line 1391 "chapters/02-address-spaces.nw"
static unsigned long sim_find_gap_from(struct mm_struct *mm, unsigned long from,
                                       unsigned long len)
{
    unsigned long addr = from;

    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next) {
        if (vma->vm_end <= addr)
            continue;
        if (vma->vm_start >= addr && vma->vm_start - addr >= len)
            break;
        addr = vma->vm_end;
    }
    return addr <= SIM_TASK_SIZE && SIM_TASK_SIZE - addr >= len ? addr : 0;
}

static bool sim_range_free(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
    for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next)
        if (vma->vm_start < addr + len && addr < vma->vm_end)
            return false;
    return true;
}

static unsigned long sim_get_unmapped_area(struct mm_struct *mm, unsigned long hint,
                                           unsigned long len)
{
    unsigned long addr;

    if (hint && PAGE_ALIGNED(hint) && hint >= SIM_MMAP_MIN_ADDR &&
        hint <= SIM_TASK_SIZE - len && sim_range_free(mm, hint, len))
        return hint;
    addr = sim_find_gap_from(mm, SIM_MMAP_BASE, len);
    return addr ? addr : sim_find_gap_from(mm, SIM_MMAP_MIN_ADDR, len);
}
#line 1445 "chapters/02-address-spaces.nw"
static long sim_mmap_check(unsigned long addr, unsigned long len, int prot, int flags)
{
    int type = flags & (MAP_PRIVATE | MAP_SHARED);

    if (len == 0)
        return -EINVAL;
    if (PAGE_ALIGN(len) < len || PAGE_ALIGN(len) > SIM_TASK_SIZE)
        return -ENOMEM;
    if (type != MAP_PRIVATE && type != MAP_SHARED)
        return -EINVAL;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (flags & ~(MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE |
                  MAP_FIXED_NOREPLACE | MAP_POPULATE))
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return -EINVAL;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (!PAGE_ALIGNED(addr))
            return -EINVAL;
        if (addr < SIM_MMAP_MIN_ADDR)
            return -EPERM;
        if (addr > SIM_TASK_SIZE - PAGE_ALIGN(len))
            return -ENOMEM;
    }
    return 0;
}
#line 2451 "chapters/02-address-spaces.nw"
static int sim_do_munmap(struct mm_struct *mm, unsigned long start, unsigned long end);
#line 1484 "chapters/02-address-spaces.nw"
static unsigned long sim_prot_to_vm_flags(int prot)
{
    return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
           ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

long sim_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot,
              int flags)
{
    struct vm_area_struct *vma;
    long ret = sim_mmap_check(addr, len, prot, flags);

    if (ret)
        return ret;
    len = PAGE_ALIGN(len);
    vma = calloc(1, sizeof(*vma));
    if (!vma)
        return -ENOMEM;
    if ((flags & MAP_SHARED) && !(vma->vm_shmem = sim_shmem_create(len >> PAGE_SHIFT))) {
        free(vma);
        return -ENOMEM;
    }
    if (!mmget_not_zero(mm)) {
        sim_vma_free(vma);
        return -EINVAL;
    }
    mmap_write_lock(mm);
    if (flags & MAP_FIXED_NOREPLACE)
        ret = sim_range_free(mm, addr, len) ? 0 : -EEXIST;
    else if (flags & MAP_FIXED)
        ret = sim_do_munmap(mm, addr, addr + len);
    else if (!(addr = sim_get_unmapped_area(mm, addr, len)))
        ret = -ENOMEM;
    if (!ret) {
        vma->vm_start = addr;
        vma->vm_end = addr + len;
        vma->vm_flags = sim_prot_to_vm_flags(prot) | ((flags & MAP_SHARED) ? VM_SHARED : 0);
        vma->vm_mm = mm;
        sim_vma_link(mm, vma);
    }
    mmap_write_unlock(mm);
    mmput(mm);
    if (ret)
        sim_vma_free(vma);
    return ret ? ret : (long)addr;
}
#line 1541 "chapters/02-address-spaces.nw"
static int sim_do_munmap(struct mm_struct *mm, unsigned long start, unsigned long end)
{
    struct mmu_notifier_range range;
    struct vm_area_struct *vma, *next;
    int ret;

    if (sim_range_free(mm, start, end - start))
        return 0;
    ret = sim_split_at(mm, start);

    if (!ret)
        ret = sim_split_at(mm, end);
    if (ret)
        return ret;
    mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, start, end);
    mmu_notifier_invalidate_range_start(&range);
    for (vma = mm->mmap; vma; vma = next) {
        next = vma->vm_next;
        if (vma->vm_start >= start && vma->vm_end <= end) {
            sim_zap_range(vma, vma->vm_start, vma->vm_end);
            sim_vma_unlink(mm, vma);
            sim_vma_free(vma);
        }
    }
    mmu_notifier_invalidate_range_end(&range);
    return 0;
}
#line 1575 "chapters/02-address-spaces.nw"
int sim_munmap(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
    int ret;

    if (!PAGE_ALIGNED(addr) || len == 0)
        return -EINVAL;
    len = PAGE_ALIGN(len);
    if (len == 0 || addr > SIM_TASK_SIZE || len > SIM_TASK_SIZE - addr)
        return -EINVAL;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_write_lock(mm);
    ret = sim_do_munmap(mm, addr, addr + len);
    mmap_write_unlock(mm);
    mmput(mm);
    return ret;
}
#line 1707 "chapters/02-address-spaces.nw"
static pte_t sim_swap_pte_modify(pte_t pte)
{
    swp_entry_t entry = pte_to_swp_entry(pte);

#line 448 "chapters/07-device-private.nw"
    if (is_writable_device_private_entry(entry))
        return swp_entry_to_pte(make_readable_device_private_entry(swp_offset_pfn(entry)));
#line 205 "chapters/08-migration.nw"
    if (is_writable_migration_entry(entry))
        return swp_entry_to_pte(sim_migration_entry_readable(entry));
#line 1712 "chapters/02-address-spaces.nw"
    (void)entry;
    return pte;
}
#line 1661 "chapters/02-address-spaces.nw"
static pte_t sim_pte_modify(pte_t pte, unsigned long vm_flags)
{
    unsigned long keep = pte & (PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY);
    unsigned long rw = (vm_flags & VM_SHARED) ? _PAGE_RW : (pte & _PAGE_RW);

    if (!(vm_flags & VM_ACCESS_FLAGS))
        return keep | _PAGE_PROTNONE;
    return keep | _PAGE_PRESENT | ((vm_flags & VM_WRITE) ? rw : 0);
}

static void sim_change_protection(struct vm_area_struct *vma, unsigned long prot_flags)
{
    struct mm_struct *mm = vma->vm_mm;
    struct mmu_notifier_range range;

    if ((vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) == prot_flags)
        return;                 /* mprotect_fixup(): nothing changes, nobody is told */
    vma->vm_flags = (vma->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | prot_flags;
    mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_VMA, 0, mm, vma->vm_start,
                            vma->vm_end);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&mm->page_table_lock);
    for (unsigned long addr = vma->vm_start; addr < vma->vm_end;) {
        pte_t *ptep = sim_pte_offset(mm, addr, false);

        if (ptep && pte_present(*ptep))
            *ptep = sim_pte_modify(*ptep, vma->vm_flags);
        else if (ptep && is_swap_pte(*ptep))
            *ptep = sim_swap_pte_modify(*ptep);
        addr = sim_next_pte_addr(ptep, addr);
    }
    pthread_mutex_unlock(&mm->page_table_lock);
    mmu_notifier_invalidate_range_end(&range);
}
#line 1606 "chapters/02-address-spaces.nw"
static bool sim_range_mapped(struct mm_struct *mm, unsigned long start, unsigned long end)
{
    return sim_range_accessible(mm, start, end, 0) || start == end;
}

int sim_mprotect(struct mm_struct *mm, unsigned long addr, unsigned long len, int prot)
{
    unsigned long end;
    int ret;

    if (!PAGE_ALIGNED(addr))
        return -EINVAL;
    if (len == 0)
        return 0;
    end = addr + PAGE_ALIGN(len);
    if (end <= addr)
        return -ENOMEM;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_write_lock(mm);
    ret = sim_range_mapped(mm, addr, end) ? 0 : -ENOMEM;
    if (!ret)
        ret = sim_split_at(mm, addr);
    if (!ret)
        ret = sim_split_at(mm, end);
    for (struct vm_area_struct *vma = vma_lookup(mm, addr);
         !ret && vma && vma->vm_start < end; vma = vma->vm_next)
        sim_change_protection(vma, sim_prot_to_vm_flags(prot));
    mmap_write_unlock(mm);
    mmput(mm);
    return ret;
}
#line 1826 "chapters/02-address-spaces.nw"
static void sim_copy_pte(struct vm_area_struct *vma, pte_t *dst, pte_t *src)
{
    pte_t pte = *src;

    if (pte_present(pte)) {
        if (!is_zero_pfn(pte_pfn(pte))) {
            struct page *page = pfn_to_page(pte_pfn(pte));

            if (SIM_WARN(!page, "entry %#lx maps no frame", pte))
                return;
            get_page(page);
            atomic_fetch_add(&page->_mapcount, 1);
        }
        pte = pte_wrprotect(pte);
        *src = pte;
        *dst = pte & ~_PAGE_ACCESSED;   /* the child has not used it yet: pte_mkold() */
        return;
    }
#line 436 "chapters/07-device-private.nw"
    if (sim_copy_device_private_pte(dst, src))
        return;
#line 192 "chapters/08-migration.nw"
    if (is_migration_entry(pte_to_swp_entry(pte))) {
        swp_entry_t entry = pte_to_swp_entry(pte);

        if (is_writable_migration_entry(entry))
            *src = pte = swp_entry_to_pte(sim_migration_entry_readable(entry));
        *dst = pte;
        return;
    }
#line 274 "chapters/09-device-exclusive.nw"
    if (is_device_exclusive_entry(pte_to_swp_entry(pte))) {
        *src = sim_restore_exclusive_pte(vma, pfn_swap_entry_to_page(pte_to_swp_entry(pte)),
                                         pte);
        sim_copy_pte(vma, dst, src);
        return;
    }
#line 1845 "chapters/02-address-spaces.nw"
    SIM_WARN(true, "cannot copy entry %#lx", pte);
    (void)vma;
}
#line 1859 "chapters/02-address-spaces.nw"
static int sim_copy_page_range(struct mm_struct *child, struct vm_area_struct *vma)
{
    struct mm_struct *parent = vma->vm_mm;
    struct mmu_notifier_range range;
    int ret = 0;

    mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0, parent,
                            vma->vm_start, vma->vm_end);
    mmu_notifier_invalidate_range_start(&range);
    pthread_mutex_lock(&parent->page_table_lock);
    pthread_mutex_lock(&child->page_table_lock);
    for (unsigned long addr = vma->vm_start; !ret && addr < vma->vm_end;) {
        pte_t *src = sim_pte_offset(parent, addr, false), *dst;

        if (src && !pte_none(*src)) {
            dst = sim_pte_offset(child, addr, true);
            if (dst)
                sim_copy_pte(vma, dst, src);
            else
                ret = -ENOMEM;
        }
        addr = sim_next_pte_addr(src, addr);
    }
    pthread_mutex_unlock(&child->page_table_lock);
    pthread_mutex_unlock(&parent->page_table_lock);
    mmu_notifier_invalidate_range_end(&range);
    return ret;
}
#line 1901 "chapters/02-address-spaces.nw"
static int sim_dup_vma(struct mm_struct *child, struct vm_area_struct *vma)
{
    struct vm_area_struct *copy = malloc(sizeof(*copy));

    if (!copy)
        return -ENOMEM;
    *copy = *vma;
    copy->vm_mm = child;
    if (copy->vm_shmem)
        atomic_fetch_add(&copy->vm_shmem->refs, 1);
    sim_vma_link(child, copy);
    return vma->vm_shmem ? 0 : sim_copy_page_range(child, vma);
}

struct mm_struct *sim_fork(struct mm_struct *mm)
{
    struct mm_struct *child;
    int ret = 0;

    if (!mmget_not_zero(mm))
        return ERR_PTR(-EINVAL);
    child = sim_mm_alloc();
    if (!child) {
        mmput(mm);
        return ERR_PTR(-ENOMEM);
    }
    mmap_write_lock(mm);
    mmap_write_lock(child);
    for (struct vm_area_struct *vma = mm->mmap; vma && !ret; vma = vma->vm_next)
        ret = sim_dup_vma(child, vma);
    mmap_write_unlock(child);
    mmap_write_unlock(mm);
    mmput(mm);
    if (ret) {
        mmput(child);
        return ERR_PTR(ret);
    }
    return child;
}
