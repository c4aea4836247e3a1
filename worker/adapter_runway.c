/*
 * adapter_runway - requests and responses of the Runway task API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_runway.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

/* Our aspect ratios as Runway's pixel ratios (gen4.x). */
static const struct {
    const char *aspect;
    const char *ratio;
} s_ratios[] = {
    {"16:9", "1280:720"},
    {"9:16", "720:1280"},
    {"1:1", "960:960"},
};

static const char *
s_ratio(const char *aspect)
{
    for (size_t i = 0; i < sizeof s_ratios / sizeof s_ratios[0]; i++)
        if (aspect != NULL && strcmp(s_ratios[i].aspect, aspect) == 0)
            return s_ratios[i].ratio;
    return NULL;
}

static int
s_headers(const rl_provider_conf_t *p, adapter_request_t *req)
{
    if (adapter_request_header(req, "Authorization: Bearer %s", p->key) != 0)
        return -1;
    return adapter_request_header(req,
                                  "X-Runway-Version: " ADAPTER_RUNWAY_VERSION);
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    const char *ratio = s_ratio(j->aspect_ratio);
    if (ratio == NULL)
        return -1;
    json_t *body = json_pack("{s:s, s:s, s:s, s:i}", "model", j->upstream_model,
                             "promptText", j->prompt, "ratio", ratio,
                             "duration", j->duration_s);
    if (body == NULL)
        return -1;
    if (j->image_url)
        json_object_set_new(body, "promptImage", json_string(j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    const char *kind = j->image_url ? "image_to_video" : "text_to_video";
    if (req->body == NULL ||
        adapter_request_url(req, "%s/v1/%s", p->base_url, kind) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_headers(p, req);
}

/* An HTTP error: 429 RATE_LIMITED, 502/503/504 TRANSIENT, other 4xx
 * PERMANENT, with Runway's {"error": "..."} text as the message. */
static void
s_http_error(const rl_http_resp_t *resp, json_t *root, adapter_result_t *out)
{
    adapter_result_http(resp, out);
    const char *msg = json_string_value(json_object_get(root, "error"));
    if (msg != NULL)
        adapter_copy(out->message, sizeof out->message, msg);
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    adapter_parse_id_submit(resp, out, "Runway", s_http_error);
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
        adapter_request_url(req, "%s/v1/tasks/%s", p->base_url, id) != 0)
        return -1;
    return s_headers(p, req);
}

static int
s_build_cancel(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *task_id, int64_t now_s, adapter_request_t *req)
{
    /* Cancels a PENDING, THROTTLED or RUNNING task; deletes any other. */
    int rc = s_build_poll(p, j, task_id, now_s, req);
    req->method = "DELETE";
    return rc;
}

/* progress is a fraction 0..1 while RUNNING. */
static int
s_progress(json_t *task)
{
    json_t *v = json_object_get(task, "progress");
    if (!json_is_number(v))
        return -1;
    double pct = json_number_value(v) * 100.0;
    if (!isfinite(pct))
        return -1;
    return pct < 0 ? 0 : pct > 100 ? 100 : (int)lround(pct);
}

static void
s_failed(json_t *task, adapter_result_t *out)
{
    const char *code = json_string_value(json_object_get(task, "failureCode"));
    const char *msg = json_string_value(json_object_get(task, "failure"));
    adapter_error_t e = ADAPTER_ERR_PERMANENT;
    if (code != NULL && strncmp(code, "SAFETY", 6) == 0)
        e = ADAPTER_ERR_CONTENT_REJECTED;
    else if (code != NULL && strncmp(code, "INTERNAL", 8) == 0)
        e = ADAPTER_ERR_TRANSIENT; /* Runway: an internal error, retry */
    adapter_result_error(out, ADAPTER_FAILED, e, code ? code : "failed", "%s",
                         msg ? msg : "Runway task failed");
}

static void
s_status(const char *st, json_t *task, adapter_result_t *out)
{
    if (strcmp(st, "PENDING") == 0 || strcmp(st, "THROTTLED") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "RUNNING") == 0) {
        out->state = ADAPTER_RUNNING;
        out->progress = s_progress(task);
    } else if (strcmp(st, "SUCCEEDED") == 0) {
        const char *url = json_string_value(
            json_array_get(json_object_get(task, "output"), 0));
        if (url == NULL) {
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "Runway success without output");
            return;
        }
        adapter_result_output(out, url, "Runway");
    } else if (strcmp(st, "FAILED") == 0) {
        s_failed(task, out);
    } else if (strcmp(st, "CANCELLED") == 0) {
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT,
                             "cancelled", "the Runway task was cancelled");
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Runway status '%.32s'", st);
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = json_string_value(json_object_get(root, "status"));
    out->progress = -1;
    if (adapter_http_ok(resp) && st != NULL)
        s_status(st, root, out);
    else if (adapter_http_ok(resp))
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Runway response");
    else
        s_http_error(resp, root, out);
    json_decref(root);
}

const adapter_t adapter_runway = {
    .type = "runway",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = s_build_cancel,
};
