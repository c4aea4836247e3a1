/*
 * deliverer - the process context of reelay-deliverer: one loop, one
 * Redis client, one HTTP client, the completion PULL socket, and the
 * modules that claim outbox entries (outbox.c, intake.c), send attempts
 * (attempt.c) and keep fail-open deliveries (failopen.c). Passed as the
 * callback argument everywhere; members are for the deliverer's modules.
 *
 * Layering: each module calls only the modules below it; what goes up
 * is a callback the one above set (an ops table, a route callback, a
 * done callback), and the context (this struct, the constants below) is
 * data all of them read.
 *
 *   main.c        arguments, config, deliverer_new/run/destroy
 *   deliverer.c   builds the rest and wires it: routes COMPLETIONs
 *                 (intake's route callback), admits claimed deliveries
 *                 at their host (outbox_ops_t.start: start, park or
 *                 defer), starts fail-open ones (failopen_ops_t),
 *                 routes attempt results to outbox or failopen, counts
 *                 the slots, runs the scan period, drains
 *   intake.c      the PULL socket and its queue -> route callback
 *   failopen.c    deliveries and records kept without Redis -> outbox's
 *                 records (outbox_rec_*, outbox_send_rec)
 *   outbox.c      claims, deferrals and records in Redis -> delivery.c
 *   route.c       the routing decisions, pure (route.h)
 *   attempt.c     one POST: webhook.c, stdsig.c, egress.c, schedule.c,
 *                 classify.c
 *   hostgate.c    per-host limit, parking and breaker (rl_breaker)
 *   delivery.c, classify.c, schedule.c, webhook.c, stdsig.c, egress.c,
 *   ssrf.c        the leaves (common/ and proto/ below them all)
 *
 * A drain waits on rl_redis's own count of commands in flight
 * (rl_redis_pending, rl_redis_on_drained): no module counts them.
 *
 * Delivery slots: at most cfg->delivery_concurrency attempts are in the
 * air, counting the slots reserved by claims still waiting for Redis.
 * Per host (hostgate.c) at most cfg->per_host_concurrency, and none
 * while the host's circuit breaker is open. A claimed delivery its busy
 * host does not admit is parked there (holding a slot) and started when
 * an attempt to that host ends, but only while the host is fast: its
 * attempts average under DELIVERER_FAST_HOST_MS. A fast host may park up
 * to every slot (its parked deliveries drain within a few of its
 * attempts; bench/delivery.sh drains one host at ~10k/s this way, where
 * parking only per_host_concurrency made every claim beyond that a
 * claim-defer round trip and fell to ~800/s). A slow host, or one
 * without an average yet, parks nothing. Beyond that, or when it waited
 * DELIVERER_PARK_MAX_MS (well within its claim's lease), or the host's
 * breaker is open, a delivery is pushed back in the outbox
 * (outbox_defer). Fail-open deliveries keep to the same gate, waiting
 * in memory instead (failopen.c). The HTTP client
 * has no per-host cap of its own: the gate is the one admission.
 *
 * Leases: a claimed attempt must be over DELIVERER_RECORD_MARGIN_MS
 * before its claim's lease ends (outbox.h), so no other deliverer can
 * claim the entry and POST while it is in the air: curl gets the
 * webhook timeout cut to what is left (delivery_budget_ms), and a claim
 * left with less than DELIVERER_MIN_ATTEMPT_MS (or the timeout) is
 * dropped unsent: its lease brings the entry back.
 *
 * SSRF: every connect goes through egress.c's guard (cfg->webhook_allow
 * opens ranges).
 *
 * Status: with [webhook] deliverer_status_listen set, deliverer --index i
 * serves GET /healthz (200 while the loop turns), /readyz (200 while
 * Redis answers and no drain is under way, else 503) and /stats (the
 * counters below) on entry i (rl_status.h).
 *
 * Shutdown (SIGINT/SIGTERM): claiming stops, attempts in the air finish
 * and are recorded, then the loop exits; a deadline of the webhook
 * timeout plus the Redis command timeout bounds the wait, and a second
 * signal ends it at once.
 * SPDX-License-Identifier: MIT
 */
#ifndef DELIVERER_H
#define DELIVERER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "delivery.h"
#include "egress.h"
#include "hostgate.h"
#include "rl_config.h"
#include "rl_crypto.h"
#include "rl_http.h"
#include "rl_redis.h"

