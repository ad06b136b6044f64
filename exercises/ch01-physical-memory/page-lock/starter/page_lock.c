/* Exercise: the page lock (chapter 1).  Replace the bodies. */
#include <pthread.h>
#include "page.h"

bool trylock_page(struct page *page)
{
    /* Take PG_locked if it is free; say whether we got it. */
    (void)page;
    return true;
}

void lock_page(struct page *page)
{
    /* Take PG_locked, sleeping until it is free. */
    (void)page;
}

void unlock_page(struct page *page)
{
    /* Release PG_locked and wake the sleepers. */
    (void)page;
}
