/*
 * test_deliverer_schedule - retry schedules: the default one untouched,
 * the long one for accounts that ask for it, and the +-10% jitter's
 * bounds.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_config.h"
#include "schedule.h"

static void
test_jitter(void **state)
{
    (void)state;
    assert_int_equal(schedule_jitter(60000, 0), 54000);
    assert_int_equal(schedule_jitter(60000, UINT32_MAX), 66000);
    assert_int_equal(schedule_jitter(60000, UINT32_MAX / 2), 60000);
    assert_int_equal(schedule_jitter(0, UINT32_MAX), 0);
    assert_int_equal(schedule_jitter(5, UINT32_MAX), 5); /* < 10 ms */
    for (uint32_t r = 0; r < UINT32_MAX - 7919u * 65536u;
         r += 7919u * 65536u) {
        long d = schedule_jitter(21600000, r);
        assert_true(d >= 19440000 && d <= 23760000);
    }
}

static void
test_build(void **state)
{
    char err[256];
    rl_config_t *cfg = rl_config_load(NULL, err, sizeof err);
    long out[RL_CONFIG_MAX_RETRIES];
    static const long want[] = {0, 60000, 300000, 1800000, 7200000,
                                21600000};
    size_t n;

    (void)state;
    assert_non_null(cfg);
    assert_false(schedule_is_long(NULL));
    assert_false(schedule_is_long("default"));
    assert_true(schedule_is_long("long"));
    n = schedule_build(cfg, NULL, out);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 5000);
    assert_int_equal(out[2], 30000);
    n = schedule_build(cfg, "default", out);
    assert_int_equal(out[1], 5000);
    n = schedule_build(cfg, "long", out);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i] >= want[i] - want[i] / 10);
        assert_true(out[i] <= want[i] + want[i] / 10);
    }
    rl_config_destroy(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_build),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
