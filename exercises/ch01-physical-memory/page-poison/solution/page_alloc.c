#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "page.h"

static atomic_ulong sim_warnings;

void sim_warn(const char *func, const char *fmt, ...)
{
    va_list ap;

    atomic_fetch_add(&sim_warnings, 1);
    fprintf(stderr, "WARNING: %s: ", func);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

unsigned long sim_warn_count(void)
{
    return atomic_load(&sim_warnings);
}
static struct sim_mem_section sim_sections[SIM_MAX_SECTIONS];
static atomic_int sim_nr_sections;
static pthread_mutex_t sim_sections_lock = PTHREAD_MUTEX_INITIALIZER;
struct sim_mem_section *sim_add_section(unsigned long start_pfn, unsigned long nr_pages)
{
    struct sim_mem_section *sec = NULL;
    void *data;
    int n;

    data = mmap(NULL, nr_pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (data == MAP_FAILED)
        return NULL;
    pthread_mutex_lock(&sim_sections_lock);
    n = atomic_load_explicit(&sim_nr_sections, memory_order_relaxed);
    if (n == SIM_MAX_SECTIONS)
        goto out_unlock;
    sec = &sim_sections[n];
    sec->pages = calloc(nr_pages, sizeof(struct page));
    if (!sec->pages) {
        sec = NULL;
        goto out_unlock;
    }
    sec->start_pfn = start_pfn;
    sec->nr_pages = nr_pages;
    sec->data = data;
    for (unsigned long i = 0; i < nr_pages; i++)
        sec->pages[i].pfn = start_pfn + i;
    atomic_store_explicit(&sim_nr_sections, n + 1, memory_order_release);
out_unlock:
    pthread_mutex_unlock(&sim_sections_lock);
    if (!sec)
        munmap(data, nr_pages * PAGE_SIZE);
    return sec;
}
static struct sim_mem_section *sim_pfn_section(unsigned long pfn)
{
    int n = atomic_load_explicit(&sim_nr_sections, memory_order_acquire);

    for (int i = 0; i < n; i++) {
        struct sim_mem_section *sec = &sim_sections[i];

        if (pfn >= sec->start_pfn && pfn - sec->start_pfn < sec->nr_pages)
            return sec;
    }
    return NULL;
}
struct page *pfn_to_page(unsigned long pfn)
{
    struct sim_mem_section *sec = sim_pfn_section(pfn);

    return sec ? &sec->pages[pfn - sec->start_pfn] : NULL;
}

unsigned long page_to_pfn(const struct page *page)
{
    if (SIM_WARN(!page, "no page"))
        return ULONG_MAX;
    return page->pfn;
}

void *sim_page_address(struct page *page)
{
    struct sim_mem_section *sec;

    if (!page)
        return NULL;
    sec = sim_pfn_section(page->pfn);
    if (SIM_WARN(!sec, "page %p belongs to no section", (void *)page))
        return NULL;
    return sec->data + (page->pfn - sec->start_pfn) * PAGE_SIZE;
}
static atomic_ulong sim_ram_pages = SIM_RAM_DEFAULT_PAGES;
static struct sim_mem_section *sim_ram;
static pthread_once_t sim_boot_once = PTHREAD_ONCE_INIT;
static atomic_bool sim_booted;

static void sim_boot(void)
{
    sim_ram = sim_add_section(SIM_RAM_START_PFN, atomic_load(&sim_ram_pages));
    if (!sim_ram) {
        fprintf(stderr, "hmmwb: cannot reserve %lu pages of simulated RAM\n",
                atomic_load(&sim_ram_pages));
        abort();
    }
    atomic_store(&sim_booted, true);
}

static void sim_boot_once_only(void)
{
    pthread_once(&sim_boot_once, sim_boot);
}
int sim_ram_configure(unsigned long nr_pages)
{
    if (nr_pages == 0 || nr_pages > SIM_RAM_MAX_PAGES)
        return -EINVAL;
    if (atomic_load(&sim_booted))
        return -EBUSY;
    atomic_store(&sim_ram_pages, nr_pages);
    sim_boot_once_only();
    return sim_ram->nr_pages == nr_pages ? 0 : -EBUSY;
}

unsigned long sim_nr_ram_pages(void)
{
    sim_boot_once_only();
    return sim_ram->nr_pages;
}
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct page *free_list;           /* frames freed at least once */
static unsigned long never_used_next;    /* index of the next fresh frame */
static unsigned long nr_free_listed;     /* length of free_list */
static unsigned long nr_free_untrimmed;  /* the first ones still hold host memory */
static unsigned long nr_host_pages_returned;
static void sim_trim_free_frames(void);
/* mm/page_poison.c: a freed frame is filled with PAGE_POISON, and a frame that no
 * longer holds only poison when it is handed out again was written after its free. */
#define PAGE_POISON 0xaa

static void sim_poison_frame(struct page *page)
{
    memset(sim_page_address(page), PAGE_POISON, PAGE_SIZE);
}

static void sim_check_poison(struct page *page)
{
    const unsigned char *data = sim_page_address(page);

    for (unsigned long i = 0; i < PAGE_SIZE; i++) {
        if (data[i] != PAGE_POISON) {
            SIM_WARN(true, "pfn %#lx: free page written at offset %#lx (use after free)",
                     page->pfn, i);
            return;
        }
    }
}

/* *poisoned says whether the frame still holds its poison: it came off the free list,
 * and its host memory was not given back since (that memory reads as zeroes). */
static struct page *sim_take_free_frame(bool *poisoned)
{
    struct page *page = NULL;

    *poisoned = false;
    pthread_mutex_lock(&zone_lock);
    if (free_list) {
        page = free_list;
        free_list = page->free_next;
        nr_free_listed--;
        if (nr_free_untrimmed) {
            nr_free_untrimmed--;
            *poisoned = true;
        }
    } else if (never_used_next < sim_ram->nr_pages) {
        page = &sim_ram->pages[never_used_next++];
    }
    if (page) {
        page->free_next = NULL;
        atomic_store(&page->flags, 0);
    }
    pthread_mutex_unlock(&zone_lock);
    return page;
}
struct page *alloc_page(void)
{
    struct page *page;
    bool poisoned;

    sim_boot_once_only();
    page = sim_take_free_frame(&poisoned);
    if (!page)
        return NULL;
    if (poisoned)
        sim_check_poison(page);
    memset(sim_page_address(page), 0, PAGE_SIZE);
    atomic_store(&page->_mapcount, 0);
    atomic_store(&page->_refcount, 1);
    return page;
}
void sim_free_frame(struct page *page)
{
    SIM_WARN(PageLocked(page), "freeing locked pfn %#lx", page->pfn);
    sim_poison_frame(page);         /* nobody else holds it: no lock needed */
    pthread_mutex_lock(&zone_lock);
    atomic_store(&page->flags, 1UL << PG_buddy);
    page->free_next = free_list;
    free_list = page;
    nr_free_listed++;
    if (++nr_free_untrimmed == SIM_TRIM_KEEP + SIM_TRIM_BATCH)
        sim_trim_free_frames();
    pthread_mutex_unlock(&zone_lock);
}
static int sim_pfn_order(const void *a, const void *b)
{
    unsigned long x = (*(struct page *const *)a)->pfn;
    unsigned long y = (*(struct page *const *)b)->pfn;

    return (x > y) - (x < y);
}

/* Under zone_lock: nothing can take these frames while their memory goes. */
static void sim_trim_free_frames(void)
{
    static struct page *batch[SIM_TRIM_BATCH];
    unsigned long n = 0, run, skip = SIM_TRIM_KEEP;
    struct page *p = free_list;

    for (; skip; skip--)
        p = p->free_next;
    for (; p && n < SIM_TRIM_BATCH; p = p->free_next)
        batch[n++] = p;
    qsort(batch, n, sizeof(batch[0]), sim_pfn_order);
    for (unsigned long i = 0; i < n; i += run) {
        for (run = 1; i + run < n && batch[i + run]->pfn == batch[i]->pfn + run; run++)
            ;
        madvise(sim_ram->data + (batch[i]->pfn - sim_ram->start_pfn) * PAGE_SIZE,
                run * PAGE_SIZE, MADV_DONTNEED);
    }
    nr_host_pages_returned += n;
    nr_free_untrimmed = SIM_TRIM_KEEP;
}

unsigned long sim_nr_host_pages_returned(void)
{
    unsigned long n;

    pthread_mutex_lock(&zone_lock);
    n = nr_host_pages_returned;
    pthread_mutex_unlock(&zone_lock);
    return n;
}
static atomic_ulong nr_reserved;

void sim_page_reserve(struct page *page)
{
    if (!(atomic_fetch_or(&page->flags, 1UL << PG_reserved) & (1UL << PG_reserved)))
        atomic_fetch_add(&nr_reserved, 1);
}
unsigned long sim_nr_free_pages(void)
{
    unsigned long n;

    sim_boot_once_only();
    pthread_mutex_lock(&zone_lock);
    n = nr_free_listed + (sim_ram->nr_pages - never_used_next);
    pthread_mutex_unlock(&zone_lock);
    return n;
}

unsigned long sim_nr_pages_in_use(void)
{
    return sim_nr_ram_pages() - sim_nr_free_pages() - atomic_load(&nr_reserved);
}
int sim_invariant_failed(const char *fmt, ...)
{
    va_list ap;

    fputs("invariant: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}
static int sim_check_physical_memory(void)
{
    unsigned long n = sim_ram->nr_pages, listed = 0;
    bool *on_list = calloc(n, sizeof(bool));
    int bad = 0;

    if (!on_list)
        return sim_invariant_failed("out of host memory");
    pthread_mutex_lock(&zone_lock);
    for (struct page *p = free_list; p && listed < n; p = p->free_next, listed++) {
        if (p < sim_ram->pages || p >= sim_ram->pages + n) {
            bad += sim_invariant_failed("pfn %#lx on the free list is not RAM", p->pfn);
            break;
        }
        on_list[p - sim_ram->pages] = true;
    }
    if (listed != nr_free_listed)
        bad += sim_invariant_failed("free list holds %lu frames, counter says %lu",
                                    listed, nr_free_listed);
    if (nr_free_untrimmed > nr_free_listed ||
        nr_free_untrimmed >= SIM_TRIM_KEEP + SIM_TRIM_BATCH)
        bad += sim_invariant_failed("%lu untrimmed frames of %lu listed",
                                    nr_free_untrimmed, nr_free_listed);
    for (unsigned long i = 0; i < never_used_next; i++)
        bad += sim_check_frame(&sim_ram->pages[i], on_list[i]);
    pthread_mutex_unlock(&zone_lock);
    free(on_list);
    return bad;
}
int sim_check_invariants(void)
{
    int bad = 0;

    sim_boot_once_only();
    bad += sim_check_physical_memory();

    if (sim_warn_count())
        bad += sim_invariant_failed("%lu warnings were issued", sim_warn_count());
    return bad;
}
