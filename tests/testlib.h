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
#endif

#ifdef HMMWB_TRACE_H
/* With SIM_TRACE_DIR set, write the trace recorded so far to $SIM_TRACE_DIR/NAME.txt for
 * the ladder diagrams (make figures); without it, do nothing. */
void sim_test_write_trace(const char *name, const char *title, const char *verdict);
#endif

#endif
