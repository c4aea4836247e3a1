/*
 * deliverer - the process context: builds and tears down the loop and
 * its clients, routes attempt results, and drains on SIGINT/SIGTERM.
 * SPDX-License-Identifier: MIT
 */
#include "deliverer.h"

#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <zmq.h>

#include "failopen.h"
#include "intake.h"
#include "outbox.h"
#include "rl_alloc.h"
#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "rl_status.h"
#include "route.h"
#include "ssrf.h"

#define S_DRAIN_EXTRA_MS 1000 /* beyond the webhook and Redis timeouts */
#define S_WHY_LEN 300         /* a status endpoint's error */

static void s_check_idle(deliverer_t *ctx);

/* Attempts that may start now: concurrency minus the attempts in the air,
 * the slots the outbox holds for claims and the parked deliveries (0
 * while stopping). */
static size_t
s_free_slots(const deliverer_t *ctx)
{
    size_t cap = (size_t)ctx->cfg->delivery_concurrency;
    size_t used = attempt_inflight(ctx->attempts) +
                  (ctx->outbox != NULL ? outbox_reserved(ctx->outbox) : 0) +
                  ctx->parked;

    if (ctx->stopping || used >= cap)
        return 0;
    return cap - used;
}

/* Starts the attempt of *d (taken), admitted at its host if it has a
 * gate_host; a claim with too little lease left for an attempt gives
 * its slot back unsent and is dropped: its lease brings the entry back
 * to a claim. Returns whether the attempt started. */
static bool
s_launch(deliverer_t *ctx, delivery_t **d)
{
    long timeout = ctx->cfg->webhook_timeout_ms;
    long left = delivery_budget_ms(*d, rl_clock_mono_ms(), timeout);

    if (route_launch(left, timeout)) {
        attempt_start(ctx->attempts, d);
        return true;
    }
    ctx->stats.expired++;
    rl_log_info("job %s: %ld ms left of its claim, too little for an "
                "attempt; left to the outbox",
                (*d)->job, left);
    if ((*d)->gate_host != NULL)
        hostgate_cancel(ctx->gate, (*d)->gate_host, rl_clock_wall_ms());
    delivery_destroy(d);
    return false;
}

/* Asks d's webhook host for a slot: HOSTGATE_OK with d->gate_host set
 * (or none, for a URL without a host: its attempt fails by itself), else
 * the verdict, with the wait it tells of in *wait_ms and the host in
 * host. */
static hostgate_verdict_t
s_admit(deliverer_t *ctx, delivery_t *d, char host[HOSTGATE_HOST_MAX],
        long *wait_ms)
{
    hostgate_verdict_t v;

    *wait_ms = 0;
    if (hostgate_key(delivery_field(d, "webhook_url"), host,
                     HOSTGATE_HOST_MAX) != 0)
        return HOSTGATE_OK; /* a bad URL fails in its attempt */
    v = hostgate_acquire(ctx->gate, host, rl_clock_wall_ms(), wait_ms);
    if (v == HOSTGATE_OK)
        d->gate_host = rl_strdup(host);
    return v;
}

/* A claimed delivery (the outbox hands it up; takes *d): left alone
 * when its job is delivered fail-open here (the claim's lease runs
 * out), else started, parked at its busy host or pushed back in the
 * outbox, as route_admit() says. */
static void
s_start(void *arg, delivery_t **d)
{
    deliverer_t *ctx = arg;
    char host[HOSTGATE_HOST_MAX];
    long wait_ms;

    assert(!(*d)->fail_open); /* s_start_fail_open() */
    if (failopen_has(ctx->failopen, (*d)->ref)) {
        rl_log_debug("job %s: claimed while kept fail-open; left", (*d)->job);
        delivery_destroy(d);
        return;
    }
    hostgate_verdict_t v = s_admit(ctx, *d, host, &wait_ms);
    switch (route_admit(v, ctx->stopping)) {
    case ROUTE_START:
        s_launch(ctx, d);
        return;
    case ROUTE_PARK:
        if (hostgate_park(ctx->gate, host, *d, rl_clock_wall_ms())) {
            ctx->parked++;
            ctx->stats.parked++;
            *d = NULL;
            return;
        }
        break; /* the host parks no more: deferred */
    case ROUTE_DEFER:
        break;
    }
    ctx->stats.deferred++;
    rl_log_debug("job %s: host %s %s, deferred", (*d)->job, host,
                 hostgate_verdict_name(v));
    outbox_defer(ctx->outbox, d, route_defer_ms(wait_ms, false));
}

