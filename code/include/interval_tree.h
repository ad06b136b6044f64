/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum 2e4fd8d9201d): edit the chapter, not this file. */
#line 291 "chapters/04-interval-notifiers.nw"
#ifndef HMMWB_INTERVAL_TREE_H
#define HMMWB_INTERVAL_TREE_H

#include "kernel.h"

#line 35 "chapters/04-interval-notifiers.nw"
struct interval_tree_node {
    unsigned long start;             /* first address of the interval */
    unsigned long last;              /* last address, inclusive */
    unsigned long subtree_last;      /* the largest last in this subtree */
    struct interval_tree_node *left, *right;
    int height;                      /* of the subtree; a leaf has height 1 */
    bool in_tree;                    /* linked into a tree (RB_EMPTY_NODE's opposite) */
};

struct interval_tree_root {
    struct interval_tree_node *root;
};
#line 54 "chapters/04-interval-notifiers.nw"
static inline bool itree_before(const struct interval_tree_node *a,
                                const struct interval_tree_node *b)
{
    return a->start < b->start || (a->start == b->start && (uintptr_t)a < (uintptr_t)b);
}

#line 299 "chapters/04-interval-notifiers.nw"
void interval_tree_insert(struct interval_tree_node *node, struct interval_tree_root *root);
void interval_tree_remove(struct interval_tree_node *node, struct interval_tree_root *root);
struct interval_tree_node *interval_tree_iter_first(struct interval_tree_root *root,
                                                    unsigned long start,
                                                    unsigned long last);
struct interval_tree_node *interval_tree_iter_next(struct interval_tree_root *root,
                                                   struct interval_tree_node *node,
                                                   unsigned long start,
                                                   unsigned long last);
int interval_tree_check(struct interval_tree_root *root);

#endif
