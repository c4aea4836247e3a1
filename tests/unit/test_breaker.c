/*
 * test_breaker - the one circuit breaker (rl_breaker): closed to open
 * after N failures in a row, the cool-down, one trial at a time, the
 * trial's success closing and failure reopening it, a cancelled trial,
 * a trial given up after trial_ms (or never), and the counting rules.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rl_breaker.h"

/* Three failures open it for a second; trials always report. */
static const rl_breaker_conf_t s_conf = {3, 1000, 0};

static rl_breaker_verdict_t
s_allow(rl_breaker_t *b, int64_t now, long *wait)
{
    return rl_breaker_allow(b, &s_conf, now, wait);
}

/* Opens b at `at` with three failures. */
static void
s_open(rl_breaker_t *b, int64_t at)
{
    for (int i = 0; i < 3; i++)
        rl_breaker_failure(b, &s_conf, at);
    assert_int_equal(b->state, RL_BREAKER_OPEN);
}

static void
test_closed_to_open(void **state)
{
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    assert_int_equal(s_allow(&b, 0, &wait), RL_BREAKER_ALLOW);
    assert_int_equal(wait, 0);
    rl_breaker_failure(&b, &s_conf, 10);
    rl_breaker_failure(&b, &s_conf, 20);
    assert_int_equal(b.state, RL_BREAKER_CLOSED);
    assert_int_equal(s_allow(&b, 20, NULL), RL_BREAKER_ALLOW);
    /* a success in between starts the count again */
    rl_breaker_success(&b);
    rl_breaker_failure(&b, &s_conf, 30);
    rl_breaker_failure(&b, &s_conf, 40);
    assert_int_equal(b.state, RL_BREAKER_CLOSED);
    rl_breaker_failure(&b, &s_conf, 50); /* the third in a row */
    assert_int_equal(b.state, RL_BREAKER_OPEN);
    assert_string_equal(rl_breaker_state_name(b.state), "open");
}

static void
test_cooldown(void **state)
{
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    s_open(&b, 100);
    assert_int_equal(s_allow(&b, 100, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(wait, 1000);
    assert_int_equal(s_allow(&b, 1099, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(wait, 1);
    /* peek changes nothing */
    assert_int_equal(rl_breaker_peek(&b, &s_conf, 1100, &wait),
                     RL_BREAKER_TRIAL);
    assert_int_equal(b.state, RL_BREAKER_OPEN);
    /* over: the next caller's attempt is the trial */
    assert_int_equal(s_allow(&b, 1100, &wait), RL_BREAKER_TRIAL);
    assert_int_equal(wait, 0);
    assert_int_equal(b.state, RL_BREAKER_HALF_OPEN);
    assert_string_equal(rl_breaker_state_name(b.state), "half_open");
}

static void
test_one_trial(void **state)
{
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    s_open(&b, 0);
    assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_TRIAL);
    /* concurrent trials refused, however long the trial takes */
    assert_int_equal(s_allow(&b, 1000, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(wait, 0);
    assert_int_equal(s_allow(&b, 999999, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(rl_breaker_peek(&b, &s_conf, 999999, NULL),
                     RL_BREAKER_REFUSE);
}

static void
test_trial_success_closes(void **state)
{
    rl_breaker_t b = {0};

    (void)state;
    s_open(&b, 0);
    assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_TRIAL);
    rl_breaker_success(&b);
    assert_int_equal(b.state, RL_BREAKER_CLOSED);
    assert_int_equal(b.failures, 0);
    assert_string_equal(rl_breaker_state_name(b.state), "closed");
    for (int i = 0; i < 5; i++)
        assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_ALLOW);
    /* closed again means N failures again before it opens */
    rl_breaker_failure(&b, &s_conf, 1100);
    assert_int_equal(b.state, RL_BREAKER_CLOSED);
}

static void
test_trial_failure_reopens(void **state)
{
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    s_open(&b, 0);
    assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_TRIAL);
    rl_breaker_failure(&b, &s_conf, 1300); /* one failure is enough */
    assert_int_equal(b.state, RL_BREAKER_OPEN);
    assert_int_equal(s_allow(&b, 1400, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(wait, 900); /* a new cool-down from the failure */
    assert_int_equal(s_allow(&b, 2300, NULL), RL_BREAKER_TRIAL);
}

static void
test_cancel(void **state)
{
    rl_breaker_t b = {0};

    (void)state;
    rl_breaker_cancel(&b, 0); /* nothing out: nothing happens */
    assert_int_equal(b.state, RL_BREAKER_CLOSED);
    s_open(&b, 0);
    rl_breaker_cancel(&b, 500);
    assert_int_equal(s_allow(&b, 500, NULL), RL_BREAKER_REFUSE);
    assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_TRIAL);
    /* the trial was not made: the next caller tries at once */
    rl_breaker_cancel(&b, 1200);
    assert_int_equal(b.state, RL_BREAKER_OPEN);
    assert_int_equal(s_allow(&b, 1200, NULL), RL_BREAKER_TRIAL);
    assert_int_equal(s_allow(&b, 1200, NULL), RL_BREAKER_REFUSE);
}

/* A caller that may lose a trial's outcome gives it up after trial_ms. */
static void
test_trial_given_up(void **state)
{
    static const rl_breaker_conf_t lossy = {2, 1000, 1000};
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    rl_breaker_failure(&b, &lossy, 0);
    rl_breaker_failure(&b, &lossy, 0);
    assert_int_equal(rl_breaker_allow(&b, &lossy, 1000, NULL),
                     RL_BREAKER_TRIAL);
    assert_int_equal(rl_breaker_allow(&b, &lossy, 1999, &wait),
                     RL_BREAKER_REFUSE);
    assert_int_equal(wait, 0);
    /* no word of it for trial_ms: a new trial, and only one */
    assert_int_equal(rl_breaker_allow(&b, &lossy, 2000, NULL),
                     RL_BREAKER_TRIAL);
    assert_int_equal(rl_breaker_allow(&b, &lossy, 2500, NULL),
                     RL_BREAKER_REFUSE);
    rl_breaker_success(&b);
    assert_int_equal(rl_breaker_allow(&b, &lossy, 2500, NULL),
                     RL_BREAKER_ALLOW);
}

/* Outcomes of attempts made before the breaker opened. */
static void
test_late_outcomes(void **state)
{
    rl_breaker_t b = {0};
    long wait = -1;

    (void)state;
    /* a late failure while open restarts the cool-down */
    s_open(&b, 0);
    rl_breaker_failure(&b, &s_conf, 600);
    assert_int_equal(s_allow(&b, 1000, &wait), RL_BREAKER_REFUSE);
    assert_int_equal(wait, 600);
    /* a late success closes it */
    rl_breaker_success(&b);
    assert_int_equal(s_allow(&b, 1000, NULL), RL_BREAKER_ALLOW);
    /* the count saturates: however many failures, one success clears */
    for (int i = 0; i < 1000; i++)
        rl_breaker_failure(&b, &s_conf, 2000);
    assert_int_equal(b.failures, 3);
    assert_string_equal(rl_breaker_state_name((rl_breaker_state_t)99),
                        "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_to_open),
        cmocka_unit_test(test_cooldown),
        cmocka_unit_test(test_one_trial),
        cmocka_unit_test(test_trial_success_closes),
        cmocka_unit_test(test_trial_failure_reopens),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_trial_given_up),
        cmocka_unit_test(test_late_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
