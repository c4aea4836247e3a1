/*
 * test_worker_adapter_openai - the OpenAI Videos API v1 (Sora 2) adapter:
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
#include "adapter_openai.h"

static rl_provider_conf_t s_prov = {
    .name = "sora",
    .type = "openai",
    .base_url = "https://api.openai.com/v1",
    .key = "sk-test",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "sora-2",
    .prompt = "a cat",
    .duration_s = 8,
    .aspect_ratio = "16:9",
};

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("openai"), &adapter_openai);
    assert_int_equal(adapter_openai.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://api.openai.com/v1/videos");
    assert_true(s_has_header(&req, "Authorization: Bearer sk-test"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    assert_string_equal(s_str(body, "model"), "sora-2");
    assert_string_equal(s_str(body, "prompt"), "a cat");
    assert_string_equal(s_str(body, "seconds"), "8"); /* a string */
    assert_string_equal(s_str(body, "size"), "1280x720");
    assert_null(s_get(body, "input_reference"));
    json_decref(body);
    adapter_request_release(&req);

    j.aspect_ratio = "9:16";
    j.image_url = "https://img.example/a.png";
    assert_int_equal(adapter_openai.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    assert_string_equal(s_str(body, "size"), "720x1280");
    assert_string_equal(s_str(body, "input_reference.image_url"),
                        "https://img.example/a.png");
    json_decref(body);
    adapter_request_release(&req);

    j.aspect_ratio = "1:1"; /* Sora has no square size */
    assert_int_equal(adapter_openai.build_submit(&s_prov, &j, 0, &req), -1);
    adapter_request_release(&req);
}

static void
test_poll_request(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(
        adapter_openai.build_poll(&s_prov, &s_job, "video_123", 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://api.openai.com/v1/videos/video_123");
    assert_true(s_has_header(&req, "Authorization: Bearer sk-test"));
    assert_null(req.body);
    adapter_request_release(&req);
    assert_int_equal(adapter_openai.build_poll(&s_prov, &s_job, "..", 0, &req),
                     -1);
    adapter_request_release(&req);
    assert_null(adapter_openai.build_cancel); /* DELETE deletes */
    assert_null(adapter_openai.build_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_openai.parse_submit, 200,
            "{\"id\":\"video_68d7\",\"object\":\"video\",\"model\":\"sora-2\","
            "\"status\":\"queued\",\"progress\":0,\"seconds\":\"8\","
            "\"size\":\"1280x720\"}",
            &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "video_68d7");
    s_parse(adapter_openai.parse_submit, 429,
            "{\"error\":{\"message\":\"Rate limit reached\",\"type\":"
            "\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.code, "rate_limit_exceeded");
    assert_string_equal(out.message, "Rate limit reached");
    s_parse(adapter_openai.parse_submit, 429,
            "{\"error\":{\"message\":\"You exceeded your current quota\","
            "\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
            "\"insufficient_quota\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "insufficient_quota");
    s_parse(adapter_openai.parse_submit, 400,
            "{\"error\":{\"message\":\"Your request was blocked by our "
            "moderation system.\",\"type\":\"invalid_request_error\","
            "\"param\":null,\"code\":\"moderation_blocked\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_openai.parse_submit, 400,
            "{\"error\":{\"message\":\"Invalid size\",\"type\":"
            "\"invalid_request_error\",\"param\":\"size\",\"code\":null}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_openai.parse_submit, 500,
            "{\"error\":{\"message\":\"server error\",\"type\":"
            "\"server_error\",\"code\":null}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_openai.parse_submit, 200, "{\"id\":\"vid", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse_timeout(adapter_openai.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"queued\",\"progress\":0}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"in_progress\",\"progress\":33}",
            &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, 33);
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"completed\",\"progress\":100,"
            "\"completed_at\":1759938772,\"expires_at\":1760025172}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    /* No URL in the answer: a path under base_url (see adapter.h). */
    assert_string_equal(out.output_url, "/videos/video_1/content");
    s_parse(adapter_openai.parse_poll, 200, "{\"status\":\"completed\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.output_url, "");
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"failed\",\"error\":{\"code\":"
            "\"moderation_blocked\",\"message\":\"blocked\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"failed\",\"error\":{\"code\":"
            "\"content_policy_violation\",\"message\":\"no\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"failed\",\"error\":{\"code\":"
            "\"internal_error\",\"message\":\"render failed\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "render failed");
    s_parse(adapter_openai.parse_poll, 200,
            "{\"id\":\"video_1\",\"status\":\"weird\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_openai.parse_poll, 200, "{\"id\":\"video_1\",\"st", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_openai.parse_poll, 404,
            "{\"error\":{\"message\":\"not found\",\"type\":"
            "\"invalid_request_error\",\"code\":null}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_openai.parse_poll, 429,
            "{\"error\":{\"message\":\"slow down\",\"code\":"
            "\"rate_limit_exceeded\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse_timeout(adapter_openai.parse_poll, &out);
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
