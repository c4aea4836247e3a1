/*
 * adapter_replicate - requests and responses of the Replicate
 * predictions API. The urls.get / urls.cancel of Replicate's answers are
 * ignored: every request URL is built from base_url and the escaped
 * prediction id, so an answer cannot send the token elsewhere.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_replicate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter_url.h"

/* True when model is "owner/name": two non-empty segments, no version. */
static bool
s_model_ok(const char *model)
{
    const char *slash = model ? strchr(model, '/') : NULL;
    return slash != NULL && slash != model && slash[1] != '\0' &&
           strchr(slash + 1, '/') == NULL && strchr(model, ':') == NULL;
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    if (!s_model_ok(j->upstream_model))
        return -1;
    json_t *input =
        json_pack("{s:s, s:i, s:s}", "prompt", j->prompt, "duration",
                  j->duration_s, "aspect_ratio", j->aspect_ratio);
    if (input == NULL)
        return -1;
    if (j->negative_prompt)
        json_object_set_new(input, "negative_prompt",
                            json_string(j->negative_prompt));
    if (j->image_url) {
        json_object_set_new(input, "image", json_string(j->image_url));
        json_object_set_new(input, "start_image", json_string(j->image_url));
    }
    json_t *body = json_pack("{s:o}", "input", input);
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/models/%s/predictions", p->base_url,
                            j->upstream_model) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

/* Replicate names no code for a policy refusal; its text does. */
static bool
s_is_content(const char *text)
{
    return text != NULL && (strcasestr(text, "nsfw") != NULL ||
                            strcasestr(text, "sensitive") != NULL ||
                            strcasestr(text, "safety") != NULL);
}

/* An HTTP error {"detail": "..."}: 429 ("Request was throttled")
 * RATE_LIMITED, 5xx TRANSIENT, 4xx PERMANENT unless the text says the
 * input was refused. */
static void
s_http_error(const rl_http_resp_t *resp, json_t *root, adapter_result_t *out)
{
    adapter_result_http(resp, out);
    const char *detail = json_string_value(json_object_get(root, "detail"));
    if (detail == NULL)
        return;
    adapter_copy(out->message, sizeof out->message, detail);
    if (resp->status != 429 && s_is_content(detail))
        out->error = ADAPTER_ERR_CONTENT_REJECTED;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    adapter_parse_id_submit(resp, out, "Replicate", s_http_error);
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
        adapter_request_url(req, "%s/predictions/%s", p->base_url, id) != 0)
        return -1;
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

static int
s_build_cancel(const rl_provider_conf_t *p, const adapter_job_t *j,
               const char *task_id, int64_t now_s, adapter_request_t *req)
{
    char id[ADAPTER_TASK_MAX * 3];
    (void)j;
    (void)now_s;
    req->method = "POST";
    if (adapter_url_escape(id, sizeof id, task_id) != 0 ||
        adapter_request_url(req, "%s/predictions/%s/cancel", p->base_url, id) !=
            0)
        return -1;
    return adapter_request_header(req, "Authorization: Bearer %s", p->key);
}

static void
s_succeeded(json_t *pred, adapter_result_t *out)
{
    json_t *output = json_object_get(pred, "output");
    const char *url = json_is_array(output)
                          ? json_string_value(json_array_get(output, 0))
                          : json_string_value(output);
    if (url == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "Replicate success without output");
        return;
    }
    adapter_result_output(out, url, "Replicate");
}

static void
s_status(const char *st, json_t *pred, adapter_result_t *out)
{
    const char *err = json_string_value(json_object_get(pred, "error"));
    if (strcmp(st, "starting") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "processing") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "succeeded") == 0) {
        s_succeeded(pred, out);
    } else if (strcmp(st, "failed") == 0) {
        adapter_result_error(out, ADAPTER_FAILED,
                             s_is_content(err) ? ADAPTER_ERR_CONTENT_REJECTED
                                               : ADAPTER_ERR_PERMANENT,
                             "failed", "%s",
                             err ? err : "Replicate prediction failed");
    } else if (strcmp(st, "canceled") == 0) {
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT,
                             "canceled", "the prediction was canceled");
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Replicate status '%.32s'",
                             st);
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
                             "malformed", "malformed Replicate response");
    else
        s_http_error(resp, root, out);
    json_decref(root);
}

const adapter_t adapter_replicate = {
    .type = "replicate",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = s_build_cancel,
};
