/* Generated from chapters/04-interval-notifiers.nw by make tangle (sum fd38b06163bd): edit the chapter, not this file. */
#line 371 "chapters/04-interval-notifiers.nw"
#include "interval_tree.h"

#line 228 "chapters/04-interval-notifiers.nw"
struct interval_tree_node *interval_tree_iter_first(struct interval_tree_root *root,
                                                    unsigned long start,
                                                    unsigned long last)
{
    struct interval_tree_node *n = root->root;

    if (!n || n->subtree_last < start)
        return NULL;
    while (n) {
        if (n->left && n->left->subtree_last >= start) {
            n = n->left;
            continue;
        }
        if (n->start > last)
            return NULL;
        if (n->last >= start)
            return n;
        n = (n->right && n->right->subtree_last >= start) ? n->right : NULL;
    }
    return NULL;
}
#line 258 "chapters/04-interval-notifiers.nw"
static struct interval_tree_node *itree_first_after(struct interval_tree_node *n,
                                                    const struct interval_tree_node *after,
                                                    unsigned long start,
                                                    unsigned long last)
{
    struct interval_tree_node *found;

    if (!n || n->subtree_last < start)
        return NULL;
    if (!itree_before(after, n))
        return itree_first_after(n->right, after, start, last);
    found = itree_first_after(n->left, after, start, last);
    if (found || n->start > last)
        return found;
    if (n->last >= start)
        return n;
    return itree_first_after(n->right, after, start, last);
}

struct interval_tree_node *interval_tree_iter_next(struct interval_tree_root *root,
                                                   struct interval_tree_node *node,
                                                   unsigned long start,
                                                   unsigned long last)
{
    return itree_first_after(root->root, node, start, last);
}
