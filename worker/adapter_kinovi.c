/*
 * adapter_kinovi - requests and responses of the Kinovi task API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_kinovi.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter_url.h"

#define KINOVI_RESOLUTION "720p"
#define KINOVI_ENVELOPE_OK 200 /* the envelope's code on success */

static int
s_auth(const rl_provider_conf_t *p, adapter_request_t *req)
{
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    if (j->upstream_model == NULL)
        return -1;
    json_t *inputs = json_pack(
        "{s:s, s:i, s:s, s:s}", "prompt", j->prompt, "duration", j->duration_s,
        "aspectRatio", j->aspect_ratio, "outputResolution", KINOVI_RESOLUTION);
    if (inputs == NULL)
        return -1;
    if (j->image_url)
        json_object_set_new(inputs, "imageUrls",
                            json_pack("[s]", j->image_url));
    json_t *body =
        json_pack("{s:s, s:o}", "model", j->upstream_model, "inputs", inputs);
    if (body == NULL)
        return -1;
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/jobs/createTask", p->base_url) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

/* The answer's object: "data" of an envelope, else the root itself. */
static json_t *
s_payload(json_t *root)
{
    json_t *data = json_object_get(root, "data");
    return json_is_object(data) ? data : root;
}

static bool
s_ok(long status)
{
    return status >= 200 && status < 300;
}

/* The status of an answer: HTTP's, or a failing envelope code. */
static long
s_status_of(const rl_http_resp_t *resp, json_t *root)
{
    json_t *code = json_object_get(root, "code");
    if (s_ok(resp->status) && json_is_integer(code) &&
        json_integer_value(code) != KINOVI_ENVELOPE_OK &&
        json_integer_value(code) != 0)
        return (long)json_integer_value(code);
    return resp->status;
}

/* An error answer {"message"}: 429 "Concurrency limit reached" is
 * CAPACITY, other 429 RATE_LIMITED, 5xx TRANSIENT, 4xx (402 credits)
 * PERMANENT. */
static void
s_http_error(const rl_http_resp_t *resp, long status, json_t *root,
             adapter_result_t *out)
{
    rl_http_resp_t as = *resp;
    as.status = status;
    adapter_result_http(&as, out);
    const char *msg = json_string_value(json_object_get(root, "message"));
    if (msg == NULL)
        msg = json_string_value(json_object_get(root, "msg"));
    if (msg == NULL)
        return;
    adapter_copy(out->message, sizeof out->message, msg);
    if (status == 429 && strcasestr(msg, "concurrency") != NULL)
        out->error = ADAPTER_ERR_CAPACITY;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    long status = s_status_of(resp, root);
    const char *id =
        json_string_value(json_object_get(s_payload(root), "taskId"));
    if (s_ok(status) && id != NULL && id[0] != '\0') {
        if (adapter_result_id(out, out->task_id, sizeof out->task_id, id,
                              "Kinovi", "taskId") == 0)
            out->state = ADAPTER_QUEUED;
    } else if (s_ok(status)) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Kinovi response");
    } else {
        s_http_error(resp, status, root, out);
    }
    json_decref(root);
}

static int
s_build_poll(const rl_provider_conf_t *p, const adapter_job_t *j,
             const char *task_id, int64_t now_s, adapter_request_t *req)
{
    (void)j;
    (void)now_s;
    char id[ADAPTER_TASK_MAX * 3];
    req->method = "GET";
    if (adapter_url_escape(id, sizeof id, task_id) != 0 ||
        adapter_request_url(req, "%s/jobs/recordInfo?taskId=%s", p->base_url,
                            id) != 0)
        return -1;
    return s_auth(p, req);
}

/* A failed task: error.code (a string, or a number) names the class. */
static void
s_failed(json_t *task, adapter_result_t *out)
{
    json_t *err = json_object_get(task, "error");
    json_t *code = json_object_get(err, "code");
    const char *msg = json_string_value(json_object_get(err, "message"));
    char codebuf[ADAPTER_CODE_MAX] = "failed";
    if (json_is_string(code))
        adapter_copy(codebuf, sizeof codebuf, json_string_value(code));
    else if (json_is_integer(code))
        adapter_result_code(codebuf, sizeof codebuf,
                            (long long)json_integer_value(code));
    adapter_error_t e = ADAPTER_ERR_PERMANENT;
    if (strcmp(codebuf, "2038") == 0 ||
        strcmp(codebuf, "asset_review_failed") == 0)
        e = ADAPTER_ERR_CONTENT_REJECTED;
    else if (strcmp(codebuf, "4011") == 0)
        e = ADAPTER_ERR_CAPACITY;
    adapter_result_error(out, ADAPTER_FAILED, e, codebuf, "%s",
                         msg ? msg : "Kinovi task failed");
}

static void
s_state(const char *st, json_t *task, adapter_result_t *out)
{
    if (strcmp(st, "waiting") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "generating") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "success") == 0) {
        const char *url = json_string_value(json_object_get(
            json_array_get(json_object_get(task, "output"), 0), "url"));
        if (url == NULL) {
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "Kinovi success without url");
            return;
        }
        adapter_result_output(out, url, "Kinovi");
    } else if (strcmp(st, "fail") == 0) {
        s_failed(task, out);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Kinovi state '%.32s'", st);
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    long status = s_status_of(resp, root);
    json_t *task = s_payload(root);
    const char *st = json_string_value(json_object_get(task, "status"));
    if (st == NULL)
        st = json_string_value(json_object_get(task, "state"));
    out->progress = -1;
    if (s_ok(status) && st != NULL)
        s_state(st, task, out);
    else if (s_ok(status))
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Kinovi response");
    else
        s_http_error(resp, status, root, out);
    json_decref(root);
}

const adapter_t adapter_kinovi = {
    .type = "kinovi",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* Kinovi documents no cancel */
};
