/*
 * test_deliverer_route - the deliverer's routing decisions, row by row
 * of route.h's tables: a COMPLETION (claim, fail-open, wait, drop), a
 * claimed delivery at its host (start, park, defer, and for how long),
 * the lease a claimed attempt needs, the scan and its backlog, and
 * Redis's answer to a record.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliverer.h"
#include "route.h"

static route_completion_t
s_route(bool queued, bool stopping, bool named, bool kept, bool connected,
        size_t free_slots)
{
    route_completion_in_t in = {queued, stopping,  named,
                                kept,   connected, free_slots};
    return route_completion(&in);
}

static void
test_completion(void **state)
{
    (void)state;
    /* fresh, Redis up: claim while a slot is free, else wait */
    assert_int_equal(s_route(false, false, true, false, true, 3), ROUTE_CLAIM);
    assert_int_equal(s_route(false, false, true, false, true, 0), ROUTE_WAIT);
    /* Redis away: fail-open, slots or not (it waits for one itself) */
    assert_int_equal(s_route(false, false, true, false, false, 0),
                     ROUTE_FAIL_OPEN);
    assert_int_equal(s_route(false, false, true, false, false, 5),
                     ROUTE_FAIL_OPEN);
    /* draining, unnameable, or delivered fail-open here: dropped */
    assert_int_equal(s_route(false, true, true, false, true, 3), ROUTE_DROP);
    assert_int_equal(s_route(false, true, true, false, false, 3), ROUTE_DROP);
    assert_int_equal(s_route(false, false, false, false, true, 3), ROUTE_DROP);
    assert_int_equal(s_route(false, false, true, true, false, 3), ROUTE_DROP);
    assert_int_equal(s_route(false, false, true, true, true, 0), ROUTE_DROP);
    /* queued: its head waits while Redis is up and no slot is free,
     * whatever it is */
    assert_int_equal(s_route(true, false, true, true, true, 0), ROUTE_WAIT);
    assert_int_equal(s_route(true, true, true, false, true, 0), ROUTE_WAIT);
    assert_int_equal(s_route(true, false, true, false, true, 1), ROUTE_CLAIM);
    assert_int_equal(s_route(true, false, true, true, true, 1), ROUTE_DROP);
    assert_int_equal(s_route(true, false, true, false, false, 0),
                     ROUTE_FAIL_OPEN);
}

static void
test_admit(void **state)
{
    (void)state;
    assert_int_equal(route_admit(HOSTGATE_OK, false), ROUTE_START);
    assert_int_equal(route_admit(HOSTGATE_OK, true), ROUTE_START);
    assert_int_equal(route_admit(HOSTGATE_BUSY, false), ROUTE_PARK);
    assert_int_equal(route_admit(HOSTGATE_BUSY, true), ROUTE_DEFER);
    assert_int_equal(route_admit(HOSTGATE_OPEN, false), ROUTE_DEFER);
    assert_int_equal(route_admit(HOSTGATE_OPEN, true), ROUTE_DEFER);
}

static void
test_defer_ms(void **state)
{
    (void)state;
    assert_int_equal(route_defer_ms(0, false), DELIVERER_DEFER_MS);
    assert_int_equal(route_defer_ms(DELIVERER_DEFER_MS, false),
                     DELIVERER_DEFER_MS);
    /* an open breaker's cool-down is waited out */
    assert_int_equal(route_defer_ms(29000, false), 29000);
    /* handed back while draining: due at once, for another deliverer */
    assert_int_equal(route_defer_ms(29000, true), 0);
    assert_int_equal(route_defer_ms(0, true), 0);
}

static void
test_launch(void **state)
{
    (void)state;
    /* the minimum attempt when the timeout is longer */
    assert_true(route_launch(DELIVERER_MIN_ATTEMPT_MS, 10000));
    assert_false(route_launch(DELIVERER_MIN_ATTEMPT_MS - 1, 10000));
    /* the timeout when it is shorter */
    assert_true(route_launch(300, 300));
    assert_false(route_launch(299, 300));
    /* the lease has run out */
    assert_false(route_launch(0, 10000));
    assert_false(route_launch(-5, 10000));
}

static void
test_scan(void **state)
{
    (void)state;
    assert_int_equal(route_scan(false, false, true, 7), 7);
    assert_int_equal(route_scan(false, false, true, 0), 0);
    assert_int_equal(route_scan(true, false, true, 7), 0);
    assert_int_equal(route_scan(false, true, true, 7), 0);
    assert_int_equal(route_scan(false, false, false, 7), 0);
    assert_true(route_backlog(7, 7));
    assert_true(route_backlog(8, 7));
    assert_false(route_backlog(6, 7));
    assert_false(route_backlog(-1, 0));
    assert_true(route_backlog(0, 0));
}

static void
test_record(void **state)
{
    (void)state;
    assert_int_equal(route_record(false, NULL), ROUTE_UNKNOWN);
    assert_int_equal(route_record(false, "ok"), ROUTE_UNKNOWN);
    assert_int_equal(route_record(true, "ok"), ROUTE_RECORDED);
    assert_int_equal(route_record(true, "stale"), ROUTE_STALE);
    assert_int_equal(route_record(true, "ERR script failed"), ROUTE_LOST);
    assert_int_equal(route_record(true, NULL), ROUTE_LOST);
    assert_int_equal(route_record(true, "OK"), ROUTE_LOST);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion), cmocka_unit_test(test_admit),
        cmocka_unit_test(test_defer_ms),   cmocka_unit_test(test_launch),
        cmocka_unit_test(test_scan),       cmocka_unit_test(test_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
