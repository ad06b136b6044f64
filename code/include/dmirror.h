/* Generated from chapters/06-mirror-device.nw by make tangle (sum 42c09b87f40a): edit the chapter, not this file. */
#line 882 "chapters/06-mirror-device.nw"
#ifndef HMMWB_DMIRROR_H
#define HMMWB_DMIRROR_H

#include "hmm.h"
#line 909 "chapters/07-device-private.nw"
#include "memremap.h"
#line 1442 "chapters/08-migration.nw"
#include "migrate.h"
#line 729 "chapters/09-device-exclusive.nw"
#include "exclusive.h"

#line 28 "chapters/06-mirror-device.nw"
struct dmirror_device;
struct dmirror;

struct hmm_dmirror_cmd {
    uint64_t addr;       /* in: simulated virtual address, page aligned */
    uint64_t ptr;        /* in: host buffer, npages * PAGE_SIZE bytes */
    uint64_t npages;     /* in */
    uint64_t cpages;     /* out: pages processed */
    uint64_t faults;     /* out: fault rounds taken */
};

enum {
    HMM_DMIRROR_READ,
    HMM_DMIRROR_WRITE,
    HMM_DMIRROR_MIGRATE_TO_DEV,
    HMM_DMIRROR_MIGRATE_TO_SYS,
    HMM_DMIRROR_SNAPSHOT,
    HMM_DMIRROR_EXCLUSIVE,
    HMM_DMIRROR_CHECK_EXCLUSIVE,
    HMM_DMIRROR_RELEASE,
};

#define HMM_DMIRROR_PROT_ERROR 0xFF
#define HMM_DMIRROR_PROT_NONE 0x00
#define HMM_DMIRROR_PROT_READ 0x01
#define HMM_DMIRROR_PROT_WRITE 0x02
#define HMM_DMIRROR_PROT_PMD 0x04
#define HMM_DMIRROR_PROT_PUD 0x08
#define HMM_DMIRROR_PROT_ZERO 0x10
#define HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL 0x20
#define HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE 0x30

struct dmirror_device *dmirror_device_create(unsigned long devmem_pages);
void dmirror_device_destroy(struct dmirror_device *mdevice);
struct dmirror *dmirror_open(struct dmirror_device *mdevice, struct mm_struct *mm);
void dmirror_release(struct dmirror *dmirror);
int dmirror_ioctl(struct dmirror *dmirror, unsigned int cmd, struct hmm_dmirror_cmd *c);
#line 915 "chapters/07-device-private.nw"
void *dmirror_device_owner(const struct dmirror_device *mdevice);
struct page *dmirror_devmem_alloc_page(struct dmirror_device *mdevice);
#line 1448 "chapters/08-migration.nw"
int dmirror_migrate_to_device(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd);
int dmirror_migrate_to_system(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd);
vm_fault_t dmirror_devmem_migrate_to_ram(struct vm_fault *vmf);
void dmirror_device_evict(struct dmirror_device *mdevice);
#line 735 "chapters/09-device-exclusive.nw"
int dmirror_exclusive(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd);
int dmirror_check_exclusive(struct dmirror *dmirror, struct hmm_dmirror_cmd *cmd);
int dmirror_atomic_add(struct dmirror *dmirror, unsigned long addr, uint64_t value,
                       uint64_t *old);
int dmirror_atomic_fault(struct dmirror *dmirror, unsigned long addr);
#line 82 "chapters/06-mirror-device.nw"
#define DPT_TAG_WRITE 1UL
#define DPT_TAG_ATOMIC 2UL
#define DPT_TAG_MASK 3UL
#define DPT_LEVELS 4

struct dmirror_pt {
    uintptr_t *root;                 /* 512 slots; NULL until the first store */
};

static inline struct page *dpt_page(uintptr_t entry)
{
    return (struct page *)(entry & ~DPT_TAG_MASK);
}

static inline unsigned long dpt_tags(uintptr_t entry)
{
    return entry & DPT_TAG_MASK;
}
#line 203 "chapters/06-mirror-device.nw"
struct dmirror_device {
    pthread_mutex_t devmem_lock;         /* protects the device's memory */
    unsigned long devmem_pages;          /* how much device memory it may have */
#line 549 "chapters/07-device-private.nw"
    struct dev_pagemap pagemap;          /* its device-private memory */
    struct page *free_pages;             /* free device pages, linked by zone_device_data */
    unsigned long calloc, cfree;         /* pages handed out and given back, ever */
    struct dmirror *mirrors;             /* every open mirror, for migrate_to_ram */
#line 1376 "chapters/08-migration.nw"
    bool history_migrate_before_5_9;     /* migrate with an owner-less CLEAR */
#line 674 "chapters/09-device-exclusive.nw"
    bool history_exclusive_before_owner; /* convert with an owner-less CLEAR */
    bool history_check_pass;             /* ...and validate with the 2021 check pass */
    unsigned long atomic_rounds;         /* rounds of atomic faults, ever */
    unsigned long atomic_own_events;     /* its own conversions it had to process */
#line 207 "chapters/06-mirror-device.nw"
};

struct dmirror {
    struct dmirror_device *mdevice;
    struct mmu_interval_notifier notifier;   /* the whole address space */
    pthread_mutex_t mutex;                   /* protects pt; taken by invalidate */
    struct dmirror_pt pt;                    /* the device page table */
#line 702 "chapters/07-device-private.nw"
    struct dmirror *next;                    /* on its device's list of mirrors */
#line 215 "chapters/06-mirror-device.nw"
};

#line 893 "chapters/06-mirror-device.nw"
uintptr_t dpt_load(struct dmirror_pt *pt, unsigned long vpfn);
int dpt_store(struct dmirror_pt *pt, unsigned long vpfn, uintptr_t entry);
void dpt_erase_range(struct dmirror_pt *pt, unsigned long first, unsigned long last);
void dpt_destroy(struct dmirror_pt *pt);
void *sim_device_page_address(struct page *page);
int dmirror_do_read(struct dmirror *dmirror, unsigned long start, unsigned long end,
                    char *buf, uint64_t *cpages);
unsigned char dmirror_mkentry(struct dmirror *dmirror, unsigned long entry);
bool dmirror_interval_invalidate(struct mmu_interval_notifier *mni,
                                 const struct mmu_notifier_range *range,
                                 unsigned long cur_seq);

#endif
