/*
 * test_worker_breaker - the provider breaker as a worker configures it:
 * [health] breaker_failures and breaker_cooldown_ms, and a trial whose
 * job went away given up after another cool-down.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "breaker.h"

static void
test_provider_breaker(void **state)
{
    rl_config_t cfg = {.breaker_failures = 2, .breaker_cooldown_ms = 500};
    breaker_t b = {0};

    (void)state;
    assert_true(breaker_allow(&b, &cfg, 0));
    breaker_record(&b, &cfg, false, 0);
    assert_string_equal(breaker_state_name(&b), "closed");
    breaker_record(&b, &cfg, false, 10);
    assert_string_equal(breaker_state_name(&b), "open");
    assert_false(breaker_allow(&b, &cfg, 509));
    assert_true(breaker_allow(&b, &cfg, 510)); /* the trial */
    assert_string_equal(breaker_state_name(&b), "half_open");
    assert_false(breaker_allow(&b, &cfg, 1009));
    /* its job was dropped without a word: a new trial a cool-down on */
    assert_true(breaker_allow(&b, &cfg, 1010));
    breaker_record(&b, &cfg, false, 1100); /* fails: open again */
    assert_false(breaker_allow(&b, &cfg, 1599));
    assert_true(breaker_allow(&b, &cfg, 1600));
    breaker_record(&b, &cfg, true, 1700);
    assert_string_equal(breaker_state_name(&b), "closed");
    assert_true(breaker_allow(&b, &cfg, 1700));
    assert_true(breaker_allow(&b, &cfg, 1700));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_breaker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
