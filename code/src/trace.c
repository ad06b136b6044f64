/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum 5064612537d2): edit the chapter, not this file. */
#line 1195 "chapters/04-interval-notifiers.nw"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include "hmmwb.h"

#line 1060 "chapters/04-interval-notifiers.nw"
#define SIM_TRACE_MAX 512
#define SIM_TRACE_LINE 160

static char sim_trace_lines[SIM_TRACE_MAX][SIM_TRACE_LINE];
static int sim_trace_n;
static atomic_bool sim_trace_on;
static pthread_mutex_t sim_trace_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread const char *sim_trace_name;

static void sim_trace_add(const char *target, const char *fmt, va_list ap)
{
    char label[SIM_TRACE_LINE - 56];

    if (!atomic_load(&sim_trace_on))
        return;
    vsnprintf(label, sizeof(label), fmt, ap);
    pthread_mutex_lock(&sim_trace_lock);
    if (sim_trace_n < SIM_TRACE_MAX)
        snprintf(sim_trace_lines[sim_trace_n++], SIM_TRACE_LINE, "%.24s\t%.24s\t%s",
                 sim_trace_name ? sim_trace_name : "main", target, label);
    pthread_mutex_unlock(&sim_trace_lock);
}
#line 1088 "chapters/04-interval-notifiers.nw"
void sim_trace_event(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sim_trace_add("-", fmt, ap);
    va_end(ap);
}

void sim_trace_state(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sim_trace_add("=", fmt, ap);
    va_end(ap);
}

void sim_trace_msg(const char *target, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sim_trace_add(target, fmt, ap);
    va_end(ap);
}

void sim_trace_actor(const char *name)
{
    sim_trace_name = name;
}
#line 1124 "chapters/04-interval-notifiers.nw"
void sim_trace_start(void)
{
    pthread_mutex_lock(&sim_trace_lock);
    sim_trace_n = 0;
    pthread_mutex_unlock(&sim_trace_lock);
    atomic_store(&sim_trace_on, true);
}

void sim_trace_stop(void)
{
    atomic_store(&sim_trace_on, false);
}

int sim_trace_count(void)
{
    int n;

    pthread_mutex_lock(&sim_trace_lock);
    n = sim_trace_n;
    pthread_mutex_unlock(&sim_trace_lock);
    return n;
}

const char *sim_trace_record(int i)
{
    return i >= 0 && i < sim_trace_count() ? sim_trace_lines[i] : NULL;
}
#line 1156 "chapters/04-interval-notifiers.nw"
int sim_trace_write(const char *path, const char *title, const char *verdict)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fprintf(f, "# title: %s\n# verdict: %s\n", title, verdict);
    for (int i = 0; i < sim_trace_count(); i++)
        fprintf(f, "%s\n", sim_trace_lines[i]);
    return fclose(f) ? -EIO : 0;
}

const char *sim_notifier_event_name(enum mmu_notifier_event event)
{
    static const char *const names[] = {
        "UNMAP", "CLEAR", "PROTECTION_VMA", "PROTECTION_PAGE", "SOFT_DIRTY", "RELEASE",
        "MIGRATE", "EXCLUSIVE",
    };

    return (unsigned)event < sizeof(names) / sizeof(names[0]) ? names[event] : "?";
}
