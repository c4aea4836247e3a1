/*
 * sim_minimax - the provider simulator's MiniMax Hailuo video API
 * (base_url ORIGIN/minimax, standing for https://api.minimax.io): POST
 * /v1/video_generation answers {task_id, base_resp}; GET
 * /v1/query/video_generation?task_id= answers {task_id, status, file_id,
 * video_width, video_height, base_resp} with status Preparing, Queueing,
 * Processing, Success or Fail; a Success names a file_id that GET
 * /v1/files/retrieve?file_id= resolves to file.download_url.
 *
 * Errors are HTTP 200 with a non-zero base_resp.status_code, as MiniMax
 * answers them: 1002 rate limit (submit=429 and submit=capacity), 1026
 * input sensitive (submit=400), 1004 auth, 2013 bad parameters or an
 * unknown task; 5xx (poll_5xx, 500/503) carry status_code 1000. A failed
 * task answers status "Fail" with base_resp 1027 (output sensitive,
 * fail=content), 1000 (fail=capacity and expired) or 0 (fail=permanent).
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_fmt.h"
#include "sim_minimax.h"

#define SIM_MM_OK 0
#define SIM_MM_UNKNOWN 1000
#define SIM_MM_RATE 1002
#define SIM_MM_AUTH 1004
#define SIM_MM_INPUT_SENSITIVE 1026
#define SIM_MM_OUTPUT_SENSITIVE 1027
#define SIM_MM_PARAMS 2013

static const char s_submit_path[] = "/minimax/v1/video_generation";
static const char s_query_path[] = "/minimax/v1/query/video_generation";
static const char s_files_path[] = "/minimax/v1/files/retrieve";

static json_t *
s_base_resp(int code, const char *msg)
{
    return json_pack("{s:i,s:s}", "status_code", code, "status_msg", msg);
}

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    int status = 200, code = SIM_MM_PARAMS;
    const char *msg = "invalid params";
    (void)c;
    switch (err) {
    case SIM_E_RATE:
    case SIM_E_CAPACITY:
        code = SIM_MM_RATE;
        msg = "rate limit exceeded";
        break;
    case SIM_E_INPUT_POLICY:
        code = SIM_MM_INPUT_SENSITIVE;
        msg = "input new_sensitive";
        break;
    case SIM_E_INTERNAL:
    case SIM_E_UNAVAILABLE:
    case SIM_E_FULL:
        status = sim_err_status(err);
        code = SIM_MM_UNKNOWN;
        msg = "unknown error";
        break;
    case SIM_E_NOT_FOUND:
    case SIM_E_BAD_REQUEST:
        break;
    default:
        code = SIM_MM_AUTH;
        msg = "authorized error";
        break;
    }
    sim_reply_json(req, status,
                   json_pack("{s:o}", "base_resp", s_base_resp(code, msg)));
}

static void
s_submit(sim_core_t *c, struct evhttp_request *req)
{

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!sim_core_need_bearer(c, &sim_api_minimax, req))
        return;
    json_t *body = sim_body_json(req);
    const char *model = sim_str(body, "model", NULL);
    const char *prompt = sim_str(body, "prompt", "");
    json_t *d = json_object_get(body, "duration");
    if (body == NULL || model == NULL || prompt == NULL ||
        (d != NULL && (!json_is_integer(d) || (json_integer_value(d) != 6 &&
                                               json_integer_value(d) != 10)))) {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t =
        sim_core_submit(c, &sim_api_minimax, req, model, prompt);
    if (t != NULL) {
        t->duration_s = d != NULL ? (int)json_integer_value(d) : 6;
        sim_reply_json(req, 200,
                       json_pack("{s:s,s:o}", "task_id", t->id, "base_resp",
                                 s_base_resp(SIM_MM_OK, "success")));
    }
    json_decref(body);
}

/* The file_id of a task's video: "f" + its task id. */
static void
s_file_id(const struct sim_task *t, char *out, size_t len)
{
    rl_fmt_fit(out, len, "f%s", t->id); /* len > SIM_ID_LEN */
}

