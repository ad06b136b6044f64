/* Chapter 4: the interval tree.  Every query is compared, result set and order, with a
 * brute-force model; the tree's own checker runs after every change. */
#include <stdlib.h>
#include "testlib.h"

#define MAX_HITS 4096

typedef struct interval_tree_node node_t;

static void set(node_t *n, unsigned long start, unsigned long last)
{
    n->start = start;
    n->last = last;
}

/* Every node iter_first/iter_next return for [start, last], in order; fails the test if
 * the enumeration does not stop. */
static int query(struct interval_tree_root *root, unsigned long start, unsigned long last,
                 node_t **out)
{
    int n = 0;

    for (node_t *x = interval_tree_iter_first(root, start, last); x;
         x = interval_tree_iter_next(root, x, start, last)) {
        if (n >= MAX_HITS)
            ck_abort_msg("enumeration of [%#lx, %#lx] does not end", start, last);
        out[n++] = x;
    }
    return n;
}

/* Assert that [start, last] finds exactly the nodes of want, in that order. */
static void expect(struct interval_tree_root *root, unsigned long start, unsigned long last,
                   node_t *const *want, int nwant)
{
    node_t *got[MAX_HITS];
    int n = query(root, start, last, got);

    ck_assert_msg(n == nwant, "[%#lx, %#lx]: %d nodes found, %d expected", start, last, n,
                  nwant);
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "[%#lx, %#lx]: result %d is [%#lx, %#lx], expected "
                      "[%#lx, %#lx]", start, last, i, got[i]->start, got[i]->last,
                      want[i]->start, want[i]->last);
}

#define EXPECT(root, s, l, ...)                                                          \
    do {                                                                                 \
        node_t *_w[] = { __VA_ARGS__ };                                                  \
        expect(root, s, l, _w, (int)(sizeof(_w) / sizeof(_w[0])));                      \
    } while (0)
#define EXPECT_NONE(root, s, l) expect(root, s, l, NULL, 0)

START_TEST(test_empty_tree)
{
    struct interval_tree_root root = { NULL };

    ck_assert_ptr_null(interval_tree_iter_first(&root, 0, ULONG_MAX));
    ck_assert_ptr_null(interval_tree_iter_first(&root, 0, 0));
    ck_assert_ptr_null(interval_tree_iter_first(&root, ULONG_MAX, ULONG_MAX));
    ck_assert_ptr_null(interval_tree_iter_first(&root, 4096, 8191));
    ck_assert_int_eq(interval_tree_check(&root), 0);
}
END_TEST

/* Closed intervals: a query that touches start or last overlaps, one address short does not. */
START_TEST(test_single_node_edges)
{
    struct interval_tree_root root = { NULL };
    node_t a;

    set(&a, 100, 199);
    interval_tree_insert(&a, &root);
    ck_assert(a.in_tree);
    ck_assert_ptr_eq(root.root, &a);
    ck_assert_int_eq(a.height, 1);
    ck_assert_uint_eq(a.subtree_last, 199);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    EXPECT_NONE(&root, 0, 99);
    EXPECT_NONE(&root, 99, 99);
    EXPECT(&root, 0, 100, &a);
    EXPECT(&root, 100, 100, &a);
    EXPECT(&root, 150, 150, &a);
    EXPECT(&root, 199, 199, &a);
    EXPECT(&root, 199, 300, &a);
    EXPECT(&root, 100, 199, &a);
    EXPECT(&root, 120, 130, &a);
    EXPECT(&root, 0, ULONG_MAX, &a);
    EXPECT_NONE(&root, 200, 200);
    EXPECT_NONE(&root, 200, ULONG_MAX);
    ck_assert_ptr_null(interval_tree_iter_next(&root, &a, 0, ULONG_MAX));
    interval_tree_remove(&a, &root);
    ck_assert(!a.in_tree);
    ck_assert_ptr_null(root.root);
    EXPECT_NONE(&root, 0, ULONG_MAX);
    ck_assert_int_eq(interval_tree_check(&root), 0);
}
END_TEST

