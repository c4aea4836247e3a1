/*
 * test_jobview - rl_jobview: the exact webhook body of a completed and of
 * a failed job (the webhook contract's key order, ISO-8601 times, refunds, the
 * status history re-keyed), the API object of running and finished
 * jobs, malformed histories, rl_jobview_event, rl_jobview_get and the
 * number and time readers.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_jobview.h"

#define NPAIRS(kv) (sizeof(kv) / sizeof((kv)[0]) / 2)

/* 2026-03-10T14:22:40Z, +21 s, and a history stored with its keys in
 * another order than the one rendered (Lua's cjson keeps none). */
#define T_CREATED "1773152560000"
#define T_RUNNING "1773152565000"
#define T_DONE "1773152581000"
#define ISO_CREATED "2026-03-10T14:22:40Z"
#define ISO_RUNNING "2026-03-10T14:22:45Z"
#define ISO_DONE "2026-03-10T14:23:01Z"
#define HISTORY_RAW(st)                                                        \
    "[{\"at\":" T_CREATED ",\"reason\":\"submitted\",\"phase\":\"queued\","    \
    "\"status\":\"pending\"},"                                                 \
    "{\"reason\":\"claimed\",\"at\":" T_RUNNING ",\"status\":\"processing\","  \
    "\"phase\":\"rendering\"},"                                                \
    "{\"phase\":\"done\",\"status\":\"" st "\",\"at\":" T_DONE "}]"
#define HISTORY_JSON(st)                                                       \
    "[{\"status\":\"pending\",\"phase\":\"queued\",\"at\":\"" ISO_CREATED      \
    "\",\"reason\":\"submitted\"},"                                            \
    "{\"status\":\"processing\",\"phase\":\"rendering\",\"at\":\"" ISO_RUNNING \
    "\",\"reason\":\"claimed\"},"                                              \
    "{\"status\":\"" st "\",\"phase\":\"done\",\"at\":\"" ISO_DONE "\"}]"

/* Renders o compactly, drops it, and compares with want. */
static void
s_expect_json(json_t *o, const char *want)
{
    assert_non_null(o);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
}

static void
test_get(void **state)
{
    (void)state;
    static const char *const kv[] = {"id",      "vgen_1", "status",
                                     "pending", "prompt", ""};
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    assert_string_equal(rl_jobview_get(&src, "id"), "vgen_1");
    assert_string_equal(rl_jobview_get(&src, "status"), "pending");
    assert_string_equal(rl_jobview_get(&src, "prompt"), "");
    assert_null(rl_jobview_get(&src, "model"));
    assert_null(rl_jobview_get(&src, "vgen_1")); /* values are not names */
    rl_jobview_src_t empty = {NULL, 0};
    assert_null(rl_jobview_get(&empty, "id"));
}

/* Pairs read from a Redis reply whose elements were not strings (nil,
 * integer): a pair without a name is skipped, a NULL value is absent,
 * and every view renders. */
static void
test_get_not_strings(void **state)
{
    (void)state;
    static const char *const kv[] = {NULL, NULL, "id",     "vgen_1",
                                     NULL, "x",  "status", NULL};
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    assert_string_equal(rl_jobview_get(&src, "id"), "vgen_1");
    assert_null(rl_jobview_get(&src, "status"));
    assert_null(rl_jobview_get(&src, "x"));
    json_t *api = rl_jobview_api(&src, 0);
    assert_string_equal(json_string_value(json_object_get(api, "id")),
                        "vgen_1");
    assert_true(json_is_null(json_object_get(api, "status")));
    json_decref(api);
    json_t *hook = rl_jobview_webhook(&src);
    assert_non_null(hook);
    json_decref(hook);
}

static void
test_event(void **state)
{
    (void)state;
    assert_string_equal(rl_jobview_event("completed"),
                        "video.generation.completed");
    assert_string_equal(rl_jobview_event("failed"), "video.generation.failed");
}

