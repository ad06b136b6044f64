/* Generated from chapters/06-mirror-device.nw by make tangle (sum e95cd9fd1a49): edit the chapter, not this file. */
#line 929 "chapters/06-mirror-device.nw"
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
#line 160 "chapters/06-mirror-device.nw"
static void dpt_erase_level(uintptr_t *table, int level, unsigned long base,
                            unsigned long first, unsigned long last)
{
    int shift = 9 * level;
    unsigned from = first > base ? (first - base) >> shift : 0;
    unsigned to = (last - base) >> shift < 511 ? (last - base) >> shift : 511;

    for (unsigned i = from; i <= to; i++) {
        if (!table[i])
            continue;
        if (level == 0)
            table[i] = 0;
        else
            dpt_erase_level((uintptr_t *)table[i], level - 1,
                            base + ((unsigned long)i << shift), first, last);
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
