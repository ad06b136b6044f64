/* Generated from chapters/01-physical-memory.nw by make tangle (sum cf4bd6188185): edit the chapter, not this file. */
#line 970 "chapters/01-physical-memory.nw"
#ifndef HMMWB_H
#define HMMWB_H

#line 981 "chapters/01-physical-memory.nw"
#include "kernel.h"
#include "page.h"
#line 2387 "chapters/02-address-spaces.nw"
#include "mmu_notifier.h"
#include "mm.h"
#line 380 "chapters/04-interval-notifiers.nw"
#include "interval_tree.h"
#line 1517 "chapters/04-interval-notifiers.nw"
#include "trace.h"
#line 609 "chapters/05-hmm-range-fault.nw"
#include "hmm.h"
#line 911 "chapters/06-mirror-device.nw"
#include "dmirror.h"
#line 903 "chapters/07-device-private.nw"
#include "memremap.h"
#line 1436 "chapters/08-migration.nw"
#include "migrate.h"
#line 723 "chapters/09-device-exclusive.nw"
#include "exclusive.h"

#line 975 "chapters/01-physical-memory.nw"
#endif
