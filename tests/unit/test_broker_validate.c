/*
 * test_broker_validate - validate_submission against a small catalog
 * (every field, every error code and param, UTF-8 prompt lengths, the
 * duration forms), validate_duration, validate_http_url,
 * submission_release, and the api_error JSON shape. Run under ASan, the
 * error paths also prove that a failed validation frees what it took.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api_error.h"
#include "rl_config.h"
#include "rl_fmt.h"
#include "validate.h"

#define ERR_LEN 512
#define MAX_PROMPT 50 /* [jobs] max_prompt_len below */

static const char s_ini[] = "[provider.p]\n"
                            "type = kling\n"
                            "base_url = http://x\n"
                            "[model.a]\n"
                            "provider = p\n"
                            "prices = 5s:3,10s:6\n"
                            "failover = b\n"
                            "[model.b]\n"
                            "provider = p\n"
                            "prices = 5s:2\n"
                            "[jobs]\n"
                            "max_prompt_len = 50\n"
                            "aspect_ratios = 16:9,1:1\n";

/* Loads s_ini from a temp file into *state. */
static int
s_setup(void **state)
{
    char path[] = "/tmp/test_broker_validate_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(s_ini);
    ssize_t n = write(fd, s_ini, len);
    close(fd);
    char err[ERR_LEN] = "";
    rl_config_t *cfg =
        n == (ssize_t)len ? rl_config_load(path, err, sizeof err) : NULL;
    unlink(path);
    if (cfg == NULL) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    *state = cfg;
    return 0;
}

static int
s_teardown(void **state)
{
    rl_config_t *cfg = *state;
    rl_config_destroy(&cfg);
    return 0;
}

/* Validates a NUL-terminated body. */
static int
s_validate(void **state, const char *body, submission_t *s, api_error_t *e)
{
    memset(e, 0, sizeof *e);
    return validate_submission(*state, body, strlen(body), s, e);
}

/* Asserts that body fails with a 400 invalid_request_error of `code` on
 * `param` (NULL: none), and that the submission is left empty. */
static void
s_expect_error(void **state, const char *body, const char *code,
               const char *param)
{
    submission_t s;
    api_error_t e;
    if (s_validate(state, body, &s, &e) != -1)
        fail_msg("accepted: %s", body);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "invalid_request_error");
    assert_string_equal(e.code, code);
    if (param == NULL)
        assert_null(e.param);
    else
        assert_string_equal(e.param, param);
    assert_true(e.message[0] != '\0');
    assert_null(s.model);
    assert_null(s.prompt);
    assert_null(s.webhook_url);
    assert_null(s.negative_prompt);
    assert_null(s.image_url);
}

/* A body with model "a", prompt "p" and one more member `extra` (a JSON
 * member text such as "\"duration\":5"). */
static void
s_expect_field_error(void **state, const char *extra, const char *code,
                     const char *param)
{
    char body[4096];
    int n = snprintf(body, sizeof body, "{\"model\":\"a\",\"prompt\":\"p\",%s}",
                     extra);
    assert_true(n > 0 && (size_t)n < sizeof body);
    s_expect_error(state, body, code, param);
}

/* Validates a body of model "a", prompt "p" and `extra`; returns 0/-1. */
static int
s_validate_with(void **state, const char *extra, submission_t *s,
                api_error_t *e)
{
    char body[4096];
    int n = snprintf(body, sizeof body, "{\"model\":\"a\",\"prompt\":\"p\",%s}",
                     extra);
    assert_true(n > 0 && (size_t)n < sizeof body);
    return s_validate(state, body, s, e);
}