/* Starts the attempt of fail-open *d (failopen.h: failopen_ops_t). */
static bool
s_start_fail_open(void *arg, delivery_t **d, long *wait_ms)
{
    deliverer_t *ctx = arg;
    char host[HOSTGATE_HOST_MAX];
    hostgate_verdict_t v = s_admit(ctx, *d, host, wait_ms);
    bool started;

    if (v != HOSTGATE_OK) {
        rl_log_debug("job %s: host %s %s, fail-open attempt waits", (*d)->job,
                     host, hostgate_verdict_name(v));
        return false;
    }
    /* No claim, so no lease to run out of (deadline 0): it starts. */
    started = s_launch(ctx, d);
    assert(started);
    (void)started;
    return true;
}

static size_t
s_ops_free_slots(void *arg)
{
    return s_free_slots(arg);
}

/* Slots may have freed up: queued completions get their turn. */
static void
s_slots_freed(void *arg)
{
    deliverer_t *ctx = arg;

    if (!ctx->stopping && !ctx->destroying)
        intake_drain(ctx->intake);
}

/* Redis did not answer the claim of m's ref: delivered fail-open. */
static void
s_fail_open(void *arg, const rl_msg_t *m)
{
    deliverer_t *ctx = arg;

    failopen_add(ctx->failopen, m);
}

/* Redis did not take a record: kept by failopen.c until it does. */
static void
s_keep(void *arg, outbox_rec_t **rec)
{
    deliverer_t *ctx = arg;

    failopen_keep(ctx->failopen, rec);
    s_check_idle(ctx);
}

/* Routes a COMPLETION (intake.h: intake_route_cb) as route_completion()
 * says. */
static bool
s_route(void *arg, rl_msg_t *m, bool queued)
{
    deliverer_t *ctx = arg;
    char ref[RL_KEY_MAX];
    route_completion_in_t in = {
        .queued = queued,
        .stopping = ctx->stopping,
        .named = rl_keys_ref(ref, sizeof ref, m->acct, m->job_id) == 0,
        .connected = rl_redis_connected(ctx->redis),
        .free_slots = s_free_slots(ctx),
    };

    in.kept = in.named && failopen_has(ctx->failopen, ref);
    switch (route_completion(&in)) {
    case ROUTE_DROP:
        return true;
    case ROUTE_FAIL_OPEN:
        failopen_add(ctx->failopen, m);
        return true;
    case ROUTE_WAIT:
        return false;
    case ROUTE_CLAIM:
        outbox_claim_ref(ctx->outbox, m);
        return true;
    }
    return true;
}

/* Exits the loop once a drain has nothing left in the air: no attempt,
 * no Redis command awaiting its answer, no record waiting to be sent,
 * and no kept record Redis could take now. */
static void
s_check_idle(deliverer_t *ctx)
{
    if (!ctx->stopping || ctx->destroying)
        return;
    if (attempt_inflight(ctx->attempts) > 0 ||
        rl_redis_pending(ctx->redis) > 0 || outbox_unsent(ctx->outbox) > 0)
        return;
    if (failopen_records(ctx->failopen) > 0 && rl_redis_connected(ctx->redis))
        return; /* still writing what it can */
    event_base_loopexit(ctx->base, NULL);
}

/* Every Redis command answered (rl_redis_on_drained). */
static void
s_on_drained(void *arg)
{
    s_check_idle(arg);
}

/* A slot of `host` freed: the deliveries parked there start in turn, or
 * go back to the outbox when they waited too long or the host's breaker
 * opened. */
static void
s_unpark(deliverer_t *ctx, const char *host)
{
    delivery_t *d;
    bool admitted = false;

    while (!admitted &&
           (d = hostgate_unpark(ctx->gate, host, rl_clock_wall_ms(),
                                DELIVERER_PARK_MAX_MS, &admitted)) != NULL) {
        ctx->parked--;
        if (admitted) {
            d->gate_host = rl_strdup(host);
            /* Dropped (too little of its claim left): its host slot went
             * back, so the next parked one may have it. */
            admitted = s_launch(ctx, &d);
        } else {
            ctx->stats.deferred++;
            outbox_defer(ctx->outbox, &d, route_defer_ms(0, false));
        }
    }
}

static void
s_defer_parked(void *item, void *arg)
{
    deliverer_t *ctx = arg;
    delivery_t *d = item;

    ctx->parked--;
    if (ctx->destroying) {
        delivery_destroy(&d); /* its claim's lease brings it back */
    } else {
        ctx->stats.deferred++;
        outbox_defer(ctx->outbox, &d, route_defer_ms(0, ctx->stopping));
    }
}

