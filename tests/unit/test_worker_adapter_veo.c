/*
 * test_worker_adapter_veo - the Veo adapter (Gemini API v1beta
 * predictLongRunning): request building, the operation name as task id,
 * and every outcome of an operation and error class.
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
#include "adapter_veo.h"

static rl_provider_conf_t s_prov = {
    .name = "veo",
    .type = "veo",
    .base_url = "https://generativelanguage.googleapis.com/v1beta",
    .key = "AIza-test",
};

static const adapter_job_t s_job = {
    .job_id = "j1",
    .attempt = 1,
    .upstream_model = "veo-3.1-generate-preview",
    .prompt = "a cat",
    .duration_s = 8,
    .aspect_ratio = "16:9",
};

#define BASE "https://generativelanguage.googleapis.com/v1beta"
#define OP "models/veo-3.1-generate-preview/operations/abc123"

static void
test_submit(void **state)
{
    adapter_request_t req = {0};
    adapter_job_t j = s_job;
    (void)state;
    assert_ptr_equal(adapter_find("veo"), &adapter_veo);
    assert_int_equal(adapter_veo.build_submit(&s_prov, &j, 0, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, BASE "/models/veo-3.1-generate-preview:"
                                      "predictLongRunning");
    assert_true(s_has_header(&req, "x-goog-api-key: AIza-test"));
    assert_true(s_has_header(&req, "Content-Type: application/json"));
    json_t *body = s_body(&req);
    json_t *inst = json_array_get(s_get(body, "instances"), 0);
    assert_string_equal(s_str(inst, "prompt"), "a cat");
    assert_null(s_get(inst, "image"));
    assert_string_equal(s_str(body, "parameters.aspectRatio"), "16:9");
    assert_int_equal(json_integer_value(s_get(body, "parameters."
                                                    "durationSeconds")),
                     8);
    json_decref(body);
    adapter_request_release(&req);

    j.image_url = "data:image/png;base64,iVBORw0KGgo=";
    j.negative_prompt = "blur";
    assert_int_equal(adapter_veo.build_submit(&s_prov, &j, 0, &req), 0);
    body = s_body(&req);
    inst = json_array_get(s_get(body, "instances"), 0);
    assert_string_equal(s_str(inst, "image.bytesBase64Encoded"),
                        "iVBORw0KGgo=");
    assert_string_equal(s_str(inst, "image.mimeType"), "image/png");
    assert_string_equal(s_str(body, "parameters.negativePrompt"), "blur");
    json_decref(body);
    adapter_request_release(&req);

    /* The Gemini API takes inline bytes only: an https image cannot be
     * expressed, nor can a broken data URL. */
    static const char *const bad[] = {"https://img.example/a.png",
                                      "data:image/png,abc", "data:;base64,abc",
                                      "data:image/png;base64,"};
    for (size_t i = 0; i < 4; i++) {
        j.image_url = bad[i];
        assert_int_equal(adapter_veo.build_submit(&s_prov, &j, 0, &req), -1);
        adapter_request_release(&req);
    }
    /* A job without a prompt frees the image it had built. */
    j.image_url = "data:image/png;base64,iVBORw0KGgo=";
    j.prompt = NULL;
    assert_int_equal(adapter_veo.build_submit(&s_prov, &j, 0, &req), -1);
    adapter_request_release(&req);
}

static void
test_poll_request(void **state)
{
    adapter_request_t req = {0};
    (void)state;
    assert_int_equal(adapter_veo.build_poll(&s_prov, &s_job, OP, 0, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, BASE "/" OP);
    assert_true(s_has_header(&req, "x-goog-api-key: AIza-test"));
    adapter_request_release(&req);
    static const char *const bad[] = {"", "/models/x", "models/../../x",
                                      "models/x?key=1", "models/x#y"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(
            adapter_veo.build_poll(&s_prov, &s_job, bad[i], 0, &req), -1);
        adapter_request_release(&req);
    }
    assert_null(adapter_veo.build_cancel);
    assert_null(adapter_veo.build_result);
}

static void
test_parse_submit(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_veo.parse_submit, 200, "{\"name\":\"" OP "\"}", &out);
    s_expect(&out, ADAPTER_QUEUED, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, OP);
    s_parse(adapter_veo.parse_submit, 429,
            "{\"error\":{\"code\":429,\"message\":\"Resource has been "
            "exhausted (e.g. check quota).\",\"status\":"
            "\"RESOURCE_EXHAUSTED\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_string_equal(out.code, "RESOURCE_EXHAUSTED");
    s_parse(adapter_veo.parse_submit, 503,
            "{\"error\":{\"code\":503,\"message\":\"The model is "
            "overloaded.\",\"status\":\"UNAVAILABLE\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_veo.parse_submit, 400,
            "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":"
            "\"INVALID_ARGUMENT\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_veo.parse_submit, 403,
            "{\"error\":{\"code\":403,\"message\":\"denied\",\"status\":"
            "\"PERMISSION_DENIED\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_veo.parse_submit, 200, "{\"name\":\"models/ve", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    /* A name that could leave base_url is refused for good. */
    s_parse(adapter_veo.parse_submit, 200, "{\"name\":\"../../x\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "bad_task_id");
    s_parse_timeout(adapter_veo.parse_submit, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

static void
test_parse_poll(void **state)
{
    adapter_result_t out;
    (void)state;
    s_parse(adapter_veo.parse_poll, 200, "{\"name\":\"" OP "\"}", &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    assert_int_equal(out.progress, -1);
    s_parse(adapter_veo.parse_poll, 200, "{\"name\":\"" OP "\",\"done\":false}",
            &out);
    s_expect(&out, ADAPTER_RUNNING, ADAPTER_ERR_NONE);
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"response\":{\"@type\":"
            "\"type.googleapis.com/google.ai.generativelanguage.v1beta."
            "PredictLongRunningResponse\",\"generateVideoResponse\":"
            "{\"generatedSamples\":[{\"video\":{\"uri\":\"" BASE
            "/files/x:download?alt=media\"}}]}}}",
            &out);
    s_expect(&out, ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, BASE "/files/x:download?alt=media");
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"response\":"
            "{\"generateVideoResponse\":{\"raiMediaFilteredCount\":1,"
            "\"raiMediaFilteredReasons\":[\"Unsafe content\"]}}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    assert_string_equal(out.message, "Unsafe content");
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"response\":"
            "{\"generateVideoResponse\":{}}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"error\":{\"code\":429,"
            "\"message\":\"exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"error\":{\"code\":13,"
            "\"message\":\"internal\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "13");
    /* An operation's error is a google.rpc.Status: gRPC codes. */
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"error\":{\"code\":8,"
            "\"message\":\"Resource has been exhausted\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    assert_string_equal(out.code, "8");
    s_parse(adapter_veo.parse_poll, 200,
            "{\"name\":\"" OP "\",\"done\":true,\"error\":{\"code\":14,"
            "\"message\":\"unavailable\"}}",
            &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_veo.parse_poll, 200, "{\"name\":\"" OP "\",\"done\":true}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_veo.parse_poll, 200, "{\"done\":false}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_veo.parse_poll, 200, "{\"name\":\"models/ve", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_veo.parse_poll, 429,
            "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    s_parse(adapter_veo.parse_poll, 404,
            "{\"error\":{\"code\":404,\"status\":\"NOT_FOUND\"}}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse_timeout(adapter_veo.parse_poll, &out);
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