/* A one-address interval, and the intervals that begin at 0. */
START_TEST(test_point_and_zero_intervals)
{
    struct interval_tree_root root = { NULL };
    node_t p, z, zz;

    set(&p, 7, 7);
    set(&z, 0, 3);
    set(&zz, 0, 0);
    interval_tree_insert(&p, &root);
    interval_tree_insert(&z, &root);
    interval_tree_insert(&zz, &root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    EXPECT(&root, 7, 7, &p);
    EXPECT_NONE(&root, 6, 6);
    EXPECT_NONE(&root, 8, 8);
    EXPECT_NONE(&root, 4, 6);
    EXPECT(&root, 3, 7, &z, &p);
    EXPECT(&root, 7, ULONG_MAX, &p);
    EXPECT(&root, 1, 1, &z);
    if (&z < &zz)
        EXPECT(&root, 0, 0, &z, &zz);
    else
        EXPECT(&root, 0, 0, &zz, &z);
    interval_tree_remove(&z, &root);
    EXPECT(&root, 0, 7, &zz, &p);
    interval_tree_remove(&zz, &root);
    interval_tree_remove(&p, &root);
    ck_assert_ptr_null(root.root);
}
END_TEST

/* Several nodes with the same interval: each found exactly once, in address order, and
 * removal takes out exactly the node it is given. */
START_TEST(test_duplicates_found_once)
{
    struct interval_tree_root root = { NULL };
    node_t d[9];
    static const int order[9] = { 4, 0, 8, 2, 6, 1, 7, 3, 5 };

    for (int i = 0; i < 9; i++) {
        set(&d[order[i]], 0x1000, 0x1fff);
        interval_tree_insert(&d[order[i]], &root);
        ck_assert_int_eq(interval_tree_check(&root), 0);
    }
    EXPECT(&root, 0x1800, 0x1800, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7],
           &d[8]);
    EXPECT(&root, 0, 0x1000, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7], &d[8]);
    EXPECT(&root, 0x1fff, ULONG_MAX, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7],
           &d[8]);
    EXPECT_NONE(&root, 0x2000, 0x3000);
    interval_tree_remove(&d[4], &root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    ck_assert(!d[4].in_tree);
    EXPECT(&root, 0x1000, 0x1fff, &d[0], &d[1], &d[2], &d[3], &d[5], &d[6], &d[7], &d[8]);
    interval_tree_remove(&d[0], &root);
    interval_tree_remove(&d[8], &root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    EXPECT(&root, 0x1000, 0x1fff, &d[1], &d[2], &d[3], &d[5], &d[6], &d[7]);
    interval_tree_insert(&d[4], &root);
    EXPECT(&root, 0x1000, 0x1fff, &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]);
    for (int i = 1; i < 8; i++) {
        interval_tree_remove(&d[i], &root);
        ck_assert_int_eq(interval_tree_check(&root), 0);
    }
    ck_assert_ptr_null(root.root);
}
END_TEST

/* A full enumeration is sorted by start, ties by node address, whatever the insertion
 * order; a partial one is the matching slice of that order. */
START_TEST(test_inorder_enumeration)
{
    struct interval_tree_root root = { NULL };
    node_t n[8];
    /* sorted order: n0 [10,50] n1 [10,11] n2 [20,25] n3 [20,90] n4 [20,21] n5 [30,30]
     *               n6 [40,100] n7 [60,61] */
    static const unsigned long iv[8][2] = {
        { 10, 50 }, { 10, 11 }, { 20, 25 }, { 20, 90 },
        { 20, 21 }, { 30, 30 }, { 40, 100 }, { 60, 61 },
    };
    static const int order[8] = { 7, 3, 5, 0, 6, 2, 4, 1 };

    for (int i = 0; i < 8; i++) {
        set(&n[order[i]], iv[order[i]][0], iv[order[i]][1]);
        interval_tree_insert(&n[order[i]], &root);
        ck_assert_int_eq(interval_tree_check(&root), 0);
    }
    ck_assert_uint_eq(root.root->subtree_last, 100);
    EXPECT(&root, 0, ULONG_MAX, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7]);
    EXPECT(&root, 22, 22, &n[0], &n[2], &n[3]);
    EXPECT(&root, 51, 59, &n[3], &n[6]);
    EXPECT(&root, 61, 61, &n[3], &n[6], &n[7]);
    EXPECT(&root, 91, 99, &n[6]);
    EXPECT(&root, 0, 10, &n[0], &n[1]);
    EXPECT(&root, 12, 19, &n[0]);
    EXPECT_NONE(&root, 101, ULONG_MAX);
    EXPECT_NONE(&root, 0, 9);
}
END_TEST

