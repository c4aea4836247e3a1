/*
 * job_internal - the job struct and the functions job.c (lifecycle,
 * Redis writes) and job_run.c (provider calls, failover, phases) share.
 * Not for other modules.
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_INTERNAL_H
#define JOB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter.h"
#include "job.h"

#define JOB_MAX_TRANSIENT 5      /* tolerated consecutive poll failures */
#define JOB_BACKOFF_CAP 4        /* backoff cap, in poll intervals */
#define JOB_RETRY_MS 500         /* retry of a write whose outcome is unknown */
#define JOB_MAX_WRITE_RETRIES 20
#define JOB_PHASE_MAX 16

typedef enum {
    JOB_CLAIMING = 0,
    JOB_RECORDING,       /* the submit intent is being written */
    JOB_SUBMITTING,
    JOB_WAITING,
    JOB_POLLING,
    JOB_FINISHING,
    JOB_DEAD,            /* ended; memory freed when the last ref goes */
} job_state_t;

/* Kept small: a worker holds up to 10^5-10^6 of them. Everything only a
 * finishing or troubled job needs (the provider's last answer) is
 * allocated while it is needed, and the ids live in names[]. */
struct job {
    TAILQ_ENTRY(job) link;
    worker_t *w;
    int refs;                        /* pending callbacks + 1 while alive */
    job_state_t state;
    const char *acct;                /* in names[] */
    const char *id;                  /* in names[] */
    const char *ref;                 /* "acct|id", in names[] */
    char fence[24];                  /* token of our claim */
    char *prompt;                    /* owned */
    char *negative_prompt;           /* owned, NULL when none */
    char *image_url;                 /* owned, NULL when none */
    char aspect[16];
    int duration_s;
    long charged;                    /* credits debited at submit */
    int chain[RL_CONFIG_MAX_CHAIN + 1]; /* model indexes, requested first */
    size_t nchain;
    size_t chain_idx;                /* the model rendering it now */
    int attempt;                     /* submits made, all providers */
    bool claiming;                   /* counted in w->claiming: its claim
                                        is not answered yet */
    bool claim_intent;               /* the claim recorded `attempt` as
                                        the intent of the first submit */
    bool restate;                    /* writes restate attempt, task,
                                        chain index and provider: Redis
                                        may not hold them yet */
    bool restate_changed;            /* one changed since the last write
                                        that restated them was sent */
    uint16_t restating;              /* such writes in the air */
    char *task_id;                   /* upstream task, "" before submit;
                                        owned, NULL until the claim's
                                        reply is loaded */
    int transient;                   /* consecutive transient failures */
    int retries;                     /* of a write with unknown outcome */
    bool failover_used;
    int64_t created_ms;              /* accepted (epoch ms) */
    int64_t deadline_ms;             /* maximum wait (epoch ms) */
    int64_t running_ms;              /* first seen rendering (epoch ms) */
    int64_t submitted_ms;            /* the current task's submit (epoch
                                        ms; on a takeover, the claim) */
    int64_t poll_due_us;             /* scheduled poll (monotonic us) */
    const char *outcome;             /* "completed" | "failed" once final */
    char phase[JOB_PHASE_MAX];       /* last recorded phase */
    int progress;                    /* last recorded progress */
    struct event *timer;             /* next poll or retry, or the
                                        maximum wait when that is sooner */
    void (*recorded)(job_t *);       /* runs once job_record() landed */
    rl_http_req_t *req;              /* request in the air, or NULL */
    adapter_result_t *last;          /* the provider answer a failure,
                                        failover or finish works from;
                                        NULL while polling goes well */
    char names[];                    /* "acct|id\0acct\0id\0" */
};

/* job.c */
adapter_result_t *job_result(job_t *j);
void job_result_keep(job_t *j, const adapter_result_t *r);
void job_result_forget(job_t *j);
void job_set_task(job_t *j, const char *task_id);
void job_changed(job_t *j);
bool job_past_deadline(job_t *j);
void job_ref(job_t *j);
void job_unref(job_t *j);
void job_drop(job_t *j, const char *why);
void job_set_timer(job_t *j, long ms, void (*fn)(int, short, void *));
void job_update(job_t *j, const char *history_json, const char **kv,
                int nkv);
/* The submit intent: a fenced write of the restated fields, failover_used
 * and phase, retried until its outcome is known; then(j) runs once it
 * landed. history_json (or NULL) goes with the first send only: a retry
 * after an unknown outcome must not append it twice. */
void job_record(job_t *j, const char *history_json, void (*then)(job_t *));
void job_finish(job_t *j, const char *status, const char *reason);
const rl_model_conf_t *job_model(const job_t *j);
const rl_provider_conf_t *job_provider(const job_t *j);

/* job_run.c */
void job_run_start(job_t *j);
void job_run_cancel_upstream(job_t *j);

#endif
