/*
 * worker - the process context of reelay-worker (the render-poller): one
 * libevent loop holding every in-flight job, one curl multi handle, one
 * Redis connection and the ZeroMQ sockets.
 *
 * Layering: each module calls only the modules below it. What goes up
 * is one of the callbacks of worker_t.on, which main.c sets (or a
 * callback a caller passed down, as job_record's `then`); this context
 * is data every module reads.
 *
 *   main.c        arguments, config, the context; wires worker_t.on:
 *                 dispatched -> job_claim, capacity -> links_grant,
 *                 lease_lost -> job_drop_all and links_revoke
 *   job_claim.c   a DISPATCH taken: claim.lua, the job loaded from its
 *                 reply, handed to job_run_start          (job.h)
 *   job_run.c     the job's conversation with its providers: submit,
 *                 poll, fetch, failover; asks job_step what to do
 *   job_step.c    the next step, decided: pure
 *   job.c         the job in memory and its Redis record: references,
 *                 its timer and maximum wait, fenced writes, the submit
 *                 intent, the terminal write and its COMPLETION
 *                 -> on.capacity when a slot frees
 *   links.c       the DEALERs to the brokers, credit, heartbeats
 *                 -> on.dispatched
 *   lease.c       the batch lease -> on.lease_lost, on.capacity
 *   health.c      provider probes, render averages
 *   completion.c  the PUSH socket to the deliverers
 *   breaker.c, lateness.c, adapter*.c   the leaves (rl_breaker, ...)
 *
 * So links.c and lease.c know nothing of jobs, and no job module knows
 * the links: a job's path goes down the stack (claim -> run -> step and
 * job) and comes back up only through callbacks.
 * SPDX-License-Identifier: MIT
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "adapter.h"
#include "breaker.h"
#include "lateness.h"
#include "rl_config.h"
#include "rl_http.h"
#include "rl_redis.h"
#include "rl_zkeys.h"

struct event_base;
struct event;
typedef struct job job_t;
typedef struct links links_t;
typedef struct lease lease_t;
typedef struct rl_zsock rl_zsock_t;

TAILQ_HEAD(job_list, job);

typedef struct worker worker_t;

/* What the modules below main.c hand up; main.c sets every one. */
typedef struct {
    /* links.c: a DISPATCH of acct/job_id to take (the worker is not
     * stopping and holds its lease). */
    void (*dispatched)(worker_t *w, const char *acct, const char *job_id);
    /* job.c, lease.c: a slot freed, a claim was answered, or the lease
     * is held again: more credit may be granted. */
    void (*capacity)(worker_t *w);
    /* lease.c: the lease is lost: stop acting on every job. */
    void (*lease_lost)(worker_t *w);
} worker_on_t;

/* Counters, logged on exit and served by the status line. */
typedef struct {
    uint64_t claimed;       /* jobs taken */
    uint64_t claim_refused; /* dispatches that were not ours to take,
                               or of a job held here already */
    uint64_t submits;       /* upstream submit calls */
    uint64_t polls;         /* upstream poll calls */
    uint64_t failovers;     /* provider changes */
    uint64_t stale_writes;  /* writes refused by a newer fence */
    uint64_t completed;
    uint64_t failed;
    uint64_t dropped;      /* jobs abandoned on a lost lease */
    uint64_t push_dropped; /* completions not pushed (outbox covers) */
    uint64_t not_sent;     /* provider requests that never left the
                              worker (waited too long for a turn) */
} worker_stats_t;

struct worker {
    const rl_config_t *cfg;
    worker_on_t on; /* the up-calls, set by main.c */
    char id[48];    /* worker id: the lease owner name */
    struct event_base *base;
    rl_redis_t *redis;
    rl_http_t *http;
    void *zctx;
    rl_zkeys_t keys;              /* worker.key, broker.pub, deliverer.pub
                                     ([zmq] curve on), wiped once the
                                     sockets are set up */
    links_t *links;               /* DEALERs to the brokers */
    lease_t *lease;               /* the batch lease on our jobs */
    rl_zsock_t *push;             /* PUSH to the deliverers */
    struct rl_zretry *push_retry; /* reconnects push after a refused
                                  CURVE handshake; NULL with curve off */
    struct job_list jobs;         /* every job in memory */
    void *held;                   /* the live ones (not JOB_DEAD) by ref: a
                                     tsearch(3) tree of job_t */
    size_t inflight;              /* jobs in memory, claims included */
    size_t claiming;              /* of those, claims not answered yet */
    bool stopping;                /* SIGTERM: take no more jobs */
    breaker_t breakers[RL_CONFIG_MAX_PROVIDERS];     /* by provider index */
    adapter_token_t tokens[RL_CONFIG_MAX_PROVIDERS]; /* signed credentials */
    adapter_result_t scratch; /* every answer is parsed here first; a job
                                 keeps a copy only when it needs one */
    long common_ms[RL_CONFIG_MAX_PROVIDERS]; /* the poll intervals */
    const struct timeval *common_tv[RL_CONFIG_MAX_PROVIDERS]; /* libevent
                                  common timeouts for them: O(1) timers */
    size_t ncommon;
    long render_avg_ms[RL_CONFIG_MAX_MODELS]; /* by model, 0 = unknown */
    struct health *health;    /* provider health checks, ETA averages */
    struct rl_status *status; /* optional /healthz /readyz /stats */
    worker_stats_t stats;
    lateness_t late; /* timer-driven polls: actual - scheduled */
};

#endif
