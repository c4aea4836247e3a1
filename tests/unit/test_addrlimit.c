/*
 * test_addrlimit - per-client token buckets: a burst then refusal, the
 * refill and its Retry-After, clients kept apart, the table bounded by
 * forgetting the least recently used client.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rl_addrlimit.h"
#include "rl_crypto.h"

static void
test_burst_then_refused(void **state)
{
    rl_addrlimit_t *al = rl_addrlimit_new(3, 6, 16); /* one per 10 s */
    int retry = 0;

    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_true(rl_addrlimit_allowed(al, "203.0.113.7", 0, NULL));
        rl_addrlimit_take(al, "203.0.113.7", 0);
    }
    assert_false(rl_addrlimit_allowed(al, "203.0.113.7", 0, &retry));
    assert_int_equal(retry, 10);
    /* Half way there: five seconds more. */
    assert_false(rl_addrlimit_allowed(al, "203.0.113.7", 5000, &retry));
    assert_int_equal(retry, 5);
    assert_true(rl_addrlimit_allowed(al, "203.0.113.7", 10000, NULL));
    /* A take at zero stays at zero: no debt to pay back. */
    rl_addrlimit_take(al, "203.0.113.7", 10000);
    rl_addrlimit_take(al, "203.0.113.7", 10000);
    assert_true(rl_addrlimit_allowed(al, "203.0.113.7", 20000, NULL));
    rl_addrlimit_destroy(&al);
    assert_null(al);
}

static void
test_clients_apart(void **state)
{
    rl_addrlimit_t *al = rl_addrlimit_new(1, 1, 16);

    (void)state;
    rl_addrlimit_take(al, "198.51.100.1", 0);
    assert_false(rl_addrlimit_allowed(al, "198.51.100.1", 0, NULL));
    assert_true(rl_addrlimit_allowed(al, "198.51.100.2", 0, NULL));
    assert_true(rl_addrlimit_allowed(al, "2001:db8::1", 0, NULL));
    /* No address (a Unix socket): never limited, never stored. */
    rl_addrlimit_take(al, "", 0);
    assert_true(rl_addrlimit_allowed(al, "", 0, NULL));
    assert_int_equal(rl_addrlimit_size(al), 1);
    rl_addrlimit_destroy(&al);
}

static void
test_bounded(void **state)
{
    rl_addrlimit_t *al = rl_addrlimit_new(1, 1, 4);
    char addr[32];

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(addr, sizeof addr, "192.0.2.%d", i);
        rl_addrlimit_take(al, addr, 0);
        assert_true(rl_addrlimit_size(al) <= 4);
    }
    /* The last four are remembered (and refused); the first forgotten. */
    assert_false(rl_addrlimit_allowed(al, "192.0.2.99", 0, NULL));
    assert_false(rl_addrlimit_allowed(al, "192.0.2.96", 0, NULL));
    assert_true(rl_addrlimit_allowed(al, "192.0.2.0", 0, NULL));
    /* Touching one keeps it: 96 is used, 97 is forgotten next. */
    rl_addrlimit_take(al, "192.0.2.96", 0);
    rl_addrlimit_take(al, "192.0.2.5", 0);
    assert_false(rl_addrlimit_allowed(al, "192.0.2.96", 0, NULL));
    assert_true(rl_addrlimit_allowed(al, "192.0.2.97", 0, NULL));
    rl_addrlimit_destroy(&al);
}

static void
test_secret_equal(void **state)
{
    (void)state;
    assert_true(rl_secret_equal("s3cret-token", "s3cret-token"));
    assert_false(rl_secret_equal("s3cret-toke", "s3cret-token"));
    assert_false(rl_secret_equal("s3cret-token-", "s3cret-token"));
    assert_false(rl_secret_equal("", "s3cret-token"));
    assert_true(rl_secret_equal("", ""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refused),
        cmocka_unit_test(test_clients_apart),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_secret_equal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