static void
test_valid_full(void **state)
{
    const rl_config_t *cfg = *state;
    submission_t s;
    api_error_t e;
    const char *body = "{\"model\":\"a\",\"prompt\":\"a red fox in snow\","
                       "\"duration\":\"10s\",\"aspect_ratio\":\"1:1\","
                       "\"webhook_url\":\"https://hooks.example.com/rl?x=1\","
                       "\"negative_prompt\":\"blurry\","
                       "\"image_url\":\"http://img.example.com:8080/a.png\"}";
    assert_int_equal(s_validate(state, body, &s, &e), 0);
    assert_ptr_equal(s.model, rl_config_model(cfg, "a"));
    assert_string_equal(s.model->name, "a");
    assert_string_equal(s.prompt, "a red fox in snow");
    assert_int_equal(s.duration_s, 10);
    assert_int_equal(s.price, 6);
    assert_string_equal(s.aspect_ratio, "1:1");
    assert_ptr_equal(s.aspect_ratio, cfg->aspect_ratios[1]); /* borrowed */
    assert_string_equal(s.webhook_url, "https://hooks.example.com/rl?x=1");
    assert_string_equal(s.negative_prompt, "blurry");
    assert_string_equal(s.image_url, "http://img.example.com:8080/a.png");
    submission_release(&s);
    assert_null(s.prompt);
    assert_null(s.model);
}

static void
test_valid_minimal_defaults(void **state)
{
    const rl_config_t *cfg = *state;
    submission_t s;
    api_error_t e;
    assert_int_equal(
        s_validate(state, "{\"model\":\"b\",\"prompt\":\"x\"}", &s, &e), 0);
    assert_string_equal(s.model->name, "b");
    assert_int_equal(s.duration_s, 5); /* the default duration */
    assert_int_equal(s.price, 2);
    assert_ptr_equal(s.aspect_ratio, cfg->aspect_ratios[0]); /* first one */
    assert_string_equal(s.aspect_ratio, "16:9");
    assert_null(s.webhook_url);
    assert_null(s.negative_prompt);
    assert_null(s.image_url);
    submission_release(&s);
    /* null optional members are the same as absent ones */
    assert_int_equal(s_validate_with(state,
                                     "\"aspect_ratio\":null,"
                                     "\"webhook_url\":null,"
                                     "\"negative_prompt\":null,"
                                     "\"image_url\":null",
                                     &s, &e),
                     0);
    assert_string_equal(s.aspect_ratio, "16:9");
    assert_null(s.webhook_url);
    assert_null(s.image_url);
    assert_null(s.negative_prompt);
    submission_release(&s);
}

static void
test_duration_forms(void **state)
{
    static const char *const forms[] = {
        "\"duration\":\"5s\"", "\"duration\":\"5\"", "\"duration\":5", NULL};
    submission_t s;
    api_error_t e;
    for (size_t i = 0; forms[i] != NULL; i++) {
        assert_int_equal(s_validate_with(state, forms[i], &s, &e), 0);
        assert_int_equal(s.duration_s, 5);
        assert_int_equal(s.price, 3);
        submission_release(&s);
    }
    assert_int_equal(s_validate_with(state, "\"duration\":10", &s, &e), 0);
    assert_int_equal(s.duration_s, 10);
    assert_int_equal(s.price, 6);
    submission_release(&s);
}

static void
test_bad_durations(void **state)
{
    static const char *const bad[] = {
        "\"duration\":\"7s\"",
        "\"duration\":\"0\"",
        "\"duration\":-5",
        "\"duration\":5.5",
        "\"duration\":\"5x\"",
        "\"duration\":\"s5\"",
        "\"duration\":3601",
        "\"duration\":true",
        "\"duration\":\"\"",
        "\"duration\":\" 5\"",
        "\"duration\":\"-5\"",
        "\"duration\":\"5ss\"",
        "\"duration\":null",
        "\"duration\":[5]",
        "\"duration\":\"99999999999999999999\"",
        NULL,
    };
    for (size_t i = 0; bad[i] != NULL; i++)
        s_expect_field_error(state, bad[i], "invalid_duration", "duration");
    /* Priced for "a" but not for "b"; the message lists what is. */
    s_expect_error(state, "{\"model\":\"b\",\"prompt\":\"p\",\"duration\":10}",
                   "invalid_duration", "duration");
    submission_t s;
    api_error_t e;
    assert_int_equal(s_validate_with(state, "\"duration\":\"7s\"", &s, &e), -1);
    assert_non_null(strstr(e.message, "\"5s\", \"10s\""));
    assert_non_null(strstr(e.message, "'a'"));
}

