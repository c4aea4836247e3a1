/*
 * api_webhooks - delivery log, redelivery, failed events and recovery,
 * and the account's webhook signing settings.
 * SPDX-License-Identifier: MIT
 */
#include "api_webhooks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http_reply.h"
#include "master.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_jobview.h"
#include "rl_keys.h"
#include "rl_state_acct.h"
#include "rl_state_hooks.h"
#include "rl_state_view.h"

#define S_MS_PER_S 1000LL
/* a time's epoch seconds stay below this (year 33658): its ms fit a long
 * long */
#define S_EPOCH_MAX_S 1e12
#define S_SECRET_BYTES 24 /* random bytes of a whsec_ secret */
#define S_SECRET_LEN 48   /* "whsec_" + 32 base64 chars + NUL */
#define S_B64_LEN 33      /* base64 of the 24 bytes and the NUL */
#define S_SEALED_LEN 256  /* a sealed secret */

/* The number a reply element holds (0 when none). */
static json_int_t
s_num(const redisReply *e)
{
    return (json_int_t)rl_jobview_num(rl_redis_reply_str(e));
}

/* True when id is a job id of either front door; else answers 404.
 * Both are taken (vgen_ and the task API's task_): their callbacks share
 * the attempt log and the failed-event index, so /v1/webhooks/failed
 * lists both and each must be addressable here. */
static bool
s_job_ok(struct evhttp_request *req, const char *id)
{
    if (http_job_id_ok(id, NULL))
        return true;
    http_reply_no_job(req);
    return false;
}

/* Epoch seconds in [0, S_EPOCH_MAX_S) as epoch ms, else -1. */
static long long
s_epoch_ms(double secs)
{
    return secs >= 0 && secs < S_EPOCH_MAX_S ? (long long)(secs * S_MS_PER_S)
                                             : -1;
}

/* A time given as epoch seconds (a number) or ISO 8601 UTC
 * ("2026-03-10T14:23:01Z", fractional seconds and "+00:00" allowed),
 * in epoch ms; -1 when it is neither or out of range. */
static long long
s_time_text(const char *v)
{
    struct tm tm;
    const char *end;
    char *nend = NULL;
    double secs;

    if (v == NULL || *v == '\0')
        return -1;
    errno = 0;
    secs = strtod(v, &nend);
    if (errno == 0 && *nend == '\0')
        return s_epoch_ms(secs);
    memset(&tm, 0, sizeof tm);
    end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return -1;
    end += *end == '.' ? 1 + strspn(end + 1, "0123456789") : 0;
    if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0 && *end != '\0')
        return -1;
    return s_epoch_ms((double)timegm(&tm));
}

/* The same for a JSON value: a number of seconds or an ISO string. */
static long long
s_time_json(const json_t *v)
{
    if (json_is_number(v))
        return s_epoch_ms(json_number_value(v));
    return json_is_string(v) ? s_time_text(json_string_value(v)) : -1;
}

/* ---- GET /v1/video/generations/{id}/deliveries ------------------------ */

/* One attempt log entry as the API shows it: the stored record with its
 * "at" (epoch ms) as ISO 8601. */
static json_t *
s_attempt(const char *raw)
{
    json_t *e = raw ? json_loads(raw, 0, NULL) : NULL;
    json_t *at;

    if (!json_is_object(e)) {
        json_decref(e);
        return NULL;
    }
    at = json_object_get(e, "at");
    if (json_is_integer(at))
        json_object_set_new(e, "at", rl_jobview_time(json_integer_value(at)));
    json_object_set_new(e, "object",
                        json_string(json_object_get(e, "event")
                                        ? "webhook.event"
                                        : "webhook.attempt"));
    return e;
}

static void
s_on_deliveries(const rl_state_deliveries_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    char id[sizeof p->text];
    struct evhttp_request *req;
    json_t *data;

    memcpy(id, p->text, sizeof id);
    req = http_pending_done(p);
    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    if (rep->tag == RL_STATE_NOT_FOUND) {
        http_reply_no_job(req);
        return;
    }
    data = json_array();
    for (size_t i = 0; i < rep->attempts->elements; i++) {
        json_t *e = s_attempt(rl_redis_reply_str(rep->attempts->element[i]));
        if (e != NULL)
            json_array_append_new(data, e);
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:o}", "object",
                              "list", "job_id", id, "status", rep->status,
                              "webhook_url", rep->webhook_url, "webhook_state",
                              rep->wh_state, "attempts",
                              s_num(rep->wh_attempts), "data", data));
}

