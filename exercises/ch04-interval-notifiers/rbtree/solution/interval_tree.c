#include "interval_tree.h"
#include "page.h"

/* A left-leaning red-black tree (Sedgewick, 2008): a red-black tree in which a red link
 * only ever leans left.  It needs no parent pointers, because insertion and removal
 * repair the tree on the way back up the recursion.  The node's height field holds its
 * colour, with the kernel's values (include/linux/rbtree_augmented.h). */
#define ITREE_RED 0
#define ITREE_BLACK 1

static bool itree_is_red(const struct interval_tree_node *n)
{
    return n && n->height == ITREE_RED;
}

static void itree_update(struct interval_tree_node *n)
{
    unsigned long last = n->last;

    if (n->left && n->left->subtree_last > last)
        last = n->left->subtree_last;
    if (n->right && n->right->subtree_last > last)
        last = n->right->subtree_last;
    n->subtree_last = last;
}

/* A rotation moves the link's colour with it: the new top takes the old top's colour,
 * and the old top becomes red. */
static struct interval_tree_node *itree_rotate_left(struct interval_tree_node *h)
{
    struct interval_tree_node *x = h->right;

    h->right = x->left;
    x->left = h;
    x->height = h->height;
    h->height = ITREE_RED;
    itree_update(h);
    itree_update(x);
    return x;
}

static struct interval_tree_node *itree_rotate_right(struct interval_tree_node *h)
{
    struct interval_tree_node *x = h->left;

    h->left = x->right;
    x->right = h;
    x->height = h->height;
    h->height = ITREE_RED;
    itree_update(h);
    itree_update(x);
    return x;
}

static void itree_flip_colours(struct interval_tree_node *h)
{
    h->height = !h->height;
    h->left->height = !h->left->height;
    h->right->height = !h->right->height;
}

/* On the way up: lean red links left, split a node with two red children. */
static struct interval_tree_node *itree_fix_up(struct interval_tree_node *h)
{
    if (itree_is_red(h->right) && !itree_is_red(h->left))
        h = itree_rotate_left(h);
    if (itree_is_red(h->left) && itree_is_red(h->left->left))
        h = itree_rotate_right(h);
    if (itree_is_red(h->left) && itree_is_red(h->right))
        itree_flip_colours(h);
    itree_update(h);
    return h;
}

static struct interval_tree_node *itree_insert(struct interval_tree_node *h,
                                               struct interval_tree_node *node)
{
    if (!h)
        return node;
    if (itree_before(node, h))
        h->left = itree_insert(h->left, node);
    else
        h->right = itree_insert(h->right, node);
    return itree_fix_up(h);
}

void interval_tree_insert(struct interval_tree_node *node, struct interval_tree_root *root)
{
    node->left = node->right = NULL;
    node->height = ITREE_RED;
    node->subtree_last = node->last;
    node->in_tree = true;
    root->root = itree_insert(root->root, node);
    root->root->height = ITREE_BLACK;
}

/* On the way down a removal, make sure the next node visited is not a lone black one:
 * borrow from the sibling, or merge with it. */
static struct interval_tree_node *itree_move_red_left(struct interval_tree_node *h)
{
    itree_flip_colours(h);
    if (itree_is_red(h->right->left)) {
        h->right = itree_rotate_right(h->right);
        h = itree_rotate_left(h);
        itree_flip_colours(h);
    }
    return h;
}

static struct interval_tree_node *itree_move_red_right(struct interval_tree_node *h)
{
    itree_flip_colours(h);
    if (itree_is_red(h->left->left)) {
        h = itree_rotate_right(h);
        itree_flip_colours(h);
    }
    return h;
}

static struct interval_tree_node *itree_unhook_min(struct interval_tree_node *h,
                                                   struct interval_tree_node **min)
{
    if (!h->left) {
        *min = h;
        return NULL;
    }
    if (!itree_is_red(h->left) && !itree_is_red(h->left->left))
        h = itree_move_red_left(h);
    h->left = itree_unhook_min(h->left, min);
    return itree_fix_up(h);
}

static struct interval_tree_node *itree_remove(struct interval_tree_node *h,
                                               struct interval_tree_node *node)
{
    if (itree_before(node, h)) {
        if (!itree_is_red(h->left) && !itree_is_red(h->left->left))
            h = itree_move_red_left(h);
        h->left = itree_remove(h->left, node);
        return itree_fix_up(h);
    }
    if (itree_is_red(h->left))
        h = itree_rotate_right(h);
    if (h == node && !h->right)
        return NULL;
    if (!itree_is_red(h->right) && !itree_is_red(h->right->left))
        h = itree_move_red_right(h);
    if (h == node) {
        struct interval_tree_node *succ;

        /* The successor takes the node's place, colour and children. */
        h->right = itree_unhook_min(h->right, &succ);
        succ->left = h->left;
        succ->right = h->right;
        succ->height = h->height;
        h = succ;
    } else {
        h->right = itree_remove(h->right, node);
    }
    return itree_fix_up(h);
}

void interval_tree_remove(struct interval_tree_node *node, struct interval_tree_root *root)
{
    struct interval_tree_node *top = root->root;

    if (!node->in_tree || !top)
        return;
    if (!itree_is_red(top->left) && !itree_is_red(top->right))
        top->height = ITREE_RED;
    root->root = itree_remove(top, node);
    if (root->root)
        root->root->height = ITREE_BLACK;
    node->left = node->right = NULL;
    node->in_tree = false;
}

/* The black height of n's subtree; every broken rule is reported and counted in *bad. */
static int itree_check(const struct interval_tree_node *n, int *bad)
{
    unsigned long max;
    int hl, hr;

    if (!n)
        return 0;
    hl = itree_check(n->left, bad);
    hr = itree_check(n->right, bad);
    max = n->last;
    if (n->left && n->left->subtree_last > max)
        max = n->left->subtree_last;
    if (n->right && n->right->subtree_last > max)
        max = n->right->subtree_last;
    if ((n->left && !itree_before(n->left, n)) || (n->right && !itree_before(n, n->right)))
        *bad += sim_invariant_failed("interval tree: node %#lx out of order", n->start);
    if (n->height != ITREE_RED && n->height != ITREE_BLACK)
        *bad += sim_invariant_failed("interval tree: node %#lx has no colour", n->start);
    else if (itree_is_red(n) && (itree_is_red(n->left) || itree_is_red(n->right)))
        *bad += sim_invariant_failed("interval tree: red node %#lx has a red child", n->start);
    if (hl != hr)
        *bad += sim_invariant_failed("interval tree: node %#lx has black heights %d and %d",
                                     n->start, hl, hr);
    if (n->subtree_last != max || n->start > n->last || !n->in_tree)
        *bad += sim_invariant_failed("interval tree: node %#lx bad summary", n->start);
    return (hl > hr ? hl : hr) + (n->height == ITREE_BLACK);
}

int interval_tree_check(struct interval_tree_root *root)
{
    int bad = 0;

    if (itree_is_red(root->root))
        bad += sim_invariant_failed("interval tree: the root is red");
    itree_check(root->root, &bad);
    return bad;
}