static void
s_on_park_sweep(evutil_socket_t fd, short what, void *arg)
{
    deliverer_t *ctx = arg;

    (void)fd;
    (void)what;
    if (hostgate_expire(ctx->gate, rl_clock_wall_ms(), DELIVERER_PARK_MAX_MS,
                        s_defer_parked, ctx) > 0)
        s_slots_freed(ctx); /* their slots are free again */
    hostgate_forget_idle(ctx->gate, rl_clock_wall_ms());
}

/* Every attempt result comes here: claimed deliveries are recorded
 * under their token, fail-open ones are kept until Redis is back. */
static void
s_on_attempt(delivery_t *d, const attempt_result_t *res, void *arg)
{
    deliverer_t *ctx = arg;

    if (d->gate_host != NULL) {
        hostgate_latency(ctx->gate, d->gate_host, res->latency_ms);
        hostgate_release(ctx->gate, d->gate_host,
                         res->decision.cls == CLASSIFY_RETRYABLE,
                         rl_clock_wall_ms());
        s_unpark(ctx, d->gate_host); /* none are parked once stopping */
        /* The slot is given back: a fail-open retry asks again. */
        free(d->gate_host);
        d->gate_host = NULL;
    }
    if (d->fail_open)
        failopen_on_result(ctx->failopen, &d, res);
    else
        outbox_record(ctx->outbox, &d, res);
    s_slots_freed(ctx);
    s_check_idle(ctx);
}

static void
s_on_redis_state(bool connected, void *arg)
{
    deliverer_t *ctx = arg;

    if (connected && !ctx->destroying)
        failopen_flush(ctx->failopen);
}

/* The scan period: the records kept fail-open are written first, then
 * the outbox claims what is due. */
static void
s_on_scan(evutil_socket_t fd, short what, void *arg)
{
    deliverer_t *ctx = arg;

    (void)fd;
    (void)what;
    if (!rl_redis_connected(ctx->redis))
        return;
    failopen_flush(ctx->failopen);
    outbox_scan(ctx->outbox);
}

static void
s_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    deliverer_t *ctx = arg;

    (void)fd;
    (void)what;
    rl_log_warnx("drain deadline: %zu attempts, %zu Redis commands still "
                 "out",
                 attempt_inflight(ctx->attempts), rl_redis_pending(ctx->redis));
    event_base_loopexit(ctx->base, NULL);
}

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    deliverer_t *ctx = arg;
    long ms = ctx->cfg->webhook_timeout_ms +
              ctx->cfg->redis_command_timeout_ms + S_DRAIN_EXTRA_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    (void)what;
    if (ctx->stopping) {
        rl_log_warnx("signal %d again: exiting without draining", (int)sig);
        event_base_loopexit(ctx->base, NULL);
        return;
    }
    rl_log_info("signal %d: draining %zu attempts", (int)sig,
                attempt_inflight(ctx->attempts));
    ctx->stopping = true;
    intake_destroy(&ctx->intake);
    hostgate_drain(ctx->gate, rl_clock_wall_ms(), s_defer_parked,
                   ctx); /* to the outbox */
    event_del(ctx->scan);
    outbox_stop(ctx->outbox);
    failopen_stop(ctx->failopen);
    failopen_flush(ctx->failopen);
    evtimer_add(ctx->deadline, &tv);
    s_check_idle(ctx);
}

static int
s_events(deliverer_t *ctx)
{
    ctx->sig_int = evsignal_new(ctx->base, SIGINT, s_on_signal, ctx);
    ctx->sig_term = evsignal_new(ctx->base, SIGTERM, s_on_signal, ctx);
    ctx->deadline = evtimer_new(ctx->base, s_on_deadline, ctx);
    ctx->park_sweep =
        event_new(ctx->base, -1, EV_PERSIST, s_on_park_sweep, ctx);
    ctx->scan = event_new(ctx->base, -1, EV_PERSIST, s_on_scan, ctx);
    long ms = ctx->cfg->outbox_scan_ms;
    struct timeval sweep = {0, DELIVERER_PARK_SWEEP_MS * 1000};
    struct timeval every = {ms / 1000, (ms % 1000) * 1000};
    if (ctx->sig_int == NULL || ctx->sig_term == NULL ||
        ctx->deadline == NULL || ctx->park_sweep == NULL || ctx->scan == NULL ||
        evsignal_add(ctx->sig_int, NULL) != 0 ||
        evsignal_add(ctx->sig_term, NULL) != 0 ||
        event_add(ctx->park_sweep, &sweep) != 0 ||
        event_add(ctx->scan, &every) != 0)
        return -1;
    return 0;
}

