/*
 * job_internal - the job struct and job.c's functions on it (memory,
 * timer, Redis writes), for the job modules above it: job_run.c
 * (provider calls) and job_claim.c (the claim). Not for other modules.
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_INTERNAL_H
#define JOB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter.h"
#include "job.h"

#define JOB_NUM_LEN 24   /* a decimal long long, its sign, NUL */
#define JOB_RETRY_MS 500 /* retry of a write whose outcome is unknown */
#define JOB_MAX_WRITE_RETRIES 20
#define JOB_PHASE_MAX 16

/* The states of job.h's diagram. job_enter() asserts every transition
 * against this table (from -> to):
 *
 *   CLAIMING   -> RECORDING, SUBMITTING (the claim recorded the intent),
 *                 WAITING (resumed), FINISHING, DEAD
 *   RECORDING  -> SUBMITTING, FINISHING, DEAD
 *   SUBMITTING -> WAITING, RECORDING (failover), FINISHING, DEAD
 *   WAITING    -> POLLING, SUBMITTING (a submit not sent), FINISHING,
 *                 DEAD
 *   POLLING    -> WAITING, RECORDING (failover), FINISHING, DEAD
 *   FINISHING  -> DEAD
 *   DEAD       -> (none)
 */
typedef enum {
    JOB_CLAIMING = 0,
    JOB_RECORDING, /* the submit intent is being written */
    JOB_SUBMITTING,
    JOB_WAITING,
    JOB_POLLING,
    JOB_FINISHING,
    JOB_DEAD, /* ended; memory freed when the last ref goes */
} job_state_t;

/* Kept small: a worker holds up to 10^5-10^6 of them. Everything only a
 * finishing or troubled job needs (the provider's last answer) is
 * allocated while it is needed, and the ids live in names[]. */
struct job {
    TAILQ_ENTRY(job) link;
    worker_t *w;
    int refs; /* pending callbacks + 1 while alive */
    job_state_t state;
    const char *acct;      /* in names[] */
    const char *id;        /* in names[] */
    const char *ref;       /* "acct|id", in names[] */
    char fence[24];        /* token of our claim */
    char *prompt;          /* owned */
    char *negative_prompt; /* owned, NULL when none */
    char *image_url;       /* owned, NULL when none */
    char *key_hash;        /* the API key it was submitted with (its
                              record signs the webhook); owned, NULL
                              until the claim's reply is loaded */
    char aspect[16];
    int duration_s;
    long charged;                       /* credits debited at submit */
    int chain[RL_CONFIG_MAX_CHAIN + 1]; /* model indexes, requested first */
    size_t nchain;
    size_t chain_idx;     /* the model rendering it now */
    int attempt;          /* submits made, all providers */
    bool claiming;        /* counted in w->claiming: its claim
                             is not answered yet */
    bool claim_intent;    /* the claim recorded `attempt` as
                             the intent of the first submit */
    bool restate;         /* writes restate attempt, task,
                             chain index and provider: Redis
                             may not hold them yet */
    bool restate_changed; /* one changed since the last write
                             that restated them was sent */
    uint16_t restating;   /* such writes in the air */
    char *task_id;        /* upstream task, "" before submit;
                             owned, NULL until the claim's
                             reply is loaded */
    int transient;        /* consecutive transient failures */
    int retries;          /* of a write with unknown outcome */
    bool failover_used;
    int64_t created_ms;        /* accepted (epoch ms) */
    int64_t deadline_ms;       /* maximum wait (epoch ms) */
    int64_t running_ms;        /* first seen rendering (epoch ms) */
    int64_t submitted_ms;      /* the current task's submit (epoch
                                  ms; on a takeover, the claim) */
    int64_t poll_due_us;       /* scheduled poll (monotonic us) */
    const char *outcome;       /* "completed" | "failed" once final */
    char phase[JOB_PHASE_MAX]; /* last recorded phase */
    int progress;              /* last recorded progress */
    struct event *timer;       /* next poll or retry, or the
                                  maximum wait when that is sooner */
    void (*recorded)(job_t *); /* runs once job_record() landed */
    rl_http_req_t *req;        /* request in the air, or NULL */
    adapter_result_t *last;    /* the provider answer a failure,
                                  failover or finish works from;
                                  NULL while polling goes well */
    char names[];              /* "acct|id\0acct\0id\0" */
};

/* A new job of acct/job_id (ref: their rl_keys_ref) in CLAIMING, counted
 * in flight and as a claim not answered yet, with its "alive" reference.
 * Precondition: !job_held(w, ref). */
job_t *job_new(worker_t *w, const char *acct, const char *job_id,
               const char *ref);

/* Whether a live job (not DEAD) of ref is in memory. */
bool job_held(worker_t *w, const char *ref);

/* Moves j to state `to`, asserting the transition (see the table). */
void job_enter(job_t *j, job_state_t to);

/* The claim of j is answered: one claim less in the window
 * (on.capacity). Idempotent. */
void job_claim_over(job_t *j);

/* Ends j here without a word (nothing more is sent for it); its memory
 * goes with its last reference. */
void job_kill(job_t *j);

/* The provider answer j works from (allocated on first use, zeroed). */
adapter_result_t *job_result(job_t *j);

/* Keeps a copy of r as j's answer (r may be it already). */
void job_result_keep(job_t *j, const adapter_result_t *r);

/* Frees j's answer: polling goes well. */
void job_result_forget(job_t *j);

/* Sets the upstream task ("" or NULL: none) and marks it changed. */
void job_set_task(job_t *j, const char *task_id);

/* The attempt, the upstream task or the chain index changed: writes
 * restate them until one that carried the new values is confirmed. */
void job_changed(job_t *j);

/* Whether j is past its maximum wait; if so it is failed now (timeout)
 * and the caller must not act on it further. */
bool job_past_deadline(job_t *j);

/* One more / one less reference (a callback pending); the last one
 * frees j. */
void job_ref(job_t *j);
void job_unref(job_t *j);

/* Kills j, logged and counted as dropped (stats.dropped), and hands its
 * ref back through the lease (lease_release) in case Redis still has it
 * leased to us. */
void job_drop(job_t *j, const char *why);

/* Arms j's one timer: fn(j) after ms, or the timeout when the maximum
 * wait comes first (not while FINISHING). */
void job_set_timer(job_t *j, long ms, void (*fn)(int, short, void *));

/* A fenced job_update.lua of kv (nkv entries) and a history entry
 * (history_json, or NULL), restating the fields when they changed; a
 * "stale" answer drops j. Outcome unknown: left to the next write. */
void job_update(job_t *j, const char *history_json, const char **kv, int nkv);

/* The submit intent: a fenced write of the restated fields, failover_used
 * and phase, retried until its outcome is known; then(j) runs once it
 * landed. history_json (or NULL) goes with the first send only: a retry
 * after an unknown outcome must not append it twice. Enters RECORDING. */
void job_record(job_t *j, const char *history_json, void (*then)(job_t *));

/* The terminal write (job_finish.lua, retried until its outcome is
 * known) of status "completed" (j's answer has the output URL) or
 * "failed" (reason the message), then the COMPLETION push and the end
 * of j. Enters FINISHING; nothing while FINISHING or DEAD. */
void job_finish(job_t *j, const char *status, const char *reason);

/* The model rendering j now, and its provider. */
const rl_model_conf_t *job_model(const job_t *j);
const rl_provider_conf_t *job_provider(const job_t *j);

#endif
