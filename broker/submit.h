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

#include "broker.h"

#define SUBMIT_MAX_IDEM_KEY 255
#define SUBMIT_IDEM_TTL_S 86400

/* The answer: HTTP status, JSON body (borrowed for the call), and the
 * job id for a 202 (else NULL). */
typedef void (*submit_cb)(int status, const char *body, const char *job_id,
                          void *arg);

typedef struct submit_req submit_req_t;

/* Starts accepting a job. cb is called exactly once, possibly before this
 * returns (validation errors, Redis down), unless submit_abandon() is
 * called first. api_key may be NULL (401), idem_key NULL or "" (none).
 * Returns the request handle while it waits for Redis, else NULL. */
submit_req_t *submit_start(broker_t *b, const char *api_key,
                           const char *idem_key, const char *body,
                           size_t len, submit_cb cb, void *arg);

/* The client went away: the job is still accepted (or not) but cb will
 * not be called. */
void submit_abandon(submit_req_t *r);

#endif
