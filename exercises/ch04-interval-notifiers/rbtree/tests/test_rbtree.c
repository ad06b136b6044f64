/* Tests of the red-black interval tree extension.  The tests judge the tree with their
 * own checker, not the submission's interval_tree_check. */
#include "testlib.h"

#define RED 0
#define BLACK 1
#define MAX_NODES 2048

static struct interval_tree_node nodes[MAX_NODES];

static unsigned long lcg(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return *state >> 33;
}

/* The black height of n's subtree, or -1 after the first broken rule (named in *why). */
static int rb_black_height(const struct interval_tree_node *n, const char **why)
{
    unsigned long last;
    int l, r;

    if (!n)
        return 0;
    if (n->height != RED && n->height != BLACK)
        return *why = "a colour is neither 0 nor 1", -1;
    if (n->height == RED && ((n->left && n->left->height == RED) ||
                             (n->right && n->right->height == RED)))
        return *why = "a red node has a red child", -1;
    if ((n->left && !itree_before(n->left, n)) || (n->right && !itree_before(n, n->right)))
        return *why = "out of order", -1;
    last = n->last;
    if (n->left && n->left->subtree_last > last)
        last = n->left->subtree_last;
    if (n->right && n->right->subtree_last > last)
        last = n->right->subtree_last;
    if (n->subtree_last != last)
        return *why = "a wrong subtree_last", -1;
    l = rb_black_height(n->left, why);
    r = rb_black_height(n->right, why);
    if (l < 0 || r < 0)
        return -1;
    if (l != r)
        return *why = "unequal black heights", -1;
    return l + (n->height == BLACK);
}

static void assert_red_black(const struct interval_tree_root *root)
{
    const char *why = "";

    if (root->root)
        ck_assert_msg(root->root->height == BLACK, "the root is not black");
    ck_assert_msg(rb_black_height(root->root, &why) >= 0, "not a red-black tree: %s", why);
}

static int depth(const struct interval_tree_node *n)
{
    int l, r;

    if (!n)
        return 0;
    l = depth(n->left);
    r = depth(n->right);
    return 1 + (l > r ? l : r);
}

static void set(struct interval_tree_node *n, unsigned long start, unsigned long len)
{
    n->start = start;
    n->last = start + len - 1;
}

static int count_in_tree(struct interval_tree_root *root, unsigned long s, unsigned long l)
{
    int found = 0;

    for (struct interval_tree_node *n = interval_tree_iter_first(root, s, l); n;
         n = interval_tree_iter_next(root, n, s, l))
        found++;
    return found;
}

