/*
 * sim_fal - the provider simulator's fal.ai queue API (base_url ORIGIN/fal,
 * standing for https://queue.fal.run). POST /fal/{model_id} submits (the
 * model id has any depth: fal-ai/kling-video/v2.1/standard/text-to-video)
 * and answers {request_id, response_url, status_url, cancel_url} whose
 * URLs are /fal/{owner}/{app}/requests/{id}, without the model sub-path.
 * GET .../requests/{id}/status answers IN_QUEUE (with queue_position),
 * IN_PROGRESS or COMPLETED; GET .../requests/{id} fetches the result; PUT
 * .../requests/{id}/cancel cancels. Auth: "Authorization: Key ...".
 *
 * COMPLETED covers success and failure alike; the result tells which:
 * 200 {"video":{url,content_type,file_name,file_size}}, or for
 * fail=content 422 {"detail":[{type:"content_policy_violation",...}]},
 * fail=permanent 422 {"detail":[{type:"no_media_generated",...}]},
 * fail=capacity 503 {"detail","error_type":"runner_scheduling_failure"}
 * and fail=expired 504 {"detail","error_type":"request_timeout"} (with
 * X-Fal-Error-Type). Errors otherwise are {"detail": "..."}; submit=429
 * and submit=capacity answer 429 ([UNVERIFIED] at fal), submit=400 a 422
 * content_policy_violation.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "sim_fal.h"

#define SIM_FAL_APP_MAX 256
/* A request's URL: the origin, an app, a task id and 30 characters. */
#define S_URL_LEN (SIM_ORIGIN_LEN + SIM_FAL_APP_MAX + SIM_ID_LEN + 32)

static const char s_base[] = "/fal/";

static json_t *
s_detail(const char *type, const char *msg)
{
    return json_pack("{s:[{s:[s,s],s:s,s:s}]}", "detail", "loc", "body",
                     "prompt", "msg", msg, "type", type);
}

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    (void)c;
    if (err == SIM_E_INPUT_POLICY) {
        sim_reply_json(req, 422,
                       s_detail("content_policy_violation",
                                "The content could not be processed because "
                                "it contained material flagged by a content "
                                "checker."));
        return;
    }
    const char *msg = err == SIM_E_RATE || err == SIM_E_CAPACITY
                          ? "Too many requests: concurrency limit exceeded"
                          : sim_err_message(err);
    sim_reply_json(req, err == SIM_E_BAD_REQUEST ? 422 : sim_err_status(err),
                   json_pack("{s:s}", "detail", msg));
}

static bool
s_auth(sim_core_t *c, struct evhttp_request *req)
{
    const char *auth = sim_header(req, "Authorization");
    if (auth != NULL && strncasecmp(auth, "Key ", 4) == 0 && auth[4] != '\0')
        return true;
    s_error(c, req, SIM_E_AUTH_MISSING);
    return false;
}

/* The "owner/app" of a model id into out: its first two segments. */
static bool
s_app(const char *model, char *out, size_t len)
{
    const char *slash = strchr(model, '/');
    if (slash == NULL || slash == model || slash[1] == '\0' || slash[1] == '/')
        return false;
    const char *end = strchr(slash + 1, '/');
    size_t n = end != NULL ? (size_t)(end - model) : strlen(model);
    if (n >= len)
        return false;
    memcpy(out, model, n);
    out[n] = '\0';
    return true;
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req, const char *model)
{
    char app[SIM_FAL_APP_MAX], url[3][S_URL_LEN];

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!s_auth(c, req))
        return;
    json_t *body = sim_body_json(req);
    const char *prompt = sim_str(body, "prompt", NULL);
    if (body == NULL || prompt == NULL || !s_app(model, app, sizeof app)) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t = sim_core_submit(c, &sim_api_fal, req, model, prompt);
    if (t != NULL) {
        t->extra = rl_strdup(app);
        /* The origin, app, id and 30 characters: S_URL_LEN. */
        rl_fmt_fit(url[0], sizeof url[0], "%s/fal/%s/requests/%s",
                   sim_core_origin(c), app, t->id);
        rl_fmt_fit(url[1], sizeof url[1], "%s/fal/%s/requests/%s/status",
                   sim_core_origin(c), app, t->id);
        rl_fmt_fit(url[2], sizeof url[2], "%s/fal/%s/requests/%s/cancel",
                   sim_core_origin(c), app, t->id);
        sim_reply_json(req, 200,
                       json_pack("{s:s,s:s,s:s,s:s,s:i}", "request_id", t->id,
                                 "response_url", url[0], "status_url", url[1],
                                 "cancel_url", url[2], "queue_position", 0));
    }
    json_decref(body);
}

