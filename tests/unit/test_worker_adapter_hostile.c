/*
 * test_worker_adapter_hostile - every adapter against a hostile provider:
 * ids in answers holding "../", '?', '#', '%', spaces, CR/LF, NUL,
 * non-ASCII or non-UTF-8 bytes, or too many bytes, and output URLs that
 * are not plain absolute http(s) URLs. An id is either taken and
 * percent-encoded into the exact URL asserted here (always on base_url's
 * origin and path), or refused as a PERMANENT "bad_task_id"; an output
 * URL is taken as it is or refused as a PERMANENT "bad_output_url".
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
#include <jansson.h>

#include "adapter.h"

#include "adapter_fixture.h"
#include "adapter_fal.h"
#include "adapter_kinovi.h"
#include "adapter_kling.h"
#include "adapter_luma.h"
#include "adapter_minimax.h"
#include "adapter_openai.h"
#include "adapter_replicate.h"
#include "adapter_runway.h"
#include "adapter_seedance.h"
#include "adapter_veo.h"

#define BODY_MAX 8192
#define LONG_URL_PREFIX "https://cdn.example.com/"

/* One adapter as these tests drive it. The formats take one %s: the
 * escaped id (URLs) or a JSON string (answers). */
struct api {
    const adapter_t *a;
    rl_provider_conf_t prov;
    const char *model;         /* the job's upstream model */
    const char *api_name;      /* as error messages name it */
    long submit_status;        /* of the submit answer */
    const char *submit_answer; /* with the id */
    const char *poll_url;      /* build_poll's URL */
    const char *cancel_method; /* NULL: the API has no cancel */
    const char *cancel_url;
    const char *result_url;    /* build_result's URL, or NULL */
    const char *fetch_answer;  /* a poll answer naming the result id
                                  (MiniMax file_id), or NULL */
    bool output_in_result;     /* the URL comes from parse_result */
    const char *output_answer; /* a success answer with the URL */
};

static const struct api s_kling = {
    &adapter_kling,
    {.name = "kl",
     .type = "kling",
     .base_url = "https://api-singapore.klingai.com",
     .key = "AK",
     .secret = "SK"},
    "kling-v2-5-turbo",
    "Kling",
    200,
    "{\"code\":0,\"message\":\"\",\"request_id\":\"r\",\"data\":"
    "{\"task_id\":%s,\"task_status\":\"submitted\"}}",
    "https://api-singapore.klingai.com/v1/videos/text2video/%s",
    NULL,
    NULL,
    NULL,
    NULL,
    false,
    "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\"t\","
    "\"task_status\":\"succeed\",\"task_result\":{\"videos\":[{\"id\":"
    "\"v\",\"url\":%s,\"duration\":\"5\"}]}}}",
};

static const struct api s_seedance = {
    &adapter_seedance,
    {.name = "ark",
     .type = "seedance",
     .base_url = "https://ark.ap-southeast.bytepluses.com/api/v3",
     .key = "ark-key"},
    "seedance-1-0-pro-250528",
    "Ark",
    200,
    "{\"id\":%s}",
    "https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/"
    "tasks/%s",
    "DELETE",
    "https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/"
    "tasks/%s",
    NULL,
    NULL,
    false,
    "{\"id\":\"cgt-1\",\"status\":\"succeeded\",\"content\":"
    "{\"video_url\":%s}}",
};

static const struct api s_runway = {
    &adapter_runway,
    {.name = "rw",
     .type = "runway",
     .base_url = "https://api.dev.runwayml.com",
     .key = "key_abc"},
    "gen4.5",
    "Runway",
    200,
    "{\"id\":%s}",
    "https://api.dev.runwayml.com/v1/tasks/%s",
    "DELETE",
    "https://api.dev.runwayml.com/v1/tasks/%s",
    NULL,
    NULL,
    false,
    "{\"id\":\"t\",\"status\":\"SUCCEEDED\",\"output\":[%s]}",
};

static const struct api s_openai = {
    &adapter_openai,
    {.name = "sora",
     .type = "openai",
     .base_url = "https://api.openai.com/v1",
     .key = "sk-test"},
    "sora-2",
    "OpenAI",
    200,
    "{\"id\":%s,\"object\":\"video\",\"status\":\"queued\"}",
    "https://api.openai.com/v1/videos/%s",
    NULL,
    NULL,
    NULL,
    NULL,
    false,
    NULL, /* no output URL in its answers: see its own test */
};

