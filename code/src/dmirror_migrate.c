/* Generated from chapters/08-migration.nw by make tangle (sum 3bdffadc9e87): edit the chapter, not this file. */
#line 1523 "chapters/08-migration.nw"
#include <stdlib.h>
#include <string.h>
#include "hmmwb.h"

#line 1175 "chapters/08-migration.nw"
static void dmirror_forget_page(struct dmirror_device *mdevice, struct mm_struct *mm,
                                unsigned long addr)
{
    pthread_mutex_lock(&mdevice->devmem_lock);
    for (struct dmirror *d = mdevice->mirrors; d; d = d->next) {
        if (d->notifier.mm != mm)
            continue;
        pthread_mutex_lock(&d->mutex);
        dpt_erase_range(&d->pt, addr >> PAGE_SHIFT, addr >> PAGE_SHIFT);
        pthread_mutex_unlock(&d->mutex);
    }
    pthread_mutex_unlock(&mdevice->devmem_lock);
}
#line 1002 "chapters/08-migration.nw"
static int dmirror_alloc_and_copy_to_device(struct migrate_vma *args,
                                            struct dmirror_device *mdevice)
{
    int ret = 0;

    for (unsigned long i = 0; i < args->npages; i++) {
        struct page *spage = migrate_pfn_to_page(args->src[i]), *dpage;

        if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
            continue;
        dpage = dmirror_devmem_alloc_page(mdevice);
        if (!dpage) {
            ret = -ENOMEM;
            continue;
        }
        if (spage)
            memcpy(sim_page_address(dpage), sim_page_address(spage), PAGE_SIZE);
        else
            memset(sim_page_address(dpage), 0, PAGE_SIZE);
        args->dst[i] = migrate_pfn(page_to_pfn(dpage));
        if ((args->src[i] & MIGRATE_PFN_WRITE) ||
            (!spage && (args->vma->vm_flags & VM_WRITE)))
            args->dst[i] |= MIGRATE_PFN_WRITE;
    }
    return ret;
}
#line 1033 "chapters/08-migration.nw"
static void dmirror_map_moved(struct dmirror *dmirror, struct migrate_vma *args)
{
    pthread_mutex_lock(&dmirror->mutex);
    for (unsigned long i = 0; i < args->npages; i++) {
        struct page *dpage = migrate_pfn_to_page(args->dst[i]);
        unsigned long vpfn = (args->start >> PAGE_SHIFT) + i;

        if (!(args->src[i] & MIGRATE_PFN_MIGRATE) || !dpage)
            continue;
        if (dpt_store(&dmirror->pt, vpfn, (uintptr_t)dpage |
                      ((args->dst[i] & MIGRATE_PFN_WRITE) ? DPT_TAG_WRITE : 0)) == 0)
            sim_trace_msg("DEVICE", "map vpfn %#lx -> pfn %#lx", vpfn, page_to_pfn(dpage));
    }
    pthread_mutex_unlock(&dmirror->mutex);
}
#line 1055 "chapters/08-migration.nw"
#define DMIRROR_MIGRATE_CHUNK 64

struct dmirror_migration {
    struct dmirror *dmirror;
    unsigned long flags;                 /* MIGRATE_VMA_SELECT_* */
    int (*copy)(struct dmirror *dmirror, struct migrate_vma *args);
    void (*map)(struct dmirror *dmirror, struct migrate_vma *args);
    uint64_t moved;                      /* pages that moved, where counted */
    int copy_error;                      /* the first error of a copy step */
};
#line 1103 "chapters/08-migration.nw"
static int dmirror_migrate_chunk(struct dmirror_migration *m, struct vm_area_struct *vma,
                                 unsigned long start, unsigned long end)
{
    unsigned long src[DMIRROR_MIGRATE_CHUNK], dst[DMIRROR_MIGRATE_CHUNK];
    struct migrate_vma args = {
        .vma = vma, .src = src, .dst = dst, .start = start, .end = end,
        .pgmap_owner = m->dmirror->mdevice, .flags = m->flags,
        .sim_notify_without_owner = m->dmirror->mdevice->history_migrate_before_5_9,
    };
    int ret = migrate_vma_setup(&args);

    if (ret)
        return ret;
    ret = m->copy(m->dmirror, &args);
    if (ret && !m->copy_error)
        m->copy_error = ret;
    migrate_vma_pages(&args);
    if (m->map)
        m->map(m->dmirror, &args);
    for (unsigned long i = 0; i < args.npages; i++)
        if ((src[i] & MIGRATE_PFN_VALID) && (src[i] & MIGRATE_PFN_MIGRATE))
            m->moved++;
    migrate_vma_finalize(&args);
    return 0;
}
#line 1071 "chapters/08-migration.nw"
static int dmirror_migrate_range(struct dmirror_migration *m, unsigned long start,
                                 unsigned long end)
{
    struct mm_struct *mm = m->dmirror->notifier.mm;
    int ret = 0;

    if (!mmget_not_zero(mm))
        return -EINVAL;
    mmap_read_lock(mm);
    for (unsigned long addr = start, next; !ret && addr < end; addr = next) {
        struct vm_area_struct *vma = vma_lookup(mm, addr);

        if (!vma || !(vma->vm_flags & VM_READ)) {
            ret = -EINVAL;
            break;
        }
        next = addr + DMIRROR_MIGRATE_CHUNK * PAGE_SIZE;
        next = next < end ? next : end;
        next = next < vma->vm_end ? next : vma->vm_end;
        ret = dmirror_migrate_chunk(m, vma, addr, next);
    }
    mmap_read_unlock(mm);
    mmput(mm);
    return ret ? ret : m->copy_error;
}
#line 1136 "chapters/08-migration.nw"
static int dmirror_copy_to_device(struct dmirror *dmirror, struct migrate_vma *args)
{
    for (unsigned long i = 0; i < args->npages; i++)
        if ((args->src[i] & MIGRATE_PFN_MIGRATE) && (args->src[i] & MIGRATE_PFN_VALID))
            dmirror_forget_page(dmirror->mdevice, args->vma->vm_mm,
                                args->start + (i << PAGE_SHIFT));
    return dmirror_alloc_and_copy_to_device(args, dmirror->mdevice);
}

