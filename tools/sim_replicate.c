/*
 * sim_replicate - the provider simulator's Replicate predictions API
 * (base_url ORIGIN/replicate/v1, standing for https://api.replicate.com/v1):
 * POST /models/{owner}/{name}/predictions and POST /predictions (with a
 * version) create, GET /predictions/{id} polls, POST
 * /predictions/{id}/cancel cancels. Auth: "Bearer" or the older "Token".
 *
 * Scripted failures: the prediction ends "failed" with error text
 * "...flagged as sensitive... (E005)" (fail=content), "Prediction failed"
 * (fail=permanent) or "Prediction interrupted; please retry (code: PA)"
 * (fail=capacity and expired). Errors are {"title","detail","status"}:
 * 429 "Request was throttled..." with Retry-After for submit=429 and
 * submit=capacity, 422 "...flagged as sensitive..." for submit=400.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_fmt.h"
#include "sim_replicate.h"

static const char s_models[] = "/replicate/v1/models/";
static const char s_preds[] = "/replicate/v1/predictions";

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    int status = sim_err_status(err);
    const char *msg = sim_err_message(err);
    (void)c;
    if (err == SIM_E_RATE || err == SIM_E_CAPACITY) {
        msg = "Request was throttled. Expected available in 1 second.";
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
    } else if (err == SIM_E_INPUT_POLICY || err == SIM_E_BAD_REQUEST) {
        status = 422;
        msg = err == SIM_E_INPUT_POLICY
                  ? "The input was flagged as sensitive. Please try again "
                    "with different inputs. (E005)"
                  : "- input.prompt: Invalid type. Expected: string";
    }
    sim_reply_json(
        req, status,
        json_pack("{s:s,s:s,s:i}", "title",
                  status == 429 ? "Too Many Requests" : "Request failed",
                  "detail", msg, "status", status));
}

static bool
s_auth(struct evhttp_request *req)
{
    const char *auth = sim_header(req, "Authorization");
    return sim_bearer(req) != NULL ||
           (auth != NULL && strncasecmp(auth, "Token ", 6) == 0 &&
            auth[6] != '\0');
}

static json_t *
s_pred_json(const sim_core_t *c, const struct sim_task *t)
{
    char created[40], done[40], get[SIM_URL_LEN], cancel[SIM_URL_LEN];
    char url[SIM_URL_LEN], logs[96];
    int pct = sim_task_progress(t);

    sim_iso8601(t->created_ms, created, sizeof created);
    sim_iso8601(t->updated_ms, done, sizeof done);
    /* The origin, an id and 40 characters: SIM_URL_LEN. */
    rl_fmt_fit(get, sizeof get, "%s%s/%s", sim_core_origin(c), s_preds, t->id);
    rl_fmt_fit(cancel, sizeof cancel, "%s/cancel", get);
    /* pct is 0..100: some 40 characters. */
    rl_fmt_fit(logs, sizeof logs, "Generating video\n%3d%%|%.*s| %d/100\n", pct,
               pct / 10, "##########", pct);
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:{s:s},s:s,s:n,s:b,s:n,s:s,s:s,s:s?,s:s?,s:{s:s,s:s}}",
        "id", t->id, "model", t->model, "version", "", "input", "prompt",
        t->prompt, "logs", t->state == SIM_ST_QUEUED ? "" : logs, "output",
        "data_removed", 0, "error", "status", sim_task_status(t), "created_at",
        created, "started_at", t->state == SIM_ST_QUEUED ? NULL : created,
        "completed_at", t->state >= SIM_ST_SUCCEEDED ? done : NULL, "urls",
        "get", get, "cancel", cancel);
    if (doc == NULL)
        return NULL;
    if (t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        json_object_set_new(doc, "output", json_string(url));
    } else if (t->state == SIM_ST_FAILED || t->state == SIM_ST_EXPIRED) {
        const char *err = "Prediction failed: the model raised an error.";
        if (t->script.fail == SIM_FAIL_CONTENT)
            err = "The output was flagged as sensitive. Please try again "
                  "with different inputs. (E005)";
        else if (t->script.fail == SIM_FAIL_CAPACITY ||
                 t->script.fail == SIM_FAIL_EXPIRED)
            err = "Prediction interrupted; please retry (code: PA)";
        json_object_set_new(doc, "error", json_string(err));
    }
    return doc;
}

