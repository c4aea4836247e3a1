/*
 * adapter_veo - requests and responses of Veo on the Gemini API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_veo.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter_url.h"

#define VEO_MIME_MAX 64
#define VEO_RATE_CODE 429
#define VEO_GRPC_DEADLINE 4     /* google.rpc.Code DEADLINE_EXCEEDED */
#define VEO_GRPC_EXHAUSTED 8    /* RESOURCE_EXHAUSTED */
#define VEO_GRPC_UNAVAILABLE 14 /* UNAVAILABLE */

static int
s_auth(const rl_provider_conf_t *p, adapter_request_t *req)
{
    return adapter_request_header(req, "x-goog-api-key: %s", p->key);
}

/* {"bytesBase64Encoded", "mimeType"} from "data:<mime>;base64,<bytes>",
 * or NULL for anything else. Caller owns. */
static json_t *
s_image(const char *url)
{
    static const char prefix[] = "data:";
    static const char marker[] = ";base64,";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *mime = url + sizeof prefix - 1;
    const char *sep = strstr(mime, marker);
    if (sep == NULL || sep == mime || sep - mime >= VEO_MIME_MAX ||
        sep[sizeof marker - 1] == '\0')
        return NULL;
    char mimebuf[VEO_MIME_MAX];
    memcpy(mimebuf, mime, (size_t)(sep - mime)); /* shorter, checked above */
    mimebuf[sep - mime] = '\0';
    return json_pack("{s:s, s:s}", "bytesBase64Encoded",
                     sep + sizeof marker - 1, "mimeType", mimebuf);
}

/* {"instances":[{prompt, image?}], "parameters":{...}}, or NULL when a
 * field cannot be expressed. Caller owns. */
static json_t *
s_body(const adapter_job_t *j)
{
    json_t *image = j->image_url ? s_image(j->image_url) : NULL;
    if (j->image_url != NULL && image == NULL)
        return NULL;
    /* o* leaves "image" out when there is none; pack takes image. */
    json_t *instance =
        json_pack("{s:s, s:o*}", "prompt", j->prompt, "image", image);
    json_t *params = json_pack("{s:s, s:i}", "aspectRatio", j->aspect_ratio,
                               "durationSeconds", j->duration_s);
    if (instance == NULL || params == NULL) {
        json_decref(instance);
        json_decref(params);
        return NULL;
    }
    if (j->negative_prompt)
        json_object_set_new(params, "negativePrompt",
                            json_string(j->negative_prompt));
    return json_pack("{s:[o], s:o}", "instances", instance, "parameters",
                     params);
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    (void)now_s;
    if (j->upstream_model == NULL)
        return -1;
    json_t *body = s_body(j);
    if (body == NULL)
        return -1;
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (req->body == NULL ||
        adapter_request_url(req, "%s/models/%s:predictLongRunning", p->base_url,
                            j->upstream_model) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, req);
}

/* True when the segment [s, s + len) of an operation name is a plain
 * id: 1+ of [A-Za-z0-9._-], not "." or "..". */
