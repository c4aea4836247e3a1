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
    for (uint32_t r = 0; r < UINT32_MAX - 7919u * 65536u; r += 7919u * 65536u) {
        long d = schedule_jitter(21600000, r);
        assert_true(d >= 19440000 && d <= 23760000);
    }
}

static void
test_next_delay(void **state)
{
    char err[256];
    rl_config_t *cfg = rl_config_load(NULL, err, sizeof err);
    /* The delay after attempt i fails: long_schedule's entry i. */
    static const long want[] = {0, 60000, 300000, 1800000, 7200000, 21600000};

    (void)state;
    assert_non_null(cfg);
    assert_false(schedule_is_long(NULL));
    assert_false(schedule_is_long("default"));
    assert_true(schedule_is_long("long"));
    assert_int_equal(schedule_next_delay(cfg, NULL, 1), 5000);
    assert_int_equal(schedule_next_delay(cfg, NULL, 2), 30000);
    assert_int_equal(schedule_next_delay(cfg, NULL, 3), -1);
    assert_int_equal(schedule_next_delay(cfg, "default", 1), 5000);
    for (int i = 1; i < 6; i++) {
        long d = schedule_next_delay(cfg, "long", i);
        assert_true(d >= want[i] - want[i] / 10);
        assert_true(d <= want[i] + want[i] / 10);
    }
    assert_int_equal(schedule_next_delay(cfg, "long", 6), -1);
    assert_int_equal(schedule_next_delay(cfg, "long", 0), -1);
    rl_config_destroy(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_next_delay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