static void
test_validate_duration(void **state)
{
    (void)state;
    struct {
        json_t *v;
        int want;
    } cases[] = {
        {json_string("5s"), 5},    {json_string("5"), 5},
        {json_integer(5), 5},      {json_string("3600s"), 3600},
        {json_integer(1), 1},      {json_integer(3600), 3600},
        {json_integer(3601), -1},  {json_integer(0), -1},
        {json_integer(-5), -1},    {json_string("0"), -1},
        {json_string("3601"), -1}, {json_real(5.5), -1},
        {json_real(5.0), -1},      {json_string("5x"), -1},
        {json_string("s5"), -1},   {json_string(""), -1},
        {json_true(), -1},         {json_null(), -1},
        {json_string("5 "), -1},   {json_string("+5"), -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (validate_duration(cases[i].v) != cases[i].want)
            fail_msg("case %zu: want %d", i, cases[i].want);
        json_decref(cases[i].v);
    }
}

static void
test_malformed_body(void **state)
{
    s_expect_error(state, "{", "malformed_json", NULL);
    s_expect_error(state, "", "malformed_json", NULL);
    s_expect_error(state, "not json", "malformed_json", NULL);
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":\"p\"} trailing",
                   "malformed_json", NULL);
    s_expect_error(state, "[1,2]", "malformed_json", NULL);
    s_expect_error(state, "\"a string\"", "malformed_json", NULL);
    s_expect_error(state, "42", "malformed_json", NULL);
    s_expect_error(state, "null", "malformed_json", NULL);
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":\"p\",\"model\":\"b\"}",
                   "malformed_json", NULL);
    /* Invalid UTF-8 is malformed JSON. */
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":\"\xff\xfe\"}",
                   "malformed_json", NULL);
    /* Only len bytes are read: the object below is cut short. */
    submission_t s;
    api_error_t e;
    const char *body = "{\"model\":\"a\",\"prompt\":\"p\"}";
    assert_int_equal(
        validate_submission(*state, body, strlen(body) - 1, &s, &e), -1);
    assert_string_equal(e.code, "malformed_json");
    /* ... and a body need not be NUL-terminated. */
    char raw[64];
    memcpy(raw, body, strlen(body));
    memset(raw + strlen(body), '}', sizeof raw - strlen(body));
    assert_int_equal(validate_submission(*state, raw, strlen(body), &s, &e), 0);
    submission_release(&s);
}

static void
test_unknown_field(void **state)
{
    s_expect_field_error(state, "\"colour\":\"red\"", "unknown_field",
                         "colour");
    submission_t s;
    api_error_t e;
    assert_int_equal(s_validate_with(state, "\"Model\":\"a\"", &s, &e), -1);
    assert_string_equal(e.code, "unknown_field");
    assert_non_null(strstr(e.message, "'Model'"));
}

static void
test_prompt_errors(void **state)
{
    s_expect_error(state, "{\"model\":\"a\"}", "missing_prompt", "prompt");
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":\"\"}", "missing_prompt",
                   "prompt");
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":42}", "missing_prompt",
                   "prompt");
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":null}", "missing_prompt",
                   "prompt");
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":[\"p\"]}",
                   "missing_prompt", "prompt");
    /* An escaped NUL never reaches the prompt check: jansson refuses
     * \u0000 without JSON_ALLOW_NUL, so the whole body is malformed.
     * (Loading with that flag would let a NUL cut model or URL strings
     * short, so this is the safer place to refuse it.) */
    s_expect_error(state, "{\"model\":\"a\",\"prompt\":\"a\\u0000b\"}",
                   "malformed_json", NULL);
    s_expect_error(state, "{\"model\":\"a\\u0000x\",\"prompt\":\"p\"}",
                   "malformed_json", NULL);
}

