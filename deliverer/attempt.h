/*
 * attempt - the webhook attempts in the air: one signed POST each
 * (webhook.c) whose connect the SSRF guard judges (egress.c), its result
 * classified (classify.c) on the account's retry schedule (schedule.c)
 * and written up as the attempt record that outbox_done stores.
 *
 * Lifetime: attempt_start() takes a delivery; exactly one done callback
 * follows from the loop (never from inside attempt_start), handing the
 * delivery back, unless the set is destroyed first, which frees it.
 * SPDX-License-Identifier: MIT
 */
#ifndef ATTEMPT_H
#define ATTEMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "delivery.h"
#include "egress.h"
#include "rl_config.h"
#include "rl_crypto.h"
#include "rl_http.h"

#define ATTEMPT_RESPONSE_MAX 1024 /* bytes of the response body recorded */

struct event_base;
typedef struct attempt_set attempt_set_t;

/* What one attempt came to; borrowed, valid during the callback. */
typedef struct {
    classify_decision_t decision; /* delivered / retry (+delay) / failed */
    long status;                  /* HTTP status, 0 when none */
    const char *error;            /* transport error text, or NULL */
    const char *record;           /* the attempt JSON */
    long latency_ms;              /* request duration */
} attempt_result_t;

/* Receives the delivery back (caller owns it from then on). */
typedef void (*attempt_done_cb)(delivery_t *d, const attempt_result_t *res,
                                void *arg);

/* The fields of one attempt record. */
typedef struct {
    int attempt;                /* 1-based */
    int64_t at_ms;              /* epoch ms when it started */
    const char *url;            /* the webhook URL */
    long status;                /* HTTP status or 0 */
    const char *error;          /* error text or NULL */
    long latency_ms;            /* duration */
    const char *response;       /* response body excerpt (may be binary) */
    size_t response_len;        /* its length, cut to ATTEMPT_RESPONSE_MAX */
    classify_outcome_t outcome; /* the decision */
    bool fail_open;             /* made without a Redis claim */
    bool deliberate;            /* after a redelivery the API asked for */
} attempt_info_t;

/* A set on `base` sending through `http` with cfg's timeout and retry
 * schedules; a connect refused by `egress`, the guard on http, fails the
 * attempt for good, naming the refused addresses as egress refused them
 * (borrowed: it must outlive the set). Deliveries carry their signing
 * key sealed (rl_apikey); it is opened with `master` (copied) just for
 * the signature of each attempt. Returns a set (caller owns). */
attempt_set_t *attempt_set_new(struct event_base *base, rl_http_t *http,
                               const egress_t *egress, const rl_config_t *cfg,
                               const uint8_t master[RL_AEAD_KEY_LEN],
                               attempt_done_cb cb, void *arg);

/* Cancels every attempt (no callbacks), frees their deliveries and the
 * set. NULL-safe, sets *p to NULL. */
void attempt_set_destroy(attempt_set_t **p);

/* Starts attempt number (*d)->attempt of *d; takes ownership (*d is set
 * to NULL). Its request timeout is the webhook timeout cut to its
 * claim's deadline (delivery_budget_ms), which must not have passed. A
 * job that cannot be sent (not terminal, no webhook_url, no id, a
 * signing key that does not open, an address the SSRF guard
 * refuses at connect: "address not allowed: ADDR (class)") completes as
 * a permanent failure through the callback, without traffic. */
void attempt_start(attempt_set_t *s, delivery_t **d);

/* Attempts in the air. */
size_t attempt_inflight(const attempt_set_t *s);

/* The attempt record as compact JSON {attempt, at, url, status, error,
 * latency_ms, response, outcome, fail_open[, deliberate: true]}; a
 * response that is not valid UTF-8 is kept with its other bytes as '?'.
 * Returns a string the caller frees. */
char *attempt_record(const attempt_info_t *info);

#endif
