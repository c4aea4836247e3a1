/*
 * sim_openai - the provider simulator's OpenAI Videos API (base_url
 * ORIGIN/openai/v1, standing for https://api.openai.com/v1): POST /videos
 * (JSON body), GET and DELETE /videos/{id}, and GET /videos/{id}/content,
 * which answers a few MP4 bytes once the video is completed (the JSON
 * carries no URL).
 *
 * Scripted failures: the video ends "failed" with error.code
 * moderation_blocked (fail=content), video_generation_failed
 * (fail=permanent) or server_overloaded (fail=capacity and expired; the
 * code is [UNVERIFIED]). Errors are {"error":{message,type,param,code}}:
 * 429 rate_limit_exceeded for submit=429 and submit=capacity, 400
 * moderation_blocked for submit=400.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "sim_openai.h"

#define SIM_OPENAI_EXPIRY_S 3600
#define SIM_OPENAI_POLL_AFTER "1000"

static const char s_videos[] = "/openai/v1/videos";

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    const char *type = "invalid_request_error";
    const char *code = NULL;
    const char *msg = sim_err_message(err);
    (void)c;
    switch (err) {
    case SIM_E_RATE:
    case SIM_E_CAPACITY:
        type = "requests";
        code = "rate_limit_exceeded";
        msg = err == SIM_E_RATE ? "Rate limit reached for requests"
                                : "Too many concurrent video generations";
        break;
    case SIM_E_INPUT_POLICY:
        code = "moderation_blocked";
        msg = "Your request was blocked by our moderation system.";
        break;
    case SIM_E_INTERNAL:
    case SIM_E_UNAVAILABLE:
    case SIM_E_FULL:
        type = "server_error";
        break;
    case SIM_E_BAD_REQUEST:
        code = "invalid_value";
        break;
    case SIM_E_NOT_FOUND:
        break;
    default:
        code = "invalid_api_key";
        break; /* the auth errors */
    }
    sim_reply_json(req, sim_err_status(err),
                   json_pack("{s:{s:s,s:s,s:n,s:s?}}", "error", "message", msg,
                             "type", type, "param", "code", code));
}

static bool
s_one_of(const char *v, const char *const *set)
{
    for (; v != NULL && *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static json_t *
s_video_json(const struct sim_task *t)
{
    char secs[RL_FMT_DEC_LEN];
    rl_fmt_dec(secs, t->duration_s);
    json_t *doc = json_pack(
        "{s:s,s:s,s:I,s:s,s:s,s:i,s:s,s:s,s:s,s:n,s:n,s:n,s:n}", "id", t->id,
        "object", "video", "created_at", (json_int_t)(t->created_ms / 1000),
        "status", sim_task_status(t), "model", t->model, "progress",
        sim_task_progress(t), "seconds", secs, "size", t->extra, "quality",
        "standard", "remixed_from_video_id", "completed_at", "expires_at",
        "error");
    if (doc == NULL || t->state < SIM_ST_SUCCEEDED)
        return doc;
    json_int_t done = (json_int_t)(t->updated_ms / 1000);
    json_object_set_new(doc, "completed_at", json_integer(done));
    if (t->state == SIM_ST_SUCCEEDED) {
        json_object_set_new(doc, "expires_at",
                            json_integer(done + SIM_OPENAI_EXPIRY_S));
        return doc;
    }
    const char *code = "video_generation_failed";
    const char *msg = "Video generation failed.";
    if (t->script.fail == SIM_FAIL_CONTENT) {
        code = "moderation_blocked";
        msg = "The generated video was blocked by our moderation system.";
    } else if (t->script.fail == SIM_FAIL_CAPACITY ||
               t->script.fail == SIM_FAIL_EXPIRED) {
        code = "server_overloaded";
        msg = "The server is overloaded. Please try again later.";
    } else if (t->state == SIM_ST_CANCELLED) {
        code = "cancelled";
        msg = "The video was cancelled.";
    }
    json_object_set_new(doc, "error",
                        json_pack("{s:s,s:s}", "code", code, "message", msg));
    return doc;
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req)
{
    static const char *const secs[] = {"4", "8", "12", NULL};
    static const char *const sizes[] = {"720x1280", "1280x720", "1024x1792",
                                        "1792x1024", NULL};

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!sim_core_need_bearer(c, &sim_api_openai, req))
        return;
    json_t *body = sim_body_json(req);
    const char *prompt = sim_str(body, "prompt", NULL);
    const char *model = sim_str(body, "model", "sora-2");
    const char *seconds = sim_str(body, "seconds", "4");
    const char *size = sim_str(body, "size", "720x1280");
    if (body == NULL || prompt == NULL || *prompt == '\0' || model == NULL ||
        !s_one_of(seconds, secs) || !s_one_of(size, sizes)) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t =
        sim_core_submit(c, &sim_api_openai, req, model, prompt);
    if (t != NULL) {
        t->duration_s = (int)strtol(seconds, NULL, 10);
        t->extra = rl_strdup(size);
        sim_reply_json(req, 200, s_video_json(t));
    }
    json_decref(body);
}

static void
s_video(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *id, bool content)
{
    if (m == EVHTTP_REQ_DELETE)
        sim_core_count(c, SIM_COUNT_CANCEL);
    else if (!content)
        sim_core_count(c, SIM_COUNT_POLL);
    if (!sim_core_need_bearer(c, &sim_api_openai, req))
        return;
    struct sim_task *t = sim_core_task(c, &sim_api_openai, id);
    if (t == NULL) {
        s_error(c, req, SIM_E_NOT_FOUND);
    } else if (m == EVHTTP_REQ_DELETE) {
        t->deleted = true; /* DELETE deletes; it does not cancel */
        sim_reply_json(req, 200,
                       json_pack("{s:s,s:s,s:b}", "id", t->id, "object",
                                 "video.deleted", "deleted", 1));
    } else if (content) {
        if (t->state == SIM_ST_SUCCEEDED)
            sim_reply_video(req);
        else
            s_error(c, req, SIM_E_NOT_FOUND);
    } else if (!sim_core_poll(c, req, t)) {
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "openai-poll-after-ms", SIM_OPENAI_POLL_AFTER);
        sim_reply_json(req, 200, s_video_json(t));
    }
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN];
    size_t n = sizeof s_videos - 1;

    if (path[n] != '/' && path[n] != '\0') /* "/openai/v1/videosx" */
        return false;
    if (path[n] == '\0') {
        if (m == EVHTTP_REQ_POST)
            s_submit(c, req);
        else
            sim_not_allowed(req);
    } else if (sim_path_id(path, "/openai/v1/videos/", "", id, sizeof id)) {
        if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_DELETE)
            s_video(c, req, m, id, false);
        else
            sim_not_allowed(req);
    } else if (sim_path_id(path, "/openai/v1/videos/", "/content", id,
                           sizeof id)) {
        if (m == EVHTTP_REQ_GET)
            s_video(c, req, m, id, true);
        else
            sim_not_allowed(req);
    } else {
        s_error(c, req, SIM_E_NOT_FOUND);
    }
    return true;
}

const sim_api_t sim_api_openai = {
    .type = RL_PTYPE_OPENAI,
    .prefix = s_videos,
    .id_prefix = "video_",
    .states = {"queued", "in_progress", "completed", "failed", "failed",
               "failed"},
    .malformed_poll = "{\"id\":\"video_x\",\"object\":\"video\",\"sta",
    .malformed_submit = "{\"id\":\"video_",
    .route = s_route,
    .error = s_error,
};
