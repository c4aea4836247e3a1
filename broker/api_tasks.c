/*
 * api_tasks - the task API (docs/task-api.md, a Kinovi-style door) on
 * the same engine: createTask maps its body onto a submission and
 * accepts it through submit_accept(); recordInfo renders the job with
 * rl_taskview. Errors use that API's shapes ({"message": ...} plus
 * errors[], required/available or limit/current).
 * SPDX-License-Identifier: MIT
 */
#include "api_tasks.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http_reply.h"
#include "rl_crypto.h"
#include "rl_state_view.h"
#include "rl_taskview.h"
#include "submit.h"
#include "validate.h"

#define IMAGES "inputs.imageUrls"
#define IMAGES_OLD "inputs.urls" /* the name on older Kinovi pages */

static void
s_message(struct evhttp_request *req, int status, const char *msg)
{
    http_reply_json(req, status, json_pack("{s:s}", "message", msg));
}

/* The task API's name of a /v1 field (a translation error already
 * carries its task API name); image_url came from image_field
 * (inputs.imageUrls or its older name inputs.urls). */
static const char *
s_field_name(const char *param, const char *image_field)
{
    static const char *const map[][2] = {
        {"prompt", "inputs.prompt"},
        {"duration", "inputs.duration"},
        {"aspect_ratio", "inputs.aspectRatio"},
        {"webhook_url", "callBackUrl"},
    };
    if (param && strcmp(param, "image_url") == 0)
        return image_field;
    for (size_t i = 0; param && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], param) == 0)
            return map[i][1];
    return param ? param : "body";
}

/* The 400 body of n problems: "Unknown model" when the model is one of
 * them (the inputs are judged against a model), else every problem in
 * errors[] with its task API field name. */
static json_t *
s_invalid(const api_error_t *items, size_t n, const char *image_field)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].code && strcmp(items[i].code, "unknown_model") == 0)
            return json_pack("{s:s}", "message", "Unknown model");
    json_t *errors = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            errors, json_pack("{s:s, s:s}", "field",
                              s_field_name(items[i].param, image_field),
                              "message", items[i].message));
    return json_pack("{s:s, s:o}", "message", "Invalid inputs for model",
                     "errors", errors);
}

/* Answers a /v1 error in the task API's shape. */
static void
s_error(struct evhttp_request *req, const submit_result_t *res)
{
    const api_error_t *e = res->error;
    json_t *o = NULL;
    if (res->status == 400 && e) {
        o = s_invalid(e, 1, IMAGES);
    } else if (res->status == 401) {
        o = json_pack("{s:s}", "message", "Invalid API Key");
    } else if (res->status == 402) {
        o = json_pack("{s:s, s:I, s:I}", "message", "Insufficient credits",
                      "required", (json_int_t)res->price, "available",
                      (json_int_t)res->balance);
    } else if (res->status == 429 && e && e->code &&
               strcmp(e->code, "concurrency_limit") == 0) {
        o = json_pack("{s:s, s:I, s:I}", "message", "Concurrency limit reached",
                      "limit", (json_int_t)res->limit, "current",
                      (json_int_t)res->active);
    } else if (res->status == 429) {
        o = json_pack("{s:s}", "message",
                      "Rate limit reached: too many tasks created with this "
                      "key; retry after Retry-After");
    } else {
        o = json_pack("{s:s}", "message", e ? e->message : "error");
    }
    http_retry_after(req, res->retry_after_s);
    http_reply_json(req, res->status, o);
}

static void
s_on_created(const submit_result_t *res, void *arg)
{
    struct evhttp_request *req = http_pending_done(arg);
    if (req == NULL)
        return;
    if (res->status == 202)
        http_reply_json(req, 200, json_pack("{s:s}", "taskId", res->job_id));
    else
        s_error(req, res);
}

static void
s_on_abandon(http_pending_t *p)
{
    if (p->data != NULL)
        submit_abandon(p->data);
}

