/*
 * test_worker_adapter_minimax - the MiniMax video API v1 adapter: request
 * building, base_resp error codes under HTTP 200, every status, and the
 * file_id result fetch (ADAPTER_FETCH with fetch_ref).
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
#include "adapter_minimax.h"

static rl_provider_conf_t s_prov = {
    .name = "hailuo",
    .type = "minimax",
    .base_url = "https://api.minimax.io",
    .key = "mm-key",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "MiniMax-Hailuo-02",
    .prompt = "a cat",
    .duration_s = 6,
    .aspect_ratio = "16:9",
};

#define OK_BASE "\"base_resp\":{\"status_code\":0,\"status_msg\":\"success\"}"

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("minimax"), &adapter_minimax);
    assert_int_equal(adapter_minimax.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://api.minimax.io/v1/video_generation");
    assert_true(s_has_header(&req, "Authorization: Bearer mm-key"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "model"), "MiniMax-Hailuo-02");
    assert_string_equal(s_str(body, "prompt"), "a cat");
    assert_true(json_is_integer(s_get(body, "duration")));
    assert_int_equal(json_integer_value(s_get(body, "duration")), 6);
    assert_null(s_get(body, "first_frame_image"));
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "https://img.example/a.png";
    j.duration_s = 10;
    assert_int_equal(adapter_minimax.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    assert_int_equal(json_integer_value(s_get(body, "duration")), 10);
    assert_string_equal(s_str(body, "first_frame_image"), j.image_url);
    json_decref(body);
    adapter_request_release(&req);
}

static void
test_poll_and_result_requests(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(
        adapter_minimax.build_poll(&s_prov, &s_job, "106916112212032", 0, &req),
        0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://api.minimax.io/v1/query/"
                                 "video_generation?task_id=106916112212032");
    assert_true(s_has_header(&req, "Authorization: Bearer mm-key"));
    adapter_request_release(&req);
    assert_non_null(adapter_minimax.build_result);
    assert_non_null(adapter_minimax.parse_result);
    assert_int_equal(adapter_minimax.build_result(&s_prov, &s_job,
                                                  "205258526306433", 0, &req),
                     0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://api.minimax.io/v1/files/retrieve"
                                 "?file_id=205258526306433");
    assert_true(s_has_header(&req, "Authorization: Bearer mm-key"));
    adapter_request_release(&req);
    assert_int_equal(
        adapter_minimax.build_poll(&s_prov, &s_job, "1&x=2", 0, &req), 0);
    assert_string_equal(req.url, "https://api.minimax.io/v1/query/"
                                 "video_generation?task_id=1%26x%3D2");
    adapter_request_release(&req);
    assert_null(adapter_minimax.build_cancel);
}

/* base_resp codes, all under HTTP 200. */
static void
test_parse_submit(void **state)
{
    static const struct {
        int code;
        adapter_error_t error;
    } codes[] = {
        {1002, ADAPTER_ERR_RATE_LIMITED},
        {1026, ADAPTER_ERR_CONTENT_REJECTED},
        {1027, ADAPTER_ERR_CONTENT_REJECTED},
        {1008, ADAPTER_ERR_PERMANENT},
        {1004, ADAPTER_ERR_PERMANENT},
        {2013, ADAPTER_ERR_PERMANENT},
        {1000, ADAPTER_ERR_TRANSIENT},
    };
    adapter_result_t out;
    char body[160];
    (void)state;
    s_parse(adapter_minimax.parse_submit, 200,
            "{\"task_id\":\"106916112212032\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "106916112212032");
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"task_id\":\"\",\"base_resp\":{\"status_code\":%d,"
                 "\"status_msg\":\"m%d\"}}",
                 codes[i].code, codes[i].code);
        s_parse(adapter_minimax.parse_submit, 200, body, &out);
        s_expect(&out, ADAPTER_ERROR, codes[i].error);
        snprintf(body, sizeof body, "%d", codes[i].code);
        assert_string_equal(out.code, body);
    }
    s_parse(adapter_minimax.parse_submit, 429, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_minimax.parse_submit, 502, "<html>", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_submit, 200, "{\"task_id\":\"1069", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_submit, 200, "{" OK_BASE "}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_minimax.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Preparing\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Queueing\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Processing\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(
        adapter_minimax.parse_poll, 200,
        "{\"task_id\":\"t\",\"status\":\"Success\",\"file_id\":"
        "\"205258526306433\",\"video_width\":1366,\"video_height\":768," OK_BASE
        "}",
        &out);
    s_expect(&out, ADAPTER_FETCH, ADAPTER_ERR_NONE);
    assert_string_equal(out.fetch_ref, "205258526306433");
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Success\",\"file_id\":"
            "205258526306433," OK_BASE "}",
            &out);
    s_expect(&out, ADAPTER_FETCH, ADAPTER_ERR_NONE);
    assert_string_equal(out.fetch_ref, "205258526306433");
    s_parse(
        adapter_minimax.parse_poll, 200,
        "{\"task_id\":\"t\",\"status\":\"Success\",\"file_id\":\"\"," OK_BASE
        "}",
        &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Fail\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Fail\",\"base_resp\":"
            "{\"status_code\":1027,\"status_msg\":\"output sensitive\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Fail\",\"base_resp\":"
            "{\"status_code\":1000,\"status_msg\":\"unknown\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"\",\"status\":\"\",\"base_resp\":"
            "{\"status_code\":1002,\"status_msg\":\"rate limit\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_minimax.parse_poll, 200,
            "{\"task_id\":\"t\",\"status\":\"Lost\"," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_poll, 200, "{\"task_id\":\"t\",\"sta", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_poll, 500, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_minimax.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_result(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_minimax.parse_result, 200,
            "{\"file\":{\"file_id\":205258526306433,\"bytes\":5896337,"
            "\"created_at\":1700469398,\"filename\":\"output_aigc.mp4\","
            "\"purpose\":\"video_generation\",\"download_url\":"
            "\"https://public-cdn-video-data-algeng.oss-cn-wulanchabu."
            "aliyuncs.com/v.mp4?Expires=1\"}," OK_BASE "}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url,
                        "https://public-cdn-video-data-algeng.oss-cn-"
                        "wulanchabu.aliyuncs.com/v.mp4?Expires=1");
    s_parse(adapter_minimax.parse_result, 200,
            "{\"file\":{\"file_id\":1}," OK_BASE "}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_minimax.parse_result, 200,
            "{\"base_resp\":{\"status_code\":1004,\"status_msg\":\"auth\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_minimax.parse_result, 200, "{\"file\":{\"downl", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_minimax.parse_result, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_poll_and_result_requests),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll),
        cmocka_unit_test(test_parse_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
