/*
 * breaker - a circuit breaker per provider, in each worker process:
 *
 *   CLOSED --(breaker_failures submit failures in a row)--> OPEN
 *   OPEN   --(breaker_cooldown_ms passed)-----------------> HALF_OPEN
 *   HALF_OPEN: one trial submission; success -> CLOSED, failure -> OPEN
 *
 * New submissions skip a provider whose breaker does not allow them when
 * the chain has another affordable model; a job with no alternative
 * still tries (a trial is better than a certain failure).
 * SPDX-License-Identifier: MIT
 */
#ifndef BREAKER_H
#define BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_config.h"

typedef enum {
    BREAKER_CLOSED = 0,
    BREAKER_OPEN,
    BREAKER_HALF_OPEN,
} breaker_state_t;

typedef struct {
    breaker_state_t state;
    int failures;          /* consecutive submit failures */
    int64_t opened_at;     /* monotonic ms */
    bool trial_out;        /* HALF_OPEN: the trial is in flight */
} breaker_t;

/* Whether a submission may go to the provider now; in HALF_OPEN the
 * first caller takes the trial. */
bool breaker_allow(breaker_t *b, const rl_config_t *cfg, int64_t now_ms);

/* The outcome of a submission: success closes, failure counts. */
void breaker_record(breaker_t *b, const rl_config_t *cfg, bool ok,
                    int64_t now_ms);

/* "closed", "open" or "half_open". */
const char *breaker_state_name(breaker_state_t s);

#endif