void
api_webhooks_deliveries(broker_t *b, struct evhttp_request *req, const char *id)
{
    char hash[RL_SHA256_HEX_LEN];

    if (!http_key_hash(req, hash) || !s_job_ok(req, id))
        return;
    http_pending_t *p = http_pending_new(b, req);
    http_pending_keep(p, id);
    if (rl_state_view_deliveries(b->redis, hash, id, s_on_deliveries, p) != 0) {
        rl_state_deliveries_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_deliveries(&none, p);
    }
}

/* ---- POST /v1/video/generations/{id}/redeliver ------------------------ */

static void
s_on_redeliver(const rl_state_redeliver_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    char id[sizeof p->text];
    struct evhttp_request *req;

    memcpy(id, p->text, sizeof id);
    req = http_pending_done(p);
    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    if (rep->tag == RL_STATE_NOT_FOUND)
        http_reply_no_job(req);
    else if (rep->tag == RL_STATE_NOT_TERMINAL ||
             rep->tag == RL_STATE_NO_WEBHOOK)
        http_reply_fail(req, 409, "invalid_request_error",
                        rep->tag == RL_STATE_NOT_TERMINAL ? "job_not_terminal"
                                                          : "no_webhook_url",
                        "id",
                        "only a completed or failed job with a webhook_url can "
                        "be redelivered");
    else
        http_reply_json(req, 202,
                        json_pack("{s:s, s:s, s:s, s:s, s:b}", "object",
                                  "webhook.redelivery", "id", id, "status",
                                  rep->status, "event",
                                  rl_jobview_event(rep->status), "queued", 1));
}

void
api_webhooks_redeliver(broker_t *b, struct evhttp_request *req, const char *id)
{
    char hash[RL_SHA256_HEX_LEN];

    if (!http_key_hash(req, hash) || !s_job_ok(req, id))
        return;
    http_pending_t *p = http_pending_new(b, req);
    http_pending_keep(p, id);
    if (rl_state_hooks_redeliver(b->redis, hash, id, s_on_redeliver, p) != 0) {
        rl_state_redeliver_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_redeliver(&none, p);
    }
}

/* ---- GET /v1/webhooks/failed ------------------------------------------ */

static void
s_on_failed(const rl_state_failed_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    struct evhttp_request *req = http_pending_done(p);
    json_t *data;

    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    data = json_array();
    for (size_t i = 0; i < rep->n; i++) {
        const rl_state_failed_t *f = &rep->entries[i];
        json_array_append_new(
            data, json_pack("{s:s, s:s?, s:o, s:s?, s:s?, s:s?, s:I}", "object",
                            "webhook.failed_event", "id", f->job, "failed_at",
                            rl_jobview_time(rl_jobview_num(f->failed_at)),
                            "status", f->status, "event",
                            f->status ? rl_jobview_event(f->status) : NULL,
                            "webhook_url", f->webhook_url, "attempts",
                            (json_int_t)rl_jobview_num(f->attempts)));
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:o, s:b}", "object", "list", "data", data,
                              "has_more", rep->more));
}

/* Parses ?since=T&limit=N into *since_ms and *limit; false (answered
 * 400) when malformed. */
static bool
s_failed_query(struct evhttp_request *req, long long *since_ms, long *limit)
{
    struct evkeyvalq params;
    const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    const char *since, *bad = NULL;

    TAILQ_INIT(&params);
    if (qs != NULL && evhttp_parse_query_str(qs, &params) != 0)
        bad = "query";
    since = evhttp_find_header(&params, "since");
    *since_ms = since != NULL ? s_time_text(since) : 0;
    *limit = http_query_long(&params, "limit", 1, API_WEBHOOKS_FAILED_MAX,
                             API_WEBHOOKS_FAILED_LIMIT);
    if (bad == NULL && *since_ms < 0)
        bad = "since";
    else if (bad == NULL && *limit < 0)
        bad = "limit";
    evhttp_clear_headers(&params);
    if (bad != NULL) {
        api_error_t e;
        api_error_invalid(&e, "invalid_query", bad,
                          "since is epoch seconds or ISO 8601 UTC, limit "
                          "1..%d",
                          API_WEBHOOKS_FAILED_MAX);
        http_reply_error(req, &e);
    }
    return bad == NULL;
}

