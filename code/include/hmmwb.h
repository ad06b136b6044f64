/* Generated from chapters/01-physical-memory.nw by make tangle (sum 6df562e67be5): edit the chapter, not this file. */
#line 941 "chapters/01-physical-memory.nw"
#ifndef HMMWB_H
#define HMMWB_H

#line 950 "chapters/01-physical-memory.nw"
#include "kernel.h"
#include "page.h"
#line 2192 "chapters/02-address-spaces.nw"
#include "mmu_notifier.h"
#include "mm.h"
#line 378 "chapters/04-interval-notifiers.nw"
#include "interval_tree.h"
#line 1401 "chapters/04-interval-notifiers.nw"
#include "trace.h"
#line 600 "chapters/05-hmm-range-fault.nw"
#include "hmm.h"
#line 781 "chapters/06-mirror-device.nw"
#include "dmirror.h"
#line 890 "chapters/07-device-private.nw"
#include "memremap.h"
#line 1428 "chapters/08-migration.nw"
#include "migrate.h"
#line 721 "chapters/09-device-exclusive.nw"
#include "exclusive.h"

#line 946 "chapters/01-physical-memory.nw"
#endif
