/*
 * api_generations - the job endpoints of the /v1 API (docs/api.md).
 * SPDX-License-Identifier: MIT
 */
#include "api_generations.h"

#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "http_reply.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_jobview.h"
#include "rl_log.h"
#include "rl_state_view.h"
#include "submit.h"

#define GENERATIONS "/v1/video/generations"
#define API_MAX_FIELDS 96

static void
s_on_submitted(const submit_result_t *res, void *arg)
{
    struct evhttp_request *req = http_pending_done(arg);
    if (req == NULL)
        return;
    if (res->status == 202 && res->job_id != NULL) {
        char loc[128];
        /* A replay's job id comes from Redis: checked, not trusted. */
        if (rl_fmt(loc, sizeof loc, GENERATIONS "/%s", res->job_id) == 0)
            evhttp_add_header(evhttp_request_get_output_headers(req),
                              "Location", loc);
        else
            rl_log_warnx("job id too long for a Location header");
    }
    http_retry_after(req, res->retry_after_s);
    http_reply(req, res->status, res->body);
}

static void
s_on_abandon(http_pending_t *p)
{
    if (p->data != NULL)
        submit_abandon(p->data);
}

void
api_generations_create(broker_t *b, struct evhttp_request *req,
                       const char *tail)
{
    (void)tail;
    const char *body = NULL;
    size_t len = 0;
    if (!http_body(b, req, &body, &len))
        return;
    const char *idem = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Idempotency-Key");
    http_pending_t *p = http_pending_new(b, req);
    p->on_abandon = s_on_abandon;
    /* On NULL the callback already ran and freed p. */
    submit_req_t *r =
        submit_start(b, http_bearer(req), idem, body, len, s_on_submitted, p);
    if (r != NULL)
        p->data = r;
}

/* Renders a job's fields (job_get.lua's) as the job object. */
static void
s_job_object(struct evhttp_request *req, const rl_state_fields_t *f)
{
    const char *kv[2 * API_MAX_FIELDS];
    size_t n = 0;
    for (size_t i = f->from; i + 1 < f->r->elements && n < API_MAX_FIELDS;
         i += 2, n++) {
        kv[2 * n] = rl_redis_reply_str(f->r->element[i]);
        kv[2 * n + 1] = rl_redis_reply_str(f->r->element[i + 1]);
    }
    rl_jobview_src_t src = {kv, n};
    http_reply_json(req, 200, rl_jobview_api(&src, rl_clock_wall_ms()));
}

static void
s_on_job(const rl_state_job_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    char job_id[sizeof p->text];
    memcpy(job_id, p->text, sizeof job_id);
    struct evhttp_request *req = http_pending_done(p);
    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    if (rep->tag != RL_STATE_OK) {
        api_error_t e;
        api_error_set(&e, 404, "not_found", "job_not_found", "id",
                      "no job '%s'", job_id);
        http_reply_error(req, &e);
        return;
    }
    s_job_object(req, &rep->fields);
}

void
api_generations_get(broker_t *b, struct evhttp_request *req, const char *id)
{
    char key_hash[RL_SHA256_HEX_LEN];
    if (!http_key_hash(req, key_hash))
        return;
    if (!http_job_id_ok(id, HTTP_JOB_V1)) {
        http_reply_no_job(req);
        return;
    }
    http_pending_t *p = http_pending_new(b, req);
    http_pending_keep(p, id);
    if (rl_state_view_job(b->redis, key_hash, id, s_on_job, p) != 0) {
        rl_state_job_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_job(&none, p);
    }
}
