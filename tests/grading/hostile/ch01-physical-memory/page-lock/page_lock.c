/* Hostile: lock_page crashes; trylock_page and unlock_page are correct. */
#include <pthread.h>
#include "page.h"

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;

bool trylock_page(struct page *page)
{
    if (SIM_WARN(!page, "NULL page"))
        return false;
    return !(atomic_fetch_or(&page->flags, 1UL << PG_locked) & (1UL << PG_locked));
}

void lock_page(struct page *page)
{
    volatile int *nowhere = NULL;

    (void)page;
    *nowhere = 1;
}

void unlock_page(struct page *page)
{
    if (SIM_WARN(!page, "NULL page"))
        return;
    pthread_mutex_lock(&wait_lock);
    if (!SIM_WARN(!PageLocked(page), "not locked"))
        atomic_fetch_and(&page->flags, ~(1UL << PG_locked));
    pthread_cond_broadcast(&wait_cond);
    pthread_mutex_unlock(&wait_lock);
}
