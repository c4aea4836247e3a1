/*
 * test_worker_adapter_fal - the fal queue API adapter: request building
 * (submit under the full model id, status/result/cancel under owner/app),
 * IN_QUEUE / IN_PROGRESS / COMPLETED -> ADAPTER_FETCH, and every class of
 * the result fetch.
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

static rl_provider_conf_t s_prov = {
    .name = "fal",
    .type = "fal",
    .base_url = "https://queue.fal.run",
    .key = "fal-key",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "fal-ai/kling-video/v2.1/standard/text-to-video",
    .prompt = "a cat",
    .duration_s = 5,
    .aspect_ratio = "16:9",
};

#define REQS "https://queue.fal.run/fal-ai/kling-video/requests/"

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("fal"), &adapter_fal);
    assert_int_equal(adapter_fal.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://queue.fal.run/fal-ai/kling-video/"
                                 "v2.1/standard/text-to-video");
    assert_true(s_has_header(&req, "Authorization: Key fal-key"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "prompt"), "a cat");
    assert_string_equal(s_str(body, "duration"), "5");
    assert_string_equal(s_str(body, "aspect_ratio"), "16:9");
    assert_null(s_get(body, "image_url"));
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "https://img.example/a.png";
    j.negative_prompt = "blur";
    assert_int_equal(adapter_fal.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    assert_string_equal(s_str(body, "image_url"), j.image_url);
    assert_string_equal(s_str(body, "negative_prompt"), "blur");
    json_decref(body);
    adapter_request_release(&req);
}

static void
test_request_urls(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_int_equal(
        adapter_fal.build_poll(&s_prov, &j, "764cabcf-b745", 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, REQS "764cabcf-b745/status");
    assert_true(s_has_header(&req, "Authorization: Key fal-key"));
    adapter_request_release(&req);
    assert_non_null(adapter_fal.build_result);
    assert_non_null(adapter_fal.parse_result);
    assert_int_equal(
        adapter_fal.build_result(&s_prov, &j, "764cabcf-b745", 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, REQS "764cabcf-b745");
    adapter_request_release(&req);
    assert_int_equal(
        adapter_fal.build_cancel(&s_prov, &j, "764cabcf-b745", 0, &req), 0);
    assert_string_equal(req.method, "PUT");
    assert_string_equal(req.url, REQS "764cabcf-b745/cancel");
    adapter_request_release(&req);
    /* A two-segment model id is its own app. */
    j.upstream_model = "fal-ai/veo3";
    assert_int_equal(adapter_fal.build_poll(&s_prov, &j, "r1", 0, &req), 0);
    assert_string_equal(req.url,
                        "https://queue.fal.run/fal-ai/veo3/requests/r1/status");
    adapter_request_release(&req);
    static const char *const bad[] = {"veo3", "/veo3", "fal-ai/", "fal-ai//x"};
    for (size_t i = 0; i < 4; i++) {
        j.upstream_model = bad[i];
        assert_int_equal(adapter_fal.build_poll(&s_prov, &j, "r1", 0, &req),
                         -1);
        adapter_request_release(&req);
    }
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_fal.parse_submit, 200,
            "{\"request_id\":\"764cabcf-b745\",\"response_url\":\"" REQS
            "764cabcf-b745\",\"status_url\":\"" REQS "764cabcf-b745/status\","
            "\"cancel_url\":\"" REQS "764cabcf-b745/cancel\"}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "764cabcf-b745");
    s_parse(adapter_fal.parse_submit, 429, "{\"detail\":\"Too many\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_fal.parse_submit, 401,
            "{\"detail\":\"No user found for Key ID and Secret\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "No user found for Key ID and Secret");
    s_parse(adapter_fal.parse_submit, 422,
            "{\"detail\":[{\"loc\":[\"body\",\"duration\"],\"msg\":\"value is "
            "not a valid enumeration member\",\"type\":\"type_error.enum\"}]}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_fal.parse_submit, 503, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_fal.parse_submit, 200, "{\"request_id\":\"76", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_fal.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_fal.parse_poll, 202,
            "{\"status\":\"IN_QUEUE\",\"queue_position\":3,\"response_url\":"
            "\"" REQS "r\"}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.message, "queue position 3");
    s_parse(adapter_fal.parse_poll, 202,
            "{\"status\":\"IN_PROGRESS\",\"logs\":[]}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_fal.parse_poll, 200,
            "{\"status\":\"COMPLETED\",\"logs\":[],\"metrics\":"
            "{\"inference_time\":80.1},\"response_url\":\"" REQS "r\"}",
            &out);
    s_expect(&out, ADAPTER_FETCH, ADAPTER_ERR_NONE);
    assert_string_equal(out.fetch_ref, ""); /* fetch by the job's task id */
    s_parse(adapter_fal.parse_poll, 200, "{\"status\":\"LOST\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_fal.parse_poll, 200, "{\"status\":\"COMPL", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_fal.parse_poll, 404, "{\"detail\":\"Request not found\"}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_fal.parse_poll, 500, "oops", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_fal.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_result(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_fal.parse_result, 200,
            "{\"video\":{\"url\":\"https://v3.fal.media/files/out.mp4\","
            "\"content_type\":\"video/mp4\",\"file_size\":3148243}}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://v3.fal.media/files/out.mp4");
    static const char *const capacity[] = {"request_timeout", "startup_timeout",
                                           "runner_scheduling_failure"};
    for (size_t i = 0; i < 3; i++) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"detail\":\"no runner\",\"error_type\":\"%s\"}",
                 capacity[i]);
        s_parse(adapter_fal.parse_result, 504, body, &out);
        s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
        assert_string_equal(out.code, capacity[i]);
        assert_string_equal(out.message, "no runner");
    }
    s_parse(adapter_fal.parse_result, 422,
            "{\"detail\":[{\"loc\":[\"body\",\"prompt\"],\"msg\":\"field "
            "required\",\"type\":\"value_error.missing\"}]}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "field required");
    s_parse(adapter_fal.parse_result, 422,
            "{\"detail\":[{\"loc\":[\"body\",\"prompt\"],\"msg\":\"The "
            "content was flagged by a content checker.\",\"type\":"
            "\"content_policy_violation\",\"categories\":[\"sexual\"]}]}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_fal.parse_result, 500,
            "{\"detail\":\"Internal error\",\"error_type\":"
            "\"internal_server_error\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    s_parse(adapter_fal.parse_result, 400,
            "{\"detail\":\"Image too large\",\"error_type\":"
            "\"image_too_large\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    /* Not fal's verdict on the request: retried through the next poll. */
    s_parse(adapter_fal.parse_result, 502, "<html>bad gateway</html>", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_fal.parse_result, 200, "{\"video\":{\"url\":\"htt", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_fal.parse_result, 200, "{\"images\":[]}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_fal.parse_result, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_request_urls),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll),
        cmocka_unit_test(test_parse_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
