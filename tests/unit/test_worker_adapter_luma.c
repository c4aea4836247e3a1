/*
 * test_worker_adapter_luma - the Luma Dream Machine API v1 adapter:
 * request building, and every state and error class of its answers.
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

/* A response as rl_http hands it over: NUL-terminated body. */
static void
s_parse(void (*parse)(const rl_http_resp_t *, adapter_result_t *),
        long status, const char *body, adapter_result_t *out)
{
    rl_http_resp_t resp = {
        .status = status, .error = "", .body = body,
        .body_len = strlen(body), .primary_ip = "",
    };
    memset(out, 0, sizeof *out);
    parse(&resp, out);
}

/* No response at all: the request timed out. */
static void
s_parse_timeout(void (*parse)(const rl_http_resp_t *, adapter_result_t *),
                adapter_result_t *out)
{
    rl_http_resp_t resp = {
        .status = 0, .curl_code = 28, .timed_out = true,
        .error = "Timeout was reached", .body = "", .primary_ip = "",
    };
    memset(out, 0, sizeof *out);
    parse(&resp, out);
}

static void
s_expect(const adapter_result_t *out, adapter_state_t state,
         adapter_error_t error)
{
    assert_int_equal(out->state, state);
    assert_int_equal(out->error, error);
}

static bool
s_has_header(const adapter_request_t *req, const char *header)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i], header) == 0)
            return true;
    return false;
}

/* The request body as JSON; caller owns. */
static json_t *
s_body(const adapter_request_t *req)
{
    assert_non_null(req->body);
    json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
    assert_non_null(root);
    return root;
}

/* The member at a dotted path ("input.prompt"), or NULL. */
static json_t *
s_get(json_t *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *key = buf, *dot; key != NULL; key = dot) {
        dot = strchr(key, '.');
        if (dot != NULL)
            *dot++ = '\0';
        v = json_object_get(v, key);
    }
    return v;
}

static const char *
s_str(json_t *root, const char *path)
{
    return json_string_value(s_get(root, path));
}

#include "adapter_luma.h"

static rl_provider_conf_t s_prov = {
    .name = "luma", .type = "luma",
    .base_url = "https://api.lumalabs.ai/dream-machine/v1", .key = "luma-k",
};

static const adapter_job_t s_job = {
    .job_id = "j1", .attempt = 1, .upstream_model = "ray-2",
    .prompt = "a cat", .duration_s = 5, .aspect_ratio = "16:9",
};

#define GEN "https://api.lumalabs.ai/dream-machine/v1/generations"

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("luma"), &adapter_luma);
    assert_int_equal(adapter_luma.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, GEN);
    assert_true(s_has_header(&req, "Authorization: Bearer luma-k"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "prompt"), "a cat");
    assert_string_equal(s_str(body, "model"), "ray-2");
    assert_string_equal(s_str(body, "aspect_ratio"), "16:9");
    assert_string_equal(s_str(body, "duration"), "5s");
    assert_null(s_get(body, "keyframes"));
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "https://img.example/a.png";
    j.duration_s = 9;
    assert_int_equal(adapter_luma.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    assert_string_equal(s_str(body, "duration"), "9s");
    assert_string_equal(s_str(body, "keyframes.frame0.type"), "image");
    assert_string_equal(s_str(body, "keyframes.frame0.url"), j.image_url);
    json_decref(body);
    adapter_request_release(&req);
}

static void
test_poll_request(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(adapter_luma.build_poll(&s_prov, &s_job,
                                             "123e4567-e89b-12d3", 0, &req),
                     0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, GEN "/123e4567-e89b-12d3");
    assert_true(s_has_header(&req, "Authorization: Bearer luma-k"));
    adapter_request_release(&req);
    assert_null(adapter_luma.build_cancel);
    assert_null(adapter_luma.build_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_luma.parse_submit, 201,
            "{\"id\":\"123e4567-e89b-12d3\",\"generation_type\":\"video\","
            "\"state\":\"queued\",\"failure_reason\":null,\"assets\":null,"
            "\"model\":\"ray-2\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "123e4567-e89b-12d3");
    s_parse(adapter_luma.parse_submit, 429,
            "{\"detail\":\"Too many concurrent generations\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.message, "Too many concurrent generations");
    s_parse(adapter_luma.parse_submit, 400,
            "{\"detail\":\"400: prompt not allowed because advanced "
            "moderation failed\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_luma.parse_submit, 400,
            "{\"detail\":\"Invalid aspect ratio\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_luma.parse_submit, 402,
            "{\"detail\":\"Insufficient credits\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_luma.parse_submit, 503, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_luma.parse_submit, 201, "{\"id\":\"123", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_luma.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"queued\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"dreaming\",\"assets\":null}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"completed\",\"assets\":{\"video\":"
            "\"https://storage.cdn-luma.com/v.mp4\",\"image\":"
            "\"https://storage.cdn-luma.com/t.jpg\"}}", &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://storage.cdn-luma.com/v.mp4");
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"completed\",\"assets\":{}}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_reason\":\"400: "
            "prompt not allowed because advanced moderation failed\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_code\":"
            "\"content_moderated\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_reason\":"
            "\"Generation failed\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "Generation failed");
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"pondering\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_luma.parse_poll, 200, "{\"id\":\"g\",\"sta", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_luma.parse_poll, 404, "{\"detail\":\"Not found\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_luma.parse_poll, 429, "{\"detail\":\"slow\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse_timeout(adapter_luma.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_poll_request),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