static int
s_clients(deliverer_t *ctx)
{
    const rl_config_t *cfg = ctx->cfg;
    /* hostgate.c is the one per-host admission, of claimed and
     * fail-open deliveries alike: what it admits starts at once, so
     * rl_http gets no per-host cap of its own (0: none, no lane queue,
     * no curl pending list). Every slot's connection stays open for
     * reuse between bursts. */
    rl_http_opts_t opts = {.max_idle_connections = cfg->delivery_concurrency};
    ssrf_allow_t allow;
    char why[SSRF_WHY_LEN];

    ctx->redis = rl_redis_from_config(ctx->base, cfg);
    if (ctx->redis == NULL) {
        rl_log_errorx("redis %s:%d: bad address", cfg->redis_host,
                      cfg->redis_port);
        return -1;
    }
    rl_redis_on_state(ctx->redis, s_on_redis_state, ctx);
    rl_redis_on_drained(ctx->redis, s_on_drained, ctx);
    ctx->http = rl_http_new(ctx->base, &opts);
    if (ctx->http == NULL) {
        rl_log_errorx("cannot set up libcurl");
        return -1;
    }
    if (ssrf_allow_parse(&allow, (const char *const *)cfg->webhook_allow,
                         cfg->nwebhook_allow, why, sizeof why) != 0) {
        rl_log_errorx("[webhook] allow: %s", why);
        return -1;
    }
    ctx->egress = egress_new(ctx->base, ctx->http, &allow);
    if (ctx->egress == NULL)
        return -1;
    ctx->gate = hostgate_new(cfg->per_host_concurrency,
                             cfg->host_breaker_failures, cfg->host_cooldown_ms);
    hostgate_park_limits(ctx->gate,
                         cfg->delivery_concurrency > cfg->per_host_concurrency
                             ? cfg->delivery_concurrency
                             : cfg->per_host_concurrency,
                         DELIVERER_FAST_HOST_MS);
    ctx->zctx = zmq_ctx_new();
    if (ctx->zctx == NULL) {
        rl_log_error("zmq_ctx_new");
        return -1;
    }
    return 0;
}

static bool
s_ready(void *arg)
{
    const deliverer_t *ctx = arg;

    return rl_redis_answering(ctx->redis) && !ctx->stopping;
}

/* A counter as a JSON integer (they stay far below 2^63). */
static json_t *
s_count(uint64_t n)
{
    return json_integer((json_int_t)n);
}

