/* Shared helpers of the workbook's Check suites. */
#ifndef HMMWB_TESTLIB_H
#define HMMWB_TESTLIB_H

#include <check.h>
#include "hmmwb.h"

/* Each tests/chNN_*.c defines the suite its program runs. */
Suite *test_suite(void);

/* A test case with the suite's conventions: a timeout (seconds) and a teardown that
 * runs the invariant checker and demands that every frame handed out came back. */
TCase *sim_tcase(const char *name, double timeout);

/* The teardown itself, for suites that build their own fixtures. */
void sim_test_teardown(void);

/* A test case with a timeout but no checked teardown, for tests that provoke warnings or
 * break invariants on purpose and assert the checker's exact verdict themselves. */
TCase *sim_tcase_unchecked(const char *name, double timeout);

/* The byte that sim_fill_pattern() puts at offset i of a buffer seeded with seed. */
unsigned char sim_pattern_byte(unsigned long seed, unsigned long i);

/* Fill buf with a pattern that differs from page to page and from seed to seed. */
void sim_fill_pattern(void *buf, unsigned long len, unsigned long seed);

/* The offset of the first byte of buf that differs from the pattern, or len if none. */
unsigned long sim_pattern_mismatch(const void *buf, unsigned long len, unsigned long seed);

/* The offset of the first byte of buf that is not c, or len if none. */
unsigned long sim_bytes_mismatch(const void *buf, unsigned long len, unsigned char c);

/* The state letter of thread TID of this process as /proc shows it ('R' running, 'S'
 * asleep on a lock or a condition...), or '?' when it has gone. */
char sim_test_thread_state(int tid);

/* The calling thread's id, for sim_test_thread_state() in another thread. */
int sim_test_gettid(void);

/* Give every other thread of this process the chance to get where it is going: return
 * once each of them has been seen asleep (blocked on a lock or a condition) or gone, in
 * three looks in a row, or after at most ms milliseconds.  A test that must show that a
 * thread waits calls this and then checks that the thread has not got through.  A
 * count of yields would do the same on a quiet machine, but a busy machine stretches
 * each yield from microseconds to milliseconds and the count to seconds. */
void sim_test_let_others_settle(int ms);

#ifdef HMMWB_MM_H
/* Helpers for address spaces, built only when the chapters include them (chapter 2 on). */

/* sim_mmap that must succeed: the test fails with the error otherwise. */
unsigned long sim_test_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len,
                            int prot, int flags);

/* sim_mmap of private (or shared) anonymous read-write memory at a place of the library's
 * choosing. */
unsigned long sim_test_map_private(struct mm_struct *mm, unsigned long len);
unsigned long sim_test_map_shared(struct mm_struct *mm, unsigned long len);

/* Fill [addr, addr + len) of mm with c through sim_write; the write must succeed. */
void sim_test_memset(struct mm_struct *mm, unsigned long addr, unsigned char c,
                     unsigned long len);

/* Read [addr, addr + len) of mm through sim_read and fail unless every byte is c. */
void sim_test_expect_bytes(struct mm_struct *mm, unsigned long addr, unsigned char c,
                           unsigned long len);

/* The page that the present PTE at addr maps; fails the test if there is none. */
struct page *sim_test_mapped_page(struct mm_struct *mm, unsigned long addr);

/* Write page i of [addr, addr + n pages) with the pattern of seed + i, through the CPU. */
void sim_test_fill_pages(struct mm_struct *mm, unsigned long addr, unsigned long n,
                         unsigned long seed);

/* Read page i back through the CPU and fail unless it holds the pattern of seed + i. */
void sim_test_expect_pages(struct mm_struct *mm, unsigned long addr, unsigned long n,
                           unsigned long seed);
#endif

#ifdef HMMWB_DMIRROR_H
/* The kernel selftests' struct hmm_buffer (tools/testing/selftests/mm/hmm-tests.c): a
 * mapping in the process and a host buffer the device copies through. */
struct hmm_buffer {
    unsigned long addr;                /* buffer->ptr: the simulated mapping */
    unsigned long size;
    void *mirror;                      /* buffer->mirror: what the device copies through */
    uint64_t cpages;
    uint64_t faults;
};

/* npages of anonymous memory (flags | MAP_ANONYMOUS) and a mirror of mirror_bytes. */
struct hmm_buffer *hmm_buffer_create(struct mm_struct *mm, unsigned long npages,
                                     unsigned long mirror_bytes, int prot, int flags);

/* munmap (unless addr was cleared because the mapping is already gone) and free. */
void hmm_buffer_free(struct mm_struct *mm, struct hmm_buffer *b);

/* The selftests' hmm_dmirror_cmd() on [addr + first pages, + npages), the mirror at its
 * start; cpages and faults land in b.  The counters start as garbage, so that a command
 * that forgot to set them shows. */
int hmm_cmd_at(struct dmirror *dmirror, unsigned int request, struct hmm_buffer *b,
               unsigned long first, unsigned long npages);

/* The same from the buffer's first page. */
int hmm_cmd(struct dmirror *dmirror, unsigned int request, struct hmm_buffer *b,
            unsigned long npages);

/* The selftests' check of a command's counters. */
#define ck_assert_cmd(b, npages_, faults_)                                          \
    do {                                                                            \
        ck_assert_uint_eq((b)->cpages, (npages_));                                  \
        ck_assert_uint_eq((b)->faults, (faults_));                                  \
    } while (0)
#endif

/* A RAM page holding a copy of src's bytes, locked and referenced, as a driver prepares
 * the destination of a migration. */
struct page *sim_test_copy_page(struct page *src);

#ifdef HMMWB_INTERVAL_TREE_H
/* Interval-notifier operations whose invalidate only records the sequence number: for a
 * test that drives hmm_range_fault itself and keeps no device table. */
extern const struct mmu_interval_notifier_ops sim_test_seq_only_ops;
#endif

#ifdef HMMWB_HMM_H
#include <pthread.h>
/* Another thread that invalidates when a walk of hmm_range_fault asks it to.  Started, it
 * is sim_hmm_walk_hook, which runs in the walking thread between two segments of a walk,
 * with the mmap read lock held: up to `limit` times (INT_MAX: every time) the hook hands
 * over to the thread, which runs MADV_DONTNEED on the page at `target` (madvise needs
 * only the read lock, which readers share), and waits until it is done. */
struct sim_test_injector {
    pthread_t thread;
    pthread_barrier_t go, done;
    struct mm_struct *mm;
    unsigned long target;            /* the page to zap */
    int limit;                       /* how many hook calls inject */
    bool stop;                       /* written before `go` */
    int injected;                    /* madvises done; written between `go` and `done` */
    int madvise_ret;
    int hook_calls;                  /* the walking thread's own */
    unsigned long first_addr;        /* where the hook was first called */
    struct hmm_range *first_range;
};

void sim_test_injector_start(struct sim_test_injector *inj, struct mm_struct *mm,
                             unsigned long target, int limit);

/* Stop the thread and take the hook away. */
void sim_test_injector_stop(struct sim_test_injector *inj);
#endif

#ifdef HMMWB_TRACE_H
/* With SIM_TRACE_DIR set, write the trace recorded so far to $SIM_TRACE_DIR/NAME.txt for
 * the ladder diagrams (make figures); without it, do nothing. */
void sim_test_write_trace(const char *name, const char *title, const char *verdict);
#endif

#endif
