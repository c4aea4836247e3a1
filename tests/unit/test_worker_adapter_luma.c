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

#include "adapter_fixture.h"
#include "adapter_luma.h"

static rl_provider_conf_t s_prov = {
    .name = "luma",
    .type = "luma",
    .base_url = "https://api.lumalabs.ai/dream-machine/v1",
    .key = "luma-k",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "ray-2",
    .prompt = "a cat",
    .duration_s = 5,
    .aspect_ratio = "16:9",
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
    assert_int_equal(
        adapter_luma.build_poll(&s_prov, &s_job, "123e4567-e89b-12d3", 0, &req),
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
            "\"model\":\"ray-2\"}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "123e4567-e89b-12d3");
    s_parse(adapter_luma.parse_submit, 429,
            "{\"detail\":\"Too many concurrent generations\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.message, "Too many concurrent generations");
    s_parse(adapter_luma.parse_submit, 400,
            "{\"detail\":\"400: prompt not allowed because advanced "
            "moderation failed\"}",
            &out);
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
    s_parse(adapter_luma.parse_poll, 200, "{\"id\":\"g\",\"state\":\"queued\"}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"dreaming\",\"assets\":null}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"completed\",\"assets\":{\"video\":"
            "\"https://storage.cdn-luma.com/v.mp4\",\"image\":"
            "\"https://storage.cdn-luma.com/t.jpg\"}}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://storage.cdn-luma.com/v.mp4");
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"completed\",\"assets\":{}}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_reason\":\"400: "
            "prompt not allowed because advanced moderation failed\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_code\":"
            "\"content_moderated\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_luma.parse_poll, 200,
            "{\"id\":\"g\",\"state\":\"failed\",\"failure_reason\":"
            "\"Generation failed\"}",
            &out);
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
