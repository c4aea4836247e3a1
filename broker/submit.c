/*
 * submit - the accept path of a job.
 * SPDX-License-Identifier: MIT
 */
#include "submit.h"

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_error.h"
#include "dispatch.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crash.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_jobview.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_acct.h"
#include "rl_state_job.h"
#include "validate.h"

#define SUBMIT_JOB_ID_CHARS 24
#define SUBMIT_ID_DRAWS                                                        \
    16 /* ids drawn to steer one into a partition:                             \
          each fails 1 time in ~55 */
#define SUBMIT_MAX_PAIRS 16
#define SUBMIT_MAX_KV (2 * (SUBMIT_MAX_PAIRS + 2)) /* and history, deadline */

/* An accept in flight: the key resolved to its account first
 * (key_resolve.lua), then accept.lua with what is kept here. */
struct submit_req {
    broker_t *broker;
    submit_cb cb;
    void *arg;
    bool abandoned;
    char job_id[48];
    char *body202; /* the 202 answer, stored for idempotent replays */
    char key_hash[RL_SHA256_HEX_LEN];  /* of the API key */
    char body_hash[RL_SHA256_HEX_LEN]; /* "" without an idempotency key */
    char *idem;                        /* idempotency key, owned */
    long long price;                   /* credits */
    long long created_ms;              /* epoch ms */
    char *kv[SUBMIT_MAX_KV];           /* the job's fields, owned */
    int nkv;                           /* strings in kv */
};

static void
s_req_free(submit_req_t *r)
{
    for (int i = 0; i < r->nkv; i++)
        free(r->kv[i]);
    free(r->idem);
    free(r->body202);
    free(r);
}

static void
s_answer_error(const api_error_t *e, submit_cb cb, void *arg)
{
    char *json = api_error_json(e);
    submit_result_t res = {.status = e->status, .body = json, .error = e};
    cb(&res, arg);
    free(json);
}

static void
s_answer_ok(const char *body, const char *job_id, submit_cb cb, void *arg)
{
    submit_result_t res = {.status = 202, .body = body, .job_id = job_id};
    cb(&res, arg);
}

static void
s_unavailable(submit_cb cb, void *arg)
{
    api_error_t e;
    api_error_set(&e, 503, "service_unavailable", "storage_unavailable", NULL,
                  "job storage is unavailable; retry shortly (with "
                  "the same Idempotency-Key to stay safe)");
    s_answer_error(&e, cb, arg);
}

