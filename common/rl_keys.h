/*
 * rl_keys - the Redis key layout, in one place.
 *
 * Keys of an account carry its id as a hash tag {A}, so they share one
 * slot. The scripts are not single-slot, though: most also touch the
 * global keys below (rl:queue, rl:outbox, rl:stats, ...) or rl:key:* and
 * rl:taskidx:*, which carry no tag, and build key names themselves, so
 * they need one Redis, not Redis Cluster (docs/internals.md, Redis). A
 * job is referred to across processes by its ref "A|J" (account id, job
 * id).
 *
 *   rl:key:<sha256hex(api key)>   hash  acct, id, prefix, sealed (the key
 *                                       under AES-256-GCM, for signing),
 *                                       created_at, revoked_at, tokens, at
 *                                       (rate-limit bucket)
 *   rl:keys:{A}                   hash  key id -> key hash
 *   rl:acct:{A}                   hash  credits, granted, debited,
 *                                       refunded, jobs, jobs_completed,
 *                                       jobs_failed, active_jobs,
 *                                       created_at, updated_at, wh_*
 *                                       (webhook settings, webhook.h)
 *   rl:accounts                   set   every account id
 *   rl:jobs:{A}                   zset  job id -> created_at
 *   rl:taskidx:<task id>          string owning account (task API: 403 vs
 *                                       404)
 *   rl:render_avg                 hash  model -> running average render ms
 *   rl:provider_health            hash  provider -> last health check JSON
 *   rl:job:{A}:J                  hash  every field of the job (below)
 *   rl:ledger:{A}                 list  JSON entries, newest first
 *   rl:idem:{A}:<key>             string JSON {h: body sha256, r: 202 body}
 *   rl:dlv:{A}:J                  list  JSON delivery attempts, oldest first
 *   rl:dedup:{A}:J:<status>       string "sending:<token>" | "delivered"
 *   rl:whfail:{A}                 zset  job id -> time its delivery failed
 *                                       for good (kept for the dedup
 *                                       window)
 *   rl:queue                      list  refs waiting for dispatch
 *   rl:dispatched                 zset  ref -> claim deadline (ms)
 *   rl:workers                    zset  worker id -> lease expiry (ms)
 *   rl:wjobs:<worker id>          set   refs leased by that worker
 *   rl:outbox                     zset  ref -> next delivery due (ms)
 *   rl:stats                      hash  global counters
 *   rl:lock:reaper, rl:lock:health string holder id (one reaper sweep,
 *                                       one health check per period)
 *   rl:finished                   zset  ref -> when its retention counts
 *                                       from (ms): the job's finish,
 *                                       written by the terminal write;
 *                                       moved on while the job is busy
 *                                       (its webhook pending), so the
 *                                       retention step looks again later
 *   rl:retain:ledger              set   account ids whose ledger may
 *                                       hold entries to archive (their
 *                                       jobs were removed)
 *   rl:lock:retain                string holder id (one retention step
 *                                       at a time, renewed by each of its
 *                                       scripts)
 *
 * Job fields: id, acct, key_hash (the key it was submitted with), status
 * (pending|processing|completed|failed), state (queued|leased|done), model,
 * prompt, duration, aspect_ratio, webhook_url, credits, refunded_at,
 * output_url, error_code, error_message, failover_used (0|1), chain (comma list
 * of models, the requested one first), chain_idx, provider, task_id, fence,
 * owner, recoveries, phase, progress, eta_s, last_poll_at, created_at,
 * updated_at, completed_at, deadline_at, history (JSON array of
 * {status, phase, at, reason}), wh_state (none|pending|delivered|failed),
 * wh_attempts, wh_token, wh_next_at, and api, output_resolution,
 * negative_prompt, image_url, attempts, model_used, render_ms,
 * credits_refunded, active, wh_last_at, wh_deliberate. Times are epoch
 * milliseconds.
 *
 * Account fields kept for the retention step (docs/retention.md):
 * ledger_archived (entries moved from the tail of rl:ledger:{A} to the
 * archive, ever: the sequence number of the newest of them), and
 * carried_granted, carried_debited, carried_refunded (what those entries
 * add up to, so that the ledger in Redis plus these equals granted,
 * debited and refunded).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_KEYS_H
#define RL_KEYS_H

#include <stddef.h>

/* Bytes of any key built below, NUL included: an idempotency record's
 * name holds the client's key (up to 255 characters). */
#define RL_KEY_MAX 320

/* Each writes the key into buf and returns 0, or -1 when it would not
 * fit (ids are validated before they reach here). */
int rl_keys_acct(char *buf, size_t len, const char *acct);
int rl_keys_job(char *buf, size_t len, const char *acct, const char *job);
int rl_keys_ledger(char *buf, size_t len, const char *acct);
int rl_keys_apikey(char *buf, size_t len, const char *key_hash_hex);
int rl_keys_idem(char *buf, size_t len, const char *acct, const char *idem);
int rl_keys_deliveries(char *buf, size_t len, const char *acct,
                       const char *job);
int rl_keys_dedup(char *buf, size_t len, const char *acct, const char *job,
                  const char *status);
int rl_keys_worker_jobs(char *buf, size_t len, const char *worker);
int rl_keys_acct_keys(char *buf, size_t len, const char *acct);
int rl_keys_acct_jobs(char *buf, size_t len, const char *acct);
int rl_keys_whfail(char *buf, size_t len, const char *acct);
int rl_keys_taskidx(char *buf, size_t len, const char *task);
int rl_keys_ref(char *buf, size_t len, const char *acct, const char *job);

/* Splits a ref "A|J" into its parts (copied). Returns 0 or -1. */
int rl_keys_parse_ref(const char *ref, char *acct, size_t acct_len, char *job,
                      size_t job_len);

#define RL_KEY_QUEUE "rl:queue"
#define RL_KEY_DISPATCHED "rl:dispatched"
#define RL_KEY_WORKERS "rl:workers"
#define RL_KEY_OUTBOX "rl:outbox"
#define RL_KEY_STATS "rl:stats"
#define RL_KEY_ACCOUNTS "rl:accounts"
#define RL_KEY_RENDER_AVG "rl:render_avg"
#define RL_KEY_LOCK_REAPER "rl:lock:reaper"
#define RL_KEY_FINISHED "rl:finished"
#define RL_KEY_RETAIN_LEDGER "rl:retain:ledger"
#define RL_KEY_LOCK_RETAIN "rl:lock:retain"

#endif
