/* Generated from chapters/06-mirror-device.nw by make tangle (sum 4824187b3298): edit the chapter, not this file. */
#line 939 "chapters/06-mirror-device.nw"
#include <stdlib.h>
#include <string.h>
#include "hmmwb.h"

#line 559 "chapters/07-device-private.nw"
static void dmirror_devmem_free(struct page *page)
{
    struct dmirror_device *mdevice = page_pgmap(page)->owner;

    pthread_mutex_lock(&mdevice->devmem_lock);
    page->zone_device_data = mdevice->free_pages;
    mdevice->free_pages = page;
    mdevice->cfree++;
    pthread_mutex_unlock(&mdevice->devmem_lock);
}

struct page *dmirror_devmem_alloc_page(struct dmirror_device *mdevice)
{
    struct page *page;

    pthread_mutex_lock(&mdevice->devmem_lock);
    page = mdevice->free_pages;
    if (page) {
        mdevice->free_pages = page->zone_device_data;
        page->zone_device_data = NULL;
        mdevice->calloc++;
    }
    pthread_mutex_unlock(&mdevice->devmem_lock);
    if (page)
        zone_device_page_init(page);
    return page;
}
#line 593 "chapters/07-device-private.nw"
static vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
    vm_fault_t ret = VM_FAULT_SIGBUS;

#line 1299 "chapters/08-migration.nw"
    ret = dmirror_devmem_migrate_to_ram(vmf);
#line 598 "chapters/07-device-private.nw"
    (void)vmf;
    return ret;
}

static const struct dev_pagemap_ops dmirror_devmem_ops = {
    .page_free = dmirror_devmem_free,
    .migrate_to_ram = dmirror_devmem_fault,
};
#line 660 "chapters/07-device-private.nw"
void *dmirror_device_owner(const struct dmirror_device *mdevice)
{
    return (void *)mdevice;
}
#line 675 "chapters/07-device-private.nw"
static void dmirror_link(struct dmirror *dmirror)
{
    struct dmirror_device *mdevice = dmirror->mdevice;

    pthread_mutex_lock(&mdevice->devmem_lock);
    dmirror->next = mdevice->mirrors;
    mdevice->mirrors = dmirror;
    pthread_mutex_unlock(&mdevice->devmem_lock);
}