static bool
s_segment_ok(const char *s, size_t len)
{
    static const char id_chars[] = "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    for (size_t i = 0; i < len; i++)
        if (strchr(id_chars, s[i]) == NULL)
            return false;
    return len > 0 && !(len == 1 && s[0] == '.') &&
           !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* An operation name is the one id a provider hands back that is a path
 * by design (GET {base_url}/{name}), so it is checked, not escaped: a
 * resource name of collection/id pairs whose last collection is
 * "operations" ("models/M/operations/X", "operations/X"), every segment
 * a plain id, at most ADAPTER_ID_MAX bytes. Appended to base_url it
 * stays on base_url's origin and under its path. */
static bool
s_name_ok(const char *name)
{
    if (name == NULL || adapter_url_id_check(name) != NULL)
        return false;
    size_t nseg = 0;
    const char *last_collection = NULL;
    for (const char *seg = name;; nseg++) {
        size_t len = strcspn(seg, "/");
        if (!s_segment_ok(seg, len))
            return false;
        if (nseg % 2 == 0)
            last_collection = seg;
        if (seg[len] == '\0')
            break;
        seg += len + 1;
    }
    return nseg % 2 == 1 && strncmp(last_collection, "operations/", 11) == 0;
}

/* A Google error {"error":{code, message, status}}: RESOURCE_EXHAUSTED
 * (429) is RATE_LIMITED, UNAVAILABLE (503) TRANSIENT; the rest by HTTP
 * status. */
static void
s_http_error(const rl_http_resp_t *resp, json_t *root, adapter_result_t *out)
{
    json_t *err = json_object_get(root, "error");
    const char *status = json_string_value(json_object_get(err, "status"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    adapter_result_http(resp, out);
    if (status != NULL && strcmp(status, "RESOURCE_EXHAUSTED") == 0)
        out->error = ADAPTER_ERR_RATE_LIMITED;
    else if (status != NULL && strcmp(status, "UNAVAILABLE") == 0)
        out->error = ADAPTER_ERR_TRANSIENT;
    if (status != NULL)
        adapter_copy(out->code, sizeof out->code, status);
    if (msg != NULL)
        adapter_copy(out->message, sizeof out->message, msg);
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
    const char *name = json_string_value(json_object_get(root, "name"));
    if (s_ok(resp) && s_name_ok(name)) {
        out->state = ADAPTER_QUEUED;
        adapter_copy(out->task_id, sizeof out->task_id, name);
    } else if (s_ok(resp) && name != NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "bad_task_id",
                             "Veo operation name refused: not "
                             "[models/M/]operations/ID of plain ids");
    } else if (s_ok(resp)) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Veo operation");
    } else {
        s_http_error(resp, root, out);
    }
    json_decref(root);
}

static int
s_build_poll(const rl_provider_conf_t *p, const adapter_job_t *j,
             const char *task_id, int64_t now_s, adapter_request_t *req)
{
    (void)j;
    (void)now_s;
    req->method = "GET";
    if (!s_name_ok(task_id) ||
        adapter_request_url(req, "%s/%s", p->base_url, task_id) != 0)
        return -1;
    return s_auth(p, req);
}

/* done:true with a response: a video, or an RAI block. */
static void
s_response(json_t *response, adapter_result_t *out)
{
    json_t *gen = json_object_get(response, "generateVideoResponse");
    const char *uri = json_string_value(json_object_get(
        json_object_get(
            json_array_get(json_object_get(gen, "generatedSamples"), 0),
            "video"),
        "uri"));
    json_t *filtered = json_object_get(gen, "raiMediaFilteredCount");
    if (uri != NULL) {
        adapter_result_output(out, uri, "Veo");
    } else if (json_is_integer(filtered) && json_integer_value(filtered) > 0) {
        const char *why = json_string_value(
            json_array_get(json_object_get(gen, "raiMediaFilteredReasons"), 0));
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED,
                             "rai_filtered", "%s",
                             why ? why : "blocked by the safety filter");
    } else {
        adapter_result_error(out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT,
                             "no_video", "Veo finished without a video");
    }
}

/* done:true with an error (a google.rpc.Status: code is the gRPC code):
 * RESOURCE_EXHAUSTED (8, or 429 where an HTTP code is given) is
 * CAPACITY, UNAVAILABLE (14) and DEADLINE_EXCEEDED (4) TRANSIENT, the
 * rest PERMANENT. */
static void
s_op_error(json_t *err, adapter_result_t *out)
{
    json_t *code = json_object_get(err, "code");
    const char *status = json_string_value(json_object_get(err, "status"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    json_int_t c = json_is_integer(code) ? json_integer_value(code) : -1;
    bool exhausted = c == VEO_RATE_CODE || c == VEO_GRPC_EXHAUSTED ||
                     (status && strcmp(status, "RESOURCE_EXHAUSTED") == 0);
    bool unavailable = c == VEO_GRPC_UNAVAILABLE || c == VEO_GRPC_DEADLINE ||
                       (status && (strcmp(status, "UNAVAILABLE") == 0 ||
                                   strcmp(status, "DEADLINE_EXCEEDED") == 0));
    char codebuf[ADAPTER_CODE_MAX];
    adapter_result_code(codebuf, sizeof codebuf,
                        (long long)json_integer_value(code));
    adapter_result_error(out, ADAPTER_FAILED,
                         exhausted     ? ADAPTER_ERR_CAPACITY
                         : unavailable ? ADAPTER_ERR_TRANSIENT
                                       : ADAPTER_ERR_PERMANENT,
                         status ? status : codebuf, "%s",
                         msg ? msg : "Veo operation failed");
}

static void
s_operation(json_t *op, adapter_result_t *out)
{
    json_t *err = json_object_get(op, "error");
    json_t *response = json_object_get(op, "response");
    if (!json_is_true(json_object_get(op, "done"))) {
        /* proto3 JSON omits done while it is false */
        if (json_is_string(json_object_get(op, "name")))
            out->state = ADAPTER_RUNNING;
        else
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "malformed Veo operation");
    } else if (json_is_object(err)) {
        s_op_error(err, out);
    } else if (json_is_object(response)) {
        s_response(response, out);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "Veo done without a result");
    }
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    out->progress = -1;
    if (s_ok(resp) && json_is_object(root))
        s_operation(root, out);
    else if (s_ok(resp))
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed Veo response");
    else
        s_http_error(resp, root, out);
    json_decref(root);
}

const adapter_t adapter_veo = {
    .type = "veo",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* the Gemini API documents no cancel */
};
