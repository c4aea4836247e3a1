/*
 * sim_runway - the provider simulator's Runway API (base_url ORIGIN/runway,
 * standing for https://api.dev.runwayml.com): POST /v1/text_to_video and
 * /v1/image_to_video, GET and DELETE /v1/tasks/{id}, with the
 * Authorization bearer and X-Runway-Version: 2024-11-06 both required
 * (400 without the version, as the real API does).
 *
 * Scripted failures: fail=content ends FAILED with failureCode
 * SAFETY.OUTPUT.VIDEO; fail=permanent INTERNAL.BAD_OUTPUT.CODE01;
 * fail=capacity (and expired) shows THROTTLED (Runway's concurrency
 * signal: stored, not yet queued) while in progress and ends FAILED with
 * failureCode INTERNAL. Errors are {"error": "..."} with the HTTP status
 * (429 for submit=429 and submit=capacity).
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim_runway.h"

#define SIM_RUNWAY_VERSION "2024-11-06"
#define SIM_RUNWAY_PROMPT_MAX 1000

static const char s_base[] = "/runway/v1";

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    const char *msg = sim_err_message(err);
    (void)c;
    if (err == SIM_E_RATE)
        msg = "Too many requests. Please slow down.";
    else if (err == SIM_E_CAPACITY)
        msg = "You have reached the daily task limit for your tier.";
    else if (err == SIM_E_INPUT_POLICY)
        msg = "promptText: the text did not pass content moderation.";
    sim_reply_json(req, sim_err_status(err), json_pack("{s:s}", "error", msg));
}

/* Auth and the version header; answers and returns false on failure. */
static bool
s_check(sim_core_t *c, struct evhttp_request *req)
{
    const char *ver = sim_header(req, "X-Runway-Version");
    if (!sim_core_need_bearer(c, &sim_api_runway, req))
        return false;
    if (ver == NULL || strcmp(ver, SIM_RUNWAY_VERSION) != 0) {
        sim_reply_json(req, 400,
                       json_pack("{s:s}", "error",
                                 ver == NULL
                                     ? "The X-Runway-Version header is "
                                       "required."
                                     : "Invalid X-Runway-Version header."));
        return false;
    }
    return true;
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req, bool i2v)
{
    json_t *body = NULL;

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!s_check(c, req))
        return;
    body = sim_body_json(req);
    const char *model = sim_str(body, "model", NULL);
    const char *prompt = sim_str(body, "promptText", i2v ? "" : NULL);
    const json_t *image = json_object_get(body, "promptImage");
    const json_t *dur = json_object_get(body, "duration");
    if (body == NULL || model == NULL || *model == '\0' || prompt == NULL ||
        strlen(prompt) > SIM_RUNWAY_PROMPT_MAX || (!i2v && *prompt == '\0') ||
        (i2v && !json_is_string(image) && !json_is_array(image)) ||
        (dur != NULL && (!json_is_integer(dur) || json_integer_value(dur) < 2 ||
                         json_integer_value(dur) > 10))) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t =
        sim_core_submit(c, &sim_api_runway, req, model, prompt);
    if (t != NULL) {
        t->i2v = i2v;
        t->duration_s =
            dur != NULL ? (int)json_integer_value(dur) : SIM_DEFAULT_DURATION_S;
        sim_reply_json(req, 200, json_pack("{s:s}", "id", t->id));
    }
    json_decref(body);
}

static bool
s_capacity(const struct sim_task *t)
{
    return t->script.fail == SIM_FAIL_CAPACITY ||
           t->script.fail == SIM_FAIL_EXPIRED;
}

static json_t *
s_task_json(const sim_core_t *c, const struct sim_task *t)
{
    char created[40];
    char url[SIM_URL_LEN];

    sim_iso8601(t->created_ms, created, sizeof created);
    const char *status = sim_task_status(t);
    if (t->state < SIM_ST_SUCCEEDED && s_capacity(t))
        status = "THROTTLED";
    json_t *doc = json_pack("{s:s,s:s,s:s}", "id", t->id, "createdAt", created,
                            "status", status);
    if (doc == NULL)
        return NULL;
    if (t->state == SIM_ST_RUNNING && !s_capacity(t)) {
        json_object_set_new(doc, "progress",
                            json_real(sim_task_progress(t) / 100.0));
    } else if (t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        json_object_set_new(doc, "output", json_pack("[s]", url));
    } else if (t->state == SIM_ST_FAILED || t->state == SIM_ST_EXPIRED) {
        const char *code = "INTERNAL.BAD_OUTPUT.CODE01";
        const char *msg = "The generation was rejected by our internal "
                          "systems.";
        if (t->script.fail == SIM_FAIL_CONTENT) {
            code = "SAFETY.OUTPUT.VIDEO";
            msg = "The output did not pass content moderation.";
        } else if (s_capacity(t)) {
            code = "INTERNAL";
            msg = "The task could not be scheduled. Please retry.";
        }
        json_object_set_new(doc, "failure", json_string(msg));
        json_object_set_new(doc, "failureCode", json_string(code));
    }
    return doc;
}

static void
s_task(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
       const char *id)
{
    if (m == EVHTTP_REQ_DELETE)
        sim_core_count(c, SIM_COUNT_CANCEL);
    else
        sim_core_count(c, SIM_COUNT_POLL);
    if (!s_check(c, req))
        return;
    struct sim_task *t = sim_core_task(c, &sim_api_runway, id);
    if (t == NULL) {
        s_error(c, req, SIM_E_NOT_FOUND);
    } else if (m == EVHTTP_REQ_DELETE) {
        /* Cancels PENDING, THROTTLED or RUNNING; deletes the others. */
        if (!sim_task_cancel(t))
            t->deleted = true;
        sim_reply_raw(req, 204, "application/json", "", 0);
    } else if (!sim_core_poll(c, req, t)) {
        sim_reply_json(req, 200, s_task_json(c, t));
    }
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN];
    size_t n = sizeof s_base - 1;

    if (path[n] != '/' && path[n] != '\0') /* "/runway/v1x" */
        return false;
    bool t2v = strcmp(path + n, "/text_to_video") == 0;
    bool i2v = strcmp(path + n, "/image_to_video") == 0;
    if ((t2v || i2v) && m == EVHTTP_REQ_POST)
        s_submit(c, req, i2v);
    else if (sim_path_id(path, "/runway/v1/tasks/", "", id, sizeof id) &&
             (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_DELETE))
        s_task(c, req, m, id);
    else if (t2v || i2v || strncmp(path + n, "/tasks/", 7) == 0)
        sim_not_allowed(req);
    else
        s_error(c, req, SIM_E_NOT_FOUND);
    return true;
}

const sim_api_t sim_api_runway = {
    .type = RL_PTYPE_RUNWAY,
    .prefix = s_base,
    .id_prefix = "rw-",
    .states = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "FAILED",
               "CANCELLED"},
    .malformed_poll = "{\"id\":\"rw-x\",\"status\":\"SUCC",
    .malformed_submit = "{\"id\":\"rw-",
    .route = s_route,
    .error = s_error,
};