static void dmirror_unlink(struct dmirror *dmirror)
{
    struct dmirror_device *mdevice = dmirror->mdevice;
    struct dmirror **pp;

    pthread_mutex_lock(&mdevice->devmem_lock);
    for (pp = &mdevice->mirrors; *pp && *pp != dmirror; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = dmirror->next;
    pthread_mutex_unlock(&mdevice->devmem_lock);
}
#line 230 "chapters/06-mirror-device.nw"
struct dmirror_device *dmirror_device_create(unsigned long devmem_pages)
{
    struct dmirror_device *mdevice;

    if (devmem_pages > SIM_RAM_MAX_PAGES)
        return NULL;
    mdevice = calloc(1, sizeof(*mdevice));
    if (!mdevice)
        return NULL;
    pthread_mutex_init(&mdevice->devmem_lock, NULL);
    mdevice->devmem_pages = devmem_pages;
#line 618 "chapters/07-device-private.nw"
    if (devmem_pages) {
        struct page *pages;

        mdevice->pagemap.type = MEMORY_DEVICE_PRIVATE;
        mdevice->pagemap.ops = &dmirror_devmem_ops;
        mdevice->pagemap.owner = mdevice;
        if (IS_ERR(memremap_pages(&mdevice->pagemap, devmem_pages))) {
            pthread_mutex_destroy(&mdevice->devmem_lock);
            free(mdevice);
            return NULL;
        }
        pages = pfn_to_page(mdevice->pagemap.range.start);
        for (unsigned long i = devmem_pages; i-- > 0;) {
            pages[i].zone_device_data = mdevice->free_pages;
            mdevice->free_pages = &pages[i];
        }
    }
#line 242 "chapters/06-mirror-device.nw"
    return mdevice;
}

void dmirror_device_destroy(struct dmirror_device *mdevice)
{
    if (!mdevice)
        return;
#line 1344 "chapters/08-migration.nw"
    dmirror_device_evict(mdevice);
#line 645 "chapters/07-device-private.nw"
    if (mdevice->pagemap.sim_section)
        memunmap_pages(&mdevice->pagemap);
    if (SIM_WARN(mdevice->pagemap.sim_section, "device memory still in use: leaked"))
        return;
#line 250 "chapters/06-mirror-device.nw"
    pthread_mutex_destroy(&mdevice->devmem_lock);
    free(mdevice);
}
#line 361 "chapters/06-mirror-device.nw"
static const struct mmu_interval_notifier_ops dmirror_min_ops = {
    .invalidate = dmirror_interval_invalidate,
};
#line 271 "chapters/06-mirror-device.nw"
struct dmirror *dmirror_open(struct dmirror_device *mdevice, struct mm_struct *mm)
{
    struct dmirror *dmirror;

    if (!mdevice || !sim_mm_alive(mm))
        return NULL;
    dmirror = calloc(1, sizeof(*dmirror));
    if (!dmirror)
        return NULL;
    dmirror->mdevice = mdevice;
    pthread_mutex_init(&dmirror->mutex, NULL);
    if (mmu_interval_notifier_insert(&dmirror->notifier, mm, 0, ULONG_MAX & PAGE_MASK,
                                     &dmirror_min_ops)) {
        pthread_mutex_destroy(&dmirror->mutex);
        free(dmirror);
        return NULL;
    }
#line 708 "chapters/07-device-private.nw"
    dmirror_link(dmirror);
#line 289 "chapters/06-mirror-device.nw"
    return dmirror;
}

void dmirror_release(struct dmirror *dmirror)
{
    if (!dmirror)
        return;
#line 714 "chapters/07-device-private.nw"
    dmirror_unlink(dmirror);
#line 297 "chapters/06-mirror-device.nw"
    mmu_interval_notifier_remove(&dmirror->notifier);
    dpt_destroy(&dmirror->pt);
    pthread_mutex_destroy(&dmirror->mutex);
    free(dmirror);
}
#line 383 "chapters/06-mirror-device.nw"
#define DMIRROR_FAULT_CHUNK 32

static int dmirror_do_fault(void *ctx, struct hmm_range *range);

static int dmirror_fault(struct dmirror *dmirror, unsigned long start, unsigned long end,
                         bool write)
{
    struct mm_struct *mm = dmirror->notifier.mm;
    unsigned long pfns[DMIRROR_FAULT_CHUNK];
    struct hmm_range range = {
        .notifier = &dmirror->notifier,
        .hmm_pfns = pfns,
        .default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
        .dev_private_owner = dmirror->mdevice,
    };
    int ret = 0;

    if (!mmget_not_zero(mm))
        return -EINVAL;
    for (unsigned long addr = start; addr < end; addr = range.end) {
        range.start = addr;
        range.end = addr + DMIRROR_FAULT_CHUNK * PAGE_SIZE < end ?
                    addr + DMIRROR_FAULT_CHUNK * PAGE_SIZE : end;
        ret = sim_hmm_driver_fault(&range, &dmirror->mutex, dmirror_do_fault, dmirror);
        if (ret)
            break;
    }
    mmput(mm);
    return ret;
}
#line 428 "chapters/06-mirror-device.nw"
static int dmirror_do_fault(void *ctx, struct hmm_range *range)
{
    struct dmirror *dmirror = ctx;
    unsigned long *pfns = range->hmm_pfns;

    for (unsigned long vpfn = range->start >> PAGE_SHIFT;
         vpfn < range->end >> PAGE_SHIFT; vpfn++, pfns++) {
        struct page *page = hmm_pfn_to_page(*pfns);
        uintptr_t entry = (uintptr_t)page;
        int ret;

        if (SIM_WARN((*pfns & HMM_PFN_ERROR) || !(*pfns & HMM_PFN_VALID) || !page,
                     "bad answer %#lx", *pfns))
            return -EFAULT;
        if (*pfns & HMM_PFN_WRITE)
            entry |= DPT_TAG_WRITE;
        else if (SIM_WARN(range->default_flags & HMM_PFN_REQ_WRITE, "read-only answer"))
            return -EFAULT;
        ret = dpt_store(&dmirror->pt, vpfn, entry);
        if (ret)
            return ret;
        sim_trace_msg("DEVICE", "map vpfn %#lx -> pfn %#lx%s", vpfn, page_to_pfn(page),
                      (entry & DPT_TAG_WRITE) ? " (write)" : "");
    }
    return 0;
}
#line 518 "chapters/06-mirror-device.nw"
void *sim_device_page_address(struct page *page)
{
    return sim_page_address(page);
}
#line 466 "chapters/06-mirror-device.nw"
int dmirror_do_read(struct dmirror *dmirror, unsigned long start, unsigned long end,
                    char *buf, uint64_t *cpages)
{
    for (unsigned long vpfn = start >> PAGE_SHIFT; vpfn < end >> PAGE_SHIFT; vpfn++) {
        struct page *page = dpt_page(dpt_load(&dmirror->pt, vpfn));

        if (!page)
            return -ENOENT;
        memcpy(buf, sim_device_page_address(page), PAGE_SIZE);
        buf += PAGE_SIZE;
        (*cpages)++;
    }
    return 0;
}
#line 487 "chapters/06-mirror-device.nw"
static int dmirror_read(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE;
    char *buf = (char *)(uintptr_t)cmd->ptr;
    int ret;

    for (;;) {
        pthread_mutex_lock(&dmirror->mutex);
        ret = dmirror_do_read(dmirror, start, end, buf + cmd->cpages * PAGE_SIZE,
                              &cmd->cpages);
        pthread_mutex_unlock(&dmirror->mutex);
        if (ret != -ENOENT)
            break;
        start = cmd->addr + cmd->cpages * PAGE_SIZE;
        ret = dmirror_fault(dmirror, start, end, false);
        if (ret)
            break;
        cmd->faults++;
    }
    return ret;
}
#line 529 "chapters/06-mirror-device.nw"
static int dmirror_do_write(struct dmirror *dmirror, unsigned long start,
                            unsigned long end, const char *buf, uint64_t *cpages)
{
    for (unsigned long vpfn = start >> PAGE_SHIFT; vpfn < end >> PAGE_SHIFT; vpfn++) {
        uintptr_t entry = dpt_load(&dmirror->pt, vpfn);

        if (!dpt_page(entry) || !(dpt_tags(entry) & DPT_TAG_WRITE))
            return -ENOENT;
        memcpy(sim_device_page_address(dpt_page(entry)), buf, PAGE_SIZE);
        buf += PAGE_SIZE;
        (*cpages)++;
    }
    return 0;
}
#line 548 "chapters/06-mirror-device.nw"
static int dmirror_write(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE;
    const char *buf = (const char *)(uintptr_t)cmd->ptr;
    int ret;

    for (;;) {
        pthread_mutex_lock(&dmirror->mutex);
        ret = dmirror_do_write(dmirror, start, end, buf + cmd->cpages * PAGE_SIZE,
                               &cmd->cpages);
        pthread_mutex_unlock(&dmirror->mutex);
        if (ret != -ENOENT)
            break;
        start = cmd->addr + cmd->cpages * PAGE_SIZE;
        ret = dmirror_fault(dmirror, start, end, true);
        if (ret)
            break;
        cmd->faults++;
    }
    return ret;
}
#line 622 "chapters/06-mirror-device.nw"
struct dmirror_interval {                /* a snapshot's temporary notifier */
    struct mmu_interval_notifier notifier;
    struct dmirror *dmirror;
};

struct dmirror_snapshot_ctx {
    struct dmirror *dmirror;
    unsigned char *perm;
};

static bool dmirror_snapshot_invalidate(struct mmu_interval_notifier *mni,
                                        const struct mmu_notifier_range *range,
                                        unsigned long cur_seq)
{
    struct dmirror *dmirror = ((struct dmirror_interval *)mni)->dmirror;

    if (mmu_notifier_range_blockable(range))
        pthread_mutex_lock(&dmirror->mutex);
    else if (pthread_mutex_trylock(&dmirror->mutex))
        return false;
    mmu_interval_set_seq(mni, cur_seq);
    pthread_mutex_unlock(&dmirror->mutex);
    return true;
}

static const struct mmu_interval_notifier_ops dmirror_mrn_ops = {
    .invalidate = dmirror_snapshot_invalidate,
};
#line 656 "chapters/06-mirror-device.nw"
static int dmirror_snapshot_update(void *arg, struct hmm_range *range)
{
    struct dmirror_snapshot_ctx *ctx = arg;

    for (unsigned long i = 0; i < (range->end - range->start) >> PAGE_SHIFT; i++)
        ctx->perm[i] = dmirror_mkentry(ctx->dmirror, range->hmm_pfns[i]);
    return 0;
}

static int dmirror_range_snapshot(struct dmirror *dmirror, struct hmm_range *range,
                                  unsigned char *perm)
{
    struct dmirror_interval notifier = { .dmirror = dmirror };
    struct dmirror_snapshot_ctx ctx = { dmirror, perm };
    int ret;

    range->notifier = &notifier.notifier;
    ret = mmu_interval_notifier_insert(&notifier.notifier, dmirror->notifier.mm,
                                       range->start, range->end - range->start,
                                       &dmirror_mrn_ops);
    if (ret)
        return ret;
    ret = sim_hmm_driver_fault(range, &dmirror->mutex, dmirror_snapshot_update, &ctx);
    mmu_interval_notifier_remove(&notifier.notifier);
    return ret;
}
#line 688 "chapters/06-mirror-device.nw"
static int dmirror_snapshot(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd)
{
    struct mm_struct *mm = dmirror->notifier.mm;
    unsigned long start = cmd->addr, end = start + cmd->npages * PAGE_SIZE, next;
    unsigned long pfns[DMIRROR_FAULT_CHUNK];
    unsigned char *out = (unsigned char *)(uintptr_t)cmd->ptr;
    struct hmm_range range = { .hmm_pfns = pfns, .dev_private_owner = dmirror->mdevice };
    int ret = 0;

    if (!mmget_not_zero(mm))
        return -EINVAL;
    for (unsigned long addr = start; addr < end; addr = next) {
        next = addr + DMIRROR_FAULT_CHUNK * PAGE_SIZE < end ?
               addr + DMIRROR_FAULT_CHUNK * PAGE_SIZE : end;
        range.start = addr;
        range.end = next;
        ret = dmirror_range_snapshot(dmirror, &range, out + cmd->cpages);
        if (ret)
            break;
        cmd->cpages += (next - addr) >> PAGE_SHIFT;
    }
    mmput(mm);
    return ret;
}
#line 725 "chapters/06-mirror-device.nw"
static int dmirror_cmd_check(unsigned int cmd, struct hmm_dmirror_cmd *c)
{
    if (c->addr & ~PAGE_MASK)
        return -EINVAL;
    if (c->npages == 0 || c->npages > (ULONG_MAX >> PAGE_SHIFT) ||
        c->addr + (c->npages << PAGE_SHIFT) <= c->addr)
        return -EINVAL;
    if (!c->ptr && cmd != HMM_DMIRROR_CHECK_EXCLUSIVE && cmd != HMM_DMIRROR_RELEASE)
        return -EFAULT;
    return 0;
}

int dmirror_ioctl(struct dmirror *dmirror, unsigned int cmd, struct hmm_dmirror_cmd *c)
{
    int ret;

    if (!dmirror || !c)
        return -EINVAL;
    ret = dmirror_cmd_check(cmd, c);
    if (ret)
        return ret;
    c->cpages = 0;
    c->faults = 0;
    switch (cmd) {
    case HMM_DMIRROR_READ:
        return dmirror_read(dmirror, c);
    case HMM_DMIRROR_WRITE:
        return dmirror_write(dmirror, c);
    case HMM_DMIRROR_SNAPSHOT:
        return dmirror_snapshot(dmirror, c);
#line 1350 "chapters/08-migration.nw"
    case HMM_DMIRROR_MIGRATE_TO_DEV:
        return dmirror_migrate_to_device(dmirror, c);
    case HMM_DMIRROR_MIGRATE_TO_SYS:
        return dmirror_migrate_to_system(dmirror, c);
    case HMM_DMIRROR_RELEASE:
        dmirror_device_evict(dmirror->mdevice);
        return 0;
#line 380 "chapters/09-device-exclusive.nw"
    case HMM_DMIRROR_EXCLUSIVE:
        return dmirror_exclusive(dmirror, c);
    case HMM_DMIRROR_CHECK_EXCLUSIVE:
        return dmirror_check_exclusive(dmirror, c);
#line 756 "chapters/06-mirror-device.nw"
    default:
        return -EINVAL;
    }
}
