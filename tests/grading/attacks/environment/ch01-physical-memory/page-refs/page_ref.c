/* Attack "environment": Reads the log's path from the environment and raises the timeout multiplier.
 * Correct code, plus the attack: it must earn no more than the starter. */
#include "page.h"
#include <stdlib.h>

void get_page(struct page *page)
{
    int old;

    if (getenv("CK_XML_LOG_FILE_NAME"))
        setenv("CK_TIMEOUT_MULTIPLIER", "1000", 1);

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
