/*
 * rl_keys - the Redis key layout, in one place.
 *
 * Partitions. The state is split into RL_PARTITIONS partitions, each
 * with a hash tag of its own ({p0-0}, {p1-3}, ...: rl_keys_tag), so
 * that every key of a partition lands in one Redis Cluster hash slot and
 * every script, which touches the keys of one partition only, runs on
 * one node. An account belongs to partition rl_keys_partition(id)
 * (the top bits of FNV-1a of the id, mixed); all its keys, its jobs' keys,
 * and the queue, outbox, leases and counters its jobs pass through carry
 * that partition's tag. Ids that name a key on their own are drawn so
 * that their hash lands in their account's partition: an API key's hash
 * (so a request's key record is found from the key alone) and a task
 * API job id (so recordInfo finds its index entry from the task id).
 * Each tag was chosen so that partition i hashes to a slot in the i-th
 * sixteenth of the 16384 slots: split the slots evenly over 2, 4, 8 or
 * 16 masters and they share the partitions evenly (3 masters: 5/6/5).
 * The broker, workers, reaper and deliverers serve every partition.
 * Changing RL_PARTITIONS or a tag moves every key: it is fixed.
 *
 * A job is referred to across processes by its ref "A|J" (account id,
 * job id); its partition is its account's. In the names below {P} is the
 * partition's tag ({p3-12}); A an account id, J a job id.
 *
 *   rl:key:{P}:<sha256hex(key)>   hash  acct, id, prefix, sealed (the key
 *                                       under AES-256-GCM, for signing),
 *                                       created_at, revoked_at, tokens, at
 *                                       (rate-limit bucket); P: of the hash
 *   rl:keys:{P}:A                 hash  key id -> key hash
 *   rl:acct:{P}:A                 hash  credits, granted, debited,
 *                                       refunded, jobs, jobs_completed,
 *                                       jobs_failed, active_jobs,
 *                                       created_at, updated_at, wh_*
 *                                       (webhook settings, webhook.h)
 *   rl:accounts:{P}               set   every account id of the partition
 *   rl:jobs:{P}:A                 zset  job id -> created_at
 *   rl:taskidx:{P}:<task id>      string owning account (task API: 403 vs
 *                                       404); P: of the task id
 *   rl:render_avg:{P}             hash  model -> running average render ms
 *                                       of the partition's jobs
 *   rl:job:{P}:A:J                hash  every field of the job (below)
 *   rl:ledger:{P}:A               list  JSON entries, newest first
 *   rl:idem:{P}:A:<key>           string JSON {h: body sha256, r: 202 body}
 *   rl:dlv:{P}:A:J                list  JSON delivery attempts, oldest first
 *   rl:dedup:{P}:A:J:<status>     string "sending:<token>" | "delivered"
 *   rl:whfail:{P}:A               zset  job id -> time its delivery failed
 *                                       for good (kept for the dedup
 *                                       window)
 *   rl:queue:{P}                  list  refs waiting for dispatch
 *   rl:dispatched:{P}             zset  ref -> claim deadline (ms)
 *   rl:workers:{P}                zset  worker id -> lease expiry (ms): a
 *                                       worker holds one lease per
 *                                       partition
 *   rl:wjobs:{P}:<worker id>      set   refs of the partition leased by
 *                                       that worker
 *   rl:outbox:{P}                 zset  ref -> next delivery due (ms)
 *   rl:stats:{P}                  hash  the partition's counters (a total
 *                                       is the sum over partitions)
 *   rl:lock:reaper:{P}            string holder id: one reaper sweeps a
 *                                       partition per period
 *   rl:provider_health            hash  provider -> last health check JSON
 *   rl:lock:health                string holder id: one health check per
 *                                       period (these two are touched
 *                                       alone, by plain commands)
 *   rl:finished:{P}               zset  ref -> when its retention counts
 *                                       from (ms): the job's finish,
 *                                       written by the terminal write;
 *                                       moved on while the job is busy
 *                                       (its webhook pending), so the
 *                                       retention step looks again later
 *   rl:retain:ledger:{P}          set   account ids whose ledger may
 *                                       hold entries to archive (their
 *                                       jobs were removed)
 *   rl:lock:retain:{P}            string holder id (one retention step
 *                                       of the partition at a time,
 *                                       renewed by each of its scripts)
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
 * ledger_archived (entries moved from the tail of rl:ledger:{P}:A to the
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

/* The number of partitions (fixed: see above). */
#define RL_PARTITION_BITS 4
#define RL_PARTITIONS (1 << RL_PARTITION_BITS)

