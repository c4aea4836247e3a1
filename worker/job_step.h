/*
 * job_step - a job's next step, decided: pure functions of the
 * provider's answer and what the job knows (its transient failures, the
 * next affordable model of its chain, how long its task has been
 * queued, its provider's settings). worker/job_run.c reads the facts,
 * asks, and acts; the decisions test without a loop, a provider or a
 * Redis (test_worker_job_step).
 *
 * The steps (job_step_action_t) and what job_run.c does for each:
 *
 *   ACCEPTED  record the upstream task, poll after delay_ms
 *   POLL      record phase, progress and ETA; poll after delay_ms
 *   BACKOFF   poll again after delay_ms (a transient failure)
 *   FETCH     fetch the task's result now (fal, MiniMax)
 *   COMPLETE  finish completed; billed the model that rendered it
 *             (job_step_billed), job_finish.lua refunds the difference
 *   FAILOVER  cancel the task (unless it ended FAILED), move to chain
 *             index `next`, submit there; `why` goes in the history
 *   FAIL      finish failed with `code` and `message`; job_finish.lua
 *             refunds the rest of what was charged
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_STEP_H
#define JOB_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "rl_config.h"

#define JOB_MAX_TRANSIENT 5 /* tolerated consecutive poll failures */
#define JOB_BACKOFF_CAP 4   /* backoff cap, in poll intervals */
/* ETA basis before a model has an average */
#define JOB_DEFAULT_RENDER_MS 60000
/* bytes of provider text a reason quotes */
#define JOB_STEP_CUT 180

typedef enum {
    JOB_STEP_ACCEPTED = 0,
    JOB_STEP_POLL,
    JOB_STEP_BACKOFF,
    JOB_STEP_FETCH,
    JOB_STEP_COMPLETE,
    JOB_STEP_FAILOVER,
    JOB_STEP_FAIL,
} job_step_action_t;

/* What the job knows, besides the answer. Borrowed strings. */
typedef struct {
    const char *provider;  /* the current provider's name */
    const char *base_url;  /* its base URL (a relative output URL) */
    long poll_interval_ms; /* its poll interval */
    long max_queue_ms;     /* its queue budget; 0: none */
    int transient;         /* consecutive transient poll failures */
    long next_model;       /* chain index of the next affordable model
                              (job_step_next_model), -1: none */
    int64_t queued_ms;     /* since the task's submit (or takeover),
                              -1: not submitted by this worker */
} job_step_in_t;

/* A decision. */
typedef struct {
    job_step_action_t action;
    long delay_ms;                 /* ACCEPTED, POLL, BACKOFF */
    long next;                     /* FAILOVER: the chain index to move to */
    int transient;                 /* the job's count after this answer */
    char why[ADAPTER_MSG_MAX];     /* FAILOVER: the reason */
    char code[ADAPTER_CODE_MAX];   /* FAIL: the error code */
    char message[ADAPTER_MSG_MAX]; /* FAIL: the error message */
} job_step_t;

/* The answer r to a submit:
 *
 *   r                                   -> step
 *   QUEUED with a task id               -> ACCEPTED after poll_interval
 *   CONTENT_REJECTED                    -> FAIL (r's message)
 *   anything else, a next model         -> FAILOVER "<error> at submit:
 *                                          <message>"
 *   anything else, none                 -> FAIL "no provider left: ..."
 */
void job_step_submit(const job_step_in_t *in, const adapter_result_t *r,
                     job_step_t *out);

/* Whether a submit answer counts for the provider's breaker as healthy:
 * it took the task (QUEUED), or refused this job for the job's own sake
 * (PERMANENT, CONTENT_REJECTED); a refusal of capacity, a rate limit or
 * a transient error is the provider's failure. */
bool job_step_healthy(const adapter_result_t *r);

