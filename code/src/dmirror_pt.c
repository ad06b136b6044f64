/* Generated from chapters/06-mirror-device.nw by make tangle (sum aab9eca8a177): edit the chapter, not this file. */
#line 785 "chapters/06-mirror-device.nw"
#include <stdlib.h>
#include "hmmwb.h"

#line 109 "chapters/06-mirror-device.nw"
static unsigned dpt_index(unsigned long vpfn, int level)
{
    return (vpfn >> (9 * level)) & 511;
}

static uintptr_t *dpt_slot(struct dmirror_pt *pt, unsigned long vpfn, bool alloc)
{
    uintptr_t **table = &pt->root;

    if (vpfn >> (9 * DPT_LEVELS))
        return NULL;

    for (int level = DPT_LEVELS - 1;; level--) {
        if (!*table) {
            if (!alloc || !(*table = calloc(512, sizeof(uintptr_t))))
                return NULL;
        }
        if (level == 0)
            return &(*table)[dpt_index(vpfn, 0)];
        table = (uintptr_t **)&(*table)[dpt_index(vpfn, level)];
    }
}

uintptr_t dpt_load(struct dmirror_pt *pt, unsigned long vpfn)
{
    uintptr_t *slot = dpt_slot(pt, vpfn, false);

    return slot ? *slot : 0;
}

int dpt_store(struct dmirror_pt *pt, unsigned long vpfn, uintptr_t entry)
{
    uintptr_t *slot = dpt_slot(pt, vpfn, true);

    if (!slot)
        return -ENOMEM;
    *slot = entry;
    return 0;
}
#line 155 "chapters/06-mirror-device.nw"
static void dpt_erase_level(uintptr_t *table, int level, unsigned long base,
                            unsigned long first, unsigned long last)
{
    unsigned long span = 1UL << (9 * level);

    for (unsigned i = 0; i < 512; i++) {
        unsigned long lo = base + i * span, hi = lo + span - 1;

        if (!table[i] || hi < first || lo > last)
            continue;
        if (level == 0)
            table[i] = 0;
        else
            dpt_erase_level((uintptr_t *)table[i], level - 1, lo, first, last);
    }
}

void dpt_erase_range(struct dmirror_pt *pt, unsigned long first, unsigned long last)
{
    if (pt->root)
        dpt_erase_level(pt->root, DPT_LEVELS - 1, 0, first, last);
}

static void dpt_free_level(uintptr_t *table, int level)
{
    for (unsigned i = 0; level > 0 && i < 512; i++)
        if (table[i])
            dpt_free_level((uintptr_t *)table[i], level - 1);
    free(table);
}

void dpt_destroy(struct dmirror_pt *pt)
{
    if (pt->root)
        dpt_free_level(pt->root, DPT_LEVELS - 1);
    pt->root = NULL;
}
