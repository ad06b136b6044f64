/*
 * interval_notifier.pml -- the mmu_interval_notifier collision-retry protocol,
 * reduced to one page, one device mirror and one driver lock.
 *
 * The question the model answers: a device fault takes a snapshot of the
 * CPU page table *without* holding any lock that the invalidation path takes,
 * and later installs that snapshot in the device page table.  What must the
 * driver check, and under which lock, so that it never installs a snapshot
 * that an invalidation has made stale in the meantime?
 *
 * Three designs are compiled from this one file:
 *
 *   SEQCOUNT    the kernel since 5.5 (mm/mmu_notifier.c): a per-mm sequence
 *               number that is odd while invalidations run, a per-notifier
 *               copy set by the driver under its own lock, and the
 *               mmu_interval_read_begin() / mmu_interval_read_retry() pair.
 *   BOOL_VALID  the 2019 HMM design: a per-range flag hmm_range->valid,
 *               cleared when an overlapping invalidation starts and set
 *               again when the count of running invalidations drops to 0.
 *               The driver tested it under its update lock.
 *   NO_RETRY    SEQCOUNT with the final check left out: the driver waits in
 *               read_begin but never calls read_retry.
 *
 * Select one with the C preprocessor:
 *
 *   spin -a -DDESIGN=SEQCOUNT   interval_notifier.pml
 *   spin -a -DDESIGN=BOOL_VALID interval_notifier.pml
 *   spin -a -DDESIGN=NO_RETRY   interval_notifier.pml
 *
 * tools/check_model.sh runs all three and checks the expected verdicts:
 * SEQCOUNT holds, the other two produce a counterexample.
 */

#define SEQCOUNT   1
#define BOOL_VALID 2
#define NO_RETRY   3

#ifndef DESIGN
#define DESIGN SEQCOUNT
#endif

#if DESIGN != SEQCOUNT && DESIGN != BOOL_VALID && DESIGN != NO_RETRY
#error "DESIGN must be SEQCOUNT, BOOL_VALID or NO_RETRY"
#endif

/* Size of the run.  Every process is bounded, so the state space is finite. */
#ifndef N_INVALIDATORS
#define N_INVALIDATORS 2   /* two concurrent invalidators: overlapping ranges */
#endif
#ifndef ROUNDS
#define ROUNDS 2           /* invalidations per invalidator                  */
#endif
#ifndef MAX_TRIES
#define MAX_TRIES 4        /* passes through the driver loop before the fault
                              gives up (a real driver gives up after
                              HMM_RANGE_DEFAULT_TIMEOUT ms and returns -EBUSY) */
#endif

/* ------------------------------------------------------------------------
 * Shared state
 * ------------------------------------------------------------------------ */

/* The CPU page-table entry of the one page, abstracted to a version number.
 * Every invalidation replaces the page (think zap + refault, or migration),
 * so each one bumps the version.  A device entry holding an older version
 * points at a page the CPU no longer maps: a stale mapping. */
byte cpu = 0;

/* struct mmu_notifier_subscriptions, the per-mm core state.  The spinlock
 * that protects it is modelled by making each core step one atomic block.
 * BOOL_VALID uses mm_active as its count of running invalidations (the 2019
 * hmm->notifiers) and ignores mm_seq. */
byte mm_seq    = 2;   /* ->invalidate_seq: starts at 2, odd = invalidation running */
byte mm_active = 0;   /* ->active_invalidate_ranges                                */

/* struct mmu_interval_notifier ->invalidate_seq for the driver's one notifier.
 * A notifier inserted while the mm is idle gets the global value minus one,
 * which is odd and differs from the global value. */
byte sub_seq = 1;

/* BOOL_VALID only: hmm_range->valid of the range the device is faulting. */
bool valid = true;

/* The driver's side: its lock (the "user lock" / driver->update lock that
 * both the fault path and the invalidate() callback take) and the device's
 * own page-table entry for the page. */
bool drv_lock   = false;
bool dev_valid  = false;
byte dev_version = 0;