static bool
s_idem_ok(const char *k)
{
    size_t n = strlen(k);
    if (n > SUBMIT_MAX_IDEM_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

/* The texts of a new job's fields that are made here, not borrowed. */
typedef struct {
    char duration[RL_FMT_DEC_LEN];
    char chain[RL_CONFIG_CHAIN_TEXT];
} job_text_t;

/* Builds the stored field/value pairs of a new job into kv. */
static size_t
s_fields(const broker_t *b, const submission_t *s, const submit_opts_t *o,
         const char **kv, job_text_t *t)
{
    const rl_model_conf_t *m = s->model;
    size_t n = 0;
    kv[n++] = "api";
    kv[n++] = o->api;
    if (o->resolution != NULL) {
        kv[n++] = "output_resolution";
        kv[n++] = o->resolution;
    }
    /* The name the client sent (an alias stays an alias); the chain
     * below holds the catalog names the worker runs. */
    kv[n++] = "model";
    kv[n++] = s->model_name ? s->model_name : m->name;
    kv[n++] = "prompt";
    kv[n++] = s->prompt;
    rl_fmt_dec(t->duration, s->duration_s);
    kv[n++] = "duration";
    kv[n++] = t->duration;
    kv[n++] = "aspect_ratio";
    kv[n++] = s->aspect_ratio;
    kv[n++] = "webhook_url";
    kv[n++] = s->webhook_url ? s->webhook_url : "";
    /* Sized for the longest chain of the longest names: it always fits. */
    int rc = rl_config_chain_text(b->cfg, m, t->chain, sizeof t->chain);
    assert(rc == 0);
    (void)rc;
    kv[n++] = "chain";
    kv[n++] = t->chain;
    kv[n++] = "provider";
    kv[n++] = b->cfg->providers[m->provider].name;
    if (s->negative_prompt) {
        kv[n++] = "negative_prompt";
        kv[n++] = s->negative_prompt;
    }
    if (s->image_url) {
        kv[n++] = "image_url";
        kv[n++] = s->image_url;
    }
    return n / 2;
}

/* 402: accept.lua's {"credits", balance, price}. */
static void
s_credits(const submit_req_t *r, const rl_state_accept_reply_t *rep)
{
    long long bal = rep->a, price = rep->b;
    api_error_t e;
    api_error_set(&e, 402, "insufficient_credits", "insufficient_credits", NULL,
                  "this job costs %lld credits and the balance is %lld", price,
                  bal);
    char *json = api_error_json(&e);
    submit_result_t res = {.status = 402,
                           .body = json,
                           .error = &e,
                           .balance = (long)bal,
                           .price = (long)price};
    r->cb(&res, r->arg);
    free(json);
}

/* 429: accept.lua's {"concurrency", limit, active}. */
static void
s_concurrency(const submit_req_t *r, const rl_state_accept_reply_t *rep)
{
    long long limit = rep->a, active = rep->b;
    api_error_t e;
    api_error_set(&e, 429, "rate_limit_error", "concurrency_limit", NULL,
                  "this account has %lld jobs pending or processing and "
                  "may have at most %lld; retry when one has completed or "
                  "failed",
                  active, limit);
    char *json = api_error_json(&e);
    submit_result_t res = {.status = 429,
                           .body = json,
                           .error = &e,
                           .limit = (long)limit,
                           .active = (long)active,
                           .retry_after_s = SUBMIT_CONCURRENCY_RETRY_S};
    r->cb(&res, r->arg);
    free(json);
}

/* 429 with Retry-After: the whole seconds until the key's bucket holds a
 * token again (accept.lua's wait, in ms), at least 1. */
static void
s_rate_limited(const submit_req_t *r, const rl_state_accept_reply_t *rep)
{
    long long wait_ms = rep->a;
    api_error_t e;
    api_error_set(&e, 429, "rate_limit_error", "rate_limited", NULL,
                  "too many submissions with this key; retry after "
                  "the Retry-After header");
    char *json = api_error_json(&e);
    long long secs = (wait_ms + 999) / 1000;
    submit_result_t res = {.status = 429,
                           .body = json,
                           .error = &e,
                           .retry_after_s = secs < 1         ? 1
                                            : secs > INT_MAX ? INT_MAX
                                                             : (int)secs};
    r->cb(&res, r->arg);
    free(json);
}

static void
s_unauthorized(const submit_req_t *r)
{
    api_error_t e;
    api_error_set(&e, 401, "authentication_error", "invalid_api_key", NULL,
                  "invalid API key");
    s_answer_error(&e, r->cb, r->arg);
}

static void
s_on_accept(const rl_state_accept_reply_t *rep, void *arg)
{
    submit_req_t *r = arg;
    api_error_t e;
    if (r->abandoned) {
        /* nothing to answer */
    } else if (rep->tag == RL_STATE_OK) {
        rl_crash_point("broker_after_accept");
        r->broker->accepted++;
        dispatch_wake(r->broker->dispatch);
        s_answer_ok(r->body202, r->job_id, r->cb, r->arg);
    } else if (rep->tag == RL_STATE_REPLAY) {
        s_answer_ok(rep->body, rep->job, r->cb, r->arg);
    } else if (rep->tag == RL_STATE_UNAUTHORIZED) {
        s_unauthorized(r);
    } else if (rep->tag == RL_STATE_RATE_LIMITED) {
        s_rate_limited(r, rep);
    } else if (rep->tag == RL_STATE_CREDITS) {
        s_credits(r, rep);
    } else if (rep->tag == RL_STATE_CONCURRENCY) {
        s_concurrency(r, rep);
    } else if (rep->tag == RL_STATE_IDEM_CONFLICT) {
        api_error_set(&e, 422, "idempotency_error", "idempotency_key_reused",
                      "Idempotency-Key",
                      "this Idempotency-Key was used with a different body");
        s_answer_error(&e, r->cb, r->arg);
    } else {
        if (rep->tag != RL_STATE_UNKNOWN)
            rl_log_warnx("accept: unexpected reply '%s'",
                         rep->why != NULL ? rep->why
                                          : rl_state_tag_name(rep->tag));
        s_unavailable(r->cb, r->arg);
    }
    s_req_free(r);
}

/* The key's account is known: the accept itself. */
static void
s_on_resolved(const rl_state_resolve_reply_t *rep, void *arg)
{
    submit_req_t *r = arg;
    const rl_config_t *cfg = r->broker->cfg;
    if (r->abandoned) {
        s_req_free(r);
        return;
    }
    if (rep->tag != RL_STATE_OK) {
        if (rep->tag == RL_STATE_UNAUTHORIZED)
            s_unauthorized(r);
        else
            s_unavailable(r->cb, r->arg);
        if (rep->tag == RL_STATE_BAD)
            rl_log_warnx("accept: key lookup: %s", rep->why);
        s_req_free(r);
        return;
    }
    rl_state_accept_args_t a = {
        .key_hash = r->key_hash,
        .acct = rep->acct,
        .job = r->job_id,
        .idem = r->idem,
        .body_hash = r->body_hash,
        /* Kept for replays only when there can be one. */
        .body202 = r->idem[0] != '\0' ? r->body202 : "",
        .price = r->price,
        .created_ms = r->created_ms,
        .idem_ttl_s = SUBMIT_IDEM_TTL_S,
        .rate_per_s = cfg->rate_per_s,
        .burst = cfg->rate_burst,
        .max_active = cfg->max_active_jobs,
        .kv = (const char **)r->kv,
        .nkv = r->nkv};
    if (rl_state_job_accept(r->broker->redis, &a, s_on_accept, r) != 0) {
        s_unavailable(r->cb, r->arg);
        s_req_free(r);
    }
}

/* The 202 body, rendered from the same fields the job is stored with.
 * Its one history entry is built here rather than parsed back from the
 * text that goes to Redis (the same entry rl_jobview renders). */
static char *
s_body202(const char **kv, size_t npairs, const char *job_id,
          const char *credits, const char *created, int64_t now)
{
    const char *all[2 * (SUBMIT_MAX_PAIRS + 5)];
    char iso[RL_CLOCK_ISO_LEN];
    size_t n = 2 * npairs;
    memcpy(all, kv, n * sizeof *kv);
    const char *extra[] = {"id",      job_id,  "status",     "pending",
                           "credits", credits, "created_at", created,
                           "phase",   "Queued"};
    memcpy(all + n, extra, sizeof extra);
    rl_jobview_src_t src = {all, npairs + 5};
    json_t *o = rl_jobview_api(&src, 0);
    json_object_set_new(o, "status_history",
                        json_pack("[{s:s, s:s, s:s, s:s}]", "status", "pending",
                                  "phase", "Queued", "at",
                                  rl_clock_iso8601(now, iso, sizeof iso),
                                  "reason", "accepted"));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Draws r's job id in the partition of its account, which is the one
 * of its API key's hash (rl_keys.h): a task id names its index entry
 * there. */
static int
s_job_id(submit_req_t *r, const char *prefix)
{
    int p = rl_keys_partition(r->key_hash);
    for (int i = 0; i < SUBMIT_ID_DRAWS; i++)
        if (rl_random_id(prefix, SUBMIT_JOB_ID_CHARS, r->job_id,
                         sizeof r->job_id) == 0 &&
            rl_keys_steer_id(r->job_id, p) == 0)
            return 0;
    return -1;
}

/* Keeps what the accept sends in r (its fields copied: the submission
 * is gone by the time the key is resolved) and resolves the key. */
static int
s_send(broker_t *b, submit_req_t *r, const char *idem, const submission_t *s,
       const submit_opts_t *o)
{
    job_text_t text;
    const char *kv[2 * SUBMIT_MAX_PAIRS];
    size_t npairs = s_fields(b, s, o, kv, &text);
    char price[RL_FMT_DEC_LEN], created[RL_FMT_DEC_LEN];
    char deadline[RL_FMT_DEC_LEN];
    int64_t now = rl_clock_wall_ms();
    rl_fmt_dec(price, s->price);
    rl_fmt_dec(created, now);
    rl_fmt_dec(deadline, now + b->cfg->max_wait_s * 1000);
    r->price = s->price;
    r->created_ms = now;
    /* The stored history: its first entry, with the time in ms. */
    char history[RL_JOBVIEW_ENTRY_MAX];
    rl_jobview_entry_t first = {"pending", "Queued", now, "accepted", false};
    if (rl_jobview_entry_text(history, sizeof history, true, &first) != 0)
        return -1;
    r->body202 = s_body202(kv, npairs, r->job_id, price, created, now);
    if (r->body202 == NULL)
        return -1;
    r->idem = rl_strdup(idem);
    for (size_t i = 0; i < 2 * npairs; i++)
        r->kv[r->nkv++] = rl_strdup(kv[i]);
    r->kv[r->nkv++] = rl_strdup("history");
    r->kv[r->nkv++] = rl_strdup(history);
    r->kv[r->nkv++] = rl_strdup("deadline_at");
    r->kv[r->nkv++] = rl_strdup(deadline);
    return rl_state_acct_resolve(b->redis, r->key_hash, s_on_resolved, r);
}

static const submit_opts_t s_v1 = {"vgen_", "v1", NULL};

submit_req_t *
submit_start(broker_t *b, const char *api_key, const char *idem_key,
             const char *body, size_t len, submit_cb cb, void *arg)
{
    api_error_t e;
    submission_t s;
    if (api_key == NULL || api_key[0] == '\0') {
        api_error_set(&e, 401, "authentication_error", "missing_api_key", NULL,
                      "send your API key as 'Authorization: Bearer "
                      "KEY'");
        s_answer_error(&e, cb, arg);
        return NULL;
    }
    if (validate_submission(b->cfg, body, len, &s, &e) != 0) {
        s_answer_error(&e, cb, arg);
        return NULL;
    }
    submit_req_t *r =
        submit_accept(b, api_key, idem_key, body, len, &s, &s_v1, cb, arg);
    submission_release(&s);
    return r;
}

submit_req_t *
submit_accept(broker_t *b, const char *api_key, const char *idem_key,
              const char *body, size_t len, const submission_t *s,
              const submit_opts_t *opts, submit_cb cb, void *arg)
{
    api_error_t e;
    if (api_key == NULL || api_key[0] == '\0') {
        api_error_set(&e, 401, "authentication_error", "missing_api_key", NULL,
                      "send your API key as 'Authorization: Bearer "
                      "KEY'");
        s_answer_error(&e, cb, arg);
        return NULL;
    }
    if (idem_key == NULL)
        idem_key = "";
    if (!s_idem_ok(idem_key)) {
        api_error_invalid(&e, "invalid_idempotency_key", "Idempotency-Key",
                          "'Idempotency-Key' must be 1-255 printable ASCII "
                          "characters");
        s_answer_error(&e, cb, arg);
        return NULL;
    }
    submit_req_t *r = rl_calloc(1, sizeof *r);
    r->broker = b;
    r->cb = cb;
    r->arg = arg;
    r->body_hash[0] = '\0'; /* only an idempotent replay compares bodies */
    if (rl_sha256_hex(api_key, strlen(api_key), r->key_hash) != 0 ||
        (idem_key[0] != '\0' && rl_sha256_hex(body, len, r->body_hash) != 0) ||
        s_job_id(r, opts->id_prefix) != 0 ||
        s_send(b, r, idem_key, s, opts) != 0) {
        s_req_free(r);
        s_unavailable(cb, arg);
        return NULL;
    }
    return r;
}

void
submit_abandon(submit_req_t *r)
{
    r->abandoned = true;
}