/* Intervals that end at the top of the address space. */
START_TEST(test_intervals_reaching_ulong_max)
{
    struct interval_tree_root root = { NULL };
    node_t all, top_page, top, below_top, low;

    set(&all, 0, ULONG_MAX);
    set(&top_page, ULONG_MAX - 4095, ULONG_MAX);
    set(&top, ULONG_MAX, ULONG_MAX);
    set(&below_top, ULONG_MAX - 1, ULONG_MAX - 1);
    set(&low, 0x1000, 0x1fff);
    interval_tree_insert(&top, &root);
    interval_tree_insert(&low, &root);
    interval_tree_insert(&below_top, &root);
    interval_tree_insert(&top_page, &root);
    interval_tree_insert(&all, &root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    ck_assert_uint_eq(root.root->subtree_last, ULONG_MAX);
    EXPECT(&root, ULONG_MAX, ULONG_MAX, &all, &top_page, &top);
    EXPECT(&root, ULONG_MAX - 1, ULONG_MAX - 1, &all, &top_page, &below_top);
    EXPECT(&root, ULONG_MAX - 4096, ULONG_MAX - 4096, &all);
    EXPECT(&root, 0, 0, &all);
    EXPECT(&root, 0x1fff, 0x2000, &all, &low);
    EXPECT(&root, 0, ULONG_MAX, &all, &low, &top_page, &below_top, &top);
    interval_tree_remove(&all, &root);
    EXPECT_NONE(&root, 0, 0xfff);
    EXPECT(&root, ULONG_MAX, ULONG_MAX, &top_page, &top);
    interval_tree_remove(&top_page, &root);
    interval_tree_remove(&top, &root);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    ck_assert_uint_eq(root.root->subtree_last, ULONG_MAX - 1);
    EXPECT_NONE(&root, ULONG_MAX, ULONG_MAX);
    interval_tree_remove(&below_top, &root);
    interval_tree_remove(&low, &root);
    ck_assert_ptr_null(root.root);
}
END_TEST

/* The checker is not vacuous: it sees a wrong summary, a wrong height and bad order. */
START_TEST(test_checker_sees_damage)
{
    struct interval_tree_root root = { NULL };
    node_t n[3];

    set(&n[0], 10, 20);
    set(&n[1], 30, 40);
    set(&n[2], 50, 60);
    for (int i = 0; i < 3; i++)
        interval_tree_insert(&n[i], &root);
    ck_assert_ptr_eq(root.root, &n[1]);
    ck_assert_int_eq(interval_tree_check(&root), 0);
    n[1].subtree_last = 59;
    ck_assert_int_gt(interval_tree_check(&root), 0);
    n[1].subtree_last = 60;
    n[1].height = 3;
    ck_assert_int_gt(interval_tree_check(&root), 0);
    n[1].height = 2;
    n[0].start = 35;
    ck_assert_int_gt(interval_tree_check(&root), 0);
    n[0].start = 10;
    ck_assert_int_eq(interval_tree_check(&root), 0);
}
END_TEST

/* log2(x) for x >= 1, to 30 bits of fraction (the suites do not link libm). */
static double log2_of(double x)
{
    double frac = 0, bit = 0.5;
    int e = 0;

    while (x >= 2) {
        x /= 2;
        e++;
    }
    for (int i = 0; i < 30; i++, bit /= 2) {
        x *= x;
        if (x >= 2) {
            x /= 2;
            frac += bit;
        }
    }
    return e + frac;
}

/* The AVL bound, h < 1.4405 log2(n + 2), with room to spare. */
static void check_height(struct interval_tree_root *root, int n)
{
    int h = root->root ? root->root->height : 0;
    double bound = 1.45 * log2_of((double)n + 2);

    /* (plain ifs: the hot loops below would drown in Check's per-assertion bookkeeping) */
    if (h > bound)
        ck_abort_msg("%d nodes: height %d exceeds %.2f", n, h, bound);
    if (n > 0 && (1UL << h) <= (unsigned long)n)
        ck_abort_msg("%d nodes: height %d too small", n, h);
}

#define SORTED_N 4096

/* Sorted input, the worst case of a naive search tree, ascending, descending and all on
 * one start (ordered by address); after every insertion and every removal. */
START_TEST(test_height_bound_on_sorted_input)
{
    node_t *nodes = calloc(SORTED_N, sizeof(*nodes));
    struct interval_tree_root root = { NULL };

    ck_assert_ptr_nonnull(nodes);
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < SORTED_N; i++) {
            int k = pass == 1 ? SORTED_N - 1 - i : i;
            unsigned long s = pass == 2 ? 0x10000 : 0x1000UL * (unsigned long)k;

            set(&nodes[k], s, s + 0xfff);
            interval_tree_insert(&nodes[k], &root);
            check_height(&root, i + 1);
            if ((i < 256 || (i & 63) == 0) && interval_tree_check(&root) != 0)
                ck_abort_msg("pass %d, %d nodes: tree damaged", pass, i + 1);
        }
        ck_assert_int_eq(interval_tree_check(&root), 0);
        ck_assert_uint_eq(root.root->subtree_last,
                          pass == 2 ? 0x10fffUL : 0x1000UL * SORTED_N - 1);
        /* Remove every other node, then the rest, in order. */
        for (int i = 0, left = SORTED_N; i < 2 * SORTED_N; i += 2) {
            int k = i < SORTED_N ? i : i - SORTED_N + 1;

            interval_tree_remove(&nodes[k], &root);
            check_height(&root, --left);
            if ((i & 62) == 0 && interval_tree_check(&root) != 0)
                ck_abort_msg("pass %d, %d nodes left: tree damaged", pass, left);
        }
        ck_assert_ptr_null(root.root);
    }
    free(nodes);
}
END_TEST