static const struct api s_replicate = {
    &adapter_replicate,
    {.name = "rep",
     .type = "replicate",
     .base_url = "https://api.replicate.com/v1",
     .key = "r8_test"},
    "kwaivgi/kling-v2.1",
    "Replicate",
    201,
    "{\"id\":%s,\"status\":\"starting\",\"urls\":{\"get\":"
    "\"https://evil.example/steal\"}}",
    "https://api.replicate.com/v1/predictions/%s",
    "POST",
    "https://api.replicate.com/v1/predictions/%s/cancel",
    NULL,
    NULL,
    false,
    "{\"id\":\"p\",\"status\":\"succeeded\",\"output\":%s}",
};

static const struct api s_fal = {
    &adapter_fal,
    {.name = "fal",
     .type = "fal",
     .base_url = "https://queue.fal.run",
     .key = "fal-key"},
    "fal-ai/kling-video/v2.1/standard/text-to-video",
    "fal",
    200,
    "{\"request_id\":%s,\"status_url\":\"https://evil.example/s\","
    "\"response_url\":\"https://evil.example/r\"}",
    "https://queue.fal.run/fal-ai/kling-video/requests/%s/status",
    "PUT",
    "https://queue.fal.run/fal-ai/kling-video/requests/%s/cancel",
    "https://queue.fal.run/fal-ai/kling-video/requests/%s",
    NULL,
    true,
    "{\"video\":{\"url\":%s}}",
};

static const struct api s_kinovi = {
    &adapter_kinovi,
    {.name = "kv",
     .type = "kinovi",
     .base_url = "https://kinovi.ai/api/v1",
     .key = "kv-key"},
    "seedance-20",
    "Kinovi",
    200,
    "{\"taskId\":%s}",
    "https://kinovi.ai/api/v1/jobs/recordInfo?taskId=%s",
    NULL,
    NULL,
    NULL,
    NULL,
    false,
    "{\"taskId\":\"t\",\"status\":\"success\",\"output\":[{\"url\":%s}]}",
};

static const struct api s_luma = {
    &adapter_luma,
    {.name = "luma",
     .type = "luma",
     .base_url = "https://api.lumalabs.ai/dream-machine/v1",
     .key = "luma-k"},
    "ray-2",
    "Luma",
    201,
    "{\"id\":%s,\"state\":\"queued\"}",
    "https://api.lumalabs.ai/dream-machine/v1/generations/%s",
    NULL,
    NULL,
    NULL,
    NULL,
    false,
    "{\"id\":\"g\",\"state\":\"completed\",\"assets\":{\"video\":%s}}",
};

static const struct api s_minimax = {
    &adapter_minimax,
    {.name = "hailuo",
     .type = "minimax",
     .base_url = "https://api.minimax.io",
     .key = "mm-key"},
    "MiniMax-Hailuo-02",
    "MiniMax",
    200,
    "{\"task_id\":%s,\"base_resp\":{\"status_code\":0,"
    "\"status_msg\":\"success\"}}",
    "https://api.minimax.io/v1/query/video_generation?task_id=%s",
    NULL,
    NULL,
    "https://api.minimax.io/v1/files/retrieve?file_id=%s",
    "{\"task_id\":\"t\",\"status\":\"Success\",\"file_id\":%s,"
    "\"base_resp\":{\"status_code\":0,\"status_msg\":\"success\"}}",
    true,
    "{\"file\":{\"file_id\":\"f\",\"download_url\":%s},\"base_resp\":"
    "{\"status_code\":0,\"status_msg\":\"success\"}}",
};

static const struct api s_veo = {
    &adapter_veo,
    {.name = "veo",
     .type = "veo",
     .base_url = "https://generativelanguage.googleapis.com/v1beta",
     .key = "AIza-test"},
    "veo-3.1-generate-preview",
    "Veo",
    200,
    "{\"name\":%s}",
    "https://generativelanguage.googleapis.com/v1beta/%s",
    NULL,
    NULL,
    NULL,
    NULL,
    false,
    "{\"name\":\"operations/x\",\"done\":true,\"response\":"
    "{\"generateVideoResponse\":{\"generatedSamples\":[{\"video\":"
    "{\"uri\":%s}}]}}}",
};

