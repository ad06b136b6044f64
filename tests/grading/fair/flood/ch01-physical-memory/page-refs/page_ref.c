/* Fair: correct code that writes a megabyte to stdout on each of its first 64 calls of
 * get_page, 64 MiB in all, sixteen times what the grader keeps.  Noise is not cheating:
 * it must earn full marks, and the grader must keep only a bounded part.  (A megabyte on
 * every call would make the threaded test spend seconds on failed writes, and its verdict
 * would depend on how busy the machine is.) */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "page.h"

/* Floods stdout: a megabyte per call, for the first 64 calls. */
static void flood(void)
{
    static atomic_int calls;
    char line[1024];

    if (atomic_fetch_add(&calls, 1) >= 64)
        return;
    memset(line, 'x', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    for (int i = 0; i < 1024; i++)
        fputs(line, stdout);
}

void get_page(struct page *page)
{
    int old;

    flood();
    if (SIM_WARN(!page, "NULL page"))
        return;
    old = atomic_load(&page->_refcount);
    do {
        if (SIM_WARN(old <= 0, "pfn %#lx had no reference", page->pfn))
            return;
    } while (!atomic_compare_exchange_weak(&page->_refcount, &old, old + 1));
}

void put_page(struct page *page)
{
    int old;

    if (SIM_WARN(!page, "NULL page"))
        return;
    old = atomic_load(&page->_refcount);
    do {
        if (SIM_WARN(old <= 0, "pfn %#lx: refcount underflow", page->pfn))
            return;
    } while (!atomic_compare_exchange_weak(&page->_refcount, &old, old - 1));
    if (old == 1 && !PageReserved(page))
        sim_free_frame(page);
}
