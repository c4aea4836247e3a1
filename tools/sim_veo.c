/*
 * sim_veo - the provider simulator's Veo on the Gemini API (base_url
 * ORIGIN/veo/v1beta, standing for
 * https://generativelanguage.googleapis.com/v1beta): POST
 * /models/{model}:predictLongRunning {"instances":[{prompt,...}],
 * "parameters":{...}} answers {"name":"models/{model}/operations/{id}"};
 * GET /{name} answers the long-running operation {name, done, response |
 * error}; a video's uri is /files/{id}:download?alt=media, which answers
 * a few MP4 bytes with the key. Auth: x-goog-api-key, or ?key=.
 *
 * Scripted failures: fail=content ends done with a response whose
 * generateVideoResponse has raiMediaFilteredCount 1 and a reason and no
 * samples; fail=capacity (and expired) ends done with error {code: 8,
 * message} (google.rpc.Status: 8 = RESOURCE_EXHAUSTED, the gRPC code, as
 * an Operation's error carries it); fail=permanent with error {code: 13
 * (INTERNAL), message}. HTTP errors are {"error":{code, message, status}}
 * with the HTTP code: 429 RESOURCE_EXHAUSTED for submit=429, 503
 * UNAVAILABLE for submit=capacity, 400 INVALID_ARGUMENT for submit=400.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_fmt.h"
#include "sim_veo.h"

#define SIM_VEO_RPC_INTERNAL 13
#define SIM_VEO_RPC_EXHAUSTED 8
#define SIM_VEO_MODEL_MAX 128

static const char s_models[] = "/veo/v1beta/models/";
static const char s_files[] = "/veo/v1beta/files/";
static const char s_lro[] = ":predictLongRunning";
#define S_ROOT "/veo/v1beta/" /* operation names follow */

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    int code = sim_err_status(err);
    const char *status = "INVALID_ARGUMENT";
    const char *msg = sim_err_message(err);
    (void)c;
    switch (err) {
    case SIM_E_RATE:
        status = "RESOURCE_EXHAUSTED";
        msg = "Resource has been exhausted (e.g. check quota).";
        break;
    case SIM_E_CAPACITY:
    case SIM_E_UNAVAILABLE:
    case SIM_E_FULL:
        code = 503;
        status = "UNAVAILABLE";
        msg = "The model is overloaded. Please try again later.";
        break;
    case SIM_E_INTERNAL:
        status = "INTERNAL";
        break;
    case SIM_E_NOT_FOUND:
        status = "NOT_FOUND";
        break;
    case SIM_E_INPUT_POLICY:
    case SIM_E_BAD_REQUEST:
        break;
    default:
        code = 403;
        status = "PERMISSION_DENIED";
        msg = "Method doesn't allow unregistered callers.";
        break;
    }
    sim_reply_json(req, code,
                   json_pack("{s:{s:i,s:s,s:s}}", "error", "code", code,
                             "message", msg, "status", status));
}

static bool
s_auth(sim_core_t *c, struct evhttp_request *req)
{
    char key[128];
    const char *h = sim_header(req, "x-goog-api-key");
    if ((h != NULL && *h != '\0') || sim_query_arg(req, "key", key, sizeof key))
        return true;
    s_error(c, req, SIM_E_AUTH_MISSING);
    return false;
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req, const char *model)
{
    char name[SIM_VEO_MODEL_MAX + SIM_ID_LEN + 32];

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!s_auth(c, req))
        return;
    if (strncmp(model, "veo-", 4) != 0) {
        s_error(c, req, SIM_E_NOT_FOUND);
        return;
    }
    json_t *body = sim_body_json(req);
    json_t *inst = json_array_get(json_object_get(body, "instances"), 0);
    json_t *params = json_object_get(body, "parameters");
    json_t *dur = json_object_get(params, "durationSeconds");
    const char *prompt = sim_str(inst, "prompt", NULL);
    const char *ratio = sim_str(params, "aspectRatio", "16:9");
    json_int_t d = json_is_integer(dur) ? json_integer_value(dur) : 8;
    if (prompt == NULL || *prompt == '\0' || ratio == NULL ||
        (strcmp(ratio, "16:9") != 0 && strcmp(ratio, "9:16") != 0) ||
        (dur != NULL && !json_is_integer(dur)) ||
        (d != 4 && d != 6 && d != 8)) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t = sim_core_submit(c, &sim_api_veo, req, model, prompt);
    if (t != NULL) {
        t->duration_s = (int)d;
        /* model is shorter than SIM_VEO_MODEL_MAX (s_route). */
        rl_fmt_fit(name, sizeof name, "models/%s/operations/%s", model, t->id);
        sim_reply_json(req, 200, json_pack("{s:s}", "name", name));
    }
    json_decref(body);
}

