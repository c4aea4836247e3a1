/*
 * test_worker_adapter_url - the checks on provider-given ids and output
 * URLs (adapter_url) and the result helpers built on them
 * (adapter_result_id, adapter_result_output): what passes, what is
 * refused and why, and the exact percent-encoding of an id.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "adapter.h"
#include "adapter_url.h"

#define ESC_MAX (ADAPTER_TASK_MAX * 3)

/* A string of n copies of c after prefix, in buf (len bytes). */
static const char *
s_fill(char *buf, size_t len, const char *prefix, char c, size_t n)
{
    size_t p = strlen(prefix);
    assert_true(p + n < len);
    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    buf[p + n] = '\0';
    return buf;
}

static void
test_id_check(void **state)
{
    char buf[ADAPTER_ID_MAX + 8];
    (void)state;
    static const char *const good[] = {
        "kl123",
        "cgt-20250101-x",
        "../../../admin?x=1",
        "a#b",
        "100%",
        "@evil.example:80",
        "!$&'()*+,;=~",
        "...",
        ".a",
        "a.",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (adapter_url_id_check(good[i]) != NULL)
            fail_msg("'%s' refused: %s", good[i],
                     adapter_url_id_check(good[i]));
    assert_null(
        adapter_url_id_check(s_fill(buf, sizeof buf, "", 'a', ADAPTER_ID_MAX)));

    static const struct {
        const char *id;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {".", "a dot segment"},
        {"..", "a dot segment"},
        {"a b", "not printable ASCII"},
        {"a\r\nX-Evil: 1", "not printable ASCII"},
        {"a\tb", "not printable ASCII"},
        {"a\x7f", "not printable ASCII"},
        {"caf\xc3\xa9", "not printable ASCII"}, /* UTF-8 but not ASCII */
        {"\xff\xfe", "not printable ASCII"},    /* not UTF-8 at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = adapter_url_id_check(bad[i].id);
        assert_non_null(why);
        assert_string_equal(why, bad[i].why);
    }
    assert_string_equal(adapter_url_id_check(NULL), "empty");
    assert_string_equal(adapter_url_id_check(s_fill(buf, sizeof buf, "", 'a',
                                                    ADAPTER_ID_MAX + 1)),
                        "too long");
}

static void
test_escape(void **state)
{
    char esc[ESC_MAX], buf[ADAPTER_ID_MAX + 8];
    (void)state;
    static const struct {
        const char *id;
        const char *want;
    } cases[] = {
        {"kl123", "kl123"},
        {"a-b_c.d~e", "a-b_c.d~e"},
        {"../../../admin?x=1", "..%2F..%2F..%2Fadmin%3Fx%3D1"},
        {"a#frag", "a%23frag"},
        {"100%25", "100%2525"},
        {"a&task_id=b", "a%26task_id%3Db"},
        {"@evil.example:80", "%40evil.example%3A80"},
        {"a+b", "a%2Bb"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(adapter_url_escape(esc, sizeof esc, cases[i].id), 0);
        assert_string_equal(esc, cases[i].want);
    }
    /* Refused ids are never encoded, whatever they hold. */
    static const char *const bad[] = {"", ".", "..", "a b", "a\r\nb", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(adapter_url_escape(esc, sizeof esc, bad[i]), -1);
    assert_int_equal(adapter_url_escape(esc, sizeof esc, NULL), -1);
    assert_int_equal(adapter_url_escape(
                         esc, sizeof esc,
                         s_fill(buf, sizeof buf, "", 'a', ADAPTER_ID_MAX + 1)),
                     -1);
    /* The longest id whose every byte needs encoding fits ESC_MAX. */
    assert_int_equal(
        adapter_url_escape(esc, sizeof esc,
                           s_fill(buf, sizeof buf, "", '/', ADAPTER_ID_MAX)),
        0);
    assert_int_equal(strlen(esc), 3 * ADAPTER_ID_MAX);
    /* A result that does not fit is refused, not cut. */
    assert_int_equal(adapter_url_escape(esc, 5, "a/b"), -1);
    assert_int_equal(adapter_url_escape(esc, 5, "abcde"), -1);
    assert_int_equal(adapter_url_escape(esc, 5, "abcd"), 0);
}

static void
test_output_check_accepts(void **state)
{
    char buf[ADAPTER_OUTPUT_URL_MAX + 64];
    (void)state;
    static const char *const good[] = {
        "https://cdn.example.com/out/v.mp4",
        "http://127.0.0.1:8090/output/kl1.mp4",
        "HTTPS://CDN.example.com/v.mp4",
        "https://cdn.example.com/v.mp4?X-Amz-Signature=ab%2Fcd&e=1#t=2",
        "https://[::1]:8443/v.mp4",
        "https://cdn.example.com",
        "https://s3.example.com/b/k!$&'()*+,;=:@x.mp4",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (adapter_url_output_check(good[i]) != NULL)
            fail_msg("'%s' refused: %s", good[i],
                     adapter_url_output_check(good[i]));
    /* The bound is ADAPTER_OUTPUT_URL_MAX bytes, inclusive. */
    const char *prefix = "https://cdn.example.com/";
    s_fill(buf, sizeof buf, prefix, 'a',
           ADAPTER_OUTPUT_URL_MAX - strlen(prefix));
    assert_int_equal(strlen(buf), ADAPTER_OUTPUT_URL_MAX);
    assert_null(adapter_url_output_check(buf));
}

static void
test_output_check_refuses(void **state)
{
    char buf[ADAPTER_OUTPUT_URL_MAX + 64];
    (void)state;
    static const struct {
        const char *url;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {"javascript:alert(1)", "not an absolute http or https URL"},
        {"JavaScript:alert(document.cookie)//https://cdn.example.com/",
         "not an absolute http or https URL"},
        {"data:text/html;base64,PHNjcmlwdD4=",
         "not an absolute http or https URL"},
        {"file:///etc/passwd", "not an absolute http or https URL"},
        {"ftp://cdn.example.com/v.mp4", "not an absolute http or https URL"},
        {"/output/v.mp4", "not an absolute http or https URL"},
        {"v.mp4", "not an absolute http or https URL"},
        {"//evil.example/v.mp4", "not an absolute http or https URL"},
        {"http:evil.example/v.mp4", "not an absolute http or https URL"},
        {"https://user:pass@cdn.example.com/v.mp4",
         "credentials (userinfo) in the URL"},
        {"https://user@cdn.example.com/v.mp4",
         "credentials (userinfo) in the URL"},
        {"https://@cdn.example.com/v.mp4", "credentials (userinfo) in the URL"},
        {"https:///v.mp4", "no host"},
        {"https://", "no host"},
        {"https://cdn.example.com:99999/v.mp4", "not a URL libcurl parses"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = adapter_url_output_check(bad[i].url);
        if (why == NULL || strcmp(why, bad[i].why) != 0)
            fail_msg("'%s': got '%s', want '%s'", bad[i].url,
                     why ? why : "(accepted)", bad[i].why);
    }
    static const char *const chars[] = {
        "https://cdn.example.com/v.mp4\r\nX-Injected: 1",
        "https://cdn.example.com/v.mp4\n",
        "https://cdn.example.com/a b.mp4",
        " https://cdn.example.com/v.mp4",
        "https://cdn.example.com/v.mp4\t",
        "https://cdn.example.com/\x7f",
        "https://cdn.example.com/caf\xc3\xa9.mp4",
        "https://cdn.example.com/\xff.mp4",
        "https://cdn.example.com/v.mp4?<script>alert(1)</script>",
        "https://cdn.example.com/\"onmouseover=\"x",
        "https://cdn.example.com\\@evil.example/",
        "https://cdn.example.com/{x}|^`",
    };
    for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
        const char *why = adapter_url_output_check(chars[i]);
        assert_non_null(why);
        assert_non_null(strstr(why, "a character a URL may not hold"));
    }
    assert_string_equal(adapter_url_output_check("https://x.example/%zz"),
                        "a '%' that starts no %XX escape");
    assert_string_equal(adapter_url_output_check("https://x.example/%4"),
                        "a '%' that starts no %XX escape");
    assert_string_equal(adapter_url_output_check(NULL), "empty");
    s_fill(buf, sizeof buf, "https://cdn.example.com/", 'a',
           ADAPTER_OUTPUT_URL_MAX);
    assert_string_equal(adapter_url_output_check(buf), "too long");
}

static void
test_result_id(void **state)
{
    adapter_result_t out;
    char buf[ADAPTER_ID_MAX + 8], small[4];
    (void)state;
    memset(&out, 0, sizeof out);
    assert_int_equal(adapter_result_id(&out, out.task_id, sizeof out.task_id,
                                       "../x?y", "Kling", "task_id"),
                     0);
    assert_string_equal(out.task_id, "../x?y");
    assert_int_equal(out.state, ADAPTER_QUEUED); /* untouched */
    assert_int_equal(out.error, ADAPTER_ERR_NONE);

    memset(&out, 0, sizeof out);
    assert_int_equal(adapter_result_id(&out, out.task_id, sizeof out.task_id,
                                       "a\r\nb", "Kling", "task_id"),
                     -1);
    assert_int_equal(out.state, ADAPTER_ERROR);
    assert_int_equal(out.error, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "bad_task_id");
    assert_string_equal(out.message,
                        "Kling task_id refused: not printable ASCII");
    assert_string_equal(out.task_id, "");

    memset(&out, 0, sizeof out);
    s_fill(buf, sizeof buf, "", 'a', ADAPTER_ID_MAX + 1);
    assert_int_equal(adapter_result_id(&out, out.task_id, sizeof out.task_id,
                                       buf, "Ark", "id"),
                     -1);
    assert_string_equal(out.message, "Ark id refused: too long");
    assert_string_equal(out.task_id, "");
    /* An id that passes but does not fit dst is refused, not cut. */
    memset(&out, 0, sizeof out);
    assert_int_equal(adapter_result_id(&out, small, sizeof small, "abcd",
                                       "MiniMax", "file_id"),
                     -1);
    assert_string_equal(out.code, "bad_task_id");
}

static void
test_result_output(void **state)
{
    adapter_result_t out;
    (void)state;
    memset(&out, 0, sizeof out);
    assert_int_equal(
        adapter_result_output(&out, "https://cdn.example/v.mp4", "Runway"), 0);
    assert_int_equal(out.state, ADAPTER_SUCCEEDED);
    assert_string_equal(out.output_url, "https://cdn.example/v.mp4");

    memset(&out, 0, sizeof out);
    assert_int_equal(
        adapter_result_output(&out, "javascript:alert(1)", "Runway"), -1);
    assert_int_equal(out.state, ADAPTER_ERROR);
    assert_int_equal(out.error, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "bad_output_url");
    assert_string_equal(out.message, "Runway output URL refused: not an "
                                     "absolute http or https URL");
    assert_string_equal(out.output_url, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_check),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_output_check_accepts),
        cmocka_unit_test(test_output_check_refuses),
        cmocka_unit_test(test_result_id),
        cmocka_unit_test(test_result_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
