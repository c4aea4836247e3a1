/*
 * test_date - rl_date: the three accepted forms, every bound of every
 * field (February 29 in leap years only), what is refused, and days
 * formatted back.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rl_date.h"

static int64_t
s_ms(const char *s)
{
    int64_t ms = -7;
    if (rl_date_parse(s, &ms) != 0)
        fail_msg("'%s' refused", s);
    return ms;
}

static void
test_parse_forms(void **state)
{
    (void)state;
    assert_int_equal(s_ms("1970-01-01"), 0);
    assert_int_equal(s_ms("1970-01-02"), RL_DATE_DAY_MS);
    assert_int_equal(s_ms("2024-02-29"), 1709164800000LL);
    assert_int_equal(s_ms("2000-03-01"), 951868800000LL);
    assert_int_equal(s_ms("2024-02-29T12:34:56Z"), 1709210096000LL);
    assert_int_equal(s_ms("2024-02-29T12:34:56.789Z"), 1709210096789LL);
    assert_int_equal(s_ms("1970-01-01T00:00:00.001Z"), 1);
    assert_int_equal(s_ms("9999-12-31T23:59:59.999Z"), 253402300799999LL);
}

static void
test_parse_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2024",
        "2024-2-01",
        "2024-02-1",
        "24-02-01",
        "2024/02/01",
        "2024-02-30",
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-04-31",
        "1969-12-31",
        "10000-01-01",
        " 2024-01-01",
        "2024-01-01 ",
        "2024-01-01T",
        "2024-01-01T10:00:00",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-01-01T23:59:60Z",
        "2024-01-01T23:59:59.5Z",
        "2024-01-01T23:59:59.1234Z",
        "2024-01-01T23:59:59+01:00",
        "2024-01-01t10:00:00z",
        "+024-01-01",
        "2024-01-01T1:00:00Z",
        "2024-01-01T10:00:00.abcZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = -7;
        if (rl_date_parse(bad[i], &ms) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(ms, -7);
    }
    int64_t ms;
    assert_int_equal(rl_date_parse(NULL, &ms), -1);
}

static void
test_day(void **state)
{
    (void)state;
    char day[RL_DATE_DAY_LEN];
    assert_int_equal(rl_date_day(0, day), 0);
    assert_string_equal(day, "1970-01-01");
    assert_int_equal(rl_date_day(1709210096789LL, day), 0);
    assert_string_equal(day, "2024-02-29");
    assert_int_equal(rl_date_day(253402300799999LL, day), 0);
    assert_string_equal(day, "9999-12-31");
    assert_int_equal(rl_date_day(253402300800000LL, day), -1);
    assert_string_equal(day, "");
    assert_int_equal(rl_date_day(-1, day), -1);
    /* Every day of a leap year and a plain one comes back as it went. */
    for (int64_t d = s_ms("2023-01-01") / RL_DATE_DAY_MS;
         d < s_ms("2025-01-01") / RL_DATE_DAY_MS; d++) {
        assert_int_equal(rl_date_day(d * RL_DATE_DAY_MS + 1234, day), 0);
        assert_int_equal(s_ms(day), d * RL_DATE_DAY_MS);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