#define DELIVERER_LEASE_EXTRA_MS 5000 /* claim lease beyond the timeout */
/* of a claim's lease, left for writing its attempt's record */
#define DELIVERER_RECORD_MARGIN_MS 1000
/* a claimed attempt gets its timeout or at least this */
#define DELIVERER_MIN_ATTEMPT_MS 1000
#define DELIVERER_DEFER_MS 500 /* a busy host's claims wait */
#define DELIVERER_PARK_MAX_MS (DELIVERER_LEASE_EXTRA_MS / 2) /* parked */
/* a host this fast may park up to every slot */
#define DELIVERER_FAST_HOST_MS 250
/* parked deliveries that waited DELIVERER_PARK_MAX_MS go back, and idle
 * hosts are forgotten */
#define DELIVERER_PARK_SWEEP_MS 250

/* A claimed delivery that waited the longest it may park still has its
 * whole timeout before the lease margin, with 1.5 s to spare for the
 * claim's reply: curl's timeout is cut to the lease only when Redis or
 * the loop was that slow. */
_Static_assert(DELIVERER_PARK_MAX_MS + DELIVERER_RECORD_MARGIN_MS + 1500 <=
                   DELIVERER_LEASE_EXTRA_MS,
               "a parked attempt must fit its claim's lease");

struct event;
struct event_base;
typedef struct outbox outbox_t;
typedef struct intake intake_t;
typedef struct failopen failopen_t;
typedef struct rl_status rl_status_t;

/* Counters since start, logged at exit. */
typedef struct {
    uint64_t delivered;         /* attempts recorded delivered */
    uint64_t retried;           /* attempts recorded retry */
    uint64_t failed;            /* attempts recorded failed */
    uint64_t stale;             /* records refused: a newer claim exists */
    uint64_t fail_open;         /* completions delivered without Redis */
    uint64_t fail_open_dropped; /* left to the outbox: list full */
    uint64_t fail_open_waits;   /* fail-open attempts a host made wait */
    uint64_t records_lost;      /* attempt records never written */
    uint64_t bad_messages;      /* malformed or unexpected ZMQ messages */
    uint64_t bad_claims;        /* malformed outbox_claim entries */
    uint64_t deferred;          /* claims pushed back: host busy or paused */
    uint64_t parked;            /* claims that waited for a busy host */
    uint64_t expired;           /* claims dropped: too little lease left */
} deliverer_stats_t;

typedef struct deliverer {
    const rl_config_t *cfg;          /* immutable configuration, borrowed */
    int index;                       /* binds cfg->completion[index] */
    uint8_t master[RL_AEAD_KEY_LEN]; /* opens sealed signing keys */
    struct event_base *base;         /* the one loop */
    rl_redis_t *redis;               /* state, claims, records */
    rl_http_t *http;                 /* webhook POSTs */
    egress_t *egress;                /* SSRF guard of http */
    hostgate_t *gate;                /* per-host limit and breaker */
    void *zctx;                      /* ZeroMQ context */
    attempt_set_t *attempts;         /* attempts in the air */
    outbox_t *outbox;                /* claims and records */
    failopen_t *failopen;            /* deliveries made without Redis */
    intake_t *intake;                /* the completion PULL socket */
    rl_status_t *status;             /* optional /healthz /readyz /stats */
    struct event *sig_int;           /* SIGINT: drain and exit */
    struct event *sig_term;          /* SIGTERM: drain and exit */
    struct event *deadline;          /* bounds the drain */
    struct event *park_sweep;        /* hands back deliveries parked too long */
    struct event *scan;              /* every outbox_scan_ms: kept records
                                        written, then due entries claimed */
    size_t parked;                   /* slots held by parked deliveries */
    bool stopping;                   /* draining: claim nothing new */
    bool destroying;                 /* callbacks only free their arguments */
    deliverer_stats_t stats;         /* counters */
} deliverer_t;

/* Builds the whole context: the master key (rl_apikey_master), loop,
 * Redis, HTTP, ZeroMQ with the PULL socket bound to cfg->completion[index],
 * signal events, the outbox scan and the status endpoint of entry index
 * of cfg->deliverer_status_listen, if any. Returns a context (caller
 * owns) or NULL with the reason logged. */
deliverer_t *deliverer_new(const rl_config_t *cfg, int index);

/* Runs the loop until a signal's drain completes. Returns 0 or -1. */
int deliverer_run(deliverer_t *ctx);

/* Frees everything in reverse order of creation. NULL-safe, sets *p to
 * NULL. */
void deliverer_destroy(deliverer_t **p);

#endif
