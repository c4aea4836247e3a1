/*
 * reelay-worker - the render-poller: claims jobs under a lease, submits
 * them to providers, polls, fails over, and records the terminal state
 * with its outbox entry; one libevent loop for thousands of jobs.
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <zmq.h>

#include "adapter.h"
#include "completion.h"
#include "health.h"
#include "job.h"
#include "lease.h"
#include "links.h"
#include "rl_cli.h"
#include "rl_status.h"
#include "rl_zretry.h"
#include "rl_zsock.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "stack.h"
#include "worker.h"

/* per provider origin; over HTTP/2 each carries RL_HTTP_MAX_STREAMS */
#define WORKER_HOST_CONNECTIONS 64
/* Idle connections kept for reuse: every provider origin's at once for
 * this many origins (the catalog's providers), however the polls
 * bunch. */
#define WORKER_IDLE_ORIGINS 8
#define WORKER_WHY_LEN 300 /* a status endpoint's error */

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    worker_t *w = arg;
    (void)what;
    rl_log_info("signal %d: stopping (jobs in flight are recovered by the "
                "reaper after the lease)",
                (int)sig);
    w->stopping = true;
    event_base_loopbreak(w->base);
}

static void
s_on_redis(bool connected, void *arg)
{
    worker_t *w = arg;
    if (connected) {
        lease_kick(w->lease);
        health_kick(w->health);
    }
}

static bool
s_ready(void *arg)
{
    worker_t *w = arg;
    return rl_redis_answering(w->redis) && lease_ok(w->lease) && !w->stopping;
}

/* A counter as a JSON integer (they stay far below 2^63). */
static json_t *
s_count(uint64_t n)
{
    return json_integer((json_int_t)n);
}

/* The /stats document (rl_status.h): the counters, the poll lateness,
 * Redis's authentication failures. Caller frees. */
