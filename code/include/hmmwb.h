/* Generated from chapters/01-physical-memory.nw by make tangle (sum d561f740bf2f): edit the chapter, not this file. */
#line 948 "chapters/01-physical-memory.nw"
#ifndef HMMWB_H
#define HMMWB_H

#line 957 "chapters/01-physical-memory.nw"
#include "kernel.h"
#include "page.h"
#line 2284 "chapters/02-address-spaces.nw"
#include "mmu_notifier.h"
#include "mm.h"
#line 378 "chapters/04-interval-notifiers.nw"
#include "interval_tree.h"
#line 1480 "chapters/04-interval-notifiers.nw"
#include "trace.h"
#line 604 "chapters/05-hmm-range-fault.nw"
#include "hmm.h"
#line 893 "chapters/06-mirror-device.nw"
#include "dmirror.h"
#line 894 "chapters/07-device-private.nw"
#include "memremap.h"
#line 1428 "chapters/08-migration.nw"
#include "migrate.h"
#line 721 "chapters/09-device-exclusive.nw"
#include "exclusive.h"

#line 953 "chapters/01-physical-memory.nw"
#endif
