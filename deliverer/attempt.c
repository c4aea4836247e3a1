/*
 * attempt - sends webhook attempts and writes up their results.
 * SPDX-License-Identifier: MIT
 */
#include "attempt.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_log.h"
#include "schedule.h"
#include "webhook.h"

#define S_UTF8_MAX_CUT 3 /* bytes of a sequence the excerpt may have cut */

typedef struct attempt {
    TAILQ_ENTRY(attempt) link;    /* in set->live */
    attempt_set_t *set;           /* owner */
    delivery_t *d;                /* the delivery, owned */
    rl_http_req_t *req;           /* the POST while in the air, or NULL */
    struct event *later;          /* completes a local failure from the loop */
    const char *local_error;      /* why it could not be sent, or NULL */
    char refusal[EGRESS_WHY_LEN]; /* the SSRF guard's reason */
    int64_t at_ms;                /* epoch ms at start */
} attempt_t;

struct attempt_set {
    struct event_base *base; /* borrowed loop */
    rl_http_t *http;         /* borrowed client */
    const egress_t *egress;  /* borrowed guard of http: names refusals */
    const rl_config_t *cfg;  /* borrowed configuration */
    uint8_t master[RL_AEAD_KEY_LEN]; /* opens the sealed signing keys */
    attempt_done_cb cb;              /* where results go */
    void *arg;                       /* its argument */
    TAILQ_HEAD(, attempt) live;      /* attempts not completed yet */
    size_t n;                        /* entries of live */
};

/* --- the attempt record ------------------------------------------------ */