static json_t *
s_done(const sim_core_t *c, const struct sim_task *t)
{
    char uri[SIM_URL_LEN];
    if (t->state == SIM_ST_SUCCEEDED) {
        rl_fmt_fit(uri, sizeof uri, "%s%s%s:download?alt=media",
                   sim_core_origin(c), s_files, t->id);
        return json_pack("{s:s,s:{s:[{s:{s:s}}]}}", "@type",
                         "type.googleapis.com/google.ai.generativelanguage."
                         "v1beta.PredictLongRunningResponse",
                         "generateVideoResponse", "generatedSamples", "video",
                         "uri", uri);
    }
    return json_pack("{s:s,s:{s:i,s:[s]}}", "@type",
                     "type.googleapis.com/google.ai.generativelanguage."
                     "v1beta.PredictLongRunningResponse",
                     "generateVideoResponse", "raiMediaFilteredCount", 1,
                     "raiMediaFilteredReasons",
                     "The generated video was blocked by our safety "
                     "filters.");
}

static json_t *
s_op_json(const sim_core_t *c, const struct sim_task *t, const char *name)
{
    json_t *doc = json_pack("{s:s,s:b}", "name", name, "done",
                            t->state >= SIM_ST_SUCCEEDED);
    if (doc == NULL || t->state < SIM_ST_SUCCEEDED)
        return doc;
    if (t->state == SIM_ST_SUCCEEDED || t->script.fail == SIM_FAIL_CONTENT) {
        json_object_set_new(doc, "response", s_done(c, t));
    } else if (t->script.fail == SIM_FAIL_CAPACITY ||
               t->script.fail == SIM_FAIL_EXPIRED) {
        json_object_set_new(doc, "error",
                            json_pack("{s:i,s:s}", "code",
                                      SIM_VEO_RPC_EXHAUSTED, "message",
                                      "Resource has been exhausted: no "
                                      "capacity to generate the video."));
    } else {
        json_object_set_new(doc, "error",
                            json_pack("{s:i,s:s}", "code", SIM_VEO_RPC_INTERNAL,
                                      "message",
                                      t->state == SIM_ST_CANCELLED
                                          ? "The operation was cancelled."
                                          : "Video generation failed."));
    }
    return doc;
}

/* GET models/{model}/operations/{id}; rest is after s_models. */
static bool
s_poll(sim_core_t *c, struct evhttp_request *req, const char *rest,
       const char *path)
{
    char model[SIM_VEO_MODEL_MAX], id[SIM_ID_LEN];
    const char *ops = strstr(rest, "/operations/");
    if (ops == NULL || ops == rest || (size_t)(ops - rest) >= sizeof model)
        return false;
    memcpy(model, rest, (size_t)(ops - rest));
    model[ops - rest] = '\0';
    if (strchr(model, '/') != NULL ||
        !sim_path_id(ops, "/operations/", "", id, sizeof id))
        return false;
    sim_core_count(c, SIM_COUNT_POLL);
    if (!s_auth(c, req))
        return true;
    struct sim_task *t = sim_core_task(c, &sim_api_veo, id);
    if (t == NULL || strcmp(t->model, model) != 0)
        s_error(c, req, SIM_E_NOT_FOUND);
    else if (!sim_core_poll(c, req, t))
        sim_reply_json(req, 200, s_op_json(c, t, path + sizeof S_ROOT - 1));
    return true;
}

static void
s_download(sim_core_t *c, struct evhttp_request *req, const char *path)
{
    char id[SIM_ID_LEN];
    if (!s_auth(c, req))
        return;
    struct sim_task *t = NULL;
    if (sim_path_id(path, s_files, ":download", id, sizeof id))
        t = sim_core_task(c, &sim_api_veo, id);
    if (t == NULL || t->state != SIM_ST_SUCCEEDED)
        s_error(c, req, SIM_E_NOT_FOUND);
    else
        sim_reply_video(req);
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char model[SIM_VEO_MODEL_MAX];
    size_t nl = sizeof s_lro - 1;

    if (strncmp(path, s_files, sizeof s_files - 1) == 0) {
        if (m == EVHTTP_REQ_GET)
            s_download(c, req, path);
        else
            sim_not_allowed(req);
        return true;
    }
    if (strncmp(path, s_models, sizeof s_models - 1) != 0) {
        s_error(c, req, SIM_E_NOT_FOUND);
        return true;
    }
    const char *rest = path + sizeof s_models - 1;
    size_t n = strlen(rest);
    if (n > nl && strcmp(rest + n - nl, s_lro) == 0 && n - nl < sizeof model &&
        memchr(rest, '/', n - nl) == NULL) {
        memcpy(model, rest, n - nl);
        model[n - nl] = '\0';
        if (m == EVHTTP_REQ_POST)
            s_submit(c, req, model);
        else
            sim_not_allowed(req);
    } else if (m != EVHTTP_REQ_GET || !s_poll(c, req, rest, path)) {
        s_error(c, req, SIM_E_NOT_FOUND);
    }
    return true;
}

const sim_api_t sim_api_veo = {
    .type = RL_PTYPE_VEO,
    .prefix = "/veo/",
    .id_prefix = "op-",
    .states = {"pending", "running", "done", "failed", "failed", "cancelled"},
    .malformed_poll = "{\"name\":\"models/m/operations/op-x\",\"done\":tr",
    .malformed_submit = "{\"name\":\"models/",
    .route = s_route,
    .error = s_error,
};
