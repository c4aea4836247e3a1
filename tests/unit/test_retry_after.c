/*
 * test_retry_after - the Retry-After parser: delta-seconds, the three
 * HTTP-date forms, blanks, bounds, and what it refuses.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rl_retry_after.h"

#define S_HOUR_MS (3600L * 1000)

/* Tue, 10 Mar 2026 14:23:01 GMT */
static const int64_t s_now = 1773152581000LL;

static long
s_parse(const char *v)
{
    return rl_retry_after_ms(v, s_now, S_HOUR_MS);
}

static void
test_delta_seconds(void **state)
{
    (void)state;
    assert_int_equal(s_parse("0"), 0);
    assert_int_equal(s_parse("7"), 7000);
    assert_int_equal(s_parse(" 7 "), 7000);
    assert_int_equal(s_parse("\t12\t"), 12000);
    assert_int_equal(s_parse("007"), 7000);
    assert_int_equal(s_parse("3600"), S_HOUR_MS);
    /* Bounded: too long for any integer, or beyond the cap. */
    assert_int_equal(s_parse("3601"), S_HOUR_MS);
    assert_int_equal(s_parse("99999999999999999999999"), S_HOUR_MS);
    assert_int_equal(s_parse("9223372036854775807"), S_HOUR_MS);
    assert_int_equal(rl_retry_after_ms("5", s_now, 2000), 2000);
    assert_int_equal(rl_retry_after_ms("5", s_now, 0), 0);
}

static void
test_http_dates(void **state)
{
    (void)state;
    /* The three forms RFC 9110 says a recipient must accept, two
     * minutes ahead. */
    assert_int_equal(s_parse("Tue, 10 Mar 2026 14:25:01 GMT"), 120000);
    assert_int_equal(s_parse("Tuesday, 10-Mar-26 14:25:01 GMT"), 120000);
    assert_int_equal(s_parse("Tue Mar 10 14:25:01 2026"), 120000);
    assert_int_equal(s_parse("Tue Mar  1 14:25:01 2026"), 0);
    assert_int_equal(s_parse("  Tue, 10 Mar 2026 14:25:01 GMT "), 120000);
    /* In the past: no wait. */
    assert_int_equal(s_parse("Tue, 10 Mar 2026 14:22:01 GMT"), 0);
    assert_int_equal(s_parse("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    /* Far ahead: the cap. */
    assert_int_equal(s_parse("Tue, 10 Mar 2026 16:23:01 GMT"), S_HOUR_MS);
    assert_int_equal(s_parse("Fri, 31 Dec 9999 23:59:59 GMT"), S_HOUR_MS);
}

static void
test_refused(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "soon",
        "-5",
        "+5",
        "5s",
        "5 s",
        "1 2",
        "0x10",
        "1.5",
        "Tue, 10 Mar 2026 14:25:01 GMT junk",
        "Tue, 10 Mar 2026 14:25:01",       /* no zone */
        "Tue, 10 Mar 2026 14:25:01 +0100", /* not GMT */
        "10 Mar 2026 14:25:01 GMT",        /* no weekday */
        "2026-03-10T14:25:01Z",            /* ISO 8601 */
        "Tue, 1 Mar 2026 14:25:01 GMT",    /* day not two digits */
        "Xyz, 10 Foo 2026 14:25:01 GMT",   /* no such names */
        "Tue, 10 Mar 2026 14:25:01 GMT\r\nX: y",
    };

    (void)state;
    assert_int_equal(rl_retry_after_ms(NULL, s_now, S_HOUR_MS), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (s_parse(bad[i]) != -1)
            fail_msg("'%s' read as %ld ms", bad[i], s_parse(bad[i]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_seconds),
        cmocka_unit_test(test_http_dates),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
