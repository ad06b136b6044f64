/* Generated from chapters/01-physical-memory.nw by make tangle (sum 0c471d60be46): edit the chapter, not this file. */
#line 111 "chapters/01-physical-memory.nw"
#ifndef HMMWB_KERNEL_H
#define HMMWB_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#line 40 "chapters/01-physical-memory.nw"
#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
    return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
    return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
    return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
    return !ptr || IS_ERR(ptr);
}
#line 71 "chapters/01-physical-memory.nw"
void sim_warn(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
unsigned long sim_warn_count(void);

#define SIM_WARN(cond, ...)                                     \
    ({                                                          \
        bool __warned = (cond);                                 \
        if (__warned)                                           \
            sim_warn(__func__, __VA_ARGS__);                    \
        __warned;                                               \
    })

#line 123 "chapters/01-physical-memory.nw"
#endif
