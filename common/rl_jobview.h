/*
 * rl_jobview - a job's public JSON faces, built from its stored fields.
 *
 * The broker (202 answer, GET) and the deliverer (webhook body) render a
 * job from the same field/value pairs, whether they came from Redis
 * (HGETALL), from a COMPLETION message, or from a submission in flight,
 * so the three can never disagree. Field names are listed in rl_keys.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_JOBVIEW_H
#define RL_JOBVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Borrowed field/value pairs: kv[2*i] is a name, kv[2*i+1] its value.
 * Either may be NULL (a reply element that was not a string): a pair
 * without a name is skipped, a NULL value reads as an absent field. */
typedef struct {
    const char *const *kv;
    size_t npairs;
} rl_jobview_src_t;

/* The value of `field`, or NULL. */
const char *rl_jobview_get(const rl_jobview_src_t *src, const char *field);

/* A stored decimal field as a number: 0 when v is NULL, empty or not
 * wholly a decimal integer (every reader of job and account fields). */
long long rl_jobview_num(const char *v);

/* rl_jobview_num of the value of `field`. */
long long rl_jobview_get_num(const rl_jobview_src_t *src, const char *field);

/* A time kept in stored JSON (a history entry, a ledger entry) in ms:
 * an integer as it is, a real (Lua's cjson may write one) when it fits
 * an int64_t, else 0 (and 0 for anything that is not a number). */
int64_t rl_jobview_json_ms(const json_t *v);

/* The credits a job keeps: its "credits" less its "credits_refunded"
 * (0 when the difference of two such numbers would overflow). */
long long rl_jobview_charged(const rl_jobview_src_t *src);

/* A stored epoch-ms time as JSON: its ISO 8601 text, or null when ms <= 0.
 * Returns a new reference (caller owns). */
json_t *rl_jobview_time(long long ms);

/* The job object of GET /v1/video/generations/{id} and of the 202
 * answer: the webhook's fields plus phase, ETA, elapsed time, last poll and
 * the status history, and once its webhook is queued "webhook": {state
 * (pending|delivered|failed), attempts, last_attempt_at[,
 * next_attempt_at while pending]}. now_ms is the time elapsed is measured
 * against for a job still running. Returns a new reference (caller
 * owns). */
json_t *rl_jobview_api(const rl_jobview_src_t *src, int64_t now_ms);

/* The webhook body of a terminal job: the contract's fields in order
 * (id, object, status, model, prompt, output_url, credits, failover_used,
 * completed_at), then error context, elapsed time and status history.
 * Returns a new reference (caller owns). */
json_t *rl_jobview_webhook(const rl_jobview_src_t *src);

/* The job fields the webhook bodies (rl_jobview_webhook and the task
 * API's rl_taskview_callback) and their headers are rendered from: what a
 * worker's COMPLETION message carries and what a deliverer's outbox
 * claim reads. A NULL-terminated static list; *n (may be NULL) gets its
 * length. A field a webhook renderer starts to read belongs here. */
const char *const *rl_jobview_webhook_fields(size_t *n);

/* The event name of a terminal status: "video.generation.completed" or
 * "video.generation.failed". */
const char *rl_jobview_event(const char *status);

/* One entry of a job's status history as the scripts store it (the
 * field "history": a JSON array of them, rendered by rl_jobview_api and
 * rl_jobview_webhook): {"status", "phase", "at", "reason"}. Every C
 * writer of an entry builds it here (broker/submit.c for the first one,
 * worker/job_run.c for those job_update.lua appends); the scripts'
 * own entries are written by _lib.lua's history_append. Borrowed
 * strings. */
typedef struct {
    const char *status; /* "pending", "processing", ...: ours */
    const char *phase;  /* "Queued", "Rendering", ...: ours; NULL: none */
    int64_t at_ms;      /* epoch ms; <= 0: none (job_update.lua stamps
                           the entry with Redis's clock) */
    const char *reason; /* NULL: none. May quote outside text (a
                           provider's message): made valid UTF-8 with no
                           control characters (rl_text_safe), cut at
                           RL_JOBVIEW_REASON_MAX bytes */
    bool reason_cut;    /* the caller cut reason short (a full buffer):
                           an incomplete character at its end is dropped
                           instead of escaped */
} rl_jobview_entry_t;

#define RL_JOBVIEW_REASON_MAX 512 /* bytes of an entry's reason */
/* A buffer for rl_jobview_entry_text() that always fits an entry whose
 * status and phase are at most 32 bytes (every escaped byte of the
 * reason takes at most two). */
#define RL_JOBVIEW_ENTRY_MAX (2 * RL_JOBVIEW_REASON_MAX + 256)

/* The entry as a JSON object. Returns a new reference (caller owns). */
json_t *rl_jobview_entry(const rl_jobview_entry_t *e);

/* The entry's compact JSON text in buf (size bytes), or, when list, the
 * text of a history holding it alone ("[{...}]"). Returns 0, or -1 when
 * it does not fit (buf is then ""). */
int rl_jobview_entry_text(char *buf, size_t size, bool list,
                          const rl_jobview_entry_t *e);

#endif