static void
s_create(sim_core_t *c, struct evhttp_request *req, const char *model)
{

    sim_core_count(c, SIM_COUNT_SUBMIT);
    if (!s_auth(req)) {
        s_error(c, req, SIM_E_AUTH_MISSING);
        return;
    }
    json_t *body = sim_body_json(req);
    json_t *input = json_object_get(body, "input");
    const char *prompt = sim_str(input, "prompt", NULL);
    if (model == NULL)
        model = sim_str(body, "version", NULL);
    if (!json_is_object(input) || prompt == NULL || model == NULL ||
        *model == '\0') {
        json_decref(body);
        s_error(c, req, SIM_E_BAD_REQUEST);
        return;
    }
    struct sim_task *t =
        sim_core_submit(c, &sim_api_replicate, req, model, prompt);
    if (t != NULL) {
        json_t *d = json_object_get(input, "duration");
        t->duration_s = json_is_integer(d) ? (int)json_integer_value(d)
                                           : SIM_DEFAULT_DURATION_S;
        sim_reply_json(req, 201, s_pred_json(c, t));
    }
    json_decref(body);
}

static void
s_pred(sim_core_t *c, struct evhttp_request *req, const char *id, bool cancel)
{
    if (cancel)
        sim_core_count(c, SIM_COUNT_CANCEL);
    else
        sim_core_count(c, SIM_COUNT_POLL);
    if (!s_auth(req)) {
        s_error(c, req, SIM_E_AUTH_MISSING);
        return;
    }
    struct sim_task *t = sim_core_task(c, &sim_api_replicate, id);
    if (t == NULL) {
        s_error(c, req, SIM_E_NOT_FOUND);
    } else if (cancel) {
        sim_task_cancel(t);
        sim_reply_json(req, 200, s_pred_json(c, t));
    } else if (!sim_core_poll(c, req, t)) {
        sim_reply_json(req, 200, s_pred_json(c, t));
    }
}

/* "owner/name" of ".../models/owner/name/predictions" into out. */
static bool
s_model(const char *path, char *out, size_t len)
{
    static const char tail[] = "/predictions";
    const char *rest = path + sizeof s_models - 1;
    size_t n = strlen(rest);
    if (n <= sizeof tail - 1 || strcmp(rest + n - (sizeof tail - 1), tail) != 0)
        return false;
    n -= sizeof tail - 1;
    const char *slash = memchr(rest, '/', n);
    if (n >= len || slash == NULL || slash == rest || slash == rest + n - 1 ||
        memchr(slash + 1, '/', n - (size_t)(slash + 1 - rest)) != NULL)
        return false;
    memcpy(out, rest, n);
    out[n] = '\0';
    return true;
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN], model[256];
    bool post = m == EVHTTP_REQ_POST;

    if (strncmp(path, s_models, sizeof s_models - 1) == 0 &&
        s_model(path, model, sizeof model)) {
        if (post)
            s_create(c, req, model);
        else
            sim_not_allowed(req);
    } else if (strcmp(path, s_preds) == 0) {
        if (post)
            s_create(c, req, NULL);
        else
            sim_not_allowed(req);
    } else if (sim_path_id(path, "/replicate/v1/predictions/", "", id,
                           sizeof id)) {
        if (m == EVHTTP_REQ_GET)
            s_pred(c, req, id, false);
        else
            sim_not_allowed(req);
    } else if (sim_path_id(path, "/replicate/v1/predictions/", "/cancel", id,
                           sizeof id)) {
        if (post)
            s_pred(c, req, id, true);
        else
            sim_not_allowed(req);
    } else {
        s_error(c, req, SIM_E_NOT_FOUND);
    }
    return true;
}

const sim_api_t sim_api_replicate = {
    .type = RL_PTYPE_REPLICATE,
    .prefix = "/replicate/",
    .id_prefix = "rp",
    .states = {"starting", "processing", "succeeded", "failed", "failed",
               "canceled"},
    .malformed_poll = "{\"id\":\"rp-x\",\"status\":\"succ",
    .malformed_submit = "{\"id\":\"rp",
    .route = s_route,
    .error = s_error,
};