/* Builds {"model":"a","prompt":"<n copies of ch>"}. */
static char *
s_prompt_body(const char *ch, size_t n)
{
    size_t chlen = strlen(ch);
    size_t cap = 64 + n * chlen;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t at = (size_t)snprintf(body, cap, "{\"model\":\"a\",\"prompt\":\"");
    for (size_t i = 0; i < n; i++, at += chlen)
        memcpy(body + at, ch, chlen);
    snprintf(body + at, cap - at, "\"}");
    return body;
}

static void
test_prompt_length_code_points(void **state)
{
    /* ASCII, 2-byte, 3-byte and 4-byte code points: 50 pass, 51 fail. */
    static const char *const chars[] = {"x", "\xc3\xa9", "\xe6\x97\xa5",
                                        "\xf0\x9f\x8e\xac", NULL};
    for (size_t i = 0; chars[i] != NULL; i++) {
        submission_t s;
        api_error_t e;
        char *ok = s_prompt_body(chars[i], MAX_PROMPT);
        if (s_validate(state, ok, &s, &e) != 0)
            fail_msg("50 x '%s' rejected: %s", chars[i], e.message);
        assert_int_equal(strlen(s.prompt), MAX_PROMPT * strlen(chars[i]));
        submission_release(&s);
        free(ok);
        char *long_one = s_prompt_body(chars[i], MAX_PROMPT + 1);
        s_expect_error(state, long_one, "invalid_prompt", "prompt");
        free(long_one);
    }
    /* A \u escape counts as the one code point it stands for. */
    char *escaped = s_prompt_body("\\u00e9", MAX_PROMPT);
    submission_t s;
    api_error_t e;
    assert_int_equal(s_validate(state, escaped, &s, &e), 0);
    submission_release(&s);
    free(escaped);
}

static void
test_model_errors(void **state)
{
    s_expect_error(state, "{\"prompt\":\"p\"}", "missing_model", "model");
    s_expect_error(state, "{\"model\":5,\"prompt\":\"p\"}", "missing_model",
                   "model");
    s_expect_error(state, "{\"model\":null,\"prompt\":\"p\"}", "missing_model",
                   "model");
    s_expect_error(state, "{\"model\":\"zzz\",\"prompt\":\"p\"}",
                   "unknown_model", "model");
    s_expect_error(state, "{\"model\":\"\",\"prompt\":\"p\"}", "unknown_model",
                   "model");
    submission_t s;
    api_error_t e;
    assert_int_equal(
        s_validate(state, "{\"model\":\"zzz\",\"prompt\":\"p\"}", &s, &e), -1);
    assert_non_null(strstr(e.message, "'zzz'"));
}

static void
test_aspect_ratio(void **state)
{
    s_expect_field_error(state, "\"aspect_ratio\":\"4:3\"",
                         "invalid_aspect_ratio", "aspect_ratio");
    s_expect_field_error(state, "\"aspect_ratio\":\"\"", "invalid_aspect_ratio",
                         "aspect_ratio");
    s_expect_field_error(state, "\"aspect_ratio\":169", "invalid_aspect_ratio",
                         "aspect_ratio");
    submission_t s;
    api_error_t e;
    assert_int_equal(
        s_validate_with(state, "\"aspect_ratio\":\"16:9\"", &s, &e), 0);
    assert_string_equal(s.aspect_ratio, "16:9");
    submission_release(&s);
}

/* A URL of exactly len bytes: "https://h.example/" then 'a's. */
static char *
s_long_url(size_t len)
{
    static const char head[] = "https://h.example/";
    char *url = malloc(len + 1);
    assert_non_null(url);
    memcpy(url, head, sizeof head - 1);
    memset(url + sizeof head - 1, 'a', len - (sizeof head - 1));
    url[len] = '\0';
    return url;
}

