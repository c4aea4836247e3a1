/*
 * test_broker_dispatch - the dispatcher's choice of a worker, row by row
 * of dispatch_prefer()'s table and folded over workers as the
 * dispatcher folds it (least loaded with credit, more credit breaking
 * ties, the first of equals), jobs spread over a pool as credit and
 * load change, and how many refs one dispatch_take asks for.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dispatch.h"

/* The worker of n the dispatcher picks, -1 when none: the fold of
 * dispatch.c's s_best. */
static long
s_pick(const dispatch_load_t *w, size_t n)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (dispatch_prefer(&w[i], best >= 0 ? &w[best] : NULL))
            best = (long)i;
    return best;
}

/* Sends one job as the dispatcher does: to the pick, which then has one
 * credit less and one job more. */
static long
s_send(dispatch_load_t *w, size_t n)
{
    long i = s_pick(w, n);
    if (i >= 0) {
        w[i].credit--;
        w[i].load++;
    }
    return i;
}

static void
test_prefer(void **state)
{
    const dispatch_load_t best = {2, 5};
    const dispatch_load_t none = {0, 0}, owes = {-1, 0};
    const dispatch_load_t lighter = {1, 4}, heavier = {9, 6};
    const dispatch_load_t richer = {3, 5}, same = {2, 5}, poorer = {1, 5};

    (void)state;
    assert_false(dispatch_prefer(&none, NULL)); /* no credit: never */
    assert_false(dispatch_prefer(&owes, NULL));
    assert_false(dispatch_prefer(&none, &best));
    assert_true(dispatch_prefer(&poorer, NULL)); /* the first with credit */
    assert_true(dispatch_prefer(&lighter, &best));
    assert_false(dispatch_prefer(&heavier, &best));
    assert_true(dispatch_prefer(&richer, &best));
    assert_false(dispatch_prefer(&same, &best)); /* the first keeps it */
    assert_false(dispatch_prefer(&poorer, &best));
}

static void
test_pick(void **state)
{
    dispatch_load_t w[4] = {{0, 0}, {5, 10}, {1, 3}, {4, 3}};

    (void)state;
    assert_int_equal(s_pick(w, 0), -1);
    assert_int_equal(s_pick(w, 1), -1); /* idle but asked for nothing */
    assert_int_equal(s_pick(w, 4), 3);  /* load 3, more credit than 2 */
    w[3].credit = 1;
    assert_int_equal(s_pick(w, 4), 2); /* a tie all through: the first */
    w[2].credit = w[3].credit = 0;
    assert_int_equal(s_pick(w, 4), 1); /* the only one with credit */
    w[1].credit = 0;
    assert_int_equal(s_pick(w, 4), -1);
}

/* Jobs spread as load evens out, and nobody gets more than it asked. */
static void
test_spread(void **state)
{
    dispatch_load_t w[3] = {{10, 0}, {10, 4}, {2, 0}};
    int got[3] = {0, 0, 0};

    (void)state;
    for (int i = 0; i < 12; i++) {
        long k = s_send(w, 3);
        assert_in_range(k, 0, 2);
        if (k >= 0) /* what the analyzer reads: cmocka's failure returns */
            got[k]++;
    }
    /* 0 and 2 share the first jobs until 2's credit is gone; the load
     * then evens out between 0 and 1 */
    assert_int_equal(got[2], 2);
    assert_int_equal(got[0] + got[1], 10);
    assert_int_equal(w[0].load, w[1].load);
    assert_int_equal(w[2].credit, 0);
    /* credit runs out: the rest of the refs wait for the reaper */
    for (int i = 0; i < 10; i++) /* 22 asked for in all */
        assert_true(s_send(w, 3) >= 0);
    assert_int_equal(s_send(w, 3), -1);
    assert_int_equal(w[0].credit + w[1].credit + w[2].credit, 0);
}

static void
test_take_count(void **state)
{
    (void)state;
    assert_int_equal(dispatch_take_count(0), 0);
    assert_int_equal(dispatch_take_count(-3), 0);
    assert_int_equal(dispatch_take_count(1), 1);
    assert_int_equal(dispatch_take_count(DISPATCH_MAX_TAKE), DISPATCH_MAX_TAKE);
    assert_int_equal(dispatch_take_count(INT64_MAX), DISPATCH_MAX_TAKE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefer),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_take_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