static void
s_status(sim_core_t *c, struct evhttp_request *req, struct sim_task *t,
         const char *app)
{
    char url[S_URL_LEN];
    if (sim_core_poll(c, req, t))
        return;
    rl_fmt_fit(url, sizeof url, "%s/fal/%s/requests/%s", sim_core_origin(c),
               app, t->id);
    json_t *doc = json_pack("{s:s,s:s,s:n,s:{}}", "status", sim_task_status(t),
                            "response_url", url, "logs", "metrics");
    if (doc != NULL && t->state == SIM_ST_QUEUED)
        json_object_set_new(doc, "queue_position", json_integer(0));
    sim_reply_json(req, t->state >= SIM_ST_SUCCEEDED ? 200 : 202, doc);
}

static void
s_result(sim_core_t *c, struct evhttp_request *req, struct sim_task *t)
{
    char url[SIM_URL_LEN], name[SIM_ID_LEN + 8];
    const char *type = NULL;
    int status = 503;

    if (t->state < SIM_ST_SUCCEEDED) {
        sim_reply_json(
            req, 400,
            json_pack("{s:s}", "detail", "Request is still in progress"));
        return;
    }
    if (t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        rl_fmt_fit(name, sizeof name, "%s.mp4", t->id);
        sim_reply_json(req, 200,
                       json_pack("{s:{s:s,s:s,s:s,s:i}}", "video", "url", url,
                                 "content_type", "video/mp4", "file_name", name,
                                 "file_size", 32));
        return;
    }
    switch (t->script.fail) {
    case SIM_FAIL_CONTENT:
        sim_reply_json(req, 422,
                       s_detail("content_policy_violation",
                                "The generated video was flagged "
                                "by a content checker."));
        return;
    case SIM_FAIL_CAPACITY:
        type = "runner_scheduling_failure";
        break;
    case SIM_FAIL_EXPIRED:
        type = "request_timeout";
        status = 504;
        break;
    default:
        sim_reply_json(req, 422,
                       s_detail("no_media_generated",
                                "The model did not generate any "
                                "video."));
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "X-Fal-Error-Type", type);
    sim_reply_json(req, status,
                   json_pack("{s:s,s:s}", "detail",
                             "The request could not be completed in time.",
                             "error_type", type));
}

static void
s_cancel(sim_core_t *c, struct evhttp_request *req, struct sim_task *t)
{
    sim_core_count(c, SIM_COUNT_CANCEL);
    if (!sim_task_cancel(t)) {
        sim_reply_json(req, 400,
                       json_pack("{s:s}", "status", "ALREADY_COMPLETED"));
        return;
    }
    sim_reply_json(req, 202,
                   json_pack("{s:s}", "status", "CANCELLATION_REQUESTED"));
}

/* GET|PUT /fal/{owner}/{app}/requests/{id}[/status|/cancel]. */
static bool
s_request(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
          const char *path)
{
    char app[SIM_FAL_APP_MAX], id[SIM_ID_LEN];
    const char *rest = path + sizeof s_base - 1;
    const char *mark = strstr(rest, "/requests/");
    if (mark == NULL || (size_t)(mark - rest) >= sizeof app)
        return false;
    memcpy(app, rest, (size_t)(mark - rest));
    app[mark - rest] = '\0';
    const char *tail = mark + 10;
    const char *slash = strchr(tail, '/');
    const char *what = slash != NULL ? slash : "";
    size_t n = slash != NULL ? (size_t)(slash - tail) : strlen(tail);
    if (n == 0 || n >= sizeof id ||
        (strcmp(what, "") != 0 && strcmp(what, "/status") != 0 &&
         strcmp(what, "/cancel") != 0))
        return false;
    memcpy(id, tail, n);
    id[n] = '\0';
    bool cancel = strcmp(what, "/cancel") == 0;
    if (m != (cancel ? EVHTTP_REQ_PUT : EVHTTP_REQ_GET)) {
        sim_not_allowed(req);
        return true;
    }
    if (*what == '/' && what[1] == 's')
        sim_core_count(c, SIM_COUNT_POLL);
    if (!s_auth(c, req))
        return true;
    struct sim_task *t = sim_core_task(c, &sim_api_fal, id);
    if (t == NULL || strcmp(t->extra, app) != 0)
        s_error(c, req, SIM_E_NOT_FOUND);
    else if (cancel)
        s_cancel(c, req, t);
    else if (*what == '\0')
        s_result(c, req, t);
    else
        s_status(c, req, t, app);
    return true;
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    if (s_request(c, req, m, path))
        return true;
    if (m == EVHTTP_REQ_POST)
        s_submit(c, req, path + sizeof s_base - 1);
    else
        s_error(c, req, SIM_E_NOT_FOUND);
    return true;
}

const sim_api_t sim_api_fal = {
    .type = RL_PTYPE_FAL,
    .prefix = s_base,
    .id_prefix = "fal-",
    .states = {"IN_QUEUE", "IN_PROGRESS", "COMPLETED", "COMPLETED", "COMPLETED",
               "COMPLETED"},
    .malformed_poll = "{\"status\":\"COMPL",
    .malformed_submit = "{\"request_id\":\"fal-",
    .route = s_route,
    .error = s_error,
};
