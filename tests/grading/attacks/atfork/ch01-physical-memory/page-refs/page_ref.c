/* Attack "atfork": A pthread_atfork handler that makes every test child exit with status 0.
 * Correct code, plus the attack: it must earn no more than the starter. */
#include "page.h"
#include <pthread.h>

void _exit(int status);

static void child_exits(void)
{
    _exit(0);
}

void get_page(struct page *page)
{
    int old;
    static int armed;

    if (!armed++)
        pthread_atfork(NULL, NULL, child_exits);
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

