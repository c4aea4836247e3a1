/*
 * sim_luma - the provider simulator's Luma Dream Machine API (base_url
 * ORIGIN/luma/dream-machine/v1, standing for
 * https://api.lumalabs.ai/dream-machine/v1): POST /generations (and the
 * SDK's /generations/video) answers 201 with a Generation object; GET
 * /generations/{id} answers it again: {id, generation_type, state,
 * failure_reason, created_at, assets{video}, model, request}.
 *
 * Scripted failures: state "failed" with failure_reason "...advanced
 * moderation failed" (fail=content), "Generation failed" (fail=permanent)
 * or "...capacity..., please retry" (fail=capacity and expired; DM v1 has
 * no failure code for it, [UNVERIFIED]). Errors are {"detail": ...}: 429
 * for submit=429 and submit=capacity, 400 "...failed moderation" for
 * submit=400.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim_luma.h"

static const char s_gens[] = "/luma/dream-machine/v1/generations";

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    const char *msg = sim_err_message(err);
    (void)c;
    if (err == SIM_E_RATE)
        msg = "Too many requests, please slow down";
    else if (err == SIM_E_CAPACITY)
        msg = "Too many concurrent generations";
    else if (err == SIM_E_INPUT_POLICY)
        msg = "400: prompt not allowed because advanced moderation failed";
    else if (err == SIM_E_NOT_FOUND)
        msg = "Generation not found";
    sim_reply_json(req, sim_err_status(err), json_pack("{s:s}", "detail", msg));
}

static json_t *
s_gen_json(const sim_core_t *c, const struct sim_task *t)
{
    char created[40], url[SIM_URL_LEN];

    sim_iso8601(t->created_ms, created, sizeof created);
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:n,s:s,s:n,s:s,s:{s:s,s:s}}", "id", t->id,
                  "generation_type", "video", "state", sim_task_status(t),
                  "failure_reason", "created_at", created, "assets", "model",
                  t->model, "request", "prompt", t->prompt, "model", t->model);
    if (doc == NULL)
        return NULL;
    if (t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        json_object_set_new(doc, "assets", json_pack("{s:s}", "video", url));
    } else if (t->state >= SIM_ST_FAILED) {
        const char *why = "Generation failed";
        if (t->script.fail == SIM_FAIL_CONTENT)
            why = "400: output video not allowed because advanced "
                  "moderation failed";
        else if (t->script.fail == SIM_FAIL_CAPACITY ||
                 t->script.fail == SIM_FAIL_EXPIRED)
            why = "Generation failed: no capacity available, please retry";
        json_object_set_new(doc, "failure_reason", json_string(why));
    }
    return doc;
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req)
{

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!sim_core_need_bearer(c, &sim_api_luma, req))
        return;
    json_t *body = sim_body_json(req);
    const char *prompt = sim_str(body, "prompt", NULL);
    const char *model = sim_str(body, "model", "ray-2");
    const char *dur = sim_str(body, "duration", "5s");
    if (body == NULL || prompt == NULL || model == NULL || dur == NULL ||
        (strcmp(dur, "5s") != 0 && strcmp(dur, "9s") != 0)) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t = sim_core_submit(c, &sim_api_luma, req, model, prompt);
    if (t != NULL) {
        t->duration_s = dur[0] - '0';
        sim_reply_json(req, 201, s_gen_json(c, t));
    }
    json_decref(body);
}

static void
s_poll(sim_core_t *c, struct evhttp_request *req, const char *id)
{
    sim_core_count(c, SIM_COUNT_POLL);
    if (!sim_core_need_bearer(c, &sim_api_luma, req))
        return;
    struct sim_task *t = sim_core_task(c, &sim_api_luma, id);
    if (t == NULL)
        s_error(c, req, SIM_E_NOT_FOUND);
    else if (!sim_core_poll(c, req, t))
        sim_reply_json(req, 200, s_gen_json(c, t));
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN];

    bool create = strcmp(path, s_gens) == 0 ||
                  strcmp(path, "/luma/dream-machine/v1/generations/video") == 0;
    if (create && m == EVHTTP_REQ_POST)
        s_submit(c, req);
    else if (!create && sim_path_id(path,
                                    "/luma/dream-machine/v1/"
                                    "generations/",
                                    "", id, sizeof id)) {
        if (m == EVHTTP_REQ_GET)
            s_poll(c, req, id);
        else
            sim_not_allowed(req);
    } else if (create) {
        sim_not_allowed(req);
    } else {
        s_error(c, req, SIM_E_NOT_FOUND);
    }
    return true;
}

const sim_api_t sim_api_luma = {
    .type = RL_PTYPE_LUMA,
    .prefix = "/luma/",
    .id_prefix = "lu-",
    .states = {"queued", "dreaming", "completed", "failed", "failed", "failed"},
    .malformed_poll = "{\"id\":\"lu-x\",\"state\":\"compl",
    .malformed_submit = "{\"id\":\"lu-",
    .route = s_route,
    .error = s_error,
};