/* The length without a trailing UTF-8 sequence the excerpt cut short. */
static size_t
s_uncut(const char *bytes, size_t len)
{
    size_t i = len;
    size_t need;
    unsigned char lead;

    while (i > 0 && len - i < S_UTF8_MAX_CUT &&
           ((unsigned char)bytes[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return len;
    lead = (unsigned char)bytes[i - 1];
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return (need > 1 && len - (i - 1) < need) ? i - 1 : len;
}

/* A JSON string of bytes; bytes that are not UTF-8 become '?'. */
static json_t *
s_text(const char *bytes, size_t len)
{
    json_t *j;
    char *copy;

    len = s_uncut(bytes, len);
    j = json_stringn(bytes, len);
    if (j != NULL)
        return j;
    copy = rl_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)bytes[i] < 0x80 ? bytes[i] : '?';
    j = json_stringn(copy, len);
    free(copy);
    return j;
}

char *
attempt_record(const attempt_info_t *info)
{
    json_t *o = json_object();
    size_t rlen;
    char *out;

    assert(info != NULL && info->url != NULL);
    rlen = info->response_len < ATTEMPT_RESPONSE_MAX ? info->response_len
                                                     : ATTEMPT_RESPONSE_MAX;
    json_object_set_new(o, "attempt", json_integer(info->attempt));
    json_object_set_new(o, "at", json_integer(info->at_ms));
    json_object_set_new(o, "url", s_text(info->url, strlen(info->url)));
    json_object_set_new(o, "status", json_integer(info->status));
    json_object_set_new(o, "error",
                        info->error != NULL
                            ? s_text(info->error, strlen(info->error))
                            : json_null());
    json_object_set_new(o, "latency_ms", json_integer(info->latency_ms));
    json_object_set_new(o, "response",
                        s_text(info->response != NULL ? info->response : "",
                               info->response != NULL ? rlen : 0));
    json_object_set_new(o, "outcome",
                        json_string(classify_outcome_name(info->outcome)));
    json_object_set_new(o, "fail_open", json_boolean(info->fail_open));
    if (info->deliberate)
        json_object_set_new(o, "deliberate", json_true());
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (out == NULL) {
        rl_log_errorx("attempt record: out of memory");
        abort();
    }
    return out;
}

/* --- completion -------------------------------------------------------- */

static void
s_free(attempt_t *a)
{
    if (a->req != NULL)
        rl_http_cancel(a->set->http, a->req);
    if (a->later != NULL)
        event_free(a->later);
    delivery_destroy(&a->d);
    free(a);
}

static void
s_log(const delivery_t *d, const attempt_result_t *res)
{
    const char *outcome = classify_outcome_name(res->decision.outcome);

    if (res->decision.outcome == CLASSIFY_DELIVERED)
        rl_log_debug("job %s: webhook attempt %d %s: HTTP %ld in %ld ms",
                     d->job, d->attempt, outcome, res->status, res->latency_ms);
    else if (res->decision.outcome == CLASSIFY_RETRY)
        rl_log_info("job %s: webhook attempt %d %s: HTTP %ld%s%s in %ld "
                    "ms, next in %ld ms",
                    d->job, d->attempt, outcome, res->status,
                    res->error ? ", " : "", res->error ? res->error : "",
                    res->latency_ms, res->decision.delay_ms);
    else
        rl_log_info("job %s: webhook attempt %d %s: HTTP %ld%s%s in %ld "
                    "ms",
                    d->job, d->attempt, outcome, res->status,
                    res->error ? ", " : "", res->error ? res->error : "",
                    res->latency_ms);
}

/* Writes up the result, unlinks the attempt and hands the delivery
 * back. */
static void
s_complete(attempt_t *a, const classify_input_t *in, const char *error,
           const char *body, size_t body_len, long latency_ms)
{
    attempt_set_t *s = a->set;
    const rl_config_t *cfg = s->cfg;
    delivery_t *d = a->d;
    attempt_result_t res = {0};
    attempt_info_t info = {0};
    long next =
        classify_attempt(in) == CLASSIFY_RETRYABLE
            ? schedule_next_delay(cfg, delivery_field(d, WEBHOOK_F_SCHEDULE),
                                  d->attempt)
            : -1; /* only a retry needs it */
    const char *deliberate = delivery_field(d, "wh_deliberate");
    char *record;

    res.decision = classify_decide(in, next, rl_clock_wall_ms());
    res.status = in->status;
    res.error = error;
    res.latency_ms = latency_ms;
    info.attempt = d->attempt;
    info.at_ms = a->at_ms;
    info.url = delivery_field(d, "webhook_url");
    info.url = info.url != NULL ? info.url : "";
    info.status = in->status;
    info.error = error;
    info.latency_ms = latency_ms;
    info.response = body;
    info.response_len = body_len;
    info.outcome = res.decision.outcome;
    info.fail_open = d->fail_open;
    info.deliberate = deliberate != NULL && strcmp(deliberate, "1") == 0;
    record = attempt_record(&info);
    res.record = record;
    s_log(d, &res);
    a->d = NULL;
    a->req = NULL;
    TAILQ_REMOVE(&s->live, a, link);
    s->n--;
    s->cb(d, &res, s->arg); /* res.error may point into a */
    s_free(a);
    free(record);
}

static void
s_on_response(const rl_http_resp_t *resp, void *arg)
{
    attempt_t *a = arg;
    classify_input_t in = {resp->status, resp->curl_code, resp->retry_after,
                           resp->refused};
    const char *error = NULL;

    a->req = NULL; /* rl_http frees it after this callback */
    if (resp->refused) {
        egress_refusal(a->set->egress, resp, a->refusal, sizeof a->refusal);
        error = a->refusal;
    } else if (resp->status == 0)
        error = resp->error[0] != '\0' ? resp->error : "no response";
    s_complete(a, &in, error, resp->body, resp->body_len,
               (long)(resp->total_ms + 0.5));
}

static void
s_on_local_failure(evutil_socket_t fd, short what, void *arg)
{
    attempt_t *a = arg;
    classify_input_t in = {0, CURLE_URL_MALFORMAT, NULL, false};

    (void)fd;
    (void)what;
    s_complete(a, &in, a->local_error, NULL, 0, 0);
}

/* Completes `a` as a permanent failure on the next loop turn. */
static void
s_fail_later(attempt_t *a, const char *why)
{
    struct timeval now = {0, 0};

    a->local_error = why;
    a->later = evtimer_new(a->set->base, s_on_local_failure, a);
    if (a->later == NULL || evtimer_add(a->later, &now) != 0) {
        rl_log_errorx("attempt: cannot arm a timer");
        abort();
    }
}

/* --- public API -------------------------------------------------------- */

/* Signs and POSTs, with the webhook timeout cut to what the delivery's
 * claim leaves; a failure to start completes on the next turn. The SSRF
 * guard judges the address curl connects to. */
static void
s_post(attempt_t *a)
{
    attempt_set_t *s = a->set;
    const char *url = delivery_field(a->d, "webhook_url");
    rl_jobview_src_t src = delivery_src(a->d);
    const char *why = NULL;
    long timeout_ms = delivery_budget_ms(a->d, rl_clock_mono_ms(),
                                         s->cfg->webhook_timeout_ms);
    webhook_req_t w;

    assert(timeout_ms > 0); /* attempt_start's precondition */
    if (url == NULL || *url == '\0') {
        s_fail_later(a, "job has no webhook_url");
        return;
    }
    if (webhook_build(&w, &src, s->master, a->d->sign_key, a->d->attempt,
                      rl_clock_wall_ms(), &why) != 0) {
        s_fail_later(a, why);
        return;
    }
    a->req =
        rl_http_request(s->http, "POST", url, w.headers, w.body, w.body_len,
                        timeout_ms, ATTEMPT_RESPONSE_MAX, s_on_response, a);
    webhook_release(&w);
    if (a->req == NULL)
        s_fail_later(a, "request could not be started (bad URL?)");
}

void
attempt_start(attempt_set_t *s, delivery_t **d)
{
    attempt_t *a;

    assert(s != NULL && d != NULL && *d != NULL);
    a = rl_calloc(1, sizeof *a);
    a->set = s;
    a->d = *d;
    *d = NULL;
    a->at_ms = rl_clock_wall_ms();
    TAILQ_INSERT_TAIL(&s->live, a, link);
    s->n++;
    rl_log_debug("job %s: webhook attempt %d%s", a->d->job, a->d->attempt,
                 a->d->fail_open ? " (fail-open)" : "");
    s_post(a);
}

attempt_set_t *
attempt_set_new(struct event_base *base, rl_http_t *http,
                const egress_t *egress, const rl_config_t *cfg,
                const uint8_t master[RL_AEAD_KEY_LEN], attempt_done_cb cb,
                void *arg)
{
    attempt_set_t *s;

    assert(base != NULL && http != NULL && egress != NULL && cfg != NULL &&
           cb != NULL);
    s = rl_calloc(1, sizeof *s);
    s->base = base;
    s->http = http;
    s->egress = egress;
    s->cfg = cfg;
    memcpy(s->master, master, sizeof s->master);
    s->cb = cb;
    s->arg = arg;
    TAILQ_INIT(&s->live);
    return s;
}

void
attempt_set_destroy(attempt_set_t **p)
{
    attempt_set_t *s;
    attempt_t *a;

    if (p == NULL || *p == NULL)
        return;
    s = *p;
    while ((a = TAILQ_FIRST(&s->live)) != NULL) {
        TAILQ_REMOVE(&s->live, a, link);
        s_free(a);
    }
    explicit_bzero(s->master, sizeof s->master);
    free(s);
    *p = NULL;
}

size_t
attempt_inflight(const attempt_set_t *s)
{
    assert(s != NULL);
    return s->n;
}