inline lock_driver()   { atomic { !drv_lock -> drv_lock = true } }
inline unlock_driver() { drv_lock = false }

/* ------------------------------------------------------------------------
 * The invalidation side: what the kernel does around a CPU page-table change
 * that overlaps the notifier's range.
 * ------------------------------------------------------------------------ */
proctype invalidator(byte id)
{
    byte cur_seq;
    byte round = 0;

    do
    :: round < ROUNDS ->
        /* mn_itree_inv_start_range(), under the subscriptions spinlock:
         * one more active invalidation; the range overlaps our notifier, so
         * the global seq is made odd ("a writer is present").  The odd value
         * is what the notifier's invalidate() op receives as cur_seq.  Two
         * overlapping invalidations share the same odd value.
         *
         * BOOL_VALID: the 2019 hmm_invalidate_range_start() did the same
         * bookkeeping under hmm->lock: the count of running invalidations
         * went up and every overlapping range got valid = false. */
        atomic {
            mm_active++;
            mm_seq = mm_seq | 1;
            cur_seq = mm_seq;
#if DESIGN == BOOL_VALID
            valid = false;
            printf("inv%d: invalidate start: active=%d, valid=false\n", id, mm_active);
#else
            printf("inv%d: invalidate start: active=%d, seq=%d\n", id, mm_active, mm_seq);
#endif
        }

        /* The notifier's ops->invalidate(): the driver takes its lock,
         * records the new sequence number with mmu_interval_set_seq(), and
         * tears down the device mapping, then drops the lock.  In the 2019
         * design this was ops->sync_cpu_device_pagetables(); the flag was
         * already cleared above, so it only wiped the device entry. */
        lock_driver();
#if DESIGN != BOOL_VALID
        sub_seq = cur_seq;                         /* mmu_interval_set_seq() */
#endif
        dev_valid = false;
#if DESIGN == BOOL_VALID
        printf("inv%d: invalidate(): device entry wiped\n", id);
#else
        printf("inv%d: invalidate(): set_seq(%d), device entry wiped\n",
               id, cur_seq);
#endif
        unlock_driver();

        /* Back in the caller of mmu_notifier_invalidate_range_start(): the
         * CPU page table is changed only now, after every notifier has
         * returned. */
        cpu++;
        printf("inv%d: CPU page changed, cpu=%d\n", id, cpu);

        /* mn_itree_inv_end(), under the spinlock: one less active
         * invalidation; the last one out makes the global seq even again and
         * wakes everyone sleeping in mmu_interval_read_begin().  A full
         * cycle moves the global seq on by 2.
         *
         * BOOL_VALID: hmm_invalidate_range_end() decremented the count and,
         * when it reached 0, set valid = true again on every range. */
        atomic {
            mm_active--;
            if
            :: mm_active == 0 && (mm_seq & 1) -> mm_seq++
            :: else -> skip
            fi;
#if DESIGN == BOOL_VALID
            if
            :: mm_active == 0 -> valid = true
            :: else -> skip
            fi;
            printf("inv%d: invalidate end: active=%d, valid=%d\n", id, mm_active, valid);
#else
            printf("inv%d: invalidate end: active=%d, seq=%d\n", id, mm_active, mm_seq);
#endif
        }
        round++
    :: else -> break
    od
}

/* ------------------------------------------------------------------------
 * The device-fault side: the driver loop of Documentation/mm/hmm.rst.
 * ------------------------------------------------------------------------ */