START_TEST(empty_and_single_trees)
{
    struct interval_tree_root root = { NULL };

    ck_assert_int_eq(interval_tree_check(&root), 0);
    set(&nodes[0], 100, 10);
    interval_tree_insert(&nodes[0], &root);
    ck_assert_ptr_eq(root.root, &nodes[0]);
    assert_red_black(&root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    interval_tree_remove(&nodes[0], &root);
    ck_assert_ptr_null(root.root);
}
END_TEST

START_TEST(red_black_after_ascending_inserts)
{
    struct interval_tree_root root = { NULL };

    for (int i = 0; i < 500; i++) {
        set(&nodes[i], i * 16UL, 8);
        interval_tree_insert(&nodes[i], &root);
        assert_red_black(&root);
    }
    ck_assert_int_eq(interval_tree_check(&root), 0);
}
END_TEST

START_TEST(queries_match_brute_force)
{
    struct interval_tree_root root = { NULL };
    unsigned long seed = 42;
    const int n = 300;

    for (int i = 0; i < n; i++) {
        set(&nodes[i], lcg(&seed) % 10000, 1 + lcg(&seed) % 300);
        interval_tree_insert(&nodes[i], &root);
    }
    assert_red_black(&root);
    for (int q = 0; q < 200; q++) {
        unsigned long s = lcg(&seed) % 10500, l = s + lcg(&seed) % 400;
        int want = 0;

        for (int i = 0; i < n; i++)
            want += nodes[i].start <= l && nodes[i].last >= s;
        ck_assert_int_eq(count_in_tree(&root, s, l), want);
    }
}
END_TEST

/* A red node under a red parent is reported. */
START_TEST(check_catches_a_red_red_pair)
{
    struct interval_tree_root root = { NULL };
    struct interval_tree_node *n;

    for (int i = 0; i < 3; i++) {
        set(&nodes[i], i * 10UL, 5);
        interval_tree_insert(&nodes[i], &root);
    }
    ck_assert_int_eq(interval_tree_check(&root), 0);
    /* Three nodes: a black root over two children (red ones, or one red after a lean).
     * Painting the root red puts it over a red child, or it breaks the root's rule. */
    n = root.root;
    n->height = RED;
    if (n->left)
        n->left->height = RED;
    if (n->right)
        n->right->height = RED;
    ck_assert_int_gt(interval_tree_check(&root), 0);
}
END_TEST

START_TEST(red_black_after_random_removals)
{
    struct interval_tree_root root = { NULL };
    bool in[MAX_NODES] = { false };
    unsigned long seed = 7;
    const int n = 600;

    for (int i = 0; i < n; i++) {
        set(&nodes[i], lcg(&seed) % 50000, 1 + lcg(&seed) % 100);
        interval_tree_insert(&nodes[i], &root);
        in[i] = true;
    }
    for (int step = 0; step < 3000; step++) {
        int i = lcg(&seed) % n;

        if (in[i])
            interval_tree_remove(&nodes[i], &root);
        else
            interval_tree_insert(&nodes[i], &root);
        in[i] = !in[i];
        assert_red_black(&root);
    }
    for (int i = 0; i < n; i++)
        if (in[i])
            interval_tree_remove(&nodes[i], &root);
    ck_assert_ptr_null(root.root);
}
END_TEST

/* A red-black tree of n nodes is at most 2 log2(n + 1) deep. */
START_TEST(depth_is_logarithmic)
{
    struct interval_tree_root root = { NULL };

    for (int i = 0; i < 2047; i++) {
        set(&nodes[i], (2047UL - i) * 4, 2);
        interval_tree_insert(&nodes[i], &root);
    }
    ck_assert_int_le(depth(root.root), 22);
    for (int i = 0; i < 2047; i += 2)
        interval_tree_remove(&nodes[i], &root);
    assert_red_black(&root);
    ck_assert_int_le(depth(root.root), 20);
}
END_TEST

/* Intervals with the same start are distinct nodes, ordered by address. */
START_TEST(equal_starts_are_kept_apart)
{
    struct interval_tree_root root = { NULL };

    for (int i = 0; i < 64; i++) {
        set(&nodes[i], 4096, 1 + i);
        interval_tree_insert(&nodes[i], &root);
    }
    assert_red_black(&root);
    ck_assert_int_eq(count_in_tree(&root, 4096 + 40, 4096 + 40), 24);
    for (int i = 0; i < 64; i += 3)
        interval_tree_remove(&nodes[i], &root);
    assert_red_black(&root);
    ck_assert_int_eq(count_in_tree(&root, 4096, 4096), 64 - 22);
}
END_TEST

/* Repainting a red node black lengthens the black paths through it alone. */
START_TEST(check_catches_unequal_black_heights)
{
    struct interval_tree_root root = { NULL };
    struct interval_tree_node *red = NULL;

    for (int i = 0; i < 20; i++) {
        set(&nodes[i], i * 10UL, 5);
        interval_tree_insert(&nodes[i], &root);
    }
    ck_assert_int_eq(interval_tree_check(&root), 0);
    for (int i = 0; i < 20 && !red; i++)
        if (nodes[i].height == RED)
            red = &nodes[i];
    ck_assert_ptr_nonnull(red);
    red->height = BLACK;
    ck_assert_int_gt(interval_tree_check(&root), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("rbtree");
    TCase *tc = sim_tcase("rbtree", 10);
    TCase *broken = sim_tcase_unchecked("broken trees", 5);

    tcase_add_test(tc, empty_and_single_trees);
    tcase_add_test(tc, red_black_after_ascending_inserts);
    tcase_add_test(tc, queries_match_brute_force);
    tcase_add_test(tc, red_black_after_random_removals);
    tcase_add_test(tc, depth_is_logarithmic);
    tcase_add_test(tc, equal_starts_are_kept_apart);
    /* These break a tree on purpose and ask its checker. */
    tcase_add_test(broken, check_catches_a_red_red_pair);
    tcase_add_test(broken, check_catches_unequal_black_heights);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, broken);
    return s;
}