void
api_webhooks_failed(broker_t *b, struct evhttp_request *req, const char *tail)
{
    char hash[RL_SHA256_HEX_LEN];
    long long since_ms = 0;
    long limit = 0;

    (void)tail;
    if (!http_key_hash(req, hash) || !s_failed_query(req, &since_ms, &limit))
        return;
    http_pending_t *p = http_pending_new(b, req);
    if (rl_state_hooks_failed(b->redis, hash, since_ms, limit, s_on_failed,
                              p) != 0) {
        rl_state_failed_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_failed(&none, p);
    }
}

/* ---- POST /v1/webhooks/recover ---------------------------------------- */

static void
s_on_recover(const rl_state_recover_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    struct evhttp_request *req = http_pending_done(p);

    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    http_reply_json(req, 202,
                    json_pack("{s:s, s:I, s:b}", "object", "webhook.recovery",
                              "recovered", (json_int_t)rep->requeued,
                              "has_more", rep->more));
}

/* Reads {"from": T1, "to": T2} (to defaults to now); false when answered
 * 400/413. */
static bool
s_recover_range(broker_t *b, struct evhttp_request *req, long long *from,
                long long *to)
{
    json_t *root, *jto;
    const char *bad = NULL;

    if (!http_body_json(b, req, &root))
        return false;
    jto = json_object_get(root, "to");
    *from = s_time_json(json_object_get(root, "from"));
    *to = jto != NULL ? s_time_json(jto) : rl_clock_wall_ms();
    if (!json_is_object(root) || *from < 0)
        bad = "from";
    else if (*to < 0 || *to < *from)
        bad = "to";
    json_decref(root);
    if (bad != NULL) {
        api_error_t e;
        api_error_invalid(&e, "invalid_field", bad,
                          "the body must be {\"from\": T1, \"to\": T2} with "
                          "T epoch seconds or ISO 8601 UTC and T1 <= T2");
        http_reply_error(req, &e);
        return false;
    }
    return true;
}

void
api_webhooks_recover(broker_t *b, struct evhttp_request *req, const char *tail)
{
    char hash[RL_SHA256_HEX_LEN];
    long long f = 0, t = 0;

    (void)tail;
    if (!http_key_hash(req, hash) || !s_recover_range(b, req, &f, &t))
        return;
    http_pending_t *p = http_pending_new(b, req);
    if (rl_state_hooks_recover(b->redis, hash, f, t, API_WEBHOOKS_RECOVER_MAX,
                               s_on_recover, p) != 0) {
        rl_state_recover_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_recover(&none, p);
    }
}

/* ---- PUT /v1/account/webhooks ----------------------------------------- */

typedef struct {
    char secret[S_SECRET_LEN]; /* the plaintext: shown once, then wiped */
    char sealed[S_SEALED_LEN]; /* what Redis keeps */
} s_settings_t;

static void
s_on_settings(const rl_state_webhooks_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    s_settings_t *s = p->data;
    struct evhttp_request *req = http_pending_done(p);
    json_t *o;

    if (req == NULL || http_reply_state_failed(req, rep->tag))
        goto out;
    o = json_pack("{s:s, s:s?, s:s?, s:b, s:o}", "object", "account.webhooks",
                  "signing", rep->signing, "schedule", rep->schedule,
                  "has_secret", rep->has_secret, "previous_secret_expires_at",
                  rl_jobview_time(rl_jobview_num(rep->prev_until)));
    if (rep->stored)
        json_object_set_new(o, "secret", json_string(s->secret));
    http_reply_json(req, 200, o);
out:
    explicit_bzero(s, sizeof *s);
    free(s);
}

