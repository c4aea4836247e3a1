/*
 * rl_state_sweep - the typed calls that keep leases and sweep a
 * partition: a worker's lease renewal (heartbeat.lua) and the reaper's
 * sweep (reap_scan.lua, then reap_unclaimed.lua, reap_worker.lua and
 * reap_expire.lua on what the scan read). rl_state.h has what they
 * share.
 *
 * Each works on one partition (common/rl_keys.h) and names the keys of
 * the jobs it acts on, which it learns from a read first: the refs a
 * worker hands back, the scan's lists, a dead worker's job set. A ref
 * that cannot be named (malformed, or of another partition) is passed
 * unnamed: the scripts drop it without touching a key for it. Each call
 * takes at most RL_STATE_SWEEP_MAX refs.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_SWEEP_H
#define RL_STATE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_redis.h"
#include "rl_state.h"

/* Refs one sweep call names (three keys each, within RL_SCALL_MAX_KEYS). */
#define RL_STATE_SWEEP_MAX 32

/* --- heartbeat ---------------------------------------------------------- */

typedef struct {
    int partition;            /* which lease */
    const char *worker;       /* the owner id renewing */
    long long lease_ms;       /* the lease, from Redis's now */
    const char *retired;      /* an owner id to retire, or "" */
    long long max_recoveries; /* [jobs] max_recoveries */
    const char *const *refs;  /* jobs of the partition handed back */
    size_t nrefs;             /* <= RL_STATE_SWEEP_MAX */
} rl_state_heartbeat_args_t;

/* tag: OK (expiry: the new one, ms of the Redis clock), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;
    const char *why; /* BAD: what was wrong */
    long long expiry;
} rl_state_heartbeat_reply_t;

typedef void (*rl_state_heartbeat_cb)(const rl_state_heartbeat_reply_t *rep,
                                      void *arg);

int rl_state_heartbeat(rl_redis_t *r, const rl_state_heartbeat_args_t *a,
                       rl_state_heartbeat_cb cb, void *arg);
void rl_state_heartbeat_parse(const redisReply *r,
                              rl_state_heartbeat_reply_t *out);

/* --- the reaper's sweep ------------------------------------------------- */

/* tag: OK (the three lists, arrays of strings, borrowed), SKIPPED
 * (another process sweeps this period), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;
    const char *why;
    const redisReply *due;  /* dispatched refs past their claim deadline */
    const redisReply *dead; /* worker ids whose lease expired */
    const redisReply *head; /* the queue's first refs */
} rl_state_scan_reply_t;

typedef void (*rl_state_scan_cb)(const rl_state_scan_reply_t *rep, void *arg);

/* Takes partition's reaper lock for period_ms as holder and reads up to
 * limit due refs and dead workers, and head_limit refs of the queue. */
int rl_state_reap_scan(rl_redis_t *r, int partition, const char *holder,
                       long long period_ms, long long limit,
                       long long head_limit, rl_state_scan_cb cb, void *arg);
void rl_state_reap_scan_parse(const redisReply *r, rl_state_scan_reply_t *out);

/* What a sweep step is told: the partition, the lock holder, and refs
 * read by the scan (or from a dead worker's job set). */
typedef struct {
    int partition;
    const char *holder;
    const char *worker;       /* reap_worker: its id */
    long long max_recoveries; /* reap_worker */
    const char *const *refs;
    size_t nrefs; /* <= RL_STATE_SWEEP_MAX */
} rl_state_sweep_args_t;

/* tag: OK, ALIVE (reap_worker: the worker renewed), SKIPPED (the lock
 * is another's now), UNKNOWN or BAD. n: OK: requeued (unclaimed,
 * worker), expired (expire); failed: reap_worker's jobs failed past
 * max recoveries; left: reap_worker's refs left in the set; all:
 * reap_expire went through every ref given. */
typedef struct {
    rl_state_tag_t tag;
    const char *why;
    long long n;
    long long failed;
    long long left;
    bool all;
} rl_state_sweep_reply_t;

typedef void (*rl_state_sweep_cb)(const rl_state_sweep_reply_t *rep, void *arg);

int rl_state_reap_unclaimed(rl_redis_t *r, const rl_state_sweep_args_t *a,
                            rl_state_sweep_cb cb, void *arg);
int rl_state_reap_worker(rl_redis_t *r, const rl_state_sweep_args_t *a,
                         rl_state_sweep_cb cb, void *arg);
int rl_state_reap_expire(rl_redis_t *r, const rl_state_sweep_args_t *a,
                         rl_state_sweep_cb cb, void *arg);
void rl_state_sweep_parse(const redisReply *r, rl_state_sweep_reply_t *out);

/* A worker's job set in partition: tag OK with refs (an array of
 * strings, borrowed), UNKNOWN or BAD (SMEMBERS). */
typedef struct {
    rl_state_tag_t tag;
    const char *why;
    const redisReply *refs;
} rl_state_members_reply_t;

typedef void (*rl_state_members_cb)(const rl_state_members_reply_t *rep,
                                    void *arg);

int rl_state_worker_jobs(rl_redis_t *r, int partition, const char *worker,
                         rl_state_members_cb cb, void *arg);

#endif
