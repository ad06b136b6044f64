/* Generated from chapters/01-physical-memory.nw by make tangle (sum d9342bff6b53): edit the chapter, not this file. */
#line 943 "chapters/01-physical-memory.nw"
#include "page.h"

#line 625 "chapters/01-physical-memory.nw"
void get_page(struct page *page)
{
    int old;

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
