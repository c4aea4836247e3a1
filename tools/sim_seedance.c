/*
 * sim_seedance - the provider simulator's Seedance (BytePlus Ark) API
 * (base_url ORIGIN/api/v3, standing for
 * https://ark.ap-southeast.bytepluses.com/api/v3): the content-generation
 * task submit, poll and DELETE handlers, with Ark's content[] parsing,
 * body shapes and state spellings. Errors are {"error":{code, message,
 * param, type}} with Ark's codes (s_errs).
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim_seedance.h"

#define SIM_ARK_FPS 24
#define SIM_ARK_TOKENS 108900 /* 720p, 5 s, as in the Ark docs */
#define SIM_ARK_DURATION_MAX 15

static const char s_tasks[] = "/api/v3/contents/generations/tasks";

/* How Ark spells each error: error.code and error.type (the HTTP status
 * and the message are sim_http's). */
static const struct {
    const char *code; /* error.code */
    const char *type; /* error.type */
} s_errs[SIM_E_COUNT] = {
    [SIM_E_RATE] = {"RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"},
    [SIM_E_CAPACITY] = {"ServerOverloaded", "TooManyRequests"},
    [SIM_E_INPUT_POLICY] = {"InputTextSensitiveContentDetected", "BadRequest"},
    [SIM_E_INTERNAL] = {"InternalServiceError", "InternalServerError"},
    [SIM_E_UNAVAILABLE] = {"ServiceUnavailable", "ServiceUnavailable"},
    [SIM_E_NOT_FOUND] = {"ResourceNotFound", "NotFound"},
    [SIM_E_BAD_REQUEST] = {"InvalidParameter", "BadRequest"},
    [SIM_E_FULL] = {"ServiceUnavailable", "ServiceUnavailable"},
    [SIM_E_AUTH_MISSING] = {"AuthenticationError", "Unauthorized"},
    [SIM_E_AUTH_INVALID] = {"AuthenticationError", "Unauthorized"},
    [SIM_E_AUTH_FAILED] = {"AuthenticationError", "Unauthorized"},
    [SIM_E_AUTH_NBF] = {"AuthenticationError", "Unauthorized"},
    [SIM_E_AUTH_EXP] = {"AuthenticationError", "Unauthorized"},
};

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    (void)c;
    sim_reply_json(req, sim_err_status(err),
                   json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code",
                             s_errs[err].code, "message", sim_err_message(err),
                             "param", "", "type", s_errs[err].type));
}

/* The prompt of an Ark content[] array: the first text item's text, ""
 * for images only, or NULL when the array is malformed. */
static const char *
s_ark_prompt(const json_t *content)
{
    const char *prompt = NULL;
    size_t i;
    json_t *item;

    if (!json_is_array(content) || json_array_size(content) == 0)
        return NULL;
    json_array_foreach(content, i, item)
    {
        const char *type = sim_str(item, "type", NULL);
        if (type != NULL && strcmp(type, "text") == 0) {
            const char *text = sim_str(item, "text", NULL);
            if (text == NULL)
                return NULL;
            if (prompt == NULL)
                prompt = text;
        } else if (type == NULL || strcmp(type, "image_url") != 0 ||
                   sim_str(json_object_get(item, "image_url"), "url", NULL) ==
                       NULL) {
            return NULL;
        }
    }
    return prompt != NULL ? prompt : "";
}

/* The requested length: top-level "duration", else the "--dur N" text
 * command, else 5 s. */
static int
s_ark_duration(const json_t *body, const char *prompt)
{
    const json_t *d = json_object_get(body, "duration");
    if (json_is_integer(d) && json_integer_value(d) > 0 &&
        json_integer_value(d) <= SIM_ARK_DURATION_MAX)
        return (int)json_integer_value(d);
    const char *p = strstr(prompt, "--dur ");
    if (p == NULL)
        p = strstr(prompt, "--duration ");
    if (p != NULL) {
        char *end = NULL;
        long n = strtol(strchr(p, ' ') + 1, &end, 10);
        if (end != NULL && n > 0 && n <= SIM_ARK_DURATION_MAX)
            return (int)n;
    }
    return SIM_DEFAULT_DURATION_S;
}