/* The /stats document (rl_status.h). Caller frees. */
static char *
s_stats(void *arg)
{
    const deliverer_t *ctx = arg;
    const deliverer_stats_t *st = &ctx->stats;
    rl_redis_stats_t rs;
    json_t *o = json_object();
    char *text;

    rl_redis_stats(ctx->redis, &rs);
    json_object_set_new(o, "inflight",
                        s_count(attempt_inflight(ctx->attempts)));
    json_object_set_new(o, "parked", s_count(ctx->parked));
    json_object_set_new(o, "delivered", s_count(st->delivered));
    json_object_set_new(o, "retried", s_count(st->retried));
    json_object_set_new(o, "failed", s_count(st->failed));
    json_object_set_new(o, "stale", s_count(st->stale));
    json_object_set_new(o, "fail_open", s_count(st->fail_open));
    json_object_set_new(o, "fail_open_kept",
                        s_count(failopen_records(ctx->failopen)));
    json_object_set_new(o, "fail_open_dropped", s_count(st->fail_open_dropped));
    json_object_set_new(o, "fail_open_waits", s_count(st->fail_open_waits));
    json_object_set_new(o, "records_lost", s_count(st->records_lost));
    json_object_set_new(o, "bad_messages", s_count(st->bad_messages));
    json_object_set_new(o, "bad_claims", s_count(st->bad_claims));
    json_object_set_new(o, "deferred", s_count(st->deferred));
    json_object_set_new(o, "expired", s_count(st->expired));
    json_object_set_new(o, "redis_auth_failures", s_count(rs.auth_failures));
    json_object_set_new(o, "zap_denied", s_count(intake_denied(ctx->intake)));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* The status endpoint of entry `index` of [webhook]
 * deliverer_status_listen; none when the list is empty. */
static int
s_status(deliverer_t *ctx, int index)
{
    const rl_config_t *cfg = ctx->cfg;
    char why[S_WHY_LEN];

    if (rl_status_open(&ctx->status, ctx->base, cfg,
                       cfg->deliverer_status_listen,
                       cfg->ndeliverer_status_listen, index, "deliverer",
                       s_ready, s_stats, ctx, why, sizeof why) != 0) {
        rl_log_errorx("[webhook] deliverer_status_listen: %s", why);
        return -1;
    }
    return 0;
}

deliverer_t *
deliverer_new(const rl_config_t *cfg, int index)
{
    deliverer_t *ctx;
    failopen_ops_t fo_ops = {s_ops_free_slots, s_start_fail_open, NULL};
    outbox_ops_t ob_ops = {s_ops_free_slots, s_start,       s_fail_open,
                           s_keep,           s_slots_freed, NULL};

    assert(cfg != NULL);
    if (index < 0 || (size_t)index >= cfg->ncompletion) {
        rl_log_errorx("--index %d: only %zu completion endpoints", index,
                      cfg->ncompletion);
        return NULL;
    }
    ctx = rl_calloc(1, sizeof *ctx);
    fo_ops.arg = ob_ops.arg = ctx;
    ctx->cfg = cfg;
    ctx->index = index;
    if (rl_apikey_master(cfg, ctx->master) != 0) {
        rl_log_errorx("no master key: set [security] master_key or create "
                      "%s/master.key",
                      cfg->data_dir);
        goto fail;
    }
    ctx->base = rl_loop_new();
    if (ctx->base == NULL) {
        rl_log_errorx("cannot create the event loop");
        goto fail;
    }
    if (s_clients(ctx) != 0)
        goto fail;
    ctx->attempts = attempt_set_new(ctx->base, ctx->http, ctx->egress, cfg,
                                    ctx->master, s_on_attempt, ctx);
    ctx->failopen = failopen_new(ctx, &fo_ops);
    ctx->outbox = outbox_new(ctx, &ob_ops);
    if (ctx->outbox == NULL)
        goto fail;
    ctx->intake = intake_new(ctx, cfg->completion[index], s_route, ctx);
    if (ctx->intake == NULL || s_events(ctx) != 0 || s_status(ctx, index) != 0)
        goto fail;
    return ctx;
fail:
    deliverer_destroy(&ctx);
    return NULL;
}

int
deliverer_run(deliverer_t *ctx)
{
    int rc = event_base_dispatch(ctx->base);
    const deliverer_stats_t *st = &ctx->stats;

    rl_log_info(
        "stopped: delivered %llu, retried %llu, failed %llu, "
        "stale %llu, fail-open %llu (dropped %llu, waited %llu), "
        "records lost "
        "%llu, bad messages %llu, bad claims %llu, deferred %llu, "
        "parked %llu, expired %llu, connects refused %llu",
        (unsigned long long)st->delivered, (unsigned long long)st->retried,
        (unsigned long long)st->failed, (unsigned long long)st->stale,
        (unsigned long long)st->fail_open,
        (unsigned long long)st->fail_open_dropped,
        (unsigned long long)st->fail_open_waits,
        (unsigned long long)st->records_lost,
        (unsigned long long)st->bad_messages,
        (unsigned long long)st->bad_claims, (unsigned long long)st->deferred,
        (unsigned long long)st->parked, (unsigned long long)st->expired,
        (unsigned long long)egress_refused(ctx->egress));
    return rc < 0 ? -1 : 0;
}

static void
s_event_free(struct event **ev)
{
    if (*ev != NULL)
        event_free(*ev);
    *ev = NULL;
}

void
deliverer_destroy(deliverer_t **p)
{
    deliverer_t *ctx;

    if (p == NULL || *p == NULL)
        return;
    ctx = *p;
    ctx->destroying = true;
    rl_status_destroy(&ctx->status);
    s_event_free(&ctx->deadline);
    s_event_free(&ctx->park_sweep);
    s_event_free(&ctx->scan);
    s_event_free(&ctx->sig_term);
    s_event_free(&ctx->sig_int);
    intake_destroy(&ctx->intake);
    if (ctx->gate != NULL)
        hostgate_drain(ctx->gate, rl_clock_wall_ms(), s_defer_parked, ctx);
    attempt_set_destroy(&ctx->attempts); /* before http: cancels */
    rl_redis_destroy(&ctx->redis);       /* NULL replies free their args */
    outbox_destroy(&ctx->outbox);
    failopen_destroy(&ctx->failopen);
    if (ctx->zctx != NULL)
        zmq_ctx_term(ctx->zctx);
    hostgate_destroy(&ctx->gate);
    rl_http_destroy(&ctx->http);
    egress_destroy(&ctx->egress); /* after http: its guard */
    if (ctx->base != NULL)
        event_base_free(ctx->base);
    explicit_bzero(ctx->master, sizeof ctx->master);
    free(ctx);
    *p = NULL;
}
