/*
 * health - provider health checks and render-time averages.
 * SPDX-License-Identifier: MIT
 */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_loop.h"

#define HEALTH_AVG_PERIOD_MS 30000
#define HEALTH_PROBE_TIMEOUT_MS 10000

typedef struct probe {
    struct health *h;
    size_t provider;
} probe_t;

struct health {
    worker_t *w;
    struct event *check; /* provider probes */
    struct event *avg;   /* render averages */
    probe_t probes[RL_CONFIG_MAX_PROVIDERS];
    /* The averages of a round over the partitions' render_avg hashes:
     * each model's sum and count, and the reads still unanswered. */
    long long avg_sum[RL_CONFIG_MAX_MODELS];
    long avg_n[RL_CONFIG_MAX_MODELS];
    int avg_pending;
};

static void
s_on_probe(const rl_http_resp_t *resp, void *arg)
{
    probe_t *p = arg;
    worker_t *w = p->h->w;
    const rl_provider_conf_t *pc = &w->cfg->providers[p->provider];
    if (resp->not_sent) {
        /* It waited its turn behind this worker's own requests to the
         * provider and never went out: that says nothing about the
         * provider, so its last result stands. */
        rl_log_debug("provider %s health check not sent: %s", pc->name,
                     resp->error);
        return;
    }
    int up = resp->status > 0 && resp->status < 500;
    json_t *o = json_pack(
        "{s:s, s:s, s:b, s:I, s:f, s:s, s:I, s:s}", "provider", pc->name,
        "type", pc->type, "up", up, "http_status", (json_int_t)resp->status,
        "latency_ms", resp->total_ms, "error", up ? "" : resp->error,
        "checked_at", (json_int_t)rl_clock_wall_ms(), "breaker",
        breaker_state_name(&w->breakers[p->provider]));
    char *text = json_dumps(o, JSON_COMPACT);
    const char *argv[] = {"HSET", RL_KEY_PROVIDER_HEALTH, pc->name, text};
    (void)rl_redis_command(w->redis, NULL, NULL, 4, argv, NULL);
    if (!up)
        rl_log_warnx("provider %s health check failed: %s", pc->name,
                     resp->status ? "5xx" : resp->error);
    free(text);
    json_decref(o);
}

static void
s_on_lock(redisReply *reply, void *arg)
{
    struct health *h = arg;
    const char *ok = rl_redis_reply_str(reply);
    if (ok == NULL || strcmp(ok, "OK") != 0)
        return; /* another process checks this period */
    for (size_t i = 0; i < h->w->cfg->nproviders; i++) {
        h->probes[i].h = h;
        h->probes[i].provider = i;
        rl_http_request(h->w->http, "GET", h->w->cfg->providers[i].base_url,
                        NULL, NULL, 0, HEALTH_PROBE_TIMEOUT_MS, 1024,
                        s_on_probe, &h->probes[i]);
    }
}

static void
s_on_check(evutil_socket_t fd, short what, void *arg)
{
    struct health *h = arg;
    (void)fd;
    (void)what;
    char px[24];
    int n = snprintf(px, sizeof px, "%ld", h->w->cfg->health_interval_s * 1000);
    if (n <= 0 || (size_t)n >= sizeof px)
        return; /* never: 24 bytes hold any long */
    const char *argv[] = {"SET", RL_KEY_LOCK_HEALTH, h->w->id, "NX", "PX", px};
    (void)rl_redis_command(h->w->redis, s_on_lock, h, 6, argv, NULL);
}

/* One partition's averages: each model's counts once in the mean over
 * the partitions that have one (a partition's jobs are a sample like any
 * other); the round's last answer sets the worker's estimates. */
static void
s_on_avgs(redisReply *reply, void *arg)
{
    struct health *h = arg;
    const rl_config_t *cfg = h->w->cfg;
    for (size_t i = 0; i < cfg->nmodels; i++) {
        const char *v = rl_redis_reply_field(reply, 0, cfg->models[i].name);
        long ms = v ? strtol(v, NULL, 10) : 0;
        if (ms > 0) {
            h->avg_sum[i] += ms;
            h->avg_n[i]++;
        }
    }
    if (--h->avg_pending > 0)
        return;
    for (size_t i = 0; i < cfg->nmodels; i++)
        h->w->render_avg_ms[i] =
            h->avg_n[i] > 0 ? (long)(h->avg_sum[i] / h->avg_n[i]) : 0;
}

static void
s_on_avg(evutil_socket_t fd, short what, void *arg)
{
    struct health *h = arg;
    (void)fd;
    (void)what;
    if (h->avg_pending > 0)
        return; /* the last round is still being read */
    memset(h->avg_sum, 0, sizeof h->avg_sum);
    memset(h->avg_n, 0, sizeof h->avg_n);
    for (int p = 0; p < RL_PARTITIONS; p++) {
        char key[RL_KEY_MAX];
        if (rl_keys_render_avg(key, sizeof key, p) != 0)
            continue; /* never: every partition's key fits */
        const char *argv[] = {"HGETALL", key};
        if (rl_redis_command(h->w->redis, s_on_avgs, h, 2, argv, NULL) == 0)
            h->avg_pending++;
    }
}

health_t *
health_new(worker_t *w)
{
    struct health *h = rl_calloc(1, sizeof *h);
    h->w = w;
    long ms = w->cfg->health_interval_s * 1000;
    struct timeval check = {ms / 1000, (ms % 1000) * 1000};
    struct timeval avg = {HEALTH_AVG_PERIOD_MS / 1000, 0};
    h->check = event_new(w->base, -1, EV_PERSIST, s_on_check, h);
    h->avg = event_new(w->base, -1, EV_PERSIST, s_on_avg, h);
    event_add(h->check, &check);
    event_add(h->avg, &avg);
    return h;
}

void
health_kick(health_t *h)
{
    rl_loop_run_now(h->avg);
    rl_loop_run_now(h->check);
}

void
health_destroy(health_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    event_free((*p)->check);
    event_free((*p)->avg);
    free(*p);
    *p = NULL;
}
