/*
 * adapter_seedance - requests and responses of the Ark task API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_seedance.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

#define ARK_TASKS "/contents/generations/tasks"

static int
s_auth(const rl_provider_conf_t *p, adapter_request_t *req)
{
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

/* Ark reads parameters as "--name value" text commands after the prompt;
 * a "--" inside the user's prompt could set one (say, a longer duration
 * than was paid for), so each "--" of the prompt becomes an en dash. */
static void
s_plain_prompt(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0' && o + 4 < len; i++) {
        if (in[i] == '-' && in[i + 1] == '-') {
            memcpy(out + o, "\xe2\x80\x93", 3); /* U+2013 */
            o += 3;
            i++;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    char text[12288], prompt[10240];
    s_plain_prompt(j->prompt, prompt, sizeof prompt);
    int n =
        snprintf(text, sizeof text, "%s --rs 720p --rt %s --dur %d --wm false",
                 prompt, j->aspect_ratio, j->duration_s);
    if (n < 0 || (size_t)n >= sizeof text)
        return -1;
    json_t *content = json_array();
    json_array_append_new(
        content, json_pack("{s:s, s:s}", "type", "text", "text", text));
    if (j->image_url)
        json_array_append_new(content,
                              json_pack("{s:s, s:{s:s}, s:s}", "type",
                                        "image_url", "image_url", "url",
                                        j->image_url, "role", "first_frame"));
    json_t *body =
        json_pack("{s:s, s:o}", "model", j->upstream_model, "content", content);
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (adapter_request_url(req, "%s" ARK_TASKS, p->base_url) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

static adapter_error_t
s_classify(long status, const char *code)
{
    if (strstr(code, "SensitiveContent") != NULL)
        return ADAPTER_ERR_CONTENT_REJECTED;
    if (strcmp(code, "SetLimitExceeded") == 0 ||
        strcmp(code, "AccountOverdueError") == 0)
        return ADAPTER_ERR_PERMANENT;
    if (strcmp(code, "ServerOverloaded") == 0 ||
        strcmp(code, "InflightBatchsizeExceeded") == 0 ||
        strcmp(code, "QuotaExceeded") == 0)
        return ADAPTER_ERR_CAPACITY;
    if (status == 429 || strncmp(code, "RateLimitExceeded", 17) == 0 ||
        strcmp(code, "RequestBurstTooFast") == 0)
        return ADAPTER_ERR_RATE_LIMITED;
    if (status >= 500 || status == 408)
        return ADAPTER_ERR_TRANSIENT;
    return ADAPTER_ERR_PERMANENT;
}

/* Fills out from {"error":{code, message}}; returns 0 when one was found. */
static int
s_error(const rl_http_resp_t *resp, json_t *root, adapter_state_t state,
        adapter_result_t *out)
{
    json_t *err = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    if (code == NULL)
        return -1;
    const char *msg = json_string_value(json_object_get(err, "message"));
    adapter_result_error(out, state, s_classify(resp->status, code), code, "%s",
                         msg ? msg : code);
    out->retry_after_ms = adapter_retry_after_ms(resp);
    return 0;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "id"));
    if (resp->status == 200 && id != NULL) {
        if (adapter_result_id(out, out->task_id, sizeof out->task_id, id, "Ark",
                              "id") == 0)
            out->state = ADAPTER_QUEUED;
    } else if (s_error(resp, root, ADAPTER_ERROR, out) != 0) {
        if (resp->status == 200)
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "malformed Ark response");
        else
            adapter_result_http(resp, out);
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
        adapter_request_url(req, "%s" ARK_TASKS "/%s", p->base_url, id) != 0)
        return -1;
    return s_auth(p, req);
}

static int
s_build_cancel(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *task_id, int64_t now_s, adapter_request_t *req)
{
    int rc = s_build_poll(p, j, task_id, now_s, req);
    req->method = "DELETE";
    return rc;
}

static void
s_status(const char *st, json_t *root, const rl_http_resp_t *resp,
         adapter_result_t *out)
{
    if (strcmp(st, "queued") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "running") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "succeeded") == 0) {
        const char *url = json_string_value(
            json_object_get(json_object_get(root, "content"), "video_url"));
        if (url == NULL) {
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "Ark success without video_url");
            return;
        }
        adapter_result_output(out, url, "Ark");
    } else if (strcmp(st, "expired") == 0) {
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY,
                             "expired", "the task expired in the queue");
    } else if (strcmp(st, "failed") == 0 || strcmp(st, "cancelled") == 0) {
        if (s_error(resp, root, ADAPTER_FAILED, out) != 0)
            adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT, st,
                                 "the task %s", st);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Ark status '%.32s'", st);
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = json_string_value(json_object_get(root, "status"));
    out->progress = -1;
    if (resp->status == 200 && st != NULL)
        s_status(st, root, resp, out);
    else if (resp->status == 200)
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Ark response");
    else if (s_error(resp, root, ADAPTER_ERROR, out) != 0)
        adapter_result_http(resp, out);
    json_decref(root);
}

const adapter_t adapter_seedance = {
    .type = "seedance",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = s_build_cancel,
};