static json_t *
s_query_json(const struct sim_task *t)
{
    char file[SIM_ID_LEN + 2] = "";
    int code = SIM_MM_OK;
    const char *msg = "success";
    const char *status = sim_task_status(t);

    if (t->state == SIM_ST_QUEUED && t->polls <= 1)
        status = "Preparing";
    if (t->state == SIM_ST_SUCCEEDED)
        s_file_id(t, file, sizeof file);
    if (t->state >= SIM_ST_FAILED && t->script.fail == SIM_FAIL_CONTENT) {
        code = SIM_MM_OUTPUT_SENSITIVE;
        msg = "output new_sensitive";
    } else if (t->state >= SIM_ST_FAILED &&
               (t->script.fail == SIM_FAIL_CAPACITY ||
                t->script.fail == SIM_FAIL_EXPIRED)) {
        code = SIM_MM_UNKNOWN;
        msg = "unknown error";
    }
    bool ok = t->state == SIM_ST_SUCCEEDED;
    return json_pack("{s:s,s:s,s:s,s:i,s:i,s:o}", "task_id", t->id, "status",
                     status, "file_id", file, "video_width", ok ? 1280 : 0,
                     "video_height", ok ? 720 : 0, "base_resp",
                     s_base_resp(code, msg));
}

static void
s_query(sim_core_t *c, struct evhttp_request *req)
{
    char id[SIM_ID_LEN];

    sim_core_count(c, SIM_COUNT_POLL);
    if (!sim_core_need_bearer(c, &sim_api_minimax, req))
        return;
    struct sim_task *t = NULL;
    if (sim_query_arg(req, "task_id", id, sizeof id))
        t = sim_core_task(c, &sim_api_minimax, id);
    if (t == NULL)
        s_error(c, req, SIM_E_NOT_FOUND);
    else if (!sim_core_poll(c, req, t))
        sim_reply_json(req, 200, s_query_json(t));
}

static void
s_retrieve(sim_core_t *c, struct evhttp_request *req)
{
    char id[SIM_ID_LEN + 2], url[SIM_URL_LEN];

    if (!sim_core_need_bearer(c, &sim_api_minimax, req))
        return;
    struct sim_task *t = NULL;
    if (sim_query_arg(req, "file_id", id, sizeof id) && id[0] == 'f')
        t = sim_core_task(c, &sim_api_minimax, id + 1);
    if (t == NULL || t->state != SIM_ST_SUCCEEDED) {
        s_error(c, req, SIM_E_NOT_FOUND);
        return;
    }
    sim_core_output_url(c, t, url);
    sim_reply_json(req, 200,
                   json_pack("{s:{s:s,s:i,s:I,s:s,s:s,s:s},s:o}", "file",
                             "file_id", id, "bytes", 32, "created_at",
                             (json_int_t)(t->updated_ms / 1000), "filename",
                             "output.mp4", "purpose", "video_generation",
                             "download_url", url, "base_resp",
                             s_base_resp(SIM_MM_OK, "success")));
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    bool submit = strcmp(path, s_submit_path) == 0;
    bool query = strcmp(path, s_query_path) == 0;
    bool files = strcmp(path, s_files_path) == 0;
    if (submit && m == EVHTTP_REQ_POST)
        s_submit(c, req);
    else if (query && m == EVHTTP_REQ_GET)
        s_query(c, req);
    else if (files && m == EVHTTP_REQ_GET)
        s_retrieve(c, req);
    else if (submit || query || files)
        sim_not_allowed(req);
    else
        sim_reply_json(
            req, 404,
            json_pack("{s:o}", "base_resp", s_base_resp(404, "not found")));
    return true;
}

const sim_api_t sim_api_minimax = {
    .type = RL_PTYPE_MINIMAX,
    .prefix = "/minimax/",
    .id_prefix = "mm",
    .states = {"Queueing", "Processing", "Success", "Fail", "Fail", "Fail"},
    .malformed_poll = "{\"task_id\":\"mm-x\",\"status\":\"Succ",
    .malformed_submit = "{\"task_id\":\"mm-",
    .route = s_route,
    .error = s_error,
};
