/*
 * rl_state_hooks - the typed calls of an account's webhook recovery: a
 * redelivery of one job's last event, the list of events whose delivery
 * failed for good (webhook_failed.lua), and the redelivery of those in a
 * time range (webhook_requeue.lua). rl_state.h has what they share.
 *
 * Each resolves the caller's key to its account first
 * (rl_state_acct_chain). The list and the range start from the
 * account's failed-delivery index (rl:whfail, rl_keys.h), which names
 * the jobs, so those calls read it first (one ZRANGEBYSCORE) and then
 * send the script for the jobs read, each job's keys in KEYS, in
 * batches one after another: RL_STATE_HOOKS_BATCH jobs of a recovery
 * (four keys each), RL_STATE_HOOKS_LIST_BATCH of a list (one each). Each
 * batch is atomic, the whole is not: a recovery answers UNKNOWN when a
 * batch's outcome is unknown (the batches before it landed; sending the
 * whole again requeues only what is still listed as failed), and a
 * list is what each job held when its batch ran.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_HOOKS_H
#define RL_STATE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_redis.h"
#include "rl_state.h"

#define RL_STATE_HOOKS_BATCH 24       /* jobs per recovery script call */
#define RL_STATE_HOOKS_LIST_BATCH 100 /* jobs per list script call */

/* tag: OK (status), UNAUTHORIZED, NOT_FOUND, NOT_TERMINAL (status),
 * NO_WEBHOOK, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    const char *status; /* OK, NOT_TERMINAL: the job's status */
} rl_state_redeliver_reply_t;

typedef void (*rl_state_redeliver_cb)(const rl_state_redeliver_reply_t *rep,
                                      void *arg);

/* Queues the last event of job `job` for delivery again, deliberately
 * (webhook_requeue.lua, "one"). */
int rl_state_hooks_redeliver(rl_redis_t *r, const char *key_hash,
                             const char *job, rl_state_redeliver_cb cb,
                             void *arg);

/* tag: OK (requeued, more), UNAUTHORIZED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    long long requeued; /* OK: events queued again */
    bool more;          /* OK: more failed events in the range */
} rl_state_recover_reply_t;

typedef void (*rl_state_recover_cb)(const rl_state_recover_reply_t *rep,
                                    void *arg);

/* Queues again up to max failed events that failed in [from_ms, to_ms]
 * (webhook_requeue.lua, "range"). */
int rl_state_hooks_recover(rl_redis_t *r, const char *key_hash,
                           long long from_ms, long long to_ms, long long max,
                           rl_state_recover_cb cb, void *arg);

/* One failed event. */
typedef struct {
    const char *job;         /* the job id */
    const char *failed_at;   /* when its delivery failed for good (ms) */
    const char *status;      /* the job's status */
    const char *webhook_url; /* its webhook URL ("" none) */
    const char *attempts;    /* its attempt count (text) */
} rl_state_failed_t;

/* tag: OK (entries, n, more), UNAUTHORIZED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;               /* the answer */
    const char *why;                  /* BAD: what was wrong */
    const rl_state_failed_t *entries; /* OK: oldest first (borrowed) */
    size_t n;                         /* OK: how many */
    bool more;                        /* OK: more after them */
} rl_state_failed_reply_t;

typedef void (*rl_state_failed_cb)(const rl_state_failed_reply_t *rep,
                                   void *arg);

/* Up to max events whose delivery failed for good since since_ms, oldest
 * first (webhook_failed.lua). max is at most RL_STATE_HOOKS_MAX. */
#define RL_STATE_HOOKS_MAX 1000
int rl_state_hooks_failed(rl_redis_t *r, const char *key_hash,
                          long long since_ms, long long max,
                          rl_state_failed_cb cb, void *arg);

/* Parser of the "one" reply (the call uses it; unit tests too). */
void rl_state_hooks_redeliver_parse(const redisReply *r,
                                    rl_state_redeliver_reply_t *out);

#endif