int dmirror_migrate_to_device(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE;
    struct dmirror_migration m = { dmirror, MIGRATE_VMA_SELECT_SYSTEM,
                                   dmirror_copy_to_device, dmirror_map_moved, 0, 0 };
    int ret = dmirror_migrate_range(&m, start, end);

    if (ret)
        return ret;
    pthread_mutex_lock(&dmirror->mutex);
    ret = dmirror_do_read(dmirror, start, end, (char *)(uintptr_t)cmd->ptr, &cmd->cpages);
    pthread_mutex_unlock(&dmirror->mutex);
    if (ret)
        sim_trace_event("read-back: %d after %lu pages", ret, (unsigned long)cmd->cpages);
    return ret;
}
#line 1193 "chapters/08-migration.nw"
static int dmirror_alloc_and_copy_to_ram(struct migrate_vma *args,
                                         struct dmirror_device *mdevice)
{
    int ret = 0;

    for (unsigned long i = 0; i < args->npages; i++) {
        struct page *spage = migrate_pfn_to_page(args->src[i]), *dpage;
        unsigned long addr = args->start + (i << PAGE_SHIFT);

        if (!spage || !(args->src[i] & MIGRATE_PFN_MIGRATE))
            continue;
        dpage = sim_alloc_page_for_copy();
        if (!dpage) {
            ret = -ENOMEM;
            continue;
        }
        lock_page(dpage);
        dmirror_forget_page(mdevice, args->vma->vm_mm, addr);
        memcpy(sim_page_address(dpage), sim_page_address(spage), PAGE_SIZE);
        args->dst[i] = migrate_pfn(page_to_pfn(dpage)) | (args->src[i] & MIGRATE_PFN_WRITE);
    }
    return ret;
}

static int dmirror_copy_to_ram(struct dmirror *dmirror, struct migrate_vma *args)
{
    return dmirror_alloc_and_copy_to_ram(args, dmirror->mdevice);
}
#line 1255 "chapters/08-migration.nw"
int dmirror_migrate_to_system(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE;
    struct dmirror_migration m = { dmirror, MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
                                   dmirror_copy_to_ram, NULL, 0, 0 };
    int ret = dmirror_migrate_range(&m, start, end);

    cmd->cpages = m.moved;
    return ret;
}
#line 1276 "chapters/08-migration.nw"
vm_fault_t dmirror_devmem_migrate_to_ram(struct vm_fault *vmf)
{
    struct dmirror_device *mdevice = page_pgmap(vmf->page)->owner;
    unsigned long src = 0, dst = 0;
    struct migrate_vma args = {
        .vma = vmf->vma, .src = &src, .dst = &dst, .start = vmf->address,
        .end = vmf->address + PAGE_SIZE, .pgmap_owner = mdevice,
        .flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE, .fault_page = vmf->page,
    };
    int ret;

    if (migrate_vma_setup(&args))
        return VM_FAULT_SIGBUS;
    ret = dmirror_alloc_and_copy_to_ram(&args, mdevice);
    migrate_vma_pages(&args);
    migrate_vma_finalize(&args);
    return ret ? VM_FAULT_OOM : 0;
}
#line 1312 "chapters/08-migration.nw"
void dmirror_device_evict(struct dmirror_device *mdevice)
{
    unsigned long npages = mdevice->devmem_pages, first = mdevice->pagemap.range.start;
    unsigned long *src = calloc(npages, sizeof(*src));
    unsigned long *dst = calloc(npages, sizeof(*dst));

    if (!src || !dst || !mdevice->pagemap.sim_section)
        goto out;
    migrate_device_range(src, first, npages);
    for (unsigned long i = 0; i < npages; i++) {
        struct page *spage = migrate_pfn_to_page(src[i]), *dpage;

        if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
            continue;
        dpage = sim_alloc_page_for_copy();
        if (!dpage)
            continue;
        lock_page(dpage);
        memcpy(sim_page_address(dpage), sim_page_address(spage), PAGE_SIZE);
        dst[i] = migrate_pfn(page_to_pfn(dpage)) | (src[i] & MIGRATE_PFN_WRITE);
    }
    migrate_device_pages(src, dst, npages);
    migrate_device_finalize(src, dst, npages);
out:
    free(src);
    free(dst);
}