static void
test_webhook_url(void **state)
{
    static const char *const bad[] = {
        "\"webhook_url\":\"ftp://x.example/h\"",
        "\"webhook_url\":\"https://user:pw@x.example/h\"",
        "\"webhook_url\":\"https://user@x.example/h\"",
        "\"webhook_url\":\"http://\"",
        "\"webhook_url\":\"http://:80/h\"",
        "\"webhook_url\":\"https://u@/h\"",
        "\"webhook_url\":\"/relative/path\"",
        "\"webhook_url\":\"x.example/h\"",
        "\"webhook_url\":\"javascript:alert(1)\"",
        NULL,
    };
    for (size_t i = 0; bad[i] != NULL; i++)
        s_expect_field_error(state, bad[i], "invalid_webhook_url",
                             "webhook_url");
    /* Not a non-empty string at all. */
    s_expect_field_error(state, "\"webhook_url\":\"\"", "invalid_field",
                         "webhook_url");
    s_expect_field_error(state, "\"webhook_url\":5", "invalid_field",
                         "webhook_url");
    submission_t s;
    api_error_t e;
    assert_int_equal(
        s_validate_with(state, "\"webhook_url\":\"https://u:p@x/h\"", &s, &e),
        -1);
    assert_string_equal(e.message, "'webhook_url' must not carry credentials");
    /* 2048 bytes pass, 2049 do not. */
    char extra[VALIDATE_MAX_URL + 64];
    char *url = s_long_url(VALIDATE_MAX_URL);
    snprintf(extra, sizeof extra, "\"webhook_url\":\"%s\"", url);
    assert_int_equal(s_validate_with(state, extra, &s, &e), 0);
    assert_string_equal(s.webhook_url, url);
    submission_release(&s);
    free(url);
    url = s_long_url(VALIDATE_MAX_URL + 1);
    snprintf(extra, sizeof extra, "\"webhook_url\":\"%s\"", url);
    s_expect_field_error(state, extra, "invalid_webhook_url", "webhook_url");
    assert_int_equal(s_validate_with(state, extra, &s, &e), -1);
    assert_string_equal(e.message, "'webhook_url' is longer than 2048 bytes");
    free(url);
}

static void
test_image_url_and_negative_prompt(void **state)
{
    s_expect_field_error(state, "\"image_url\":\"not a url\"",
                         "invalid_image_url", "image_url");
    s_expect_field_error(state, "\"image_url\":\"file:///etc/passwd\"",
                         "invalid_image_url", "image_url");
    s_expect_field_error(state, "\"image_url\":\"https://u@x.example/a.png\"",
                         "invalid_image_url", "image_url");
    s_expect_field_error(state, "\"image_url\":{}", "invalid_field",
                         "image_url");
    s_expect_field_error(state, "\"negative_prompt\":7", "invalid_field",
                         "negative_prompt");
    s_expect_field_error(state, "\"negative_prompt\":\"\"", "invalid_field",
                         "negative_prompt");
}

/* Errors after owned fields were copied: LeakSanitizer checks they are
 * freed, and the submission must come back empty. */
static void
test_late_errors_release(void **state)
{
    s_expect_field_error(state,
                         "\"webhook_url\":\"https://ok.example/h\","
                         "\"image_url\":\"ftp://bad.example/a.png\"",
                         "invalid_image_url", "image_url");
    s_expect_field_error(state,
                         "\"webhook_url\":\"https://ok.example/h\","
                         "\"image_url\":\"https://ok.example/a.png\","
                         "\"negative_prompt\":false",
                         "invalid_field", "negative_prompt");
    s_expect_field_error(state,
                         "\"webhook_url\":\"https://ok.example/h\","
                         "\"image_url\":5",
                         "invalid_field", "image_url");
    s_expect_field_error(state, "\"duration\":7", "invalid_duration",
                         "duration");
    s_expect_field_error(state, "\"aspect_ratio\":\"2:1\"",
                         "invalid_aspect_ratio", "aspect_ratio");
}

/* validate_submission_all names every invalid field, in check order
 * (under ASan: and frees what the valid-looking ones took);
 * validate_submission names the first of them. */