/* inputs.outputResolution: NULL when absent (the default), else one of
 * the four, or NULL with a problem added to errs. */
static const char *
s_resolution(json_t *inputs, validate_errors_t *errs)
{
    static const char *const resolutions[] = {"480p", "720p", "1080p", "4k"};
    json_t *res = json_object_get(inputs, "outputResolution");
    if (res == NULL)
        return NULL;
    for (size_t i = 0; json_is_string(res) && i < 4; i++)
        if (strcmp(json_string_value(res), resolutions[i]) == 0)
            return resolutions[i];
    api_error_invalid(validate_errors_add(errs), "invalid_output_resolution",
                      "inputs.outputResolution",
                      "inputs.outputResolution must be 480p, 720p, 1080p "
                      "or 4k");
    return NULL;
}

/* inputs.imageUrls (or its older name inputs.urls) into out's
 * image_url. The engine carries one image, the first frame; more (a last
 * frame, reference images) is refused rather than dropped. *field gets
 * the name the body used, for errors about the URL itself. */
static void
s_images(json_t *inputs, json_t *out, validate_errors_t *errs,
         const char **field)
{
    json_t *images = json_object_get(inputs, "imageUrls");
    json_t *older = json_object_get(inputs, "urls");
    *field = images == NULL && older != NULL ? IMAGES_OLD : IMAGES;
    if (images != NULL && older != NULL) {
        api_error_invalid(
            validate_errors_add(errs), "invalid_field", IMAGES_OLD,
            "send " IMAGES " or its older name " IMAGES_OLD ", not both");
        return;
    }
    images = images ? images : older;
    if (images == NULL || json_is_null(images))
        return;
    if (!json_is_array(images)) {
        api_error_invalid(validate_errors_add(errs), "invalid_field", *field,
                          "%s must be an array of image URLs", *field);
    } else if (json_array_size(images) > 1) {
        api_error_invalid(validate_errors_add(errs), "too_many_images", *field,
                          "%s takes at most 1 URL here (the first frame); "
                          "a last frame or reference images are not "
                          "supported",
                          *field);
    } else if (json_array_size(images) == 1) {
        json_object_set(out, "image_url", json_array_get(images, 0));
    }
}

/* inputs.videoUrls / audioUrls (reference mode): the engine carries
 * neither, so a non-empty one is refused rather than dropped. */
static void
s_media(json_t *inputs, const char *key, const char *field,
        validate_errors_t *errs)
{
    json_t *v = json_object_get(inputs, key);
    if (v == NULL || json_is_null(v) ||
        (json_is_array(v) && json_array_size(v) == 0))
        return;
    api_error_invalid(validate_errors_add(errs), "unsupported_input", field,
                      "%s is not supported: a task renders from its prompt "
                      "and at most one image",
                      field);
}

/* Builds the /v1 body of a task API body, adding to errs what is wrong
 * with the task API's own fields. Returns NULL (with the problem in
 * errs) when the body is not of that shape. Caller owns the result. */
static json_t *
s_translate(const char *body, size_t len, validate_errors_t *errs,
            const char **resolution, const char **image_field)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *inputs = json_object_get(root, "inputs");
    json_t *out = NULL;
    if (!json_is_object(root) || !json_is_object(inputs)) {
        api_error_invalid(validate_errors_add(errs), "invalid_body", NULL,
                          "the body must be {model, callBackUrl?, inputs: "
                          "{prompt, ...}}");
        goto out;
    }
    *resolution = s_resolution(inputs, errs);
    out = json_object();
    s_images(inputs, out, errs, image_field);
    s_media(inputs, "videoUrls", "inputs.videoUrls", errs);
    s_media(inputs, "audioUrls", "inputs.audioUrls", errs);
    /* Unknown inputs keys are ignored, as the task API documents. */
    json_object_set(out, "model", json_object_get(root, "model"));
    json_object_set(out, "prompt", json_object_get(inputs, "prompt"));
    if (json_object_get(inputs, "duration"))
        json_object_set(out, "duration", json_object_get(inputs, "duration"));
    if (json_object_get(inputs, "aspectRatio"))
        json_object_set(out, "aspect_ratio",
                        json_object_get(inputs, "aspectRatio"));
    if (json_object_get(root, "callBackUrl"))
        json_object_set(out, "webhook_url",
                        json_object_get(root, "callBackUrl"));