/* Ids an adapter takes, and their exact percent-encoding. */
static const struct {
    const char *id;
    const char *escaped;
} s_taken[] = {
    {"../../../admin?x=1", "..%2F..%2F..%2Fadmin%3Fx%3D1"},
    {"x/../../y", "x%2F..%2F..%2Fy"},
    {"a#frag", "a%23frag"},
    {"100%25", "100%2525"},
    {"a?b=c&d=e", "a%3Fb%3Dc%26d%3De"},
    {"@evil.example:80", "%40evil.example%3A80"},
    {"task_ok-1.2~3", "task_ok-1.2~3"},
};

/* Ids refused as PERMANENT "bad_task_id" at parse and at build. */
static const char *const s_refused[] = {
    ".",    "..",   "a b",   " ",           "a\r\nX-Injected: 1",
    "\r\n", "a\tb", "a\x7f", "caf\xc3\xa9", /* valid UTF-8, not ASCII */
};

/* JSON id values that never get as far: jansson refuses the answer
 * (NUL, invalid UTF-8), or the id is empty. */
static const char *const s_unparsed[] = {
    "\"a\\u0000../admin\"",
    "\"\xff\xfe\"",
    "\"a\xc3\"",
    "\"\"",
};

/* Output URLs refused as PERMANENT "bad_output_url". */
static const char *const s_bad_outputs[] = {
    "javascript:alert(document.cookie)",
    "JAVASCRIPT:alert(1)//https://cdn.example.com/v.mp4",
    "data:text/html,<script>alert(1)</script>",
    "data:video/mp4;base64,AAAA",
    "file:///etc/passwd",
    "ftp://cdn.example.com/v.mp4",
    "/output/v.mp4",
    "v.mp4",
    "//evil.example/v.mp4",
    "",
    "https://cdn.example.com/v.mp4\r\nX-Injected: 1",
    "https://cdn.example.com/v.mp4\n",
    "https://cdn.example.com/a b.mp4",
    "https://user:pass@cdn.example.com/v.mp4",
    "https://token@cdn.example.com/v.mp4",
    "https:///v.mp4",
    "https://cdn.example.com/\"><script>x</script>",
};

/* A JSON string literal of s (valid UTF-8) in buf. */
static const char *
s_json(char *buf, size_t len, const char *s)
{
    json_t *str = json_string(s);
    assert_non_null(str);
    char *dump = json_dumps(str, JSON_ENCODE_ANY);
    json_decref(str);
    assert_non_null(dump);
    int n = snprintf(buf, len, "%s", dump);
    free(dump);
    assert_true(n > 0 && (size_t)n < len);
    return buf;
}

/* Formats fmt with one string argument into buf. */
static const char *
s_fmt(char *buf, size_t len, const char *fmt, const char *arg)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = snprintf(buf, len, fmt, arg);
#pragma GCC diagnostic pop
    assert_true(n > 0 && (size_t)n < len);
    return buf;
}

static adapter_job_t
s_job(const struct api *api)
{
    adapter_job_t j = {
        .job_id = "j1",
        .attempt = 1,
        .upstream_model = api->model,
        .prompt = "a cat",
        .duration_s = 5,
        .aspect_ratio = "16:9",
    };
    return j;
}

/* Asserts every request the adapter builds for task id `id` goes to the
 * URLs of api with `escaped` in them, or, with escaped NULL, that none
 * is built. */
