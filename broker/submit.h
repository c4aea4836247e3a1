/*
 * submit - accepting one job, shared by the HTTP API and the ZeroMQ
 * ingress: validate, price, then one Lua script (accept.lua) checks the
 * key, the idempotency key and the balance, debits, persists and queues
 * the job. The answer is produced only after Redis answered, so a 202 is
 * never given for a job that is not stored.
 * SPDX-License-Identifier: MIT
 */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <stddef.h>

#include "api_error.h"
#include "broker.h"
#include "validate.h"

#define SUBMIT_MAX_IDEM_KEY 255
#define SUBMIT_IDEM_TTL_S 86400
/* Retry-After of a 429 for [limits] max_active_jobs: a slot frees when a
 * job ends, which takes minutes at real providers; a few seconds keeps a
 * client that obeys the header from asking every second for minutes. */
#define SUBMIT_CONCURRENCY_RETRY_S 5

/* The outcome of a submission, borrowed for the callback. */
typedef struct {
    int status;               /* HTTP status of the /v1 API */
    const char *body;         /* its JSON body (202 job object or error) */
    const char *job_id;       /* for a 202, else NULL */
    const api_error_t *error; /* for an error, else NULL */
    long balance;             /* 402: the balance */
    long price;               /* 402: what the job costs */
    long limit;               /* 429 concurrency: [limits] max_active_jobs */
    long active;              /* 429 concurrency: the account's active jobs */
    int retry_after_s;        /* > 0: the Retry-After to send */
} submit_result_t;

typedef void (*submit_cb)(const submit_result_t *res, void *arg);

/* Which front door a job came through. */
typedef struct {
    const char *id_prefix;  /* "vgen_" or "task_" */
    const char *api;        /* stored as the job's api field: v1 | kinovi */
    const char *resolution; /* output resolution, NULL = provider default */
} submit_opts_t;

typedef struct submit_req submit_req_t;

/* Starts accepting a /v1 job from its JSON body. cb is called exactly
 * once, possibly before this returns (validation errors, Redis down),
 * unless submit_abandon() is called first. api_key may be NULL (401),
 * idem_key NULL or "" (none). Returns the request handle while it waits
 * for Redis, else NULL. */
submit_req_t *submit_start(broker_t *b, const char *api_key,
                           const char *idem_key, const char *body, size_t len,
                           submit_cb cb, void *arg);

/* Starts accepting an already validated submission s (not taken over:
 * the caller releases it) through front door opts. body/len is what the
 * idempotency key is bound to. Same contract as submit_start. */
submit_req_t *submit_accept(broker_t *b, const char *api_key,
                            const char *idem_key, const char *body, size_t len,
                            const submission_t *s, const submit_opts_t *opts,
                            submit_cb cb, void *arg);

/* The client went away: the job is still accepted (or not) but cb will
 * not be called. */
void submit_abandon(submit_req_t *r);

#endif