out:
    json_decref(root);
    return out;
}

void
api_tasks_create(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    const char *body = NULL, *resolution = NULL, *image_field = IMAGES;
    size_t len = 0;
    if (!http_body(b, req, &body, &len))
        return;
    validate_errors_t errs; /* large: a few KiB of stack */
    errs.n = 0;
    json_t *v1 = s_translate(body, len, &errs, &resolution, &image_field);
    submission_t s;
    int rc = v1 != NULL ? validate_submission_json(b->cfg, v1, &s, &errs) : -1;
    json_decref(v1);
    if (rc != 0) {
        size_t n = errs.n < VALIDATE_MAX_ERRORS ? errs.n : VALIDATE_MAX_ERRORS;
        http_reply_json(req, 400, s_invalid(errs.items, n, image_field));
        return;
    }
    submit_opts_t opts = {HTTP_JOB_TASK, "kinovi",
                          resolution ? resolution : "720p"};
    http_pending_t *p = http_pending_new(b, req);
    p->on_abandon = s_on_abandon;
    const char *idem = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Idempotency-Key");
    /* On NULL the callback already ran and freed p. */
    submit_req_t *r = submit_accept(b, http_bearer(req), idem, body, len, &s,
                                    &opts, s_on_created, p);
    if (r != NULL)
        p->data = r;
    submission_release(&s);
}

static void
s_on_record(const rl_state_job_reply_t *rep, void *arg)
{
    struct evhttp_request *req = http_pending_done(arg);
    if (req == NULL)
        return;
    if (rep->tag == RL_STATE_UNKNOWN || rep->tag == RL_STATE_BAD) {
        s_message(req, 503, "Service unavailable, retry shortly");
    } else if (rep->tag == RL_STATE_UNAUTHORIZED) {
        s_message(req, 401, "Invalid API Key");
    } else if (rep->tag == RL_STATE_FORBIDDEN) {
        s_message(req, 403, "This task belongs to another account");
    } else if (rep->tag != RL_STATE_OK) {
        s_message(req, 404, "Task not found");
    } else {
        const redisReply *r = rep->fields.r;
        const char *kv[2 * 96];
        size_t n = 0;
        for (size_t i = rep->fields.from; i + 1 < r->elements && n < 96;
             i += 2, n++) {
            kv[2 * n] = rl_redis_reply_str(r->element[i]);
            kv[2 * n + 1] = rl_redis_reply_str(r->element[i + 1]);
        }
        rl_jobview_src_t src = {kv, n};
        http_reply_json(req, 200, rl_taskview_record(&src));
    }
}

void
api_tasks_record(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    char hash[RL_SHA256_HEX_LEN], id[HTTP_JOB_ID_MAX + 1] = "";
    const char *key = http_bearer(req);
    if (key == NULL) {
        s_message(req, 401, "Invalid API Key");
        return;
    }
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (qs != NULL && evhttp_parse_query_str(qs, &params) == 0) {
        const char *v = evhttp_find_header(&params, "taskId");
        if (v != NULL && strlen(v) <= HTTP_JOB_ID_MAX) /* id's size */
            memcpy(id, v, strlen(v) + 1);
    }
    evhttp_clear_headers(&params);
    if (!http_job_id_ok(id, HTTP_JOB_TASK)) {
        s_message(req, 400, "Invalid taskId");
        return;
    }
    rl_sha256_hex(key, strlen(key), hash);
    http_pending_t *p = http_pending_new(b, req);
    if (rl_state_view_task(b->redis, hash, id, s_on_record, p) != 0) {
        rl_state_job_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_record(&none, p);
    }
}