static char *
s_stats(void *arg)
{
    worker_t *w = arg;
    const worker_stats_t *s = &w->stats;
    rl_redis_stats_t rs;
    json_t *o = json_object();
    rl_redis_stats(w->redis, &rs);
    json_object_set_new(o, "inflight", s_count(w->inflight));
    json_object_set_new(o, "claiming", s_count(w->claiming));
    json_object_set_new(o, "claimed", s_count(s->claimed));
    json_object_set_new(o, "submits", s_count(s->submits));
    json_object_set_new(o, "polls", s_count(s->polls));
    json_object_set_new(o, "failovers", s_count(s->failovers));
    json_object_set_new(o, "completed", s_count(s->completed));
    json_object_set_new(o, "failed", s_count(s->failed));
    json_object_set_new(o, "stale_writes", s_count(s->stale_writes));
    json_object_set_new(o, "dropped", s_count(s->dropped));
    json_object_set_new(o, "not_sent", s_count(s->not_sent));
    json_object_set_new(o, "poll_late_p50_ms",
                        json_integer(lateness_quantile(&w->late, 0.5)));
    json_object_set_new(o, "poll_late_p99_ms",
                        json_integer(lateness_quantile(&w->late, 0.99)));
    json_object_set_new(o, "poll_late_max_ms",
                        json_integer(w->late.max_us / 1000));
    json_object_set_new(o, "redis_auth_failures", s_count(rs.auth_failures));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Nothing goes to a provider without a held lease: a worker paused past
 * it may wake with requests queued (in a lane, in curl) before its lease
 * tick can tell it the lease is gone; they fail not_sent instead. */
static bool
s_lease_gate(void *arg)
{
    worker_t *w = arg;
    return lease_ok(w->lease);
}

/* Jobs waiting for their next poll mostly wait one of a few intervals:
 * libevent keeps such "common" timeouts in a queue, O(1) to arm, instead
 * of its heap. */
static void
s_common_timeouts(worker_t *w)
{
    for (size_t i = 0; i < w->cfg->nproviders; i++) {
        long ms = w->cfg->providers[i].poll_interval_ms;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        bool known = false;
        for (size_t k = 0; k < w->ncommon; k++)
            known |= w->common_ms[k] == ms;
        if (known)
            continue;
        w->common_tv[w->ncommon] = event_base_init_common_timeout(w->base, &tv);
        if (w->common_tv[w->ncommon] != NULL)
            w->common_ms[w->ncommon++] = ms;
    }
}

/* The optional status endpoint: worker --index i binds entry i of
 * [health] worker_status_listen. */
static int
s_status(worker_t *w, int index)
{
    const rl_config_t *cfg = w->cfg;
    char why[WORKER_WHY_LEN];
    if (rl_status_open(&w->status, w->base, cfg, cfg->worker_status_listen,
                       cfg->nworker_status_listen, index, "worker", s_ready,
                       s_stats, w, why, sizeof why) != 0) {
        rl_log_errorx("[health] worker_status_listen: %s", why);
        return -1;
    }
    return 0;
}

/* CURVE keys of both links: ours, the brokers' and the deliverers'. */
static int
s_keys(worker_t *w)
{
    char err[RL_CURVE_ERR_LEN];
    if (!w->cfg->zmq_curve) {
        rl_log_warnx("[zmq] curve is off: dispatch and completions travel "
                     "unauthenticated and in clear");
        return 0;
    }
    if (rl_zkeys_load(w->cfg, "worker", &w->keys, err, sizeof err) != 0) {
        rl_log_errorx("%s", err);
        return -1;
    }
    return 0;
}

static int
s_start(worker_t *w, int index)
{
    const rl_config_t *cfg = w->cfg;
    rl_http_opts_t opts = {
        .max_host_connections = WORKER_HOST_CONNECTIONS,
        .max_idle_connections = WORKER_HOST_CONNECTIONS * WORKER_IDLE_ORIGINS,
    };
    w->base = rl_loop_new();
    w->zctx = zmq_ctx_new();
    if (w->base == NULL || w->zctx == NULL || s_keys(w) != 0)
        return -1;
    s_common_timeouts(w);
    w->redis = rl_redis_from_config(w->base, cfg);
    w->http = rl_http_new(w->base, &opts);
    if (w->redis == NULL || w->http == NULL || completion_open(w) != 0)
        return -1;
    w->lease = lease_new(w);
    rl_http_set_send_gate(w->http, s_lease_gate, w);
    w->health = health_new(w);
    w->links = links_new(w);
    rl_zkeys_wipe(&w->keys); /* the sockets hold their copies */
    if (w->links == NULL)
        return -1;
    rl_redis_on_state(w->redis, s_on_redis, w);
    return s_status(w, index);
}

static void
s_stop(worker_t *w)
{
    job_drop_all(w, "shutting down");
    rl_status_destroy(&w->status);
    links_destroy(&w->links);
    lease_destroy(&w->lease);
    health_destroy(&w->health);
    rl_zretry_destroy(&w->push_retry);
    rl_zsock_destroy(&w->push);
    rl_http_destroy(&w->http);
    rl_redis_destroy(&w->redis);
    if (w->zctx != NULL)
        zmq_ctx_term(w->zctx);
    rl_zkeys_wipe(&w->keys);
    if (w->base != NULL)
        event_base_free(w->base);
    const worker_stats_t *s = &w->stats;
    rl_log_info(
        "stats: claimed %llu refused %llu submits %llu polls %llu "
        "failovers %llu completed %llu failed %llu stale %llu "
        "dropped %llu",
        (unsigned long long)s->claimed, (unsigned long long)s->claim_refused,
        (unsigned long long)s->submits, (unsigned long long)s->polls,
        (unsigned long long)s->failovers, (unsigned long long)s->completed,
        (unsigned long long)s->failed, (unsigned long long)s->stale_writes,
        (unsigned long long)s->dropped);
}

int
main(int argc, char **argv)
{
    rl_cli_t cli;
    if (rl_cli_parse(argc, argv, "worker", &cli) != 0)
        return 2;
    rl_config_t *cfg = rl_cli_config(&cli, "worker");
    if (cfg == NULL)
        return 2;
    if (cli.check_config) {
        rl_config_destroy(&cfg);
        return 0;
    }
    worker_t w = {
        .cfg = cfg,
        .on = worker_stack_on,
    };
    TAILQ_INIT(&w.jobs);
    for (size_t i = 0; i < cfg->nproviders; i++) {
        if (adapter_find(cfg->providers[i].type) == NULL) {
            rl_log_errorx("provider %s: no adapter for type '%s'",
                          cfg->providers[i].name, cfg->providers[i].type);
            rl_config_destroy(&cfg);
            return 2;
        }
    }
    rl_cli_process_id("worker", w.id, sizeof w.id);
    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    if (s_start(&w, cli.index) == 0) {
        struct event *sigint = evsignal_new(w.base, SIGINT, s_on_signal, &w);
        struct event *sigterm = evsignal_new(w.base, SIGTERM, s_on_signal, &w);
        event_add(sigint, NULL);
        event_add(sigterm, NULL);
        rl_log_info("worker %s: up to %d jobs in flight", w.id,
                    cfg->worker_max_inflight);
        event_base_dispatch(w.base);
        event_free(sigterm);
        event_free(sigint);
        rc = 0;
    }
    s_stop(&w);
    rl_config_destroy(&cfg);
    return rc;
}
