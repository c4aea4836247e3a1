/*
 * rl_state_view - the typed calls of the reads an API key makes of its
 * own account's jobs: a job, a task of the task API, and a job's webhook
 * attempt log (rl_state.h has what they share). Each resolves the key to
 * its account first (rl_state_acct_chain), then sends its script with
 * every key built here and declared in KEYS; the script checks the key
 * record again. Each answers its callback once, unless it returns -1
 * (Redis not connected): then the callback is not called.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_VIEW_H
#define RL_STATE_VIEW_H

#include <stdbool.h>

#include "rl_redis.h"
#include "rl_state.h"

/* tag: OK (fields), UNAUTHORIZED, NOT_FOUND, FORBIDDEN (a task of
 * another account: task_get only), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;       /* the answer */
    const char *why;          /* BAD: what was wrong */
    rl_state_fields_t fields; /* OK: every field of the job */
} rl_state_job_reply_t;

typedef void (*rl_state_job_cb)(const rl_state_job_reply_t *rep, void *arg);

/* Job `job` of the account that owns the key whose SHA-256 (hex) is
 * key_hash (job_get.lua). */
int rl_state_view_job(rl_redis_t *r, const char *key_hash, const char *job,
                      rl_state_job_cb cb, void *arg);

/* Task `task` of the task API (task_get.lua): NOT_FOUND when no account
 * has it, FORBIDDEN when another one does. */
int rl_state_view_task(rl_redis_t *r, const char *key_hash, const char *task,
                       rl_state_job_cb cb, void *arg);

/* tag: OK (the rest), UNAUTHORIZED, NOT_FOUND, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;            /* the answer */
    const char *why;               /* BAD: what was wrong */
    const char *status;            /* OK: the job's status */
    const char *webhook_url;       /* its webhook URL ("" none) */
    const char *wh_state;          /* none|pending|delivered|failed */
    const redisReply *wh_attempts; /* the attempt count (a reply element) */
    const redisReply *attempts;    /* array: attempt JSON, oldest first */
} rl_state_deliveries_reply_t;

typedef void (*rl_state_deliveries_cb)(const rl_state_deliveries_reply_t *rep,
                                       void *arg);

/* Job `job`'s webhook state and attempt log (webhook_deliveries.lua). */
int rl_state_view_deliveries(rl_redis_t *r, const char *key_hash,
                             const char *job, rl_state_deliveries_cb cb,
                             void *arg);

/* Parsers of the replies above (the calls use them; unit tests too).
 * task: FORBIDDEN is an answer, not BAD. */
void rl_state_view_job_parse(const redisReply *r, bool task,
                             rl_state_job_reply_t *out);
void rl_state_view_deliveries_parse(const redisReply *r,
                                    rl_state_deliveries_reply_t *out);

#endif
