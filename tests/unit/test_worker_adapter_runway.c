/*
 * test_worker_adapter_runway - the Runway adapter (API 2024-11-06):
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
#include "adapter_runway.h"

static rl_provider_conf_t s_prov = {
    .name = "runway",
    .type = "runway",
    .base_url = "https://api.dev.runwayml.com",
    .key = "key_abc",
};

#define RUNWAY "https://api.dev.runwayml.com"

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "gen4.5",
    .prompt = "a cat",
    .duration_s = 5,
    .aspect_ratio = "16:9",
};

static void
test_registered(void **state)
{
    (void)state;
    assert_ptr_equal(adapter_find("runway"), &adapter_runway);
}

static void
test_submit_t2v(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(adapter_runway.build_submit(&s_prov, &s_job, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, RUNWAY "/v1/text_to_video");
    assert_true(s_has_header(&req, "Authorization: Bearer key_abc"));
    assert_true(s_has_header(&req, "X-Runway-Version: 2024-11-06"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "model"), "gen4.5");
    assert_string_equal(s_str(body, "promptText"), "a cat");
    assert_string_equal(s_str(body, "ratio"), "1280:720");
    assert_int_equal(json_integer_value(s_get(body, "duration")), 5);
    assert_null(s_get(body, "promptImage"));
    json_decref(body);
    adapter_request_release(&req);
}

static void
test_submit_i2v_and_ratios(void **state)
{
    static const char *const map[][2] = {
        {"16:9", "1280:720"}, {"9:16", "720:1280"}, {"1:1", "960:960"}};
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    j.image_url = "https://img.example/a.png";
    for (size_t i = 0; i < 3; i++) {
        j.aspect_ratio = map[i][0];
        assert_int_equal(adapter_runway.build_submit(&s_prov, &j, 0, &req), 0);
        assert_string_equal(req.url, RUNWAY "/v1/image_to_video");
        json_t *body = s_body(&req);
        assert_string_equal(s_str(body, "ratio"), map[i][1]);
        assert_string_equal(s_str(body, "promptImage"), j.image_url);
        json_decref(body);
        adapter_request_release(&req);
    }
    j.aspect_ratio = "4:3"; /* no Runway ratio: cannot be expressed */
    assert_int_equal(adapter_runway.build_submit(&s_prov, &j, 0, &req), -1);
    adapter_request_release(&req);
}

static void
test_poll_and_cancel_requests(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(
        adapter_runway.build_poll(&s_prov, &s_job, "task-1", 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, RUNWAY "/v1/tasks/task-1");
    assert_true(s_has_header(&req, "X-Runway-Version: 2024-11-06"));
    adapter_request_release(&req);
    assert_non_null(adapter_runway.build_cancel);
    assert_int_equal(
        adapter_runway.build_cancel(&s_prov, &s_job, "task-1", 0, &req), 0);
    assert_string_equal(req.method, "DELETE");
    assert_string_equal(req.url, RUNWAY "/v1/tasks/task-1");
    adapter_request_release(&req);
    /* An id from outside cannot change the path. */
    assert_int_equal(
        adapter_runway.build_poll(&s_prov, &s_job, "../x?y", 0, &req), 0);
    assert_string_equal(req.url, RUNWAY "/v1/tasks/..%2Fx%3Fy");
    adapter_request_release(&req);
    assert_int_equal(adapter_runway.build_poll(&s_prov, &s_job, "", 0, &req),
                     -1);
    adapter_request_release(&req);
    assert_null(adapter_runway.build_result);
    assert_null(adapter_runway.parse_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_runway.parse_submit, 200,
            "{\"id\":\"17f20503-6c24-4c16-946b-35dbbce2af2f\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "17f20503-6c24-4c16-946b-35dbbce2af2f");
    s_parse(adapter_runway.parse_submit, 429,
            "{\"error\":\"You have exceeded your daily task limit.\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.message,
                        "You have exceeded your daily task limit.");
    static const long transient[] = {502, 503, 504};
    for (size_t i = 0; i < 3; i++) {
        s_parse(adapter_runway.parse_submit, transient[i], "<html>", &out);
        s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    }
    static const long permanent[] = {400, 401, 404, 405};
    for (size_t i = 0; i < 4; i++) {
        s_parse(adapter_runway.parse_submit, permanent[i],
                "{\"error\":\"Invalid input\"}", &out);
        s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    }
    s_parse(adapter_runway.parse_submit, 200, "{\"id\":\"17f2", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse(adapter_runway.parse_submit, 200, "{}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_runway.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "timeout");
}

static void
test_parse_poll_states(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"PENDING\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"THROTTLED\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"RUNNING\",\"progress\":0.42}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, 42);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"RUNNING\",\"progress\":1}", &out);
    assert_int_equal(out.progress, 100);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"RUNNING\"}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"SUCCEEDED\",\"output\":"
            "[\"https://dnznrvs05pmza.cloudfront.net/v.mp4?_jwt=x\"]}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url,
                        "https://dnznrvs05pmza.cloudfront.net/v.mp4?_jwt=x");
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"SUCCEEDED\",\"output\":[]}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll_failures(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"FAILED\",\"failure\":\"Input "
            "rejected\",\"failureCode\":\"SAFETY.INPUT.TEXT\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    assert_string_equal(out.code, "SAFETY.INPUT.TEXT");
    assert_string_equal(out.message, "Input rejected");
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"FAILED\",\"failure\":\"oops\","
            "\"failureCode\":\"INTERNAL.BAD_OUTPUT.CODE01\"}",
            &out);
    /* Runway's INTERNAL.* failures are worth trying elsewhere. */
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"FAILED\",\"failure\":\"bad image\","
            "\"failureCode\":\"ASSET.INVALID\"}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"FAILED\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"CANCELLED\"}", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_runway.parse_poll, 200,
            "{\"id\":\"t\",\"status\":\"EXPLODED\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_runway.parse_poll, 200, "{\"id\":\"t\",\"sta", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_runway.parse_poll, 404, "{\"error\":\"Not found\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_runway.parse_poll, 503, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse_timeout(adapter_runway.parse_poll, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),
        cmocka_unit_test(test_submit_t2v),
        cmocka_unit_test(test_submit_i2v_and_ratios),
        cmocka_unit_test(test_poll_and_cancel_requests),
        cmocka_unit_test(test_parse_submit),
        cmocka_unit_test(test_parse_poll_states),
        cmocka_unit_test(test_parse_poll_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