static void
test_all_errors(void **state)
{
    static const char body[] =
        "{\"model\":\"a\",\"prompt\":\"\",\"duration\":7,"
        "\"aspect_ratio\":\"2:1\",\"webhook_url\":\"nope\","
        "\"image_url\":\"ftp://x/a.png\",\"negative_prompt\":5}";
    static const char *const params[] = {"prompt",       "duration",
                                         "aspect_ratio", "webhook_url",
                                         "image_url",    "negative_prompt"};
    submission_t s;
    validate_errors_t errs;
    errs.n = 0;
    assert_int_equal(
        validate_submission_all(*state, body, strlen(body), &s, &errs), -1);
    assert_int_equal(errs.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(errs.items[i].status, 400);
        assert_string_equal(errs.items[i].param, params[i]);
        assert_true(errs.items[i].message[0] != '\0');
    }
    assert_null(s.model);
    assert_null(s.prompt);
    assert_null(s.webhook_url);
    assert_null(s.image_url);

    api_error_t e;
    assert_int_equal(s_validate(state, body, &s, &e), -1);
    assert_string_equal(e.code, "missing_prompt");
    assert_ptr_equal(e.param, e.param_buf); /* a copy, not a borrow */

    /* An unknown model: the duration cannot be judged, the rest can. */
    static const char unknown[] =
        "{\"model\":\"zz\",\"prompt\":\"\",\"duration\":7}";
    errs.n = 0;
    assert_int_equal(
        validate_submission_all(*state, unknown, strlen(unknown), &s, &errs),
        -1);
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.items[0].code, "unknown_model");
    assert_string_equal(errs.items[1].param, "prompt");

    /* A problem the caller added first fails a valid body too. */
    static const char valid[] = "{\"model\":\"a\",\"prompt\":\"p\"}";
    errs.n = 0;
    api_error_invalid(validate_errors_add(&errs), "invalid_x", "inputs.x",
                      "bad x");
    assert_int_equal(
        validate_submission_all(*state, valid, strlen(valid), &s, &errs), -1);
    assert_int_equal(errs.n, 1);
    assert_null(s.model);
    assert_null(s.prompt);

    /* Past the cap problems are counted, not listed. */
    errs.n = 0;
    for (int i = 0; i < VALIDATE_MAX_ERRORS + 4; i++)
        api_error_invalid(validate_errors_add(&errs), "invalid_x", "x",
                          "bad %d", i);
    assert_int_equal(
        validate_submission_all(*state, body, strlen(body), &s, &errs), -1);
    assert_int_equal(errs.n, VALIDATE_MAX_ERRORS + 4 + 6);
    assert_string_equal(errs.items[VALIDATE_MAX_ERRORS - 1].message, "bad 15");
    assert_null(s.prompt);
}

static void
test_validate_http_url(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://x",
        "https://x.example/path?q=1#f",
        "http://127.0.0.1:8099/h",
        "https://[::1]:443/h",
        NULL,
    };
    const char *why = NULL;
    for (size_t i = 0; good[i] != NULL; i++)
        if (validate_http_url(good[i], &why) != 0)
            fail_msg("rejected %s: %s", good[i], why);
    static const char *const bad[] = {
        "",   "x", "ftp://x/", "mailto:a@b.example", "http://", "//x.example/",
        NULL,
    };
    for (size_t i = 0; bad[i] != NULL; i++) {
        why = NULL;
        if (validate_http_url(bad[i], &why) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(why, "is not an absolute http(s) URL");
    }
    assert_int_equal(validate_http_url("http://a:b@x/", &why), -1);
    assert_string_equal(why, "must not carry credentials");
    assert_int_equal(validate_http_url("http://a@x/", &why), -1);
    assert_string_equal(why, "must not carry credentials");

    /* The host: at most 253 bytes (what a DNS name can be), UTF-8. */
    char url[VALIDATE_MAX_URL];
    char host[VALIDATE_MAX_HOST + 2];
    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    rl_fmt_fit(url, sizeof url, "https://%s/h", host + 1);
    assert_int_equal(validate_http_url(url, &why), 0);
    rl_fmt_fit(url, sizeof url, "https://%s/h", host);
    assert_int_equal(validate_http_url(url, &why), -1);
    assert_string_equal(why, "has a host longer than 253 bytes");
    assert_int_equal(validate_http_url("http:/\xff\xe6x/h", &why), -1);
    assert_string_equal(why, "has a host that is not valid UTF-8");
    assert_int_equal(validate_http_url("http://b\xc3\xbc"
                                       "cher.example/",
                                       &why),
                     0);
}

