/* Int patterns for the ports of the kernel's HMM selftests (chapters 6 and 8): the
 * kernel's tests fill buffers with int k = base + step * k and check them back.
 * Header-only, so that each suite gets its own static copies. */
#ifndef HMMWB_TEST_HMM_INTS_H
#define HMMWB_TEST_HMM_INTS_H

#include <stdlib.h>
#include <string.h>
#include "testlib.h"

static inline int pattern_int(long base, long step, unsigned long k)
{
    return (int)(base + step * (long)k);
}

static inline void ints_fill(void *buf, unsigned long bytes, long base, long step)
{
    int *p = buf;

    for (unsigned long k = 0; k < bytes / sizeof(int); k++)
        p[k] = pattern_int(base, step, k);
}

/* The index of the first int that breaks the pattern, or bytes / sizeof(int). */
static inline unsigned long ints_mismatch(const void *buf, unsigned long bytes, long base, long step)
{
    const int *p = buf;

    for (unsigned long k = 0; k < bytes / sizeof(int); k++)
        if (p[k] != pattern_int(base, step, k))
            return k;
    return bytes / sizeof(int);
}

#define ck_assert_ints(buf, bytes, base, step)                                      \
    do {                                                                            \
        const int *p_ = (const int *)(buf);                                         \
        unsigned long n_ = (bytes) / sizeof(int);                                   \
        unsigned long k_ = ints_mismatch(p_, (bytes), (base), (step));              \
        ck_assert_msg(k_ == n_, "int %lu of %s is %d, expected %d", k_, #buf,       \
                      k_ < n_ ? p_[k_] : 0, pattern_int((base), (step), k_));       \
    } while (0)

/* The process stores the pattern into [addr, addr + bytes). */
static inline void cpu_store_ints(struct mm_struct *mm, unsigned long addr, unsigned long bytes,
                           long base, long step)
{
    void *buf = malloc(bytes);

    ck_assert_ptr_nonnull(buf);
    ints_fill(buf, bytes, base, step);
    ck_assert_int_eq(sim_write(mm, addr, buf, bytes), 0);
    free(buf);
}

/* The process loads [addr, addr + bytes) and finds the pattern. */
static inline void cpu_expect_ints(struct mm_struct *mm, unsigned long addr, unsigned long bytes,
                            long base, long step)
{
    void *cpu = malloc(bytes);

    ck_assert_ptr_nonnull(cpu);
    memset(cpu, 0xa5, bytes);
    ck_assert_int_eq(sim_read(mm, addr, cpu, bytes), 0);
    ck_assert_ints(cpu, bytes, base, step);
    free(cpu);
}

#endif
