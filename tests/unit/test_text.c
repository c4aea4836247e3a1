/*
 * test_text - outside bytes made safe to show: valid UTF-8 kept, invalid
 * bytes, overlongs, surrogates and control characters escaped, the copy
 * cut on a character boundary, and a truncated format's broken tail
 * dropped.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "rl_text.h"

static size_t
s_safe(char *dst, size_t cap, const char *src, bool *cut)
{
    return rl_text_safe(dst, cap, src, strlen(src), false, cut);
}

static void
test_valid_kept(void **state)
{
    char out[64];
    bool cut = true;

    (void)state;
    assert_int_equal(s_safe(out, sizeof out,
                            "caf\xC3\xA9 \xE2\x82\xAC "
                            "\xF0\x9F\x8E\xAC",
                            &cut),
                     14);
    assert_string_equal(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xAC");
    assert_false(cut);
    assert_true(rl_text_is_utf8(out, strlen(out)));
}

static void
test_invalid_escaped(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"/\xFF", "/\\xFF"},                          /* never valid */
        {"a\x80z", "a\\x80z"},                        /* lone continuation */
        {"\xC0\xAF", "\\xC0\\xAF"},                   /* overlong '/' */
        {"\xE0\x80\xAF", "\\xE0\\x80\\xAF"},          /* overlong, 3 bytes */
        {"\xED\xA0\x80", "\\xED\\xA0\\x80"},          /* UTF-16 surrogate */
        {"\xF4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"}, /* > U+10FFFF */
        {"\xC3", "\\xC3"},                            /* cut at the end */
        {"\xE2\x82z", "\\xE2\\x82z"},                 /* cut in the middle */
        {"a\nb\r\tc\x7F", "a\\x0Ab\\x0D\\x09c\\x7F"}, /* controls */
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        s_safe(out, sizeof out, cases[i].in, NULL);
        assert_string_equal(out, cases[i].out);
        assert_true(rl_text_is_utf8(out, strlen(out)));
    }
}

static void
test_nul_escaped(void **state)
{
    char out[16];

    (void)state;
    rl_text_safe(out, sizeof out, "a\0b", 3, false, NULL);
    assert_string_equal(out, "a\\x00b");
    assert_false(rl_text_is_utf8("a\0b", 3));
}

static void
test_cut_on_boundary(void **state)
{
    char out[6];
    bool cut = false;

    (void)state;
    /* "ab" + a 4-byte character does not fit in 5 bytes + NUL... */
    assert_int_equal(s_safe(out, sizeof out, "abc\xF0\x9F\x8E\xAC", &cut), 3);
    assert_string_equal(out, "abc");
    assert_true(cut);
    /* ... nor does an escape cut in two. */
    assert_int_equal(s_safe(out, sizeof out, "abc\xFF", &cut), 3);
    assert_true(cut);
    assert_int_equal(s_safe(out, sizeof out, "abcde", &cut), 5);
    assert_false(cut);
    assert_int_equal(s_safe(out, 1, "abc", &cut), 0);
    assert_string_equal(out, "");
}

static void
test_partial_tail_dropped(void **state)
{
    char out[16];
    bool cut = true;

    (void)state;
    /* A format cut inside a character: the stub is dropped, not shown. */
    rl_text_safe(out, sizeof out, "ab\xE2\x82", 4, true, &cut);
    assert_string_equal(out, "ab");
    assert_false(cut);
    /* A byte that could never start a character is still escaped. */
    rl_text_safe(out, sizeof out, "ab\xFF", 3, true, NULL);
    assert_string_equal(out, "ab\\xFF");
}

/* Whatever the bytes, jansson takes the result: the property every
 * caller relies on to render an error. */
static void
test_jansson_takes_every_output(void **state)
{
    char in[4], out[32];

    (void)state;
    for (unsigned v = 0; v < 1u << 16; v++) {
        in[0] = (char)(v & 0xFF);
        in[1] = (char)(v >> 8);
        in[2] = (char)0x80;
        in[3] = (char)(v ^ 0xA5);
        rl_text_safe(out, sizeof out, in, sizeof in, false, NULL);
        json_t *s = json_string(out);
        assert_non_null(s);
        json_decref(s);
    }
}

static void
test_utf8_char(void **state)
{
    (void)state;
    assert_int_equal(rl_text_utf8_char((const unsigned char *)"a", 1), 1);
    assert_int_equal(rl_text_utf8_char((const unsigned char *)"\xC3\xA9", 2),
                     2);
    assert_int_equal(rl_text_utf8_char((const unsigned char *)"\xC3\xA9", 1),
                     0);
    assert_int_equal(
        rl_text_utf8_char((const unsigned char *)"\xEF\xBF\xBF", 3), 3);
    assert_int_equal(rl_text_utf8_char((const unsigned char *)"", 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_kept),
        cmocka_unit_test(test_invalid_escaped),
        cmocka_unit_test(test_nul_escaped),
        cmocka_unit_test(test_cut_on_boundary),
        cmocka_unit_test(test_partial_tail_dropped),
        cmocka_unit_test(test_jansson_takes_every_output),
        cmocka_unit_test(test_utf8_char),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
