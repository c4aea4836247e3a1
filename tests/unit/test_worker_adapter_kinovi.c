/*
 * test_worker_adapter_kinovi - the Kinovi task API v1 adapter: request
 * building, both poll shapes (flat recordInfo and the data envelope), and
 * every state and error class.
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
#include "adapter_kinovi.h"

static rl_provider_conf_t s_prov = {
    .name = "kinovi",
    .type = "kinovi",
    .base_url = "https://kinovi.ai/api/v1",
    .key = "kv-key",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "seedance-20",
    .prompt = "a cat",
    .duration_s = 5,
    .aspect_ratio = "9:16",
};

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("kinovi"), &adapter_kinovi);
    assert_int_equal(adapter_kinovi.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://kinovi.ai/api/v1/jobs/createTask");
    assert_true(s_has_header(&req, "Authorization: Bearer kv-key"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "model"), "seedance-20");
    assert_string_equal(s_str(body, "inputs.prompt"), "a cat");
    assert_true(json_is_integer(s_get(body, "inputs.duration")));
    assert_int_equal(json_integer_value(s_get(body, "inputs.duration")), 5);
    assert_string_equal(s_str(body, "inputs.aspectRatio"), "9:16");
    assert_string_equal(s_str(body, "inputs.outputResolution"), "720p");
    assert_null(s_get(body, "inputs.imageUrls"));
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "https://img.example/a.png";
    assert_int_equal(adapter_kinovi.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    json_t *urls = s_get(body, "inputs.imageUrls");
    assert_int_equal(json_array_size(urls), 1);
    assert_string_equal(json_string_value(json_array_get(urls, 0)),
                        j.image_url);
    json_decref(body);
    adapter_request_release(&req);
}

static void
test_poll_request(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(
        adapter_kinovi.build_poll(&s_prov, &s_job, "task_abc", 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://kinovi.ai/api/v1/jobs/recordInfo"
                                 "?taskId=task_abc");
    assert_true(s_has_header(&req, "Authorization: Bearer kv-key"));
    adapter_request_release(&req);
    /* The id is a query value: percent-encoded. */
    assert_int_equal(
        adapter_kinovi.build_poll(&s_prov, &s_job, "a&b=c%d", 0, &req), 0);
    assert_string_equal(req.url, "https://kinovi.ai/api/v1/jobs/recordInfo"
                                 "?taskId=a%26b%3Dc%25d");
    adapter_request_release(&req);
    /* No provider id holds a space: refused, not encoded. */
    assert_int_equal(adapter_kinovi.build_poll(&s_prov, &s_job, "a b", 0, &req),
                     -1);
    adapter_request_release(&req);
    assert_null(adapter_kinovi.build_cancel);
    assert_null(adapter_kinovi.build_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_kinovi.parse_submit, 200,
            "{\"taskId\":\"task_seedance-20_1765184045509\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "task_seedance-20_1765184045509");
    s_parse(adapter_kinovi.parse_submit, 429,
            "{\"message\":\"Concurrency limit reached (5/5)\",\"limit\":5,"
            "\"current\":5}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_CAPACITY);
    assert_string_equal(out.message, "Concurrency limit reached (5/5)");
    s_parse(adapter_kinovi.parse_submit, 429,
            "{\"message\":\"Too many requests\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_kinovi.parse_submit, 402,
            "{\"message\":\"Insufficient credits\",\"required\":200,"
            "\"available\":10}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_submit, 400,
            "{\"message\":\"Invalid inputs for model\",\"errors\":[]}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_submit, 401,
            "{\"message\":\"Invalid API Key\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_submit, 500,
            "{\"message\":\"Internal error\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    /* An envelope that carries its failure in code. */
    s_parse(adapter_kinovi.parse_submit, 200,
            "{\"code\":429,\"msg\":\"Concurrency limit reached\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_CAPACITY);
    s_parse(adapter_kinovi.parse_submit, 200,
            "{\"code\":200,\"message\":\"success\",\"data\":{\"taskId\":"
            "\"task_2\"}}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "task_2");
    s_parse(adapter_kinovi.parse_submit, 200, "{\"taskId\":\"task_", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_kinovi.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll_flat(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"model\":\"seedance-20\",\"status\":"
            "\"waiting\",\"output\":null,\"error\":null}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"generating\"}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"success\",\"creditsUsed\":200,"
            "\"output\":[{\"url\":\"https://cdn.kinovi.ai/v.mp4\",\"width\":"
            "1280,\"height\":720,\"mediaType\":\"video\"}],\"error\":null}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://cdn.kinovi.ai/v.mp4");
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"success\",\"output\":[]}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":{\"code\":"
            "\"2038\",\"message\":\"Input violates platform rules\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    assert_string_equal(out.code, "2038");
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":{\"code\":"
            "\"4011\",\"message\":\"System busy\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":{\"code\":"
            "\"500\",\"message\":\"Generation failed\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":{\"code\":"
            "\"asset_review_failed\",\"message\":\"image rejected\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":{\"code\":4011}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"fail\",\"error\":null}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"taskId\":\"t\",\"status\":\"melted\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll_envelope(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"code\":200,\"message\":\"success\",\"data\":{\"taskId\":\"t\","
            "\"state\":\"success\",\"output\":[{\"url\":"
            "\"https://cdn.kinovi.ai/w.mp4\"}],\"error\":null}}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://cdn.kinovi.ai/w.mp4");
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"code\":200,\"message\":\"success\",\"data\":{\"taskId\":\"t\","
            "\"state\":\"fail\",\"error\":{\"code\":\"2038\",\"message\":"
            "\"no\"}}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_kinovi.parse_poll, 200,
            "{\"code\":200,\"data\":{\"taskId\":\"t\",\"state\":"
            "\"generating\"}}",
            &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    s_parse(adapter_kinovi.parse_poll, 200, "{\"code\":200,\"data\":{\"st",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_kinovi.parse_poll, 404, "{\"message\":\"Task not found\"}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kinovi.parse_poll, 503, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_kinovi.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_poll_request),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll_flat),
        cmocka_unit_test(test_parse_poll_envelope),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
