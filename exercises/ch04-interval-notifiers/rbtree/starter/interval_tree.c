#include "interval_tree.h"
#include "page.h"

static int itree_height(const struct interval_tree_node *n)
{
    return n ? n->height : 0;
}

static void itree_update(struct interval_tree_node *n)
{
    unsigned long last = n->last;
    int hl = itree_height(n->left), hr = itree_height(n->right);

    if (n->left && n->left->subtree_last > last)
        last = n->left->subtree_last;
    if (n->right && n->right->subtree_last > last)
        last = n->right->subtree_last;
    n->subtree_last = last;
    n->height = 1 + (hl > hr ? hl : hr);
}
static struct interval_tree_node *itree_rotate_right(struct interval_tree_node *n)
{
    struct interval_tree_node *l = n->left;

    n->left = l->right;
    l->right = n;
    itree_update(n);
    itree_update(l);
    return l;
}

static struct interval_tree_node *itree_rotate_left(struct interval_tree_node *n)
{
    struct interval_tree_node *r = n->right;

    n->right = r->left;
    r->left = n;
    itree_update(n);
    itree_update(r);
    return r;
}
static struct interval_tree_node *itree_balance(struct interval_tree_node *n)
{
    int diff = itree_height(n->left) - itree_height(n->right);

    itree_update(n);
    if (diff > 1) {
        if (itree_height(n->left->left) < itree_height(n->left->right))
            n->left = itree_rotate_left(n->left);
        return itree_rotate_right(n);
    }
    if (diff < -1) {
        if (itree_height(n->right->right) < itree_height(n->right->left))
            n->right = itree_rotate_right(n->right);
        return itree_rotate_left(n);
    }
    return n;
}
static struct interval_tree_node *itree_insert(struct interval_tree_node *n,
                                               struct interval_tree_node *node)
{
    if (!n)
        return node;
    if (itree_before(node, n))
        n->left = itree_insert(n->left, node);
    else
        n->right = itree_insert(n->right, node);
    return itree_balance(n);
}

void interval_tree_insert(struct interval_tree_node *node, struct interval_tree_root *root)
{
    node->left = node->right = NULL;
    node->height = 1;
    node->subtree_last = node->last;
    node->in_tree = true;
    root->root = itree_insert(root->root, node);
}
static struct interval_tree_node *itree_unhook_min(struct interval_tree_node *n,
                                                   struct interval_tree_node **min)
{
    if (!n->left) {
        *min = n;
        return n->right;
    }
    n->left = itree_unhook_min(n->left, min);
    return itree_balance(n);
}

static struct interval_tree_node *itree_remove(struct interval_tree_node *n,
                                               struct interval_tree_node *node)
{
    struct interval_tree_node *succ;

    if (!n)
        return NULL;
    if (n != node) {
        if (itree_before(node, n))
            n->left = itree_remove(n->left, node);
        else
            n->right = itree_remove(n->right, node);
        return itree_balance(n);
    }
    if (!n->left || !n->right)
        return n->left ? n->left : n->right;
    n->right = itree_unhook_min(n->right, &succ);
    succ->left = n->left;
    succ->right = n->right;
    return itree_balance(succ);
}

void interval_tree_remove(struct interval_tree_node *node, struct interval_tree_root *root)
{
    root->root = itree_remove(root->root, node);
    node->left = node->right = NULL;
    node->in_tree = false;
}
static int itree_check(const struct interval_tree_node *n, int *height,
                       unsigned long *subtree_last)
{
    int bad = 0, hl = 0, hr = 0;
    unsigned long ll = 0, lr = 0, max;

    if (!n) {
        *height = 0;
        return 0;
    }
    bad += itree_check(n->left, &hl, &ll) + itree_check(n->right, &hr, &lr);
    max = n->last;
    if (n->left && ll > max)
        max = ll;
    if (n->right && lr > max)
        max = lr;
    if ((n->left && !itree_before(n->left, n)) || (n->right && !itree_before(n, n->right)))
        bad += sim_invariant_failed("interval tree: node %#lx out of order", n->start);
    if (hl - hr > 1 || hr - hl > 1 || n->height != 1 + (hl > hr ? hl : hr))
        bad += sim_invariant_failed("interval tree: node %#lx unbalanced", n->start);
    if (n->subtree_last != max || n->start > n->last || !n->in_tree)
        bad += sim_invariant_failed("interval tree: node %#lx bad summary", n->start);
    *height = n->height;
    *subtree_last = n->subtree_last;
    return bad;
}

int interval_tree_check(struct interval_tree_root *root)
{
    int height;
    unsigned long last;

    return itree_check(root->root, &height, &last);
}
