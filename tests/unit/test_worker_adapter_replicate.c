/*
 * test_worker_adapter_replicate - the Replicate HTTP API v1 adapter:
 * request building, and every status and error class of its answers.
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
#include "adapter_replicate.h"

static rl_provider_conf_t s_prov = {
    .name = "rep",
    .type = "replicate",
    .base_url = "https://api.replicate.com/v1",
    .key = "r8_test",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "kwaivgi/kling-v2.1",
    .prompt = "a cat",
    .duration_s = 5,
    .aspect_ratio = "16:9",
};

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("replicate"), &adapter_replicate);
    assert_int_equal(adapter_replicate.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(
        req.url,
        "https://api.replicate.com/v1/models/kwaivgi/kling-v2.1/predictions");
    assert_true(s_has_header(&req, "Authorization: Bearer r8_test"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "input.prompt"), "a cat");
    assert_int_equal(json_integer_value(s_get(body, "input.duration")), 5);
    assert_string_equal(s_str(body, "input.aspect_ratio"), "16:9");
    assert_null(s_get(body, "input.image"));
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "https://img.example/a.png";
    j.negative_prompt = "blur";
    assert_int_equal(adapter_replicate.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    assert_string_equal(s_str(body, "input.image"), j.image_url);
    assert_string_equal(s_str(body, "input.start_image"), j.image_url);
    assert_string_equal(s_str(body, "input.negative_prompt"), "blur");
    json_decref(body);
    adapter_request_release(&req);

    static const char *const bad[] = {"kling", "/kling", "owner/", "a/b/c",
                                      "a/b:1234"};
    for (size_t i = 0; i < 5; i++) {
        j.upstream_model = bad[i];
        assert_int_equal(adapter_replicate.build_submit(&s_prov, &j, 0, &req),
                         -1);
        adapter_request_release(&req);
    }
}

static void
test_poll_and_cancel_requests(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(adapter_replicate.build_poll(&s_prov, &s_job,
                                                  "gm3qorzdhgbfurvjtvhg6dckhu",
                                                  0, &req),
                     0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(
        req.url,
        "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu");
    assert_true(s_has_header(&req, "Authorization: Bearer r8_test"));
    adapter_request_release(&req);
    assert_int_equal(
        adapter_replicate.build_cancel(&s_prov, &s_job, "p1", 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url,
                        "https://api.replicate.com/v1/predictions/p1/cancel");
    assert_null(req.body);
    adapter_request_release(&req);
    assert_null(adapter_replicate.build_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_replicate.parse_submit, 201,
            "{\"id\":\"gm3qorzdhgbfurvjtvhg6dckhu\",\"model\":"
            "\"kwaivgi/kling-v2.1\",\"status\":\"starting\",\"output\":null,"
            "\"error\":null,\"urls\":{\"get\":\"https://api.replicate.com/v1/"
            "predictions/gm3q\"}}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "gm3qorzdhgbfurvjtvhg6dckhu");
    s_parse(adapter_replicate.parse_submit, 429,
            "{\"detail\":\"Request was throttled. Expected available in 1 "
            "second.\",\"status\":429}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.message, "Request was throttled. Expected "
                                     "available in 1 second.");
    s_parse(adapter_replicate.parse_submit, 422,
            "{\"detail\":\"- input.duration: must be one of [5, 10]\","
            "\"status\":422,\"title\":\"Input validation failed\"}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_replicate.parse_submit, 422,
            "{\"detail\":\"The input was flagged as sensitive\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_replicate.parse_submit, 401,
            "{\"detail\":\"Invalid token.\",\"status\":401}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_replicate.parse_submit, 502, "bad gateway", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_replicate.parse_submit, 201, "{\"id\":\"gm3q", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse_timeout(adapter_replicate.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"starting\",\"output\":null}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"processing\",\"logs\":\"40%|\"}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"succeeded\",\"output\":"
            "\"https://replicate.delivery/xezq/out.mp4\"}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url,
                        "https://replicate.delivery/xezq/out.mp4");
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"succeeded\",\"output\":"
            "[\"https://replicate.delivery/a.mp4\","
            "\"https://replicate.delivery/b.mp4\"]}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://replicate.delivery/a.mp4");
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"succeeded\",\"output\":null}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"failed\",\"error\":\"NSFW content "
            "detected. Try a different prompt.\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"failed\",\"error\":\"Prompt flagged "
            "by the safety checker\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"failed\",\"error\":\"CUDA out of "
            "memory\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "CUDA out of memory");
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"canceled\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_replicate.parse_poll, 200,
            "{\"id\":\"p\",\"status\":\"aborted\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_replicate.parse_poll, 200, "{\"id\":\"p\",\"status", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_replicate.parse_poll, 429,
            "{\"detail\":\"Request was throttled.\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_replicate.parse_poll, 404, "{\"detail\":\"Not found.\"}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse_timeout(adapter_replicate.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_poll_and_cancel_requests),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
