/*
 * test_deliverer_hostgate - per-host isolation: the concurrency limit,
 * the circuit breaker (open, cool-down, half-open trial that closes or
 * reopens it), hosts kept apart, forgetting idle hosts, and host keys.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostgate.h"

#define S_SLOW "slow.example:443"
#define S_FAST "fast.example:443"

static void
test_limit(void **state)
{
    hostgate_t *g = hostgate_new(2, 3, 1000);

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_BUSY);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 2);
    /* a slow host does not hold back a healthy one */
    assert_int_equal(hostgate_acquire(g, S_FAST, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_FAST, false, 1);
    assert_int_equal(hostgate_inflight(g, S_FAST), 0);
    assert_int_equal(hostgate_hosts(g), 1); /* fast is forgotten */
    hostgate_release(g, S_SLOW, false, 1);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 2);
    hostgate_release(g, S_SLOW, false, 2);
    hostgate_release(g, S_SLOW, false, 2); /* extra: ignored */
    hostgate_release(g, "never.example:80", true, 2);
    assert_int_equal(hostgate_hosts(g), 0);
    assert_string_equal(hostgate_verdict_name(HOSTGATE_BUSY), "busy");
    hostgate_destroy(&g);
    assert_null(g);
    hostgate_destroy(&g);
}

static void
test_breaker(void **state)
{
    hostgate_t *g = hostgate_new(16, 3, 1000);
    long wait = -1;

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
        hostgate_release(g, S_SLOW, true, 100);
    }
    /* a success in between resets the count */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 100, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 100);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hostgate_acquire(g, S_SLOW, 200, NULL),
                         HOSTGATE_OK);
        hostgate_release(g, S_SLOW, true, 200);
    }
    assert_int_equal(hostgate_acquire(g, S_SLOW, 700, &wait), HOSTGATE_OPEN);
    assert_int_equal(wait, 500);
    assert_int_equal(hostgate_acquire(g, S_FAST, 700, NULL), HOSTGATE_OK);
    /* cool-down over: one trial, nothing else meanwhile */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1200, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1200, &wait),
                     HOSTGATE_OPEN);
    assert_int_equal(wait, 0);
    hostgate_release(g, S_SLOW, true, 1300); /* trial fails: reopens */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1400, &wait),
                     HOSTGATE_OPEN);
    assert_int_equal(wait, 900);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 2300, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 2400); /* trial succeeds: closes */
    for (int i = 0; i < 16; i++)
        assert_int_equal(hostgate_acquire(g, S_SLOW, 2400, NULL),
                         HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 2400, NULL), HOSTGATE_BUSY);
    hostgate_destroy(&g);
}

/* Attempts admitted before the breaker opened hold back the trial. */
static void
test_breaker_inflight(void **state)
{
    hostgate_t *g = hostgate_new(16, 1, 100);

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, true, 10);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 50, NULL), HOSTGATE_OPEN);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 200, NULL), HOSTGATE_BUSY);
    hostgate_release(g, S_SLOW, false, 210);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 220, NULL), HOSTGATE_OK);
    hostgate_destroy(&g);
}

static void
test_key(void **state)
{
    char key[HOSTGATE_HOST_MAX];

    (void)state;
    assert_int_equal(hostgate_key("https://Your-App.com/webhooks", key,
                                  sizeof key), 0);
    assert_string_equal(key, "your-app.com:443");
    assert_int_equal(hostgate_key("http://127.0.0.1:8099/hook?x=1", key,
                                  sizeof key), 0);
    assert_string_equal(key, "127.0.0.1:8099");
    assert_int_equal(hostgate_key("http://[::1]/", key, sizeof key), 0);
    assert_string_equal(key, "[::1]:80");
    assert_int_equal(hostgate_key("not a url", key, sizeof key), -1);
    assert_int_equal(hostgate_key(NULL, key, sizeof key), -1);
    assert_int_equal(hostgate_key("http://a.example/", key, 8), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_breaker_inflight),
        cmocka_unit_test(test_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
