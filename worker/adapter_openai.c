/*
 * adapter_openai - requests and responses of the OpenAI Videos API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_openai.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

/* Our aspect ratios as Sora sizes; 1:1 has none. */
static const char *
s_size(const char *aspect)
{
    if (aspect == NULL)
        return NULL;
    if (strcmp(aspect, "16:9") == 0)
        return "1280x720";
    if (strcmp(aspect, "9:16") == 0)
        return "720x1280";
    return NULL;
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    const char *size = s_size(j->aspect_ratio);
    char seconds[16];
    if (size == NULL)
        return -1;
    int n = snprintf(seconds, sizeof seconds, "%d", j->duration_s);
    if (n <= 0 || (size_t)n >= sizeof seconds)
        return -1;
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s}", "model", j->upstream_model, "prompt",
                  j->prompt, "seconds", seconds, "size", size);
    if (body == NULL)
        return -1;
    if (j->image_url)
        json_object_set_new(body, "input_reference",
                            json_pack("{s:s}", "image_url", j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/videos", p->base_url) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

static bool
s_is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

static bool
s_is_content(const char *code)
{
    return code != NULL && (strstr(code, "moderation") != NULL ||
                            strstr(code, "content_policy") != NULL);
}

/* Classifies {"error":{code, type, message}} on top of the HTTP status:
 * content policy, then insufficient_quota (billing, never retry), then
 * rate_limit_exceeded. */
static void
s_error(const rl_http_resp_t *resp, json_t *root, adapter_result_t *out)
{
    adapter_result_http(resp, out);
    json_t *err = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    const char *tag = code ? code : type;
    if (s_is_content(code) || s_is_content(type))
        out->error = ADAPTER_ERR_CONTENT_REJECTED;
    else if (s_is(code, "insufficient_quota") ||
             s_is(type, "insufficient_quota"))
        out->error = ADAPTER_ERR_PERMANENT;
    else if (s_is(code, "rate_limit_exceeded"))
        out->error = ADAPTER_ERR_RATE_LIMITED;
    if (tag != NULL)
        adapter_copy(out->code, sizeof out->code, tag);
    if (msg != NULL)
        adapter_copy(out->message, sizeof out->message, msg);
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    adapter_parse_id_submit(resp, out, "OpenAI", s_error);
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
        adapter_request_url(req, "%s/videos/%s", p->base_url, id) != 0)
        return -1;
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

/* A completed video: its content path, from the answer's id. */
static void
s_completed(json_t *video, adapter_result_t *out)
{
    const char *id = json_string_value(json_object_get(video, "id"));
    char checked[ADAPTER_TASK_MAX], esc[ADAPTER_TASK_MAX * 3];
    if (id == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "OpenAI video without id");
        return;
    }
    if (adapter_result_id(out, checked, sizeof checked, id, "OpenAI", "id") !=
        0)
        return;
    int n = -1;
    if (adapter_url_escape(esc, sizeof esc, checked) == 0)
        n = snprintf(out->output_url, sizeof out->output_url,
                     "/videos/%s/content", esc);
    if (n < 0 || (size_t)n >= sizeof out->output_url) {
        out->output_url[0] = '\0';
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "bad_task_id", "OpenAI id refused: too long");
        return;
    }
    out->state = ADAPTER_SUCCEEDED;
}

static void
s_failed(json_t *video, adapter_result_t *out)
{
    json_t *err = json_object_get(video, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    adapter_result_error(out, ADAPTER_FAILED,
                         s_is_content(code) ? ADAPTER_ERR_CONTENT_REJECTED
                                            : ADAPTER_ERR_PERMANENT,
                         code ? code : "failed", "%s",
                         msg ? msg : "OpenAI video failed");
}

static void
s_status(const char *st, json_t *video, adapter_result_t *out)
{
    json_t *progress = json_object_get(video, "progress");
    if (strcmp(st, "queued") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "in_progress") == 0) {
        out->state = ADAPTER_RUNNING;
        if (json_is_integer(progress)) {
            json_int_t pct = json_integer_value(progress);
            out->progress = pct < 0 ? 0 : pct > 100 ? 100 : (int)pct;
        }
    } else if (strcmp(st, "completed") == 0) {
        s_completed(video, out);
    } else if (strcmp(st, "failed") == 0) {
        s_failed(video, out);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown OpenAI status '%.32s'", st);
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
                             "malformed", "malformed OpenAI response");
    else
        s_error(resp, root, out);
    json_decref(root);
}

const adapter_t adapter_openai = {
    .type = "openai",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* DELETE /videos/{id} deletes, it does not cancel */
};