static void
s_expect_urls(const struct api *api, const char *id, const char *escaped)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job(api);
    char want[ADAPTER_URL_MAX];
    int rc = api->a->build_poll(&api->prov, &j, id, 0, &req);
    assert_int_equal(rc, escaped ? 0 : -1);
    if (escaped != NULL) {
        assert_string_equal(req.method, "GET");
        assert_string_equal(req.url,
                            s_fmt(want, sizeof want, api->poll_url, escaped));
    }
    adapter_request_release(&req);
    if (api->cancel_url != NULL) {
        rc = api->a->build_cancel(&api->prov, &j, id, 0, &req);
        assert_int_equal(rc, escaped ? 0 : -1);
        if (escaped != NULL) {
            assert_string_equal(req.method, api->cancel_method);
            assert_string_equal(
                req.url, s_fmt(want, sizeof want, api->cancel_url, escaped));
        }
        adapter_request_release(&req);
    }
    if (api->result_url != NULL) {
        rc = api->a->build_result(&api->prov, &j, id, 0, &req);
        assert_int_equal(rc, escaped ? 0 : -1);
        if (escaped != NULL)
            assert_string_equal(
                req.url, s_fmt(want, sizeof want, api->result_url, escaped));
        adapter_request_release(&req);
    }
}

/* Parses the submit answer carrying the JSON id value `json_id`. */
static void
s_submit(const struct api *api, const char *json_id, adapter_result_t *out)
{
    char body[BODY_MAX];
    s_parse(api->a->parse_submit, api->submit_status,
            s_fmt(body, sizeof body, api->submit_answer, json_id), out);
}

static void
s_expect_refused_id(const adapter_result_t *out)
{
    if (out->state != ADAPTER_ERROR || out->error != ADAPTER_ERR_PERMANENT ||
        strcmp(out->code, "bad_task_id") != 0)
        fail_msg("want a permanent bad_task_id, got state %d error %s code "
                 "'%s' ('%s')",
                 (int)out->state, adapter_error_name(out->error), out->code,
                 out->message);
    assert_string_equal(out->task_id, "");
    assert_string_equal(out->fetch_ref, "");
}

