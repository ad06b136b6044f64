/* Tests of the interval-query exercise: answers compared with brute force. */
#include <stdlib.h>
#include "testlib.h"

#define N 300

static struct interval_tree_node nodes[N];
static bool inserted[N];
static unsigned long rng = 88172645463325252UL;

static unsigned long next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static bool overlaps(const struct interval_tree_node *n, unsigned long s, unsigned long l)
{
    return n->start <= l && s <= n->last;
}

/* The overlapping nodes in tree order, by brute force. */
static int expected(unsigned long s, unsigned long l, struct interval_tree_node **out)
{
    int k = 0;

    for (int i = 0; i < N; i++)
        if (inserted[i] && overlaps(&nodes[i], s, l))
            out[k++] = &nodes[i];
    for (int i = 1; i < k; i++)           /* insertion sort by tree order */
        for (int j = i; j > 0 && itree_before(out[j], out[j - 1]); j--) {
            struct interval_tree_node *t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

static void compare(struct interval_tree_root *root, unsigned long s, unsigned long l)
{
    struct interval_tree_node *want[N], *n;
    int k = expected(s, l, want), i = 0;

    for (n = interval_tree_iter_first(root, s, l); n; n = interval_tree_iter_next(root, n, s, l)) {
        ck_assert_int_lt(i, k);
        ck_assert_ptr_eq(n, want[i]);
        i++;
    }
    ck_assert_int_eq(i, k);
}

static void fill(struct interval_tree_root *root, unsigned long span, unsigned long maxlen)
{
    root->root = NULL;
    for (int i = 0; i < N; i++) {
        nodes[i].start = next_random() % span;
        nodes[i].last = nodes[i].start + next_random() % maxlen;
        interval_tree_insert(&nodes[i], root);
        inserted[i] = true;
    }
}

START_TEST(empty_tree_has_no_overlaps)
{
    struct interval_tree_root root = { NULL };

    ck_assert_ptr_null(interval_tree_iter_first(&root, 0, ULONG_MAX));
}
END_TEST

START_TEST(single_interval_edges)
{
    struct interval_tree_root root = { NULL };
    struct interval_tree_node n = { .start = 100, .last = 199 };

    interval_tree_insert(&n, &root);
    ck_assert_ptr_eq(interval_tree_iter_first(&root, 199, 300), &n);
    ck_assert_ptr_eq(interval_tree_iter_first(&root, 0, 100), &n);
    ck_assert_ptr_null(interval_tree_iter_first(&root, 200, 300));
    ck_assert_ptr_null(interval_tree_iter_first(&root, 0, 99));
    ck_assert_ptr_null(interval_tree_iter_next(&root, &n, 0, 1000));
    interval_tree_remove(&n, &root);
}
END_TEST

START_TEST(random_queries_match_brute_force)
{
    struct interval_tree_root root;

    fill(&root, 10000, 300);
    for (int q = 0; q < 2000; q++) {
        unsigned long s = next_random() % 11000;

        compare(&root, s, s + next_random() % 500);
    }
}
END_TEST

/* Removing half the nodes keeps the answers right. */
START_TEST(queries_after_removals)
{
    struct interval_tree_root root;

    fill(&root, 5000, 100);
    for (int i = 0; i < N; i += 2) {
        interval_tree_remove(&nodes[i], &root);
        inserted[i] = false;
    }
    for (int q = 0; q < 2000; q++) {
        unsigned long s = next_random() % 5200;

        compare(&root, s, s + next_random() % 200);
    }
}
END_TEST

/* Identical intervals are all found, each once, in address order. */
START_TEST(duplicates_are_all_found)
{
    struct interval_tree_root root = { NULL };

    for (int i = 0; i < N; i++) {
        nodes[i].start = 1000 + (i % 3);
        nodes[i].last = 2000;
        inserted[i] = true;
        interval_tree_insert(&nodes[i], &root);
    }
    compare(&root, 1500, 1500);
    compare(&root, 0, 1000);
    compare(&root, 2001, 3000);
}
END_TEST

/* Intervals that reach the top of the address space. */
START_TEST(intervals_at_the_top)
{
    struct interval_tree_root root = { NULL };
    struct interval_tree_node a = { .start = ULONG_MAX - 10, .last = ULONG_MAX };
    struct interval_tree_node b = { .start = 0, .last = ULONG_MAX };

    interval_tree_insert(&a, &root);
    interval_tree_insert(&b, &root);
    ck_assert_ptr_eq(interval_tree_iter_first(&root, ULONG_MAX, ULONG_MAX), &b);
    ck_assert_ptr_eq(interval_tree_iter_next(&root, &b, ULONG_MAX, ULONG_MAX), &a);
    ck_assert_ptr_null(interval_tree_iter_next(&root, &a, ULONG_MAX, ULONG_MAX));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("itree-query");
    TCase *tc = tcase_create("query");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, empty_tree_has_no_overlaps);
    tcase_add_test(tc, single_interval_edges);
    tcase_add_test(tc, random_queries_match_brute_force);
    tcase_add_test(tc, queries_after_removals);
    tcase_add_test(tc, duplicates_are_all_found);
    tcase_add_test(tc, intervals_at_the_top);
    suite_add_tcase(s, tc);
    return s;
}