/* POST .../tasks. */
static void
s_submit(sim_core_t *c, struct evhttp_request *req)
{
    json_t *body = NULL;
    sim_err_t err = SIM_E_AUTH_MISSING;

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (sim_bearer(req) == NULL)
        goto fail;
    err = SIM_E_BAD_REQUEST;
    if ((body = sim_body_json(req)) == NULL)
        goto fail;
    const char *model = sim_str(body, "model", NULL);
    const char *prompt = s_ark_prompt(json_object_get(body, "content"));
    if (model == NULL || *model == '\0' || prompt == NULL)
        goto fail;

    struct sim_task *t =
        sim_core_submit(c, &sim_api_seedance, req, model, prompt);
    if (t != NULL) {
        t->endpoint = "tasks";
        t->duration_s = s_ark_duration(body, prompt);
        sim_reply_json(req, 200, json_pack("{s:s}", "id", t->id));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    s_error(c, req, err);
}

/* The error member of a task: null unless it failed. */
static json_t *
s_ark_task_error(const struct sim_task *t)
{
    const char *code = "GenerationFailed";
    const char *msg = "The video generation failed.";

    if (t->state != SIM_ST_FAILED)
        return json_null();
    if (t->script.fail == SIM_FAIL_CONTENT) {
        code = "OutputVideoSensitiveContentDetected";
        msg = "The output video may contain sensitive information.";
    } else if (t->script.fail == SIM_FAIL_CAPACITY) {
        code = "ServerOverloaded";
        msg = "The service is overloaded, please try again later.";
    }
    return json_pack("{s:s,s:s}", "code", code, "message", msg);
}

static json_t *
s_ark_task_json(const sim_core_t *c, const struct sim_task *t)
{
    char url[SIM_URL_LEN];
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:o,s:I,s:I}", "id", t->id, "model", t->model,
                  "status", sim_task_status(t), "error", s_ark_task_error(t),
                  "created_at", (json_int_t)(t->created_ms / 1000),
                  "updated_at", (json_int_t)(t->updated_ms / 1000));
    if (doc != NULL && t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        json_object_set_new(doc, "content",
                            json_pack("{s:s}", "video_url", url));
        json_object_set_new(doc, "duration", json_integer(t->duration_s));
        json_object_set_new(doc, "framespersecond", json_integer(SIM_ARK_FPS));
        json_object_set_new(doc, "usage",
                            json_pack("{s:i,s:i}", "completion_tokens",
                                      SIM_ARK_TOKENS, "total_tokens",
                                      SIM_ARK_TOKENS));
    }
    return doc;
}

/* The task a poll or DELETE names, or NULL after answering an error. */
static struct sim_task *
s_ark_lookup(sim_core_t *c, struct evhttp_request *req, const char *id)
{
    if (!sim_core_need_bearer(c, &sim_api_seedance, req))
        return NULL;
    struct sim_task *t = sim_core_task(c, &sim_api_seedance, id);
    if (t == NULL)
        s_error(c, req, SIM_E_NOT_FOUND);
    return t;
}

/* GET .../tasks/ID. */
static void
s_poll(sim_core_t *c, struct evhttp_request *req, const char *id)
{
    sim_core_count(c, SIM_COUNT_POLL);
    struct sim_task *t = s_ark_lookup(c, req, id);
    if (t != NULL && !sim_core_poll(c, req, t))
        sim_reply_json(req, 200, s_ark_task_json(c, t));
}

/* DELETE .../tasks/ID: cancels a queued or running task and deletes a
 * terminal one. */
static void
s_cancel(sim_core_t *c, struct evhttp_request *req, const char *id)
{
    sim_core_count(c, SIM_COUNT_CANCEL);
    struct sim_task *t = s_ark_lookup(c, req, id);
    if (t == NULL)
        return;
    if (!sim_task_cancel(t))
        t->deleted = true;
    sim_reply_json(req, 200, json_object());
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN];
    int r = sim_path_collection(path, s_tasks, id, sizeof id);

    if (r == 0 && m == EVHTTP_REQ_POST)
        s_submit(c, req);
    else if (r == 1 && m == EVHTTP_REQ_GET)
        s_poll(c, req, id);
    else if (r == 1 && m == EVHTTP_REQ_DELETE)
        s_cancel(c, req, id);
    else if (r >= 0)
        sim_not_allowed(req);
    return r >= 0;
}

const sim_api_t sim_api_seedance = {
    .type = RL_PTYPE_SEEDANCE,
    .prefix = s_tasks,
    .id_prefix = "cgt-",
    .states = {"queued", "running", "succeeded", "failed", "expired",
               "cancelled"},
    .malformed_poll = "{\"id\":\"cgt-x\",\"status\":\"succ",
    .malformed_submit = "{\"id\":\"cgt-",
    .route = s_route,
    .error = s_error,
};