static void
test_submission_release(void **state)
{
    (void)state;
    submission_t s;
    memset(&s, 0, sizeof s);
    submission_release(&s); /* zeroed: nothing to free */
    s.prompt = strdup("p");
    s.webhook_url = strdup("https://x/");
    s.negative_prompt = strdup("n");
    s.image_url = strdup("https://x/a.png");
    s.duration_s = 5;
    submission_release(&s);
    assert_null(s.prompt);
    assert_null(s.webhook_url);
    assert_int_equal(s.duration_s, 0);
    submission_release(&s); /* idempotent */
}

static void
test_api_error_json(void **state)
{
    (void)state;
    api_error_t e;
    api_error_invalid(&e, "invalid_duration", "duration", "bad %s", "\"7s\"");
    assert_int_equal(e.status, 400);
    char *text = api_error_json(&e);
    assert_string_equal(text, "{\"error\":{\"type\":\"invalid_request_error\","
                              "\"code\":\"invalid_duration\","
                              "\"message\":\"bad \\\"7s\\\"\","
                              "\"param\":\"duration\"}}");
    free(text);
    api_error_set(&e, 402, "insufficient_credits", "insufficient_credits", NULL,
                  "need %d credits", 3);
    assert_int_equal(e.status, 402);
    text = api_error_json(&e);
    assert_string_equal(text, "{\"error\":{\"type\":\"insufficient_credits\","
                              "\"code\":\"insufficient_credits\","
                              "\"message\":\"need 3 credits\","
                              "\"param\":null}}");
    free(text);
    /* A long message is cut to the buffer, never overflowing it. */
    char long_msg[API_ERROR_MSG_LEN * 2];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    api_error_invalid(&e, "c", NULL, "%s", long_msg);
    assert_int_equal(strlen(e.message), API_ERROR_MSG_LEN - 1);
    text = api_error_json(&e);
    json_t *parsed = json_loads(text, 0, NULL);
    assert_non_null(parsed);
    json_t *inner = json_object_get(parsed, "error");
    assert_int_equal(json_object_size(inner), 4);
    assert_true(json_is_null(json_object_get(inner, "param")));
    json_decref(parsed);
    free(text);
}

/* An error from validate_submission renders as the API error body. */
static void
test_validation_error_json(void **state)
{
    submission_t s;
    api_error_t e;
    assert_int_equal(s_validate_with(state, "\"duration\":\"7s\"", &s, &e), -1);
    char *text = api_error_json(&e);
    json_t *parsed = json_loads(text, 0, NULL);
    assert_non_null(parsed);
    json_t *inner = json_object_get(parsed, "error");
    assert_string_equal(json_string_value(json_object_get(inner, "type")),
                        "invalid_request_error");
    assert_string_equal(json_string_value(json_object_get(inner, "code")),
                        "invalid_duration");
    assert_string_equal(json_string_value(json_object_get(inner, "param")),
                        "duration");
    assert_string_equal(json_string_value(json_object_get(inner, "message")),
                        e.message);
    json_decref(parsed);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_full),
        cmocka_unit_test(test_valid_minimal_defaults),
        cmocka_unit_test(test_duration_forms),
        cmocka_unit_test(test_bad_durations),
        cmocka_unit_test(test_validate_duration),
        cmocka_unit_test(test_malformed_body),
        cmocka_unit_test(test_prompt_errors),
        cmocka_unit_test(test_prompt_length_code_points),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_aspect_ratio),
        cmocka_unit_test(test_webhook_url),
        cmocka_unit_test(test_image_url_and_negative_prompt),
        cmocka_unit_test(test_late_errors_release),
        cmocka_unit_test(test_all_errors),
        cmocka_unit_test(test_validate_http_url),
        cmocka_unit_test(test_submission_release),
        cmocka_unit_test(test_api_error_json),
        cmocka_unit_test(test_validation_error_json),
        /* Last: under ASan it aborts while the param bug stands. */
        cmocka_unit_test(test_unknown_field),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
