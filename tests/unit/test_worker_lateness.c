/*
 * test_worker_lateness - the poll lateness histogram and its quantiles.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lateness.h"

static void
test_empty(void **state)
{
    (void)state;
    lateness_t l;
    lateness_init(&l);
    assert_int_equal(lateness_quantile(&l, 0.99), 0);
    assert_int_equal(l.count, 0);
}

static void
test_quantiles(void **state)
{
    (void)state;
    lateness_t l;
    lateness_init(&l);
    /* 98 on time (one early), one 5 ms late, one 1.5 s late. */
    lateness_record(&l, -300);
    for (int i = 0; i < 97; i++)
        lateness_record(&l, 400);
    lateness_record(&l, 5200);
    lateness_record(&l, 1500000);
    assert_int_equal(l.count, 100);
    assert_int_equal(lateness_quantile(&l, 0.5), 0);
    assert_int_equal(lateness_quantile(&l, 0.98), 0);
    assert_int_equal(lateness_quantile(&l, 0.99), 5);
    assert_int_equal(lateness_quantile(&l, 1.0), 1500);
    assert_int_equal(l.max_us, 1500000);
}

static void
test_overflow_bucket(void **state)
{
    (void)state;
    lateness_t l;
    lateness_init(&l);
    lateness_record(&l, (int64_t)(LATENESS_MAX_MS + 5000) * 1000);
    assert_int_equal(lateness_quantile(&l, 0.99), LATENESS_MAX_MS);
    assert_int_equal(l.max_us, (int64_t)(LATENESS_MAX_MS + 5000) * 1000);
}

/* A bucket holds more than 2^32 polls (five days of 10 000 on-time
 * polls a second) without wrapping. */
static void
test_bucket_past_32_bits(void **state)
{
    (void)state;
    static lateness_t l;
    lateness_init(&l);
    l.buckets[0] = UINT32_MAX;
    l.count = UINT32_MAX;
    lateness_record(&l, 0);
    lateness_record(&l, 3000000);
    assert_true(l.buckets[0] == (uint64_t)UINT32_MAX + 1);
    assert_int_equal(lateness_quantile(&l, 0.5), 0);
    assert_int_equal(lateness_quantile(&l, 1.0), 3000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_overflow_bucket),
        cmocka_unit_test(test_bucket_past_32_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
