/*
 * sim_kinovi - the provider simulator's Kinovi task API (base_url
 * ORIGIN/kinovi/api/v1, standing for https://kinovi.ai/api/v1): POST
 * /jobs/createTask {model, callBackUrl?, inputs{prompt,...}} answers
 * 200 {"taskId"}; GET /jobs/recordInfo?taskId= answers the flat task
 * {taskId, model, status, creditsUsed, output[], error, createTime,
 * completeTime} (the docs' shape; the webhook's {code,message,data{state}}
 * envelope is not served here).
 *
 * Scripted failures: status "fail" with error.code "2038" (fail=content,
 * input violates platform rules), "4011" (fail=capacity and expired:
 * system queue timeout/busy) or "500" (fail=permanent). Errors are
 * {"message": ...}: submit=429 answers 429 "Too many requests"
 * ([UNVERIFIED]), submit=capacity 429 "Concurrency limit reached (…)"
 * with limit and current, submit=400 a 400 naming the platform rules.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim_kinovi.h"

#define SIM_KINOVI_PROMPT_MAX 10000
#define SIM_KINOVI_CREDITS_PER_S 40
#define SIM_KINOVI_LIMIT 5

static const char s_create[] = "/kinovi/api/v1/jobs/createTask";
static const char s_record[] = "/kinovi/api/v1/jobs/recordInfo";

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    const char *msg = sim_err_message(err);
    (void)c;
    switch (err) {
    case SIM_E_CAPACITY:
        sim_reply_json(req, 429,
                       json_pack("{s:s,s:i,s:i}", "message",
                                 "Concurrency limit reached (5/5)", "limit",
                                 SIM_KINOVI_LIMIT, "current",
                                 SIM_KINOVI_LIMIT));
        return;
    case SIM_E_RATE:
        msg = "Too many requests";
        break;
    case SIM_E_INPUT_POLICY:
        msg = "Input violates platform rules";
        break;
    case SIM_E_BAD_REQUEST:
        sim_reply_json(req, 400,
                       json_pack("{s:s,s:[s]}", "message",
                                 "Invalid inputs for model", "errors",
                                 "inputs.prompt is required"));
        return;
    case SIM_E_NOT_FOUND:
        msg = "Task not found";
        break;
    case SIM_E_INTERNAL:
    case SIM_E_UNAVAILABLE:
    case SIM_E_FULL:
        break;
    default:
        msg = "Invalid API Key";
        break;
    }
    sim_reply_json(req, sim_err_status(err),
                   json_pack("{s:s}", "message", msg));
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req)
{

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!sim_core_need_bearer(c, &sim_api_kinovi, req))
        return;
    json_t *body = sim_body_json(req);
    json_t *inputs = json_object_get(body, "inputs");
    const char *model = sim_str(body, "model", NULL);
    const char *prompt = sim_str(inputs, "prompt", NULL);
    json_t *d = json_object_get(inputs, "duration");
    if (body == NULL || model == NULL || prompt == NULL || *prompt == '\0' ||
        strlen(prompt) > SIM_KINOVI_PROMPT_MAX ||
        (d != NULL && (!json_is_integer(d) || json_integer_value(d) < 4 ||
                       json_integer_value(d) > 15))) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    if (strcmp(model, "seedance-20") != 0 &&
        strcmp(model, "seedance2-fast") != 0) {
        json_decref(body);
        sim_reply_json(req, 400,
                       json_pack("{s:s}", "message", "Unknown model"));
        return;
    }
    struct sim_task *t =
        sim_core_submit(c, &sim_api_kinovi, req, model, prompt);
    if (t != NULL) {
        t->duration_s =
            d != NULL ? (int)json_integer_value(d) : SIM_DEFAULT_DURATION_S;
        sim_reply_json(req, 200, json_pack("{s:s}", "taskId", t->id));
    }
    json_decref(body);
}

static json_t *
s_task_json(const sim_core_t *c, const struct sim_task *t)
{
    char url[SIM_URL_LEN];
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:i,s:[],s:n,s:I,s:n}", "taskId", t->id, "model",
        t->model, "status", sim_task_status(t), "creditsUsed",
        t->duration_s * SIM_KINOVI_CREDITS_PER_S, "output", "error",
        "createTime", (json_int_t)t->created_ms, "completeTime");
    if (doc == NULL || t->state < SIM_ST_SUCCEEDED)
        return doc;
    json_object_set_new(doc, "completeTime", json_integer(t->updated_ms));
    if (t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        json_array_append_new(json_object_get(doc, "output"),
                              json_pack("{s:s,s:i,s:i,s:s,s:i}", "url", url,
                                        "width", 1280, "height", 720,
                                        "mediaType", "video", "seed", 42));
        return doc;
    }
    const char *code = "500";
    const char *msg = "Generation failed";
    if (t->script.fail == SIM_FAIL_CONTENT) {
        code = "2038";
        msg = "The input violates the platform rules";
    } else if (t->script.fail == SIM_FAIL_CAPACITY ||
               t->script.fail == SIM_FAIL_EXPIRED) {
        code = "4011";
        msg = "System queue timeout, the service is busy";
    }
    json_object_set_new(doc, "error",
                        json_pack("{s:s,s:s}", "code", code, "message", msg));
    return doc;
}

static void
s_poll(sim_core_t *c, struct evhttp_request *req)
{
    char id[SIM_ID_LEN];

    sim_core_count(c, SIM_COUNT_POLL);
    if (!sim_core_need_bearer(c, &sim_api_kinovi, req))
        return;
    if (!sim_query_arg(req, "taskId", id, sizeof id)) {
        sim_reply_json(req, 400,
                       json_pack("{s:s}", "message", "Invalid taskId"));
        return;
    }
    struct sim_task *t = sim_core_task(c, &sim_api_kinovi, id);
    if (t == NULL)
        s_error(c, req, SIM_E_NOT_FOUND);
    else if (!sim_core_poll(c, req, t))
        sim_reply_json(req, 200, s_task_json(c, t));
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    if (strcmp(path, s_create) == 0 && m == EVHTTP_REQ_POST)
        s_submit(c, req);
    else if (strcmp(path, s_record) == 0 && m == EVHTTP_REQ_GET)
        s_poll(c, req);
    else if (strcmp(path, s_create) == 0 || strcmp(path, s_record) == 0)
        sim_not_allowed(req);
    else
        s_error(c, req, SIM_E_NOT_FOUND);
    return true;
}

const sim_api_t sim_api_kinovi = {
    .type = RL_PTYPE_KINOVI,
    .prefix = "/kinovi/",
    .id_prefix = "task_",
    .states = {"waiting", "generating", "success", "fail", "fail", "fail"},
    .malformed_poll = "{\"taskId\":\"task_x\",\"status\":\"succ",
    .malformed_submit = "{\"taskId\":\"task_",
    .route = s_route,
    .error = s_error,
};