proctype device_fault()
{
    byte rseq;        /* the value read_begin returned (range.notifier_seq) */
    byte snap;        /* the snapshot of the CPU entry (range.hmm_pfns[0])   */
    byte tries = 0;

again:
    if
    :: tries == MAX_TRIES ->
        printf("fault: giving up after %d tries\n", tries);
        goto done
    :: else -> tries++
    fi;

#if DESIGN == BOOL_VALID
    /* hmm_range_wait_until_valid(): sleep until the range is valid.  (The
     * real call had a timeout and could go on regardless; waiting for ever
     * is the more favourable reading, and it still is not enough.) */
    valid;
    printf("fault: wait_until_valid: valid=%d\n", valid);
#else
    /* mmu_interval_read_begin(), under the subscriptions spinlock: read the
     * notifier's seq.  If it equals the global seq, the notifier's
     * invalidate() has already run for an invalidation that is still going
     * on, so sleep until the global seq moves (the final
     * mn_itree_inv_end()).  The value read first is what is returned.
     *
     * The wait is needed for safety, not only to avoid wasted work: the
     * set_seq of the running invalidation has already happened, so
     * read_retry could not see it; without the wait a snapshot taken before
     * cpu++ would be installed and outlive the invalidation.  (Replace the
     * wait by skip and SEQCOUNT fails.) */
    atomic {
        rseq = sub_seq;
        printf("fault: read_begin: notifier seq=%d, global seq=%d\n", rseq, mm_seq);
    }
    (mm_seq != rseq);
    printf("fault: read_begin returns %d\n", rseq);
#endif

    /* hmm_range_fault() under the mmap read lock: copy the CPU entry.
     * Nothing stops an invalidation from starting right after this. */
    snap = cpu;
    printf("fault: snapshot of CPU entry: snap=%d\n", snap);

    /* Take the driver lock, then decide whether the snapshot may be used. */
    lock_driver();
#if DESIGN == SEQCOUNT
    /* mmu_interval_read_retry(): any invalidate() that ran since read_begin
     * changed the notifier's seq under this very lock, so a mismatch means
     * the snapshot may be stale. */
    if
    :: sub_seq != rseq ->
        printf("fault: read_retry: seq %d != %d, retry\n", sub_seq, rseq);
        unlock_driver();
        goto again
    :: else ->
        printf("fault: read_retry: seq still %d, go ahead\n", rseq)
    fi;
#elif DESIGN == BOOL_VALID
    /* hmm_range_valid(): only says whether an invalidation is running NOW,
     * not whether one ran since the snapshot was taken. */
    if
    :: !valid ->
        printf("fault: valid=false under lock, retry\n");
        unlock_driver();
        goto again
    :: else ->
        printf("fault: valid=true under lock, go ahead\n")
    fi;
#else
    /* NO_RETRY: no check at all. */
    printf("fault: no check, go ahead\n");
#endif

    /* Program the device page table from the snapshot, still under the
     * lock, then release it. */
    dev_version = snap;
    dev_valid = true;
    printf("fault: device entry installed: version %d (cpu=%d)\n", snap, cpu);
    unlock_driver();
done:
    skip
}

/* ------------------------------------------------------------------------
 * The safety property.
 *
 * "No stale device mapping survives an invalidation": whenever no
 * invalidation is running and nobody holds the driver lock, the device
 * entry is either absent or maps the page the CPU maps now.
 *
 * Why only there:
 *  - the driver lock guards the device entry, and the fault path writes its
 *    two fields one after the other; only with the lock free is the entry a
 *    finished value rather than a half-written one;
 *  - the promise a driver relies on is about finished invalidations: once
 *    invalidate_range_end has run, nothing that maps the old page is left.
 *    What may be seen in the middle of one depends on where exactly the PTE
 *    changes relative to the callbacks, which this model pins to one
 *    choice (after them, as the kernel does).  With that choice SEQCOUNT in
 *    fact also passes the stronger check without "mm_active == 0"; the
 *    weaker form is the contract, and it is already what the flag broke.
 *
 * The monitor's single guarded step is enabled in every reachable state that
 * satisfies the guard, and the verifier explores every interleaving, so the
 * assertion is evaluated in every such state, including the final one, where
 * all other processes have finished.
 * ------------------------------------------------------------------------ */
proctype monitor()
{
    atomic {
        (mm_active == 0 && !drv_lock) ->
            assert(!dev_valid || dev_version == cpu)
    }
}

init
{
    byte i = 0;
    atomic {
        do
        :: i < N_INVALIDATORS -> run invalidator(i); i++
        :: else -> break
        od;
        run device_fault();
        run monitor()
    }
}
