/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum 52e8bb8a628f): edit the chapter, not this file. */
#line 1182 "chapters/04-interval-notifiers.nw"
#ifndef HMMWB_TRACE_H
#define HMMWB_TRACE_H

#include "mmu_notifier.h"

#line 1042 "chapters/04-interval-notifiers.nw"
void sim_trace_start(void);
void sim_trace_stop(void);
void sim_trace_actor(const char *name);
void sim_trace_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_trace_state(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_trace_msg(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sim_trace_count(void);
const char *sim_trace_record(int i);
int sim_trace_write(const char *path, const char *title, const char *verdict);
const char *sim_notifier_event_name(enum mmu_notifier_event event);

#line 1189 "chapters/04-interval-notifiers.nw"
#endif