/* The partition of an account id, an API key's hash (hex) or a task id:
 * the top RL_PARTITION_BITS bits of FNV-1a (32 bits) of its bytes,
 * mixed by murmur3's finaliser. */
int rl_keys_partition(const char *name);

/* The partition of a ref "A|J" (its account's), or -1 when malformed. */
int rl_keys_ref_partition(const char *ref);

/* The hash tag of partition p (0 <= p < RL_PARTITIONS), without braces,
 * and the Redis Cluster slot it hashes to. */
const char *rl_keys_tag(int p);
int rl_keys_tag_slot(int p);

/* Each writes the key into buf and returns 0, or -1 when it would not
 * fit or p is out of range (ids are validated before they reach here).
 * Account and job keys take their partition from the account id, an API
 * key record and a task index entry from the hash or the task id. */
int rl_keys_acct(char *buf, size_t len, const char *acct);
int rl_keys_job(char *buf, size_t len, const char *acct, const char *job);
int rl_keys_ledger(char *buf, size_t len, const char *acct);
int rl_keys_apikey(char *buf, size_t len, const char *key_hash_hex);
int rl_keys_idem(char *buf, size_t len, const char *acct, const char *idem);
int rl_keys_deliveries(char *buf, size_t len, const char *acct,
                       const char *job);
int rl_keys_dedup(char *buf, size_t len, const char *acct, const char *job,
                  const char *status);
int rl_keys_acct_keys(char *buf, size_t len, const char *acct);
int rl_keys_acct_jobs(char *buf, size_t len, const char *acct);
int rl_keys_whfail(char *buf, size_t len, const char *acct);
int rl_keys_taskidx(char *buf, size_t len, const char *task);

/* The keys of partition p. */
int rl_keys_queue(char *buf, size_t len, int p);
int rl_keys_dispatched(char *buf, size_t len, int p);
int rl_keys_workers(char *buf, size_t len, int p);
int rl_keys_worker_jobs(char *buf, size_t len, int p, const char *worker);
int rl_keys_outbox(char *buf, size_t len, int p);
int rl_keys_stats(char *buf, size_t len, int p);
int rl_keys_render_avg(char *buf, size_t len, int p);
int rl_keys_accounts(char *buf, size_t len, int p);
int rl_keys_reaper_lock(char *buf, size_t len, int p);
int rl_keys_finished(char *buf, size_t len, int p);
int rl_keys_retain_ledger(char *buf, size_t len, int p);
int rl_keys_retain_lock(char *buf, size_t len, int p);

int rl_keys_ref(char *buf, size_t len, const char *acct, const char *job);

/* Splits a ref "A|J" into its parts (copied). Returns 0 or -1. */
int rl_keys_parse_ref(const char *ref, char *acct, size_t acct_len, char *job,
                      size_t job_len);

/* Rewrites the last character of id (base62, as rl_random_id draws) so
 * that rl_keys_partition(id) is p, trying each of the 62 in turn from
 * the one drawn. Returns 0, or -1 when none does (about one id in 55:
 * draw another) or id is empty. */
int rl_keys_steer_id(char *id, int p);

#define RL_KEY_PROVIDER_HEALTH "rl:provider_health"
#define RL_KEY_LOCK_HEALTH "rl:lock:health"

#endif
