/*
 * rl_state_job - the typed calls of a job's own scripts: the worker's
 * claim, its fenced updates and its terminal write (rl_state.h has what
 * they share). Each function builds every key its script touches
 * (rl_keys.h), declares them in KEYS, and answers its callback once with
 * the parsed reply, unless it returns -1 (Redis not connected, or a key
 * that does not fit): then the callback is not called.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_JOB_H
#define RL_STATE_JOB_H

#include <stdbool.h>

#include "rl_fmt.h"
#include "rl_redis.h"
#include "rl_state.h"

/* The fenced write of job fields by the worker holding the job
 * (job_update.lua). */
typedef struct {
    const char *acct;    /* the job's account id */
    const char *job;     /* its id */
    const char *fence;   /* the token of the worker's claim */
    const char *history; /* a history entry's JSON, NULL for none */
    const char **kv;     /* field, value, ... (borrowed) */
    int nkv;             /* strings in kv (twice the pairs) */
} rl_state_update_args_t;

/* tag: OK, STALE (the fence moved on), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
} rl_state_update_reply_t;

typedef void (*rl_state_update_cb)(const rl_state_update_reply_t *rep,
                                   void *arg);

int rl_state_job_update(rl_redis_t *r, const rl_state_update_args_t *a,
                        rl_state_update_cb cb, void *arg);

/* The claim of a dispatched job under a new fencing token (claim.lua). */
typedef struct {
    const char *acct;   /* the job's account id */
    const char *job;    /* its id */
    const char *worker; /* the claiming owner id */
    bool retry;         /* a claim of ours may have run already (the
                           reply to it was lost) */
} rl_state_claim_args_t;

/* tag: OK, REFUSED (why: queued elsewhere, missing, expired, no_lease,
 * ...), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;             /* the answer */
    const char *why;                /* REFUSED: the reason; BAD */
    const char *fence;              /* OK: the new token (text) */
    rl_state_fields_t fields;       /* OK: every field of the job, then
                                       claim_intent ("1" | "0") */
    char fence_buf[RL_FMT_DEC_LEN]; /* fence's text, when a number */
} rl_state_claim_reply_t;

typedef void (*rl_state_claim_cb)(const rl_state_claim_reply_t *rep, void *arg);

int rl_state_job_claim(rl_redis_t *r, const rl_state_claim_args_t *a,
                       rl_state_claim_cb cb, void *arg);

/* The terminal write of a job, with its refund and outbox entry
 * (job_finish.lua). Fenced; the same write again under the same fence
 * answers as the first. */
typedef struct {
    const char *acct;     /* the job's account id */
    const char *job;      /* its id */
    const char *key_hash; /* the API key it was submitted with */
    const char *worker;   /* the owner id that holds it */
    const char *fence;    /* the token of that claim */
    bool completed;       /* completed, else failed */
    const char *reason;   /* the history entry's reason */
    long long billed;     /* the price of the model that rendered it */
    const char **kv;      /* field, value, ... to set (borrowed) */
    int nkv;              /* strings in kv */
} rl_state_finish_args_t;

/* tag: OK, STALE, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;       /* the answer */
    const char *why;          /* BAD: what was wrong */
    const char *sealed;       /* OK: the sealed signing key ("" none) */
    rl_state_fields_t fields; /* OK: every field of the job, then the
                                 account's webhook settings, "acct:" */
} rl_state_finish_reply_t;

typedef void (*rl_state_finish_cb)(const rl_state_finish_reply_t *rep,
                                   void *arg);

int rl_state_job_finish(rl_redis_t *r, const rl_state_finish_args_t *a,
                        rl_state_finish_cb cb, void *arg);

/* The accept of a new job (accept.lua): the key checked again, an
 * idempotent replay, the rate limit, the balance and the active-job
 * limit, then the debit, the job, its ledger entry and its place in the
 * queue, all or nothing. acct is what rl_state_acct_resolve() found for
 * key_hash. */
typedef struct {
    const char *key_hash;  /* SHA-256 (hex) of the API key */
    const char *acct;      /* its account */
    const char *job;       /* the new job's id ("task_..." for a task) */
    const char *idem;      /* idempotency key, "" for none */
    const char *body_hash; /* SHA-256 of the body (replays compare it) */
    const char *body202;   /* the 202 body kept for replays */
    long long price;       /* credits debited */
    long long created_ms;  /* epoch ms */
    long long idem_ttl_s;  /* how long the idempotency record lives */
    long long rate_per_s;  /* the key's rate limit, 0 for none */
    long long burst;       /* its bucket */
    long long max_active;  /* most active jobs per account, 0 none */
    const char **kv;       /* the job's fields: field, value, ... */
    int nkv;               /* strings in kv */
} rl_state_accept_args_t;

/* tag: OK, REPLAY (job, body), UNAUTHORIZED, RATE_LIMITED (wait_ms),
 * CREDITS (balance, price), CONCURRENCY (limit, active),
 * IDEM_CONFLICT, COLLISION, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    const char *job;    /* REPLAY: the job first accepted */
    const char *body;   /* REPLAY: its 202 body */
    long long a;        /* RATE_LIMITED: wait ms; CREDITS: balance;
                           CONCURRENCY: limit */
    long long b;        /* CREDITS: price; CONCURRENCY: active */
} rl_state_accept_reply_t;

typedef void (*rl_state_accept_cb)(const rl_state_accept_reply_t *rep,
                                   void *arg);

int rl_state_job_accept(rl_redis_t *r, const rl_state_accept_args_t *a,
                        rl_state_accept_cb cb, void *arg);

/* Parsers of the replies above (the calls use them; unit tests too). */
void rl_state_job_update_parse(const redisReply *r,
                               rl_state_update_reply_t *out);
void rl_state_job_claim_parse(const redisReply *r, rl_state_claim_reply_t *out);
void rl_state_job_finish_parse(const redisReply *r,
                               rl_state_finish_reply_t *out);
void rl_state_job_accept_parse(const redisReply *r,
                               rl_state_accept_reply_t *out);

#endif
