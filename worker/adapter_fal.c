/*
 * adapter_fal - requests and responses of the fal queue API. The
 * status_url, response_url and cancel_url of fal's answers are ignored:
 * every request URL is built from base_url and the escaped request_id,
 * so an answer cannot send the key to another host or path.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_fal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

/* error_type values that mean fal had no runner in time or lost it: the
 * request may succeed elsewhere. */
static const char *const s_capacity_types[] = {
    "request_timeout",           "startup_timeout",
    "runner_scheduling_failure", "runner_connection_timeout",
    "runner_disconnected",
};

static int
s_auth(const rl_provider_conf_t *p, adapter_request_t *req)
{
    return adapter_request_header(req, "Authorization: Key %s", p->key);
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    char duration[16];
    int n = snprintf(duration, sizeof duration, "%d", j->duration_s);
    if (n <= 0 || (size_t)n >= sizeof duration)
        return -1;
    json_t *body = json_pack("{s:s, s:s, s:s}", "prompt", j->prompt, "duration",
                             duration, "aspect_ratio", j->aspect_ratio);
    if (body == NULL)
        return -1;
    if (j->negative_prompt)
        json_object_set_new(body, "negative_prompt",
                            json_string(j->negative_prompt));
    if (j->image_url)
        json_object_set_new(body, "image_url", json_string(j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL || j->upstream_model == NULL ||
        adapter_request_url(req, "%s/%s", p->base_url, j->upstream_model) !=
            0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

/* Writes "{base}/{owner}/{app}/requests/{id}{suffix}". Returns 0 or -1. */
static int
s_request_url(const rl_provider_conf_t *p, const char *model,
              const char *task_id, const char *suffix, adapter_request_t *req)
{
    const char *first = model ? strchr(model, '/') : NULL;
    if (first == NULL || first == model || first[1] == '\0' || first[1] == '/')
        return -1;
    const char *second = strchr(first + 1, '/');
    int app_len = second ? (int)(second - model) : (int)strlen(model);
    char id[ADAPTER_TASK_MAX * 3];
    if (adapter_url_escape(id, sizeof id, task_id) != 0)
        return -1;
    return adapter_request_url(req, "%s/%.*s/requests/%s%s", p->base_url,
                               app_len, model, id, suffix);
}

static int
s_build_poll(const rl_provider_conf_t *p, const adapter_job_t *j,
             const char *task_id, int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    req->method = "GET";
    if (s_request_url(p, j->upstream_model, task_id, "/status", req) != 0)
        return -1;
    return s_auth(p, req);
}

static int
s_build_result(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *task_id, int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    req->method = "GET";
    if (s_request_url(p, j->upstream_model, task_id, "", req) != 0)
        return -1;
    return s_auth(p, req);
}

static int
s_build_cancel(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *task_id, int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    req->method = "PUT";
    if (s_request_url(p, j->upstream_model, task_id, "/cancel", req) != 0)
        return -1;
    return s_auth(p, req);
}

/* True when a 422 detail[] names a content_policy_violation. */
static bool
s_detail_content(json_t *detail)
{
    size_t i;
    json_t *item;
    json_array_foreach(detail, i, item)
    {
        const char *type = json_string_value(json_object_get(item, "type"));
        if (type != NULL && strcmp(type, "content_policy_violation") == 0)
            return true;
    }
    return false;
}

static adapter_error_t
s_classify(long status, const char *type, json_t *detail)
{
    if (s_detail_content(detail) ||
        (type != NULL && strstr(type, "content_policy") != NULL))
        return ADAPTER_ERR_CONTENT_REJECTED;
    for (size_t i = 0; type != NULL &&
                       i < sizeof s_capacity_types / sizeof s_capacity_types[0];
         i++)
        if (strcmp(type, s_capacity_types[i]) == 0)
            return ADAPTER_ERR_CAPACITY;
    /* Another server-side failure of this request: not the input's
     * fault, so worth another provider. */
    if (type != NULL && status >= 500)
        return ADAPTER_ERR_CAPACITY;
    return ADAPTER_ERR_PERMANENT;
}

/* A fal error answer: {detail, error_type} or a 422 {detail:[...]}. With
 * neither it is not fal's verdict, and the HTTP status decides. */
static void
s_error(const rl_http_resp_t *resp, json_t *root, adapter_state_t state,
        adapter_result_t *out)
{
    json_t *detail = json_object_get(root, "detail");
    const char *type = json_string_value(json_object_get(root, "error_type"));
    adapter_result_http(resp, out);
    if (type == NULL && !(resp->status == 422 && json_is_array(detail))) {
        if (json_is_string(detail))
            adapter_copy(out->message, sizeof out->message,
                         json_string_value(detail));
        return;
    }
    const char *msg = json_string_value(detail);
    if (msg == NULL)
        msg = json_string_value(
            json_object_get(json_array_get(detail, 0), "msg"));
    adapter_result_error(out, state, s_classify(resp->status, type, detail),
                         type ? type : "validation", "%s",
                         msg ? msg : "fal request failed");
}

static bool
s_ok(const rl_http_resp_t *resp)
{
    return resp->status >= 200 && resp->status < 300;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "request_id"));
    if (s_ok(resp) && id != NULL && id[0] != '\0') {
        if (adapter_result_id(out, out->task_id, sizeof out->task_id, id, "fal",
                              "request_id") == 0)
            out->state = ADAPTER_QUEUED;
    } else if (s_ok(resp)) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed fal response");
    } else {
        s_error(resp, root, ADAPTER_ERROR, out);
    }
    json_decref(root);
}

static void
s_status(const char *st, json_t *root, adapter_result_t *out)
{
    json_t *pos = json_object_get(root, "queue_position");
    if (strcmp(st, "IN_QUEUE") == 0) {
        out->state = ADAPTER_QUEUED;
        if (json_is_integer(pos))
            adapter_result_note(out, "queue position %lld",
                                (long long)json_integer_value(pos));
    } else if (strcmp(st, "IN_PROGRESS") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "COMPLETED") == 0) {
        out->state = ADAPTER_FETCH; /* success or failure: ask the result */
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown fal status '%.32s'", st);
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = json_string_value(json_object_get(root, "status"));
    out->progress = -1;
    if (s_ok(resp) && st != NULL)
        s_status(st, root, out);
    else if (s_ok(resp))
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed fal status");
    else
        s_error(resp, root, ADAPTER_ERROR, out);
    json_decref(root);
}

static void
s_parse_result(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *url = json_string_value(
        json_object_get(json_object_get(root, "video"), "url"));
    out->progress = -1;
    if (s_ok(resp) && url != NULL) {
        adapter_result_output(out, url, "fal");
    } else if (s_ok(resp) && json_object_get(root, "error_type") == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "fal result without video.url");
    } else {
        s_error(resp, root, ADAPTER_FAILED, out);
    }
    json_decref(root);
}

const adapter_t adapter_fal = {
    .type = "fal",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = s_build_cancel,
    .build_result = s_build_result,
    .parse_result = s_parse_result,
};
