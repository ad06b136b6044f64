/* Attack "include-device": Includes /dev/zero, which would hang the compiler or eat its memory.
 * Correct code, plus the attack: it must earn no more than the starter. */
#include "page.h"

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

#include "/dev/zero"
