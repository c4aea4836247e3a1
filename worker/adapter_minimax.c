/*
 * adapter_minimax - requests and responses of the MiniMax video API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_minimax.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

/* base_resp.status_code values with a class of their own. */
#define MINIMAX_UNKNOWN 1000
#define MINIMAX_RATE_LIMIT 1002
#define MINIMAX_INPUT_SENSITIVE 1026
#define MINIMAX_OUTPUT_SENSITIVE 1027

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
    json_t *body = json_pack("{s:s, s:s, s:i}", "model", j->upstream_model,
                             "prompt", j->prompt, "duration", j->duration_s);
    if (body == NULL)
        return -1;
    if (j->image_url)
        json_object_set_new(body, "first_frame_image",
                            json_string(j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/v1/video_generation", p->base_url) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

/* 1004 auth, 1008 balance, 2013 parameters and unknown codes are
 * PERMANENT. */
static adapter_error_t
s_classify(json_int_t code)
{
    switch (code) {
    case MINIMAX_RATE_LIMIT:
        return ADAPTER_ERR_RATE_LIMITED;
    case MINIMAX_INPUT_SENSITIVE:
    case MINIMAX_OUTPUT_SENSITIVE:
        return ADAPTER_ERR_CONTENT_REJECTED;
    case MINIMAX_UNKNOWN:
        return ADAPTER_ERR_TRANSIENT;
    default:
        return ADAPTER_ERR_PERMANENT;
    }
}

/* Checks an answer's HTTP status and base_resp. Returns 0 when the call
 * succeeded, else -1 with out filled as an error in `state`. */
static int
s_check(const rl_http_resp_t *resp, json_t *root, adapter_state_t state,
        adapter_result_t *out)
{
    json_t *base = json_object_get(root, "base_resp");
    json_t *code = json_object_get(base, "status_code");
    const char *msg = json_string_value(json_object_get(base, "status_msg"));
    if (json_is_integer(code) && json_integer_value(code) != 0) {
        json_int_t c = json_integer_value(code);
        char codebuf[24];
        adapter_result_code(codebuf, sizeof codebuf, (long long)c);
        adapter_error_t e = s_classify(c);
        /* A task that ended in Fail cannot be retried: only a content
         * refusal keeps its own class. */
        if (state == ADAPTER_FAILED && e != ADAPTER_ERR_CONTENT_REJECTED)
            e = ADAPTER_ERR_PERMANENT;
        adapter_result_error(out, state, e, codebuf, "%s",
                             msg ? msg : "MiniMax error");
        return -1;
    }
    if (resp->status < 200 || resp->status >= 300) {
        adapter_result_http(resp, out);
        return -1;
    }
    if (!json_is_integer(code)) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "MiniMax answer without base_resp");
        return -1;
    }
    return 0;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "task_id"));
    if (s_check(resp, root, ADAPTER_ERROR, out) != 0) {
        /* out filled by s_check */
    } else if (id == NULL || id[0] == '\0') {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "MiniMax submit without task_id");
    } else if (adapter_result_id(out, out->task_id, sizeof out->task_id, id,
                                 "MiniMax", "task_id") == 0) {
        out->state = ADAPTER_QUEUED;
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
        adapter_request_url(req, "%s/v1/query/video_generation?task_id=%s",
                            p->base_url, id) != 0)
        return -1;
    return s_auth(p, req);
}

/* Success: the file_id (a string, or a number in some answers) is what
 * build_result resolves. */
static void
s_success(json_t *root, adapter_result_t *out)
{
    json_t *file = json_object_get(root, "file_id");
    if (json_is_string(file) && json_string_length(file) > 0) {
        if (adapter_result_id(out, out->fetch_ref, sizeof out->fetch_ref,
                              json_string_value(file), "MiniMax",
                              "file_id") != 0)
            return;
    } else if (json_is_integer(file)) {
        /* Always fits; "" (refused below) should it not. */
        adapter_result_code(out->fetch_ref, sizeof out->fetch_ref,
                            (long long)json_integer_value(file));
    }
    if (out->fetch_ref[0] == '\0') {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "MiniMax success without file_id");
        return;
    }
    out->state = ADAPTER_FETCH;
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = json_string_value(json_object_get(root, "status"));
    bool fail = st != NULL && strcmp(st, "Fail") == 0;
    out->progress = -1;
    if (s_check(resp, root, fail ? ADAPTER_FAILED : ADAPTER_ERROR, out) != 0) {
        /* out filled by s_check */
    } else if (st == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "MiniMax poll without status");
    } else if (strcmp(st, "Preparing") == 0 || strcmp(st, "Queueing") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "Processing") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "Success") == 0) {
        s_success(root, out);
    } else if (fail) {
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT,
                             "failed", "MiniMax task failed");
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown MiniMax status '%.32s'", st);
    }
    json_decref(root);
}

static int
s_build_result(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *file_id, int64_t now_s, adapter_request_t *req)
{
    (void)j;
    (void)now_s;
    char id[ADAPTER_TASK_MAX * 3];
    req->method = "GET";
    if (adapter_url_escape(id, sizeof id, file_id) != 0 ||
        adapter_request_url(req, "%s/v1/files/retrieve?file_id=%s", p->base_url,
                            id) != 0)
        return -1;
    return s_auth(p, req);
}

static void
s_parse_result(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *url = json_string_value(
        json_object_get(json_object_get(root, "file"), "download_url"));
    out->progress = -1;
    if (s_check(resp, root, ADAPTER_ERROR, out) != 0) {
        /* out filled by s_check */
    } else if (url == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "MiniMax file without download_url");
    } else {
        adapter_result_output(out, url, "MiniMax");
    }
    json_decref(root);
}

const adapter_t adapter_minimax = {
    .type = "minimax",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* MiniMax documents no cancel */
    .build_result = s_build_result,
    .parse_result = s_parse_result,
};
