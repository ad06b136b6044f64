/* Generated from chapters/01-physical-memory.nw by make tangle (sum b30497ab2d99): edit the chapter, not this file. */
#line 951 "chapters/01-physical-memory.nw"
#include <pthread.h>
#include "page.h"

#line 670 "chapters/01-physical-memory.nw"
#define SIM_PAGE_WAIT_TABLE_SIZE 64

struct sim_page_waitqueue {
    pthread_mutex_t lock;
    pthread_cond_t wait;
};

static struct sim_page_waitqueue sim_page_wait_table[SIM_PAGE_WAIT_TABLE_SIZE];
static pthread_once_t sim_page_wait_once = PTHREAD_ONCE_INIT;

static void sim_page_wait_init(void)
{
    for (int i = 0; i < SIM_PAGE_WAIT_TABLE_SIZE; i++) {
        pthread_mutex_init(&sim_page_wait_table[i].lock, NULL);
        pthread_cond_init(&sim_page_wait_table[i].wait, NULL);
    }
}

static struct sim_page_waitqueue *sim_page_waitqueue(const struct page *page)
{
    pthread_once(&sim_page_wait_once, sim_page_wait_init);
    return &sim_page_wait_table[((uintptr_t)page / sizeof(*page)) %
                                SIM_PAGE_WAIT_TABLE_SIZE];
}
#line 702 "chapters/01-physical-memory.nw"
static bool sim_page_test_and_set_locked(struct page *page)
{
    return atomic_fetch_or(&page->flags, 1UL << PG_locked) & (1UL << PG_locked);
}

bool trylock_page(struct page *page)
{
    if (SIM_WARN(!page, "NULL page"))
        return false;
    return !sim_page_test_and_set_locked(page);
}

void lock_page(struct page *page)
{
    struct sim_page_waitqueue *wq;

    if (SIM_WARN(!page, "NULL page"))
        return;
    wq = sim_page_waitqueue(page);
    pthread_mutex_lock(&wq->lock);
    while (sim_page_test_and_set_locked(page))
        pthread_cond_wait(&wq->wait, &wq->lock);
    pthread_mutex_unlock(&wq->lock);
}

void unlock_page(struct page *page)
{
    struct sim_page_waitqueue *wq;

    if (SIM_WARN(!page, "NULL page"))
        return;
    wq = sim_page_waitqueue(page);
    pthread_mutex_lock(&wq->lock);
    if (!SIM_WARN(!PageLocked(page), "pfn %#lx is not locked", page->pfn))
        atomic_fetch_and(&page->flags, ~(1UL << PG_locked));
    pthread_cond_broadcast(&wq->wait);
    pthread_mutex_unlock(&wq->lock);
}

#line 130 "chapters/08-migration.nw"
void sim_wait_on_page_unlock(struct page *page, pthread_mutex_t *held)
{
    struct sim_page_waitqueue *wq = sim_page_waitqueue(page);

    pthread_mutex_lock(&wq->lock);
    pthread_mutex_unlock(held);
    while (PageLocked(page))
        pthread_cond_wait(&wq->wait, &wq->lock);
    pthread_mutex_unlock(&wq->lock);
}
