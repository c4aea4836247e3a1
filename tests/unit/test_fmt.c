/*
 * test_fmt - bounded formatting: a text that fits, one that does not
 * (an error, and an empty buffer), a message cut visibly and never
 * inside a UTF-8 character, and integers in decimal at their extremes.
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_fmt.h"
#include "rl_text.h"

static void
test_fits_or_fails(void **state)
{
    char buf[8];
    (void)state;
    assert_int_equal(rl_fmt(buf, sizeof buf, "%s-%d", "ab", 42), 0);
    assert_string_equal(buf, "ab-42");
    assert_int_equal(rl_fmt(buf, sizeof buf, "%s", "1234567"), 0);
    assert_string_equal(buf, "1234567");
    assert_int_equal(rl_fmt(buf, sizeof buf, "%s", "12345678"), -1);
    assert_string_equal(buf, "");
    assert_int_equal(rl_fmt(buf, 1, "%s", ""), 0);
    assert_int_equal(rl_fmt(buf, 1, "x"), -1);
}

static void
test_message_cut_visibly(void **state)
{
    char buf[12];
    (void)state;
    rl_fmt_msg(buf, sizeof buf, "short");
    assert_string_equal(buf, "short");
    rl_fmt_msg(buf, sizeof buf, "%s", "exactly 11!");
    assert_string_equal(buf, "exactly 11!");
    rl_fmt_msg(buf, sizeof buf, "%s", "a message far too long");
    assert_string_equal(buf, "a messag...");
    /* Too small for the mark: cut as it falls. */
    rl_fmt_msg(buf, 3, "%s", "abcdef");
    assert_string_equal(buf, "ab");
}

static void
test_message_cut_between_characters(void **state)
{
    char buf[12];
    (void)state;
    /* The mark would start at byte 8, inside the e-acute (bytes 7-8),
     * which goes with the cut. */
    rl_fmt_msg(buf, sizeof buf, "%s", "abcdefg\xC3\xA9xyz!");
    assert_string_equal(buf, "abcdefg...");
    assert_true(rl_text_is_utf8(buf, strlen(buf)));
    /* "ab" and four euro signs (3 bytes each): the mark starts inside
     * the third, which goes. */
    rl_fmt_msg(buf, sizeof buf, "ab%s%s", "\xE2\x82\xAC\xE2\x82\xAC",
               "\xE2\x82\xAC\xE2\x82\xAC");
    assert_string_equal(buf, "ab\xE2\x82\xAC\xE2\x82\xAC...");
    assert_true(rl_text_is_utf8(buf, strlen(buf)));
}

static void
test_decimal(void **state)
{
    char out[RL_FMT_DEC_LEN];
    (void)state;
    assert_string_equal(rl_fmt_dec(out, 0), "0");
    assert_string_equal(rl_fmt_dec(out, -42), "-42");
    assert_string_equal(rl_fmt_dec(out, LLONG_MAX), "9223372036854775807");
    assert_string_equal(rl_fmt_dec(out, LLONG_MIN), "-9223372036854775808");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits_or_fails),
        cmocka_unit_test(test_message_cut_visibly),
        cmocka_unit_test(test_message_cut_between_characters),
        cmocka_unit_test(test_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
