/* Hostile: sleeps forever, using no CPU; only the wall clock can stop it. */
#include <pthread.h>
#include "hmmwb.h"

static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;

void __mmu_notifier_release(struct mm_struct *mm)
{
    (void)mm;
    pthread_mutex_lock(&never_lock);
    for (;;)
        pthread_cond_wait(&never_signalled, &never_lock);
}
