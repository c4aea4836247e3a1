/*
 * test_lanes - unit tests for rl_lanes: per-key caps, FIFO admission,
 * leaving while waiting, lanes freed when empty, no cap.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_lanes.h"

#define N 6

static void
test_cap_and_fifo(void **state)
{
    (void)state;
    rl_lanes_t *l = rl_lanes_new(2);
    rl_lane_entry_t e[N];
    memset(e, 0, sizeof e);
    assert_true(rl_lanes_enter(l, "http://a:1", &e[0]));
    assert_true(rl_lanes_enter(l, "http://a:1", &e[1]));
    assert_false(rl_lanes_enter(l, "http://a:1", &e[2]));
    assert_false(rl_lanes_enter(l, "http://a:1", &e[3]));
    /* Another key has its own cap. */
    assert_true(rl_lanes_enter(l, "http://b:1", &e[4]));
    assert_int_equal(rl_lanes_count(l), 2);
    assert_int_equal(rl_lanes_waiting(l), 2);
    /* An active one leaves: the oldest waiting one is admitted. */
    assert_ptr_equal(rl_lanes_leave(l, &e[1]), &e[2]);
    assert_true(e[2].active);
    assert_false(e[1].active);
    assert_null(e[1].lane);
    assert_int_equal(rl_lanes_waiting(l), 1);
    assert_ptr_equal(rl_lanes_leave(l, &e[0]), &e[3]);
    /* Nobody waits any more. */
    assert_null(rl_lanes_leave(l, &e[2]));
    assert_null(rl_lanes_leave(l, &e[3]));
    assert_int_equal(rl_lanes_count(l), 1); /* "a" is gone */
    assert_null(rl_lanes_leave(l, &e[4]));
    assert_int_equal(rl_lanes_count(l), 0);
    rl_lanes_destroy(&l);
    assert_null(l);
    rl_lanes_destroy(&l); /* twice is harmless */
}

static void
test_leave_while_waiting(void **state)
{
    (void)state;
    rl_lanes_t *l = rl_lanes_new(1);
    rl_lane_entry_t e[3];
    memset(e, 0, sizeof e);
    assert_true(rl_lanes_enter(l, "k", &e[0]));
    assert_false(rl_lanes_enter(l, "k", &e[1]));
    assert_false(rl_lanes_enter(l, "k", &e[2]));
    /* A waiting entry leaves: nobody is admitted, order is kept. */
    assert_null(rl_lanes_leave(l, &e[1]));
    assert_int_equal(rl_lanes_waiting(l), 1);
    assert_ptr_equal(rl_lanes_leave(l, &e[0]), &e[2]);
    assert_null(rl_lanes_leave(l, &e[2]));
    assert_int_equal(rl_lanes_count(l), 0);
    /* The entries can be entered again. */
    assert_true(rl_lanes_enter(l, "k", &e[1]));
    assert_null(rl_lanes_leave(l, &e[1]));
    rl_lanes_destroy(&l);
}

static void
test_no_cap_and_long_keys(void **state)
{
    (void)state;
    rl_lanes_t *l = rl_lanes_new(0);
    rl_lane_entry_t e[N];
    char key[2 * RL_LANES_KEY_MAX];
    memset(e, 0, sizeof e);
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    for (int i = 0; i < N; i++)
        assert_true(rl_lanes_enter(l, key, &e[i]));
    assert_int_equal(rl_lanes_count(l), 1);
    assert_int_equal(rl_lanes_waiting(l), 0);
    rl_lanes_destroy(&l); /* entries still entered are the owner's */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_and_fifo),
        cmocka_unit_test(test_leave_while_waiting),
        cmocka_unit_test(test_no_cap_and_long_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