/* --- a long random run against a brute-force model ----------------------------------- */

#define POOL 300
#define SPAN 2048UL
#define OPS 20000

static unsigned long xorshift(unsigned long *s)
{
    unsigned long x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* The nodes of pool that are in the tree and overlap [start, last], in the tree's order:
 * by start, then by address (the pool's index). */
static int model_query(node_t *pool, const bool *in, unsigned long start, unsigned long last,
                       node_t **out)
{
    int n = 0;

    for (int i = 0; i < POOL; i++) {
        if (!in[i] || pool[i].start > last || pool[i].last < start)
            continue;
        int j = n++;

        while (j > 0 && out[j - 1]->start > pool[i].start) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = &pool[i];
    }
    return n;
}

/* Inserts, removes and queries of intervals in a small window at base, so that overlaps
 * and equal starts are frequent; each query's answer must equal the model's. */
static void random_run(unsigned long base, unsigned long seed)
{
    node_t *pool = calloc(POOL, sizeof(*pool));
    bool in[POOL] = { false };
    struct interval_tree_root root = { NULL };
    unsigned long s = seed;
    int nr_in = 0, queries = 0, multi = 0, inserts = 0, removes = 0;
    node_t *got[MAX_HITS], *want[POOL];

    ck_assert_ptr_nonnull(pool);
    for (int op = 0; op < OPS; op++) {
        unsigned long r = xorshift(&s);
        int i = (int)((r >> 8) % POOL);
        unsigned kind = r % 10;

        if (kind < 4 && !in[i]) {
            unsigned long a = xorshift(&s) % SPAN, len = xorshift(&s) % 200;

            if (a + len >= SPAN)
                len = SPAN - 1 - a;
            set(&pool[i], base + a, base + a + len);
            interval_tree_insert(&pool[i], &root);
            in[i] = true;
            nr_in++;
            inserts++;
        } else if (kind < 7 && in[i]) {
            interval_tree_remove(&pool[i], &root);
            in[i] = false;
            nr_in--;
            removes++;
        } else {
            unsigned long a = xorshift(&s) % SPAN, b = xorshift(&s) % SPAN, t;
            unsigned long qs, ql;

            if (a > b) {
                t = a;
                a = b;
                b = t;
            }
            if (xorshift(&s) % 4)
                b = a + (b - a) / 16;           /* mostly short queries */
            qs = base + a;
            ql = base + b;
            if (r % 97 == 0) {
                qs = 0;
                ql = ULONG_MAX;
            }
            int n = query(&root, qs, ql, got);
            int m = model_query(pool, in, qs, ql, want);

            if (n != m)
                ck_abort_msg("op %d: [%#lx, %#lx] found %d nodes, model %d", op, qs, ql, n, m);
            for (int k = 0; k < n; k++)
                if (got[k] != want[k])
                    ck_abort_msg("op %d: [%#lx, %#lx] result %d is node %ld, model says "
                                 "node %ld", op, qs, ql, k, (long)(got[k] - pool),
                                 (long)(want[k] - pool));
            queries++;
            multi += n > 1;
        }
        if (interval_tree_check(&root) != 0)
            ck_abort_msg("op %d: tree damaged", op);
        for (int k = 0; k < POOL; k += 37)
            if (pool[k].in_tree != in[k])
                ck_abort_msg("op %d: node %d in_tree is %d", op, k, pool[k].in_tree);
        check_height(&root, nr_in);
    }
    /* The run exercised what it claims to (these counts follow from the seed alone). */
    ck_assert_int_gt(inserts, 2000);
    ck_assert_int_gt(removes, 2000);
    ck_assert_int_gt(queries, 5000);
    ck_assert_int_gt(multi, 1000);
    for (int i = 0; i < POOL; i++)
        if (in[i])
            interval_tree_remove(&pool[i], &root);
    ck_assert_ptr_null(root.root);
    free(pool);
}

START_TEST(test_random_against_model)
{
    random_run(0x7f0000000000UL, 0x9e3779b97f4a7c15UL);
}
END_TEST

START_TEST(test_random_at_address_zero)
{
    random_run(0, 0x2545f4914f6cdd1dUL);
}
END_TEST

/* The same run in the window that ends at ULONG_MAX. */
START_TEST(test_random_at_the_top)
{
    random_run(ULONG_MAX - (SPAN - 1), 0xd1b54a32d192ed03UL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ch04_interval_tree");
    TCase *basic = sim_tcase("basic", 5);
    TCase *random = sim_tcase("random", 30);

    tcase_add_test(basic, test_empty_tree);
    tcase_add_test(basic, test_single_node_edges);
    tcase_add_test(basic, test_point_and_zero_intervals);
    tcase_add_test(basic, test_duplicates_found_once);
    tcase_add_test(basic, test_inorder_enumeration);
    tcase_add_test(basic, test_intervals_reaching_ulong_max);
    tcase_add_test(basic, test_checker_sees_damage);
    tcase_add_test(basic, test_height_bound_on_sorted_input);
    tcase_add_test(random, test_random_against_model);
    tcase_add_test(random, test_random_at_address_zero);
    tcase_add_test(random, test_random_at_the_top);
    suite_add_tcase(s, basic);
    suite_add_tcase(s, random);
    return s;
}
