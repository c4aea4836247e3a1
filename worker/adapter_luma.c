/*
 * adapter_luma - requests and responses of the Luma Dream Machine API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_luma.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter_url.h"

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
    char duration[16];
    int n = snprintf(duration, sizeof duration, "%ds", j->duration_s);
    if (n <= 0 || (size_t)n >= sizeof duration)
        return -1;
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "prompt", j->prompt,
                             "model", j->upstream_model, "aspect_ratio",
                             j->aspect_ratio, "duration", duration);
    if (body == NULL)
        return -1;
    if (j->image_url)
        json_object_set_new(body, "keyframes",
                            json_pack("{s:{s:s, s:s}}", "frame0", "type",
                                      "image", "url", j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/generations", p->base_url) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

/* Luma names a policy refusal in its text ("...moderation failed") or,
 * in the newer API, as failure_code content_moderated. */
static bool
s_is_content(const char *text)
{
    return text != NULL && (strcasestr(text, "moderat") != NULL ||
                            strcasestr(text, "safety") != NULL);
}

/* An HTTP error {"detail": "..."}: 429 RATE_LIMITED, 5xx TRANSIENT, 4xx
 * PERMANENT unless the text says the input was moderated. */
static void
s_http_error(const rl_http_resp_t *resp, json_t *root, adapter_result_t *out)
{
    adapter_result_http(resp, out);
    const char *detail = json_string_value(json_object_get(root, "detail"));
    if (detail == NULL)
        return;
    adapter_copy(out->message, sizeof out->message, detail);
    if (resp->status >= 400 && resp->status < 500 && resp->status != 429 &&
        s_is_content(detail))
        out->error = ADAPTER_ERR_CONTENT_REJECTED;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    adapter_parse_id_submit(resp, out, "Luma", s_http_error);
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
        adapter_request_url(req, "%s/generations/%s", p->base_url, id) != 0)
        return -1;
    return s_auth(p, req);
}

static void
s_failed(json_t *gen, adapter_result_t *out)
{
    const char *reason =
        json_string_value(json_object_get(gen, "failure_reason"));
    const char *code = json_string_value(json_object_get(gen, "failure_code"));
    adapter_error_t e = s_is_content(reason) || s_is_content(code)
                            ? ADAPTER_ERR_CONTENT_REJECTED
                            : ADAPTER_ERR_PERMANENT;
    adapter_result_error(out, ADAPTER_FAILED, e, code ? code : "failed", "%s",
                         reason ? reason : "Luma generation failed");
}

static void
s_state(const char *st, json_t *gen, adapter_result_t *out)
{
    if (strcmp(st, "queued") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "dreaming") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "completed") == 0) {
        const char *url = json_string_value(
            json_object_get(json_object_get(gen, "assets"), "video"));
        if (url == NULL) {
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "Luma completed without video");
            return;
        }
        adapter_result_output(out, url, "Luma");
    } else if (strcmp(st, "failed") == 0) {
        s_failed(gen, out);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Luma state '%.32s'", st);
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *st = json_string_value(json_object_get(root, "state"));
    out->progress = -1;
    if (adapter_http_ok(resp) && st != NULL)
        s_state(st, root, out);
    else if (adapter_http_ok(resp))
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Luma response");
    else
        s_http_error(resp, root, out);
    json_decref(root);
}

const adapter_t adapter_luma = {
    .type = "luma",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* not verified for Dream Machine v1 */
};
