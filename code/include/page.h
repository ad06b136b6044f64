/* Generated from chapters/01-physical-memory.nw by make tangle (sum 91a6972fb25a): edit the chapter, not this file. */
#line 891 "chapters/01-physical-memory.nw"
#ifndef HMMWB_PAGE_H
#define HMMWB_PAGE_H

#include <stdatomic.h>
#include "kernel.h"

#line 27 "chapters/01-physical-memory.nw"
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr) (((addr) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGNED(addr) (((addr) & (PAGE_SIZE - 1)) == 0)
#line 197 "chapters/01-physical-memory.nw"
struct dev_pagemap;

struct page {
#line 133 "chapters/01-physical-memory.nw"
    atomic_ulong flags;          /* PG_* bits, changed atomically */
    atomic_int _refcount;        /* references; 0 means the frame is free */
    atomic_int _mapcount;        /* page-table entries that map this frame */
    unsigned long pfn;           /* this frame's number, fixed at boot */
    struct page *free_next;      /* free-list link, valid only while free */
#line 160 "chapters/01-physical-memory.nw"
    struct dev_pagemap *pgmap;   /* ZONE_DEVICE pages: the owning pagemap */
    void *zone_device_data;      /* ZONE_DEVICE pages: free for the driver */
#line 201 "chapters/01-physical-memory.nw"
};

static inline int page_ref_count(const struct page *page)
{
    return atomic_load(&((struct page *)page)->_refcount);
}

static inline int page_mapcount(const struct page *page)
{
    return atomic_load(&((struct page *)page)->_mapcount);
}
#line 171 "chapters/01-physical-memory.nw"
enum pageflags {
    PG_locked,
    PG_buddy,
    PG_reserved,
};

static inline bool sim_page_test_flag(const struct page *page, enum pageflags bit)
{
    return atomic_load(&((struct page *)page)->flags) & (1UL << bit);
}

static inline bool PageLocked(const struct page *page)
{
    return sim_page_test_flag(page, PG_locked);
}

static inline bool PageReserved(const struct page *page)
{
    return sim_page_test_flag(page, PG_reserved);
}
#line 223 "chapters/01-physical-memory.nw"
struct sim_mem_section {
    unsigned long start_pfn;     /* first pfn of the section */
    unsigned long nr_pages;      /* pfns [start_pfn, start_pfn + nr_pages) */
    struct page *pages;          /* one descriptor per frame */
    unsigned char *data;         /* host memory holding the frames' bytes */
};

#define SIM_MAX_SECTIONS 64
#line 353 "chapters/01-physical-memory.nw"
#define SIM_RAM_START_PFN 0x100UL
#define SIM_RAM_DEFAULT_PAGES (256UL * 1024 * 1024 / PAGE_SIZE)
#define SIM_RAM_MAX_PAGES (64UL * 1024 * 1024 * 1024 / PAGE_SIZE)
#line 859 "chapters/01-physical-memory.nw"
struct page *alloc_page(void);
void get_page(struct page *page);
void put_page(struct page *page);
void lock_page(struct page *page);
void unlock_page(struct page *page);
bool trylock_page(struct page *page);
struct page *pfn_to_page(unsigned long pfn);
unsigned long page_to_pfn(const struct page *page);
void *sim_page_address(struct page *page);

int sim_ram_configure(unsigned long nr_pages);
unsigned long sim_nr_ram_pages(void);
unsigned long sim_nr_free_pages(void);
unsigned long sim_nr_pages_in_use(void);
unsigned long sim_nr_host_pages_returned(void);
void sim_page_reserve(struct page *page);
struct sim_mem_section *sim_add_section(unsigned long start_pfn, unsigned long nr_pages);
int sim_invariant_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#line 1248 "chapters/08-migration.nw"
struct page *sim_alloc_page_for_copy(void);
#line 605 "chapters/01-physical-memory.nw"
#define SIM_TRIM_BATCH 2048
#define SIM_TRIM_KEEP 8192
#line 883 "chapters/01-physical-memory.nw"
void sim_free_frame(struct page *page);
int sim_check_frame(struct page *page, bool listed);
#line 263 "chapters/07-device-private.nw"
void sim_device_page_free(struct page *page);
#line 751 "chapters/01-physical-memory.nw"
int sim_check_invariants(void);
#line 2296 "chapters/02-address-spaces.nw"
int sim_check_address_spaces(void);
#line 1595 "chapters/04-interval-notifiers.nw"
int sim_check_notifiers(void);
#line 868 "chapters/07-device-private.nw"
int sim_check_device_memory(void);

#line 906 "chapters/01-physical-memory.nw"
#endif