static void
test_webhook_completed(void **state)
{
    (void)state;
    char want[2048];
    const char *history = HISTORY_RAW("completed");
    /* Stored fields in no particular order, including private ones. */
    const char *const kv[] = {
        "acct",
        "acct_1",
        "key_hash",
        "abcdef",
        "history",
        history,
        "completed_at",
        T_DONE,
        "status",
        "completed",
        "output_url",
        "https://cdn.creativeai.run/output/video-abc123.mp4",
        "prompt",
        "Product reveal animation on white background",
        "id",
        "vgen_abc123",
        "model",
        "kling-v3",
        "credits",
        "3",
        "failover_used",
        "0",
        "created_at",
        T_CREATED,
        "phase",
        "done",
        "webhook_url",
        "https://hooks.example.com/rl",
        "error_code",
        "",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    snprintf(want, sizeof want,
             "{\"id\":\"vgen_abc123\",\"object\":\"video.generation\","
             "\"status\":\"completed\",\"model\":\"kling-v3\","
             "\"prompt\":\"Product reveal animation on white background\","
             "\"output_url\":"
             "\"https://cdn.creativeai.run/output/video-abc123.mp4\","
             "\"credits\":3,\"failover_used\":false,"
             "\"completed_at\":\"" ISO_DONE "\","
             "\"elapsed_seconds\":21,\"status_history\":%s}",
             HISTORY_JSON("completed"));
    s_expect_json(rl_jobview_webhook(&src), want);
}

static void
test_webhook_failed(void **state)
{
    (void)state;
    char want[2048];
    const char *history = HISTORY_RAW("failed");
    const char *const kv[] = {
        "id",
        "vgen_f",
        "status",
        "failed",
        "model",
        "kling-v3",
        "prompt",
        "a fox",
        "output_url",
        "https://stale.example/never.mp4",
        "credits",
        "6",
        "credits_refunded",
        "6",
        "failover_used",
        "1",
        "error_code",
        "content_rejected",
        "error_message",
        "blocked by policy",
        "provider",
        "kling",
        "created_at",
        T_CREATED,
        "completed_at",
        T_DONE,
        "refunded_at",
        T_DONE,
        "history",
        history,
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    snprintf(want, sizeof want,
             "{\"id\":\"vgen_f\",\"object\":\"video.generation\","
             "\"status\":\"failed\",\"model\":\"kling-v3\","
             "\"prompt\":\"a fox\",\"output_url\":null,"
             "\"credits\":0,\"failover_used\":true,"
             "\"error\":{\"code\":\"content_rejected\","
             "\"message\":\"blocked by policy\",\"provider\":\"kling\"},"
             "\"failed_at\":\"" ISO_DONE "\","
             "\"elapsed_seconds\":21,\"status_history\":%s}",
             HISTORY_JSON("failed"));
    s_expect_json(rl_jobview_webhook(&src), want);
}

/* A partial refund (billed at a cheaper failover model), no provider, no
 * message, no history: the body still has every key. */
static void
test_webhook_failed_sparse(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",         "vgen_s",  "status",           "failed",
        "model",      "m",       "prompt",           "p",
        "credits",    "6",       "credits_refunded", "4",
        "error_code", "expired", "created_at",       T_CREATED,
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    s_expect_json(rl_jobview_webhook(&src),
                  "{\"id\":\"vgen_s\",\"object\":\"video.generation\","
                  "\"status\":\"failed\",\"model\":\"m\",\"prompt\":\"p\","
                  "\"output_url\":null,\"credits\":2,"
                  "\"failover_used\":false,"
                  "\"error\":{\"code\":\"expired\",\"message\":null},"
                  "\"failed_at\":null,\"elapsed_seconds\":0,"
                  "\"status_history\":[]}");
    /* Without an error code the error is null. */
    static const char *const bare[] = {"id", "vgen_b", "status", "failed"};
    rl_jobview_src_t bare_src = {bare, NPAIRS(bare)};
    json_t *o = rl_jobview_webhook(&bare_src);
    assert_true(json_is_null(json_object_get(o, "error")));
    assert_true(json_is_null(json_object_get(o, "model")));
    assert_int_equal(json_integer_value(json_object_get(o, "credits")), 0);
    json_decref(o);
}

static void
test_api_running(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",
        "vgen_r",
        "status",
        "processing",
        "model",
        "kling-v3",
        "prompt",
        "a fox",
        "duration",
        "5",
        "aspect_ratio",
        "16:9",
        "webhook_url",
        "",
        "credits",
        "3",
        "failover_used",
        "0",
        "created_at",
        T_CREATED,
        "phase",
        "rendering",
        "progress",
        "40",
        "eta_s",
        "30",
        "last_poll_at",
        T_RUNNING,
        "history",
        "[{\"status\":\"pending\",\"at\":" T_CREATED "}]",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    int64_t now_ms = 1773152570500; /* 10.5 s after creation */
    s_expect_json(
        rl_jobview_api(&src, now_ms),
        "{\"id\":\"vgen_r\",\"object\":\"video.generation\","
        "\"status\":\"processing\",\"model\":\"kling-v3\","
        "\"prompt\":\"a fox\",\"duration\":\"5s\","
        "\"aspect_ratio\":\"16:9\",\"webhook_url\":null,"
        "\"credits\":3,\"failover_used\":false,"
        "\"created_at\":\"" ISO_CREATED "\","
        "\"phase\":\"rendering\",\"progress\":40,"
        "\"eta_seconds\":30,\"elapsed_seconds\":10,"
        "\"last_poll_at\":\"" ISO_RUNNING "\","
        "\"status_history\":[{\"status\":\"pending\",\"at\":\"" ISO_CREATED
        "\"}]}");
}

static void
test_api_pending_defaults(void **state)
{
    (void)state;
    /* A submission in flight: no phase, ETA, poll time or history yet. */
    static const char *const kv[] = {
        "id",          "vgen_p",
        "status",      "pending",
        "model",       "kling-v3",
        "prompt",      "p",
        "duration",    "10",
        "credits",     "6",
        "webhook_url", "https://h.example/x",
        "progress",    "junk",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *o = rl_jobview_api(&src, 0);
    assert_string_equal(json_string_value(json_object_get(o, "duration")),
                        "10s");
    assert_string_equal(json_string_value(json_object_get(o, "webhook_url")),
                        "https://h.example/x");
    assert_true(json_is_null(json_object_get(o, "phase")));
    assert_true(json_is_null(json_object_get(o, "eta_seconds")));
    assert_true(json_is_null(json_object_get(o, "created_at")));
    assert_true(json_is_null(json_object_get(o, "last_poll_at")));
    assert_true(json_is_null(json_object_get(o, "aspect_ratio")));
    assert_int_equal(json_integer_value(json_object_get(o, "progress")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "elapsed_seconds")),
                     0);
    assert_int_equal(json_array_size(json_object_get(o, "status_history")), 0);
    assert_null(json_object_get(o, "output_url"));
    assert_null(json_object_get(o, "error"));
    json_decref(o);
}

static void
test_api_completed(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",         "vgen_c",   "status",        "completed",
        "model",      "kling-v3", "prompt",        "p",
        "duration",   "5",        "aspect_ratio",  "1:1",
        "credits",    "3",        "failover_used", "1",
        "created_at", T_CREATED,  "completed_at",  T_DONE,
        "phase",      "done",     "progress",      "90",
        "eta_s",      "3",        "output_url",    "https://cdn/v.mp4",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    /* now_ms does not matter once the job is done. */
    s_expect_json(rl_jobview_api(&src, 1773159999000),
                  "{\"id\":\"vgen_c\",\"object\":\"video.generation\","
                  "\"status\":\"completed\",\"model\":\"kling-v3\","
                  "\"prompt\":\"p\",\"duration\":\"5s\","
                  "\"aspect_ratio\":\"1:1\",\"webhook_url\":null,"
                  "\"credits\":3,\"failover_used\":true,"
                  "\"created_at\":\"" ISO_CREATED "\","
                  "\"phase\":null,\"progress\":100,\"eta_seconds\":null,"
                  "\"elapsed_seconds\":21,\"last_poll_at\":null,"
                  "\"output_url\":\"https://cdn/v.mp4\","
                  "\"completed_at\":\"" ISO_DONE "\","
                  "\"status_history\":[]}");
}

static void
test_api_failed(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",
        "vgen_x",
        "status",
        "failed",
        "model",
        "m",
        "prompt",
        "p",
        "duration",
        "5",
        "credits",
        "3",
        "credits_refunded",
        "3",
        "created_at",
        T_CREATED,
        "completed_at",
        T_DONE,
        "refunded_at",
        T_DONE,
        "error_code",
        "provider_error",
        "error_message",
        "boom",
        "progress",
        "40",
        "phase",
        "rendering",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    s_expect_json(rl_jobview_api(&src, 0),
                  "{\"id\":\"vgen_x\",\"object\":\"video.generation\","
                  "\"status\":\"failed\",\"model\":\"m\",\"prompt\":\"p\","
                  "\"duration\":\"5s\",\"aspect_ratio\":null,"
                  "\"webhook_url\":null,\"credits\":0,"
                  "\"failover_used\":false,"
                  "\"created_at\":\"" ISO_CREATED "\","
                  "\"phase\":null,\"progress\":40,\"eta_seconds\":null,"
                  "\"elapsed_seconds\":21,\"last_poll_at\":null,"
                  "\"error\":{\"code\":\"provider_error\","
                  "\"message\":\"boom\"},"
                  "\"failed_at\":\"" ISO_DONE "\","
                  "\"refunded_at\":\"" ISO_DONE "\","
                  "\"status_history\":[]}");
}

/* The delivery summary: only once a webhook is queued; next_attempt_at
 * only while a retry is pending. */
static void
test_api_webhook_state(void **state)
{
    (void)state;
    static const char *const failed[] = {
        "id",         "vgen_w",      "status",
        "completed",  "webhook_url", "https://h.example/x",
        "wh_state",   "failed",      "wh_attempts",
        "3",          "wh_last_at",  T_DONE,
        "wh_next_at", T_DONE,
    };
    static const char *const pending[] = {
        "id",        "vgen_w",      "status",
        "completed", "webhook_url", "https://h.example/x",
        "wh_state",  "pending",     "wh_next_at",
        T_DONE,
    };
    static const char *const none[] = {
        "id",       "vgen_w",      "status",
        "pending",  "webhook_url", "https://h.example/x",
        "wh_state", "none",
    };
    rl_jobview_src_t src = {failed, NPAIRS(failed)};
    json_t *o = rl_jobview_api(&src, 0);
    char *text = json_dumps(json_object_get(o, "webhook"), JSON_COMPACT);

    assert_string_equal(text, "{\"state\":\"failed\",\"attempts\":3,"
                              "\"last_attempt_at\":\"" ISO_DONE "\"}");
    free(text);
    json_decref(o);
    src = (rl_jobview_src_t){pending, NPAIRS(pending)};
    o = rl_jobview_api(&src, 0);
    text = json_dumps(json_object_get(o, "webhook"), JSON_COMPACT);
    assert_string_equal(text, "{\"state\":\"pending\",\"attempts\":0,"
                              "\"last_attempt_at\":null,"
                              "\"next_attempt_at\":\"" ISO_DONE "\"}");
    free(text);
    json_decref(o);
    src = (rl_jobview_src_t){none, NPAIRS(none)};
    o = rl_jobview_api(&src, 0);
    assert_null(json_object_get(o, "webhook"));
    json_decref(o);
}

static void
test_history_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[",
        "[{\"status\":",
        "not json",
        "{\"status\":\"pending\"}",
        "42",
        "null",
        NULL,
    };
    for (size_t i = 0; bad[i] != NULL; i++) {
        const char *const kv[] = {"id",        "vgen_h",  "status",
                                  "completed", "history", bad[i]};
        rl_jobview_src_t src = {kv, NPAIRS(kv)};
        json_t *o = rl_jobview_webhook(&src);
        json_t *h = json_object_get(o, "status_history");
        if (!json_is_array(h) || json_array_size(h) != 0)
            fail_msg("history '%s' not rendered as []", bad[i]);
        json_decref(o);
    }
    /* Entries that are not objects are skipped; unknown keys dropped; a
     * non-numeric "at" is kept as given. */
    static const char *const kv[] = {
        "id",
        "vgen_h",
        "status",
        "completed",
        "history",
        "[1,\"x\",null,{\"extra\":1,\"status\":\"pending\"},"
        "{\"at\":\"soon\",\"status\":\"processing\"},"
        "{\"at\":0,\"status\":\"completed\"}]",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *o = rl_jobview_api(&src, 0);
    json_t *h = json_object_get(o, "status_history");
    char *text = json_dumps(h, JSON_COMPACT);
    assert_string_equal(text, "[{\"status\":\"pending\"},"
                              "{\"status\":\"processing\",\"at\":\"soon\"},"
                              "{\"status\":\"completed\",\"at\":null}]");
    free(text);
    json_decref(o);
}

/* A history time written as a real (cjson may) is read when it fits an
 * int64, else shown as null: converting it would be undefined. */
static void
test_history_real_times(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",
        "vgen_h",
        "status",
        "completed",
        "history",
        "[{\"at\":1e300,\"status\":\"pending\"},"
        "{\"at\":" T_CREATED ".0,\"status\":\"processing\"},"
        "{\"at\":-1e300,\"status\":\"completed\"}]",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *o = rl_jobview_webhook(&src);
    char *text = json_dumps(json_object_get(o, "status_history"), JSON_COMPACT);
    assert_string_equal(text, "[{\"status\":\"pending\",\"at\":null},"
                              "{\"status\":\"processing\",\"at\":\"" ISO_CREATED
                              "\"},"
                              "{\"status\":\"completed\",\"at\":null}]");
    free(text);
    json_decref(o);
    json_t *big = json_real(1e19), *small = json_real(-1e19),
           *real = json_real(1500.9), *num = json_integer(-7),
           *str = json_string("5");
    assert_int_equal(rl_jobview_json_ms(big), 0);
    assert_int_equal(rl_jobview_json_ms(small), 0);
    assert_int_equal(rl_jobview_json_ms(real), 1500);
    assert_int_equal(rl_jobview_json_ms(num), -7);
    assert_int_equal(rl_jobview_json_ms(str), 0);
    assert_int_equal(rl_jobview_json_ms(NULL), 0);
    json_decref(big);
    json_decref(small);
    json_decref(real);
    json_decref(num);
    json_decref(str);
}

/* Stored numbers: wholly decimal or 0; times: ISO text or null. */
static void
test_num_and_time(void **state)
{
    (void)state;
    assert_int_equal(rl_jobview_num("42"), 42);
    assert_int_equal(rl_jobview_num("-7"), -7);
    assert_int_equal(rl_jobview_num("1773152560000"), 1773152560000LL);
    assert_int_equal(rl_jobview_num(NULL), 0);
    assert_int_equal(rl_jobview_num(""), 0);
    assert_int_equal(rl_jobview_num("-"), 0);
    assert_int_equal(rl_jobview_num("12x"), 0);
    assert_int_equal(rl_jobview_num(" 12"), 0);
    assert_int_equal(rl_jobview_num("+12"), 0);
    assert_int_equal(rl_jobview_num("99999999999999999999"), 0);
    static const char *const kv[] = {"credits", "5", "bad", "5.5"};
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    assert_int_equal(rl_jobview_get_num(&src, "credits"), 5);
    assert_int_equal(rl_jobview_get_num(&src, "bad"), 0);
    assert_int_equal(rl_jobview_get_num(&src, "missing"), 0);
    static const char *const paid[] = {"credits", "5", "credits_refunded", "2"};
    rl_jobview_src_t p = {paid, NPAIRS(paid)};
    assert_int_equal(rl_jobview_charged(&p), 3);
    /* Two stored counts whose difference overflows read as none. */
    static const char *const wild[] = {"credits", "-9223372036854775808",
                                       "credits_refunded", "1"};
    rl_jobview_src_t w = {wild, NPAIRS(wild)};
    assert_int_equal(rl_jobview_charged(&w), 0);
    s_expect_json(json_pack("[o,o,o]", rl_jobview_time(1773152560000LL),
                            rl_jobview_time(0), rl_jobview_time(-1)),
                  "[\"" ISO_CREATED "\",null,null]");
}

/* The history entry every C writer builds: fields in order, the ones
 * not given left out, the reason made safe and escaped, and a buffer
 * too small refused. */
static void
test_history_entry(void **state)
{
    char buf[RL_JOBVIEW_ENTRY_MAX];
    char small[40];
    char cut[] = "cut \xc3";             /* a full buffer split \xc3\xa9 */
    char quote[] = "model \"x\" \xff\n"; /* a quote, a bad byte, a newline */
    char long_reason[3 * RL_JOBVIEW_REASON_MAX];
    rl_jobview_entry_t e = {"pending", "Queued", 1773152560000, "accepted",
                            false};

    (void)state;
    assert_int_equal(rl_jobview_entry_text(buf, sizeof buf, true, &e), 0);
    assert_string_equal(buf, "[{\"status\":\"pending\",\"phase\":"
                             "\"Queued\",\"at\":1773152560000,"
                             "\"reason\":\"accepted\"}]");
    /* What job_update.lua stamps: no time; and no phase when none. */
    e = (rl_jobview_entry_t){"processing", NULL, 0, "resumed", false};
    assert_int_equal(rl_jobview_entry_text(buf, sizeof buf, false, &e), 0);
    assert_string_equal(buf, "{\"status\":\"processing\","
                             "\"reason\":\"resumed\"}");
    e = (rl_jobview_entry_t){"processing", "Queued", 0, quote, false};
    assert_int_equal(rl_jobview_entry_text(buf, sizeof buf, false, &e), 0);
    assert_string_equal(buf, "{\"status\":\"processing\",\"phase\":"
                             "\"Queued\",\"reason\":\"model \\\"x\\\" "
                             "\\\\xFF\\\\x0A\"}");
    e.reason = cut;
    e.reason_cut = true;
    assert_int_equal(rl_jobview_entry_text(buf, sizeof buf, false, &e), 0);
    assert_string_equal(buf, "{\"status\":\"processing\",\"phase\":"
                             "\"Queued\",\"reason\":\"cut \"}");
    /* The longest reason, all of it escaped, still fits the buffer. */
    memset(long_reason, '"', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    e = (rl_jobview_entry_t){"processing", "Queued", 0, long_reason, false};
    assert_int_equal(rl_jobview_entry_text(buf, sizeof buf, true, &e), 0);
    assert_true(strlen(buf) > 2 * (RL_JOBVIEW_REASON_MAX - 1));
    assert_int_equal(rl_jobview_entry_text(small, sizeof small, true, &e), -1);
    assert_string_equal(small, "");
    json_t *o = rl_jobview_entry(&e);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "reason"))),
                     RL_JOBVIEW_REASON_MAX - 1);
    json_decref(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_get_not_strings),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_webhook_completed),
        cmocka_unit_test(test_webhook_failed),
        cmocka_unit_test(test_webhook_failed_sparse),
        cmocka_unit_test(test_api_running),
        cmocka_unit_test(test_history_entry),
        cmocka_unit_test(test_api_pending_defaults),
        cmocka_unit_test(test_api_completed),
        cmocka_unit_test(test_api_failed),
        cmocka_unit_test(test_api_webhook_state),
        cmocka_unit_test(test_history_malformed),
        cmocka_unit_test(test_history_real_times),
        cmocka_unit_test(test_num_and_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