/* A fresh "whsec_" + base64(24 random bytes) and its sealed form. */
static int
s_new_secret(broker_t *b, s_settings_t *s)
{
    uint8_t raw[S_SECRET_BYTES];
    char b64[S_B64_LEN];
    const uint8_t *master = broker_master(b);
    int rc = -1;

    if (master != NULL && rl_random_bytes(raw, sizeof raw) == 0 &&
        rl_base64_encode(raw, sizeof raw, b64, sizeof b64) > 0 &&
        rl_fmt(s->secret, sizeof s->secret, "whsec_%s", b64) == 0 &&
        rl_aead_seal(master, s->secret, strlen(s->secret), s->sealed,
                     sizeof s->sealed) > 0)
        rc = 0;
    explicit_bzero(raw, sizeof raw);
    explicit_bzero(b64, sizeof b64);
    return rc;
}

/* The word of `allowed` root's `field` holds: "" when absent, NULL when
 * it is not one of them. */
static const char *
s_pick(const json_t *root, const char *field, const char *const *allowed)
{
    const json_t *v = json_object_get(root, field);

    for (size_t i = 0; json_is_string(v) && allowed[i] != NULL; i++)
        if (strcmp(json_string_value(v), allowed[i]) == 0)
            return allowed[i];
    return v == NULL ? "" : NULL;
}

/* Reads {"signing", "schedule", "rotate_secret"} (each optional) into
 * the script arguments ("" = keep); false when answered 400/413. */
static bool
s_settings_args(broker_t *b, struct evhttp_request *req, const char **signing,
                const char **schedule, bool *rotate)
{
    static const char *const signings[] = {"creativeai", "standard", "both",
                                           NULL};
    static const char *const schedules[] = {"default", "long", NULL};
    const char *bad;
    json_t *root, *rot;

    if (!http_body_json(b, req, &root))
        return false;
    rot = json_object_get(root, "rotate_secret");
    *signing = s_pick(root, "signing", signings);
    *schedule = s_pick(root, "schedule", schedules);
    *rotate = json_is_true(rot);
    bad = (!json_is_object(root) || *signing == NULL) ? "signing"
          : *schedule == NULL                         ? "schedule"
          : (rot != NULL && !json_is_boolean(rot))    ? "rotate_secret"
                                                      : NULL;
    json_decref(root);
    if (bad != NULL) {
        api_error_t e;
        api_error_invalid(&e, "invalid_field", bad,
                          "the body is {\"signing\": \"creativeai|standard|"
                          "both\", \"schedule\": \"default|long\", "
                          "\"rotate_secret\": true|false}, each optional");
        http_reply_error(req, &e);
    }
    return bad == NULL;
}

void
api_webhooks_settings(broker_t *b, struct evhttp_request *req, const char *tail)
{
    char hash[RL_SHA256_HEX_LEN];
    const char *signing = NULL, *schedule = NULL;
    bool rotate = false;
    s_settings_t *s;

    (void)tail;
    if (!http_key_hash(req, hash) ||
        !s_settings_args(b, req, &signing, &schedule, &rotate))
        return;
    s = rl_calloc(1, sizeof *s);
    /* Only a rotation, or a scheme that signs with the secret, can store
     * one (account_webhooks.lua); a schedule change needs none. */
    bool need =
        rotate || (signing[0] != '\0' && strcmp(signing, "creativeai") != 0);
    if (need && s_new_secret(b, s) != 0) {
        free(s);
        http_reply_fail(req, 503, "service_unavailable", "no_master_key", NULL,
                        "webhook secrets cannot be made: no master key is "
                        "configured");
        return;
    }
    rl_state_webhooks_args_t a = {
        .key_hash = hash,
        .signing = signing,
        .schedule = schedule,
        .rotate = rotate,
        .sealed = s->sealed,
        .grace_ms = (long long)b->cfg->rotation_grace_s * S_MS_PER_S};
    http_pending_t *p = http_pending_new(b, req);
    p->data = s;
    if (rl_state_acct_webhooks(b->redis, &a, s_on_settings, p) != 0) {
        rl_state_webhooks_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_settings(&none, p);
    }
}