/* The id taken from an answer is the one the poll escapes. */
static void
s_taken_ids(const struct api *api)
{
    adapter_result_t out;
    char js[BODY_MAX];
    for (size_t i = 0; i < sizeof s_taken / sizeof s_taken[0]; i++) {
        s_submit(api, s_json(js, sizeof js, s_taken[i].id), &out);
        s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
        assert_string_equal(out.task_id, s_taken[i].id);
        s_expect_urls(api, out.task_id, s_taken[i].escaped);
    }
    /* The longest id is taken whole, never cut. */
    char id[ADAPTER_ID_MAX + 1];
    memset(id, '/', ADAPTER_ID_MAX);
    id[ADAPTER_ID_MAX] = '\0';
    s_submit(api, s_json(js, sizeof js, id), &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_int_equal(strlen(out.task_id), ADAPTER_ID_MAX);
    char esc[3 * ADAPTER_ID_MAX + 1];
    for (size_t i = 0; i < ADAPTER_ID_MAX; i++)
        memcpy(esc + 3 * i, "%2F", 3);
    esc[3 * ADAPTER_ID_MAX] = '\0';
    s_expect_urls(api, out.task_id, esc);
}

static void
s_refused_ids(const struct api *api)
{
    adapter_result_t out;
    char js[BODY_MAX], id[ADAPTER_ID_MAX + 2];
    for (size_t i = 0; i < sizeof s_refused / sizeof s_refused[0]; i++) {
        s_submit(api, s_json(js, sizeof js, s_refused[i]), &out);
        s_expect_refused_id(&out);
        s_expect_urls(api, s_refused[i], NULL);
    }
    memset(id, 'a', ADAPTER_ID_MAX + 1);
    id[ADAPTER_ID_MAX + 1] = '\0';
    s_submit(api, s_json(js, sizeof js, id), &out);
    s_expect_refused_id(&out);
    s_expect_urls(api, id, NULL);
    s_expect_urls(api, "", NULL);
    s_expect_urls(api, "\xff\xfe", NULL);
    for (size_t i = 0; i < sizeof s_unparsed / sizeof s_unparsed[0]; i++) {
        s_submit(api, s_unparsed[i], &out);
        assert_int_equal(out.state, ADAPTER_ERROR);
        assert_string_equal(out.task_id, "");
    }
}

/* A second id from an answer (MiniMax's file_id) goes the same way. */
static void
s_fetch_ids(const struct api *api)
{
    adapter_result_t out;
    char js[BODY_MAX], body[BODY_MAX];
    for (size_t i = 0; i < sizeof s_taken / sizeof s_taken[0]; i++) {
        s_parse(api->a->parse_poll, 200,
                s_fmt(body, sizeof body, api->fetch_answer,
                      s_json(js, sizeof js, s_taken[i].id)),
                &out);
        s_expect(&out, ADAPTER_FETCH, ADAPTER_ERR_NONE);
        assert_string_equal(out.fetch_ref, s_taken[i].id);
    }
    for (size_t i = 0; i < sizeof s_refused / sizeof s_refused[0]; i++) {
        s_parse(api->a->parse_poll, 200,
                s_fmt(body, sizeof body, api->fetch_answer,
                      s_json(js, sizeof js, s_refused[i])),
                &out);
        s_expect_refused_id(&out);
    }
}

static void
test_hostile_ids(void **state)
{
    const struct api *api = *state;
    s_taken_ids(api);
    s_refused_ids(api);
    if (api->fetch_answer != NULL)
        s_fetch_ids(api);
}

static void
s_expect_refused_output(const adapter_result_t *out, const char *url)
{
    if (out->state != ADAPTER_ERROR || out->error != ADAPTER_ERR_PERMANENT ||
        strcmp(out->code, "bad_output_url") != 0)
        fail_msg("'%s': want a permanent bad_output_url, got state %d "
                 "error %s code '%s' ('%s')",
                 url, (int)out->state, adapter_error_name(out->error),
                 out->code, out->message);
    assert_string_equal(out->output_url, "");
}

static void
s_output(const struct api *api, const char *json_url, adapter_result_t *out)
{
    char body[BODY_MAX];
    s_parse(api->output_in_result ? api->a->parse_result : api->a->parse_poll,
            200, s_fmt(body, sizeof body, api->output_answer, json_url), out);
}

static void
test_hostile_outputs(void **state)
{
    const struct api *api = *state;
    adapter_result_t out;
    char js[BODY_MAX], url[ADAPTER_OUTPUT_URL_MAX + 2], want[128];
    static const char good[] =
        "https://cdn.example.com/o/v.mp4?X-Amz-Signature=ab%2Fc&e=1";
    s_output(api, s_json(js, sizeof js, good), &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, good);
    for (size_t i = 0; i < sizeof s_bad_outputs / sizeof s_bad_outputs[0];
         i++) {
        s_output(api, s_json(js, sizeof js, s_bad_outputs[i]), &out);
        s_expect_refused_output(&out, s_bad_outputs[i]);
        snprintf(want, sizeof want, "%s output URL refused: ", api->api_name);
        assert_memory_equal(out.message, want, strlen(want));
    }
    /* ADAPTER_OUTPUT_URL_MAX bytes are taken whole; one more is refused
     * (never cut to fit). */
    size_t p = strlen(LONG_URL_PREFIX);
    memcpy(url, LONG_URL_PREFIX, p);
    memset(url + p, 'a', ADAPTER_OUTPUT_URL_MAX - p);
    url[ADAPTER_OUTPUT_URL_MAX] = '\0';
    s_output(api, s_json(js, sizeof js, url), &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, url);
    url[ADAPTER_OUTPUT_URL_MAX] = 'a';
    url[ADAPTER_OUTPUT_URL_MAX + 1] = '\0';
    s_output(api, s_json(js, sizeof js, url), &out);
    s_expect_refused_output(&out, "(too long)");
    /* NUL and invalid UTF-8: jansson refuses the whole answer. */
    s_output(api, "\"https://cdn.example.com/v.mp4\\u0000javascript:x\"", &out);
    assert_int_not_equal(out.state, ADAPTER_SUCCEEDED);
    assert_string_equal(out.output_url, "");
    s_output(api, "\"https://cdn.example.com/\xff.mp4\"", &out);
    assert_int_not_equal(out.state, ADAPTER_SUCCEEDED);
    assert_string_equal(out.output_url, "");
}

/* Veo's operation name is a path by design: checked against its form,
 * never escaped, and the poll goes to {base_url}/{name}. */
static void
test_veo_hostile_names(void **state)
{
    const struct api *api = &s_veo;
    adapter_result_t out;
    char js[BODY_MAX];
    (void)state;
    static const char *const good[] = {
        "models/veo-3.1-generate-preview/operations/abc123",
        "operations/abc-1_2.3",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        s_submit(api, s_json(js, sizeof js, good[i]), &out);
        s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
        assert_string_equal(out.task_id, good[i]);
        s_expect_urls(api, out.task_id, good[i]);
    }
    static const char *const bad[] = {
        "../../../admin?x=1",
        "models/veo/operations/../../../admin",
        "models/veo/operations/..",
        "models/veo/operations/.",
        "models/veo/operations/a?key=x",
        "models/veo/operations/a#b",
        "models/veo/operations/a%2F..",
        "models/veo/operations/a b",
        "models/veo/operations/a\r\nX: 1",
        "models/veo/operations/caf\xc3\xa9",
        "models/veo/operations/",
        "models//operations/x",
        "/operations/x",
        "operations",
        "files/x",
        "models/veo",
        "models/veo/files/x",
        "models/veo/operations/x/extra",
        "https://evil.example/operations/x",
        "//evil.example/operations/x",
        "operations/x@evil.example",
        ".",
        "..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_submit(api, s_json(js, sizeof js, bad[i]), &out);
        s_expect_refused_id(&out);
        s_expect_urls(api, bad[i], NULL);
    }
    char name[ADAPTER_ID_MAX + 2];
    memcpy(name, "operations/", 11);
    memset(name + 11, 'a', ADAPTER_ID_MAX + 1 - 11);
    name[ADAPTER_ID_MAX + 1] = '\0';
    s_submit(api, s_json(js, sizeof js, name), &out);
    s_expect_refused_id(&out);
    s_expect_urls(api, name, NULL);
    name[ADAPTER_ID_MAX] = '\0'; /* the longest is taken */
    s_submit(api, s_json(js, sizeof js, name), &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_expect_urls(api, name, name);
    for (size_t i = 0; i < sizeof s_unparsed / sizeof s_unparsed[0]; i++) {
        s_submit(api, s_unparsed[i], &out);
        assert_int_equal(out.state, ADAPTER_ERROR);
        assert_string_equal(out.task_id, "");
    }
}

/* OpenAI's answer has no output URL: the content path is built from the
 * answer's id, escaped, and stays a path under base_url. */
static void
test_openai_hostile_content_path(void **state)
{
    adapter_result_t out;
    char js[BODY_MAX], body[BODY_MAX], want[ADAPTER_URL_MAX];
    static const char fmt[] =
        "{\"id\":%s,\"object\":\"video\",\"status\":\"completed\"}";
    (void)state;
    for (size_t i = 0; i < sizeof s_taken / sizeof s_taken[0]; i++) {
        s_parse(
            adapter_openai.parse_poll, 200,
            s_fmt(body, sizeof body, fmt, s_json(js, sizeof js, s_taken[i].id)),
            &out);
        s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
        assert_string_equal(
            out.output_url,
            s_fmt(want, sizeof want, "/videos/%s/content", s_taken[i].escaped));
    }
    for (size_t i = 0; i < sizeof s_refused / sizeof s_refused[0]; i++) {
        s_parse(
            adapter_openai.parse_poll, 200,
            s_fmt(body, sizeof body, fmt, s_json(js, sizeof js, s_refused[i])),
            &out);
        s_expect_refused_id(&out);
        assert_string_equal(out.output_url, "");
    }
}

#define HOSTILE(api)                                                           \
    {#api ": hostile ids", test_hostile_ids, NULL, NULL, (void *)&s_##api},    \
    {                                                                          \
#api ": hostile output URLs", test_hostile_outputs, NULL, NULL,        \
            (void *)&s_##api                                                   \
    }

int
main(void)
{
    const struct CMUnitTest tests[] = {
        HOSTILE(kling),
        HOSTILE(seedance),
        HOSTILE(runway),
        {"openai: hostile ids", test_hostile_ids, NULL, NULL,
         (void *)&s_openai},
        {"openai: hostile content path", test_openai_hostile_content_path, NULL,
         NULL, NULL},
        HOSTILE(replicate),
        HOSTILE(fal),
        HOSTILE(kinovi),
        HOSTILE(luma),
        HOSTILE(minimax),
        {"veo: hostile operation names", test_veo_hostile_names, NULL, NULL,
         NULL},
        {"veo: hostile output URLs", test_hostile_outputs, NULL, NULL,
         (void *)&s_veo},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