/* The answer r to a poll (fetch false) or to a result fetch (true). r
 * is the job's to keep when the step is neither ACCEPTED nor POLL, and
 * may be rewritten first: a queue timeout becomes a CAPACITY error
 * "queue_timeout", a result fetch still pending a TRANSIENT "malformed"
 * error, a refused output URL a PERMANENT "bad_output_url" error, and a
 * relative output URL is made absolute under base_url.
 *
 *   r                                               -> step
 *   a poll's:
 *   QUEUED past max_queue_ms, a next model          -> FAILOVER capacity
 *   QUEUED or RUNNING                               -> POLL, transient 0
 *   FETCH                                           -> FETCH
 *   a poll's or a fetch's (a fetch's FETCH reads as ERROR TRANSIENT):
 *   SUCCEEDED, output URL good                      -> COMPLETE
 *   SUCCEEDED, output URL refused                   -> as an ERROR
 *                                                      PERMANENT below
 *   FAILED with CAPACITY or TRANSIENT               -> FAILOVER
 *                                                      "... mid-render"
 *                                                      (FAIL if none)
 *   FAILED otherwise                                -> FAIL
 *   ERROR (a fetch's QUEUED or RUNNING too)         -> job_step_trouble
 */
void job_step_poll(const job_step_in_t *in, adapter_result_t *r, bool fetch,
                   job_step_t *out);

/* A poll or fetch that failed without an answer about the task (r has
 * its error):
 *
 *   r's error                 transient+1         -> step
 *   PERMANENT                 any                 -> FAILOVER (or FAIL)
 *   CONTENT_REJECTED          any                 -> FAIL
 *   other                     > JOB_MAX_TRANSIENT -> FAILOVER "N
 *                                                   consecutive
 *                                                   transient poll
 *                                                   failures" (or FAIL)
 *   other                     n <= max            -> BACKOFF after
 *                                                   min(interval << n,
 *                                                   4 intervals),
 *                                                   stretched to
 *                                                   Retry-After up to
 *                                                   4 intervals
 */
void job_step_trouble(const job_step_in_t *in, const adapter_result_t *r,
                      job_step_t *out);

/* Away from the current model for `why`: FAILOVER to in->next_model, or
 * FAIL "no provider left: <why>" when there is none. r is the job's last
 * answer (its code goes into a FAIL's message). */
void job_step_failover(const job_step_in_t *in, const char *why,
                       const adapter_result_t *r, job_step_t *out);

/* FAIL for `why`: the code is our error class of r ("failed" when r has
 * none), and the message `why`, naming the provider and its own code
 * when r's code is not the class's name. */
void job_step_fail(const job_step_in_t *in, const char *why,
                   const adapter_result_t *r, job_step_t *out);

/* The chain index after idx of the first model whose price for
 * duration_s is no more than what was charged; -1 when none is. */
long job_step_next_model(const rl_config_t *cfg, const int *chain,
                         size_t nchain, size_t idx, int duration_s,
                         long charged);

/* The credits a completed job is billed: the price of the model that
 * rendered it, or what was charged when that model has no price for the
 * duration (then nothing is refunded). */
long job_step_billed(long price, long charged);

/* Phase, progress and ETA a poll's answer r (QUEUED or RUNNING) shows:
 * QUEUED is "Queued", 0 %, the expected render time; RUNNING takes the
 * provider's progress, or the share of expected_ms run since
 * running_ms, at most 99 %, and the ETA from the pace so far. */
typedef struct {
    const char *phase; /* "Queued", "Preparing" (< 15 %), "Rendering"
                          (< 85 %), "Encoding" (< 95 %), "Finishing" */
    int progress;      /* 0..99 */
    long eta_s;        /* >= 0 */
} job_step_progress_t;

/* ran_ms: since the job was first seen running (RUNNING only);
 * expected_ms: the model's average render time, <= 0 unknown
 * (JOB_DEFAULT_RENDER_MS). */
job_step_progress_t job_step_progress(const adapter_result_t *r, int64_t ran_ms,
                                      long expected_ms);

#endif
